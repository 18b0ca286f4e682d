"""The `checkout-customers` command line.

Each subcommand lives in its own module exposing `register(subparsers)`, which adds an
`argparse` parser whose `run` default takes the parsed arguments and returns the exit status.
Exit statuses: 0 success, 1 the work ran but some of it failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from .._version import __version__
from ._arguments import EXIT_INTERRUPTED

__all__ = ["main"]

# Imported lazily, and only the one a command line names, so that `checkout-customers get ...`
# pays neither for the migration's imports nor for the emulator's.
_SUBCOMMAND_MODULES = {
    "migrate": "checkout_customers.cli._migrate_command",
    "emulator": "checkout_customers.cli._emulator_command",
    "get": "checkout_customers.cli._lookup_commands",
    "delete": "checkout_customers.cli._lookup_commands",
    "rollback": "checkout_customers.cli._rollback_command",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or only of `command` when it names one."""
    parser = argparse.ArgumentParser(
        prog="checkout-customers",
        description="Manage and migrate Checkout.com customers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command in _SUBCOMMAND_MODULES:
        module_names = [_SUBCOMMAND_MODULES[command]]
    else:  # help, a usage error or no command: every subcommand, so that all are listed
        module_names = list(dict.fromkeys(_SUBCOMMAND_MODULES.values()))
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    # The top-level parser has no option taking a value: the first word is the command.
    command = next((word for word in arguments if not word.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
