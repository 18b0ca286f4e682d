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

# Imported lazily so that `checkout-customers get ...` does not pay for the emulator's imports.
_SUBCOMMAND_MODULES = (
    "checkout_customers.cli._migrate_command",
    "checkout_customers.cli._emulator_command",
    "checkout_customers.cli._lookup_commands",
    "checkout_customers.cli._rollback_command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="checkout-customers",
        description="Manage and migrate Checkout.com customers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _SUBCOMMAND_MODULES:
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
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
