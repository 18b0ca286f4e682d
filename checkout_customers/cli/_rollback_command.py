"""`checkout-customers rollback JOURNAL`: delete the customers a migration created, exactly once.

Exit statuses as for `migrate`: 0 every customer the migration created is gone; 1 some could
not be deleted; 2 usage or configuration error (no journal, a credential missing, an API that
cannot be reached), before any request; 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP (run the same
command again to resume). There is no `--emulator`: an in-process emulator starts empty, so it
holds nothing to roll back; point CKO_BASE_URL at a running emulator instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from typing import Any

from .._client import AsyncClient
from .._errors import (
    AuthenticationError,
    CheckoutArgumentError,
    CheckoutError,
    PermissionDeniedError,
)
from ..migration import DEFAULT_SETTLE_SECONDS, ApiUnreachableError, JournalError
from ..migration._rollback import RollbackReport, rollback
from ._arguments import (
    EXIT_FAILURES,
    EXIT_OK,
    EXIT_USAGE,
    configuration_error,
    non_negative_number,
    rate_or_none,
)
from ._migrate_command import _EXIT_BY_SIGNAL

__all__ = ["register", "run"]

_DEFAULT_RATE = 100.0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "rollback",
        help="delete the customers a migration created (never ones it found existing)",
        description=(
            "Delete every customer that the migration journal JOURNAL records as created by "
            "the migration, exactly once; customers it found `existing` are never touched. "
            "Run the same command again to resume: the journal records each deletion. "
            "Credentials as for `migrate`: CKO_SECRET_KEY (or CKO_CLIENT_ID/CKO_CLIENT_SECRET), "
            "CKO_PREFIX, CKO_ENVIRONMENT, CKO_BASE_URL."
        ),
        epilog=(
            "examples: checkout-customers rollback customers.csv.journal.sqlite3 --dry-run "
            "--report plan.jsonl | checkout-customers rollback customers.csv.journal.sqlite3 "
            "--report rollback.jsonl --write-rate 50.  exit status: 0 every created customer "
            "is gone; 1 some could not be deleted; 2 usage or configuration error, or the API "
            "cannot be reached (before any request); 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP "
            "(rerun to resume)"
        ),
    )
    parser.add_argument(
        "journal",
        metavar="JOURNAL",
        help="the migration's journal (e.g. customers.csv.journal.sqlite3)",
    )
    parser.add_argument(
        "--report",
        metavar="PATH",
        help="write one JSON line per customer to PATH (e.g. --report rollback.jsonl)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what would be deleted (status would_delete); send nothing, change nothing "
        "(e.g. --dry-run --report plan.jsonl)",
    )
    parser.add_argument(
        "--write-rate",
        type=rate_or_none,
        default=_DEFAULT_RATE,
        metavar="R",
        help=f"deletes per second at most (default {_DEFAULT_RATE:g}; 'none': no cap; "
        "e.g. --write-rate 50)",
    )
    parser.add_argument(
        "--settle-seconds",
        type=non_negative_number,
        default=DEFAULT_SETTLE_SECONDS,
        metavar="S",
        help="a row whose create had no answer is looked up by email only S seconds after "
        f"that create was sent (default {DEFAULT_SETTLE_SECONDS:g}, as for migrate; e.g. "
        "--settle-seconds 65)",
    )
    parser.set_defaults(run=run)


def _error(message: str) -> int:
    print(f"checkout-customers rollback: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _resume_command(args: argparse.Namespace) -> str:
    words = ["checkout-customers", "rollback", args.journal]
    if args.report:
        words += ["--report", args.report]
    if args.write_rate != _DEFAULT_RATE:
        words += ["--write-rate", "none" if args.write_rate is None else f"{args.write_rate:g}"]
    if args.settle_seconds != DEFAULT_SETTLE_SECONDS:
        words += ["--settle-seconds", f"{args.settle_seconds:g}"]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    client: AsyncClient | None = None
    if not args.dry_run:
        try:
            client = AsyncClient()
        except CheckoutArgumentError as exc:
            return _error(configuration_error(exc, emulator_option=False))
    signals: list[signal.Signals] = []
    try:
        result = asyncio.run(_rollback(client, args, signals))
    except KeyboardInterrupt:
        print("aborted: the deletions answered so far are recorded in the journal", file=sys.stderr)
        print(f"to resume, run the same command:\n  {_resume_command(args)}", file=sys.stderr)
        return _EXIT_BY_SIGNAL[signals[0] if signals else signal.SIGINT]
    except ApiUnreachableError as exc:
        return _error(f"{exc}; nothing was sent")
    except (JournalError, CheckoutArgumentError) as exc:
        return _error(str(exc))
    except (AuthenticationError, PermissionDeniedError) as exc:
        return _error(f"the API refused the credential: {exc}")
    except OSError as exc:
        return _error(f"{exc.filename or args.report}: {exc.strerror or exc}")
    except CheckoutError as exc:
        print(f"checkout-customers rollback: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    _print_summary(result, args)
    if result.interrupted:
        print(f"interrupted: to resume, run the same command:\n  {_resume_command(args)}")
        return _EXIT_BY_SIGNAL[signals[0] if signals else signal.SIGINT]
    return EXIT_OK if result.ok else EXIT_FAILURES


def _print_summary(result: RollbackReport, args: argparse.Namespace) -> None:
    if result.dry_run:
        print(
            f"dry run: would delete {result.would_delete}; already deleted {result.deleted}, "
            f"already gone {result.already_gone}; failed {result.failed}; "
            "nothing was sent"
        )
    else:
        print(
            f"deleted {result.deleted}, already gone {result.already_gone}, failed "
            f"{result.failed} ({result.already_done} done by an earlier rollback; "
            f"{result.deletes_sent} DELETE requests sent)"
        )
    if args.report:
        print(f"report: {args.report}")
    elif result.failed:
        print("pass --report PATH to see which customers failed and why")


async def _rollback(
    client: AsyncClient | None, args: argparse.Namespace, signals: list[signal.Signals]
) -> RollbackReport:
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()

    def on_signal(number: signal.Signals) -> None:
        signals.append(number)
        if len(signals) == 1:
            with contextlib.suppress(OSError):
                sys.stderr.write(
                    "\nstopping: no new deletions; finishing those in flight (again to abort)\n"
                )
                sys.stderr.flush()
        elif main_task is not None:
            main_task.cancel()

    for number in _EXIT_BY_SIGNAL:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, on_signal, number)
    try:
        if client is None:
            return await rollback(None, args.journal, report=args.report, dry_run=True)
        async with client:
            return await rollback(
                client,
                args.journal,
                report=args.report,
                write_rate=args.write_rate,
                settle_seconds=args.settle_seconds,
                should_stop=lambda: bool(signals),
            )
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        for number in _EXIT_BY_SIGNAL:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(number)
