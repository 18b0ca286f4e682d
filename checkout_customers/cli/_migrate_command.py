"""`checkout-customers migrate INPUT`: bulk-create customers from a CSV or JSONL file.

`--dry-run` sends look-ups only and leaves the journal as it was; `--limit N` migrates the first
N rows; `--on-existing update` patches customers already there (see docs/migration.md).

Exit statuses: 0 every valid row ended `created`, `existing` or `updated` (in a dry run: no row
`invalid` or `failed`); 1 some row `failed` or was
`invalid`, or the journal or report could not be written mid-run; 2 usage or configuration error
(bad file, credential, journal, an API that cannot be reached), before any request; 130
interrupted by Ctrl-C, 143 by SIGTERM, 129 by SIGHUP (rerun the same command to resume).

SIGTERM and SIGHUP (what `kill`, systemd, Kubernetes, CI and a closed terminal send) act like
the first Ctrl-C: no new row or create starts, the requests in flight get a short grace, and
the report, the summary and the resume hint are written before the exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import IO, Any

from .._client import AsyncClient
from .._errors import (
    AuthenticationError,
    CheckoutArgumentError,
    CheckoutError,
    PermissionDeniedError,
)
from ..migration import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE,
    DEFAULT_SETTLE_SECONDS,
    ApiUnreachableError,
    CsvSource,
    JournalError,
    JsonlSource,
    MigrationInputError,
    MigrationIOError,
    MigrationReport,
    ProgressDisplay,
    migrate,
    read_csv,
    read_jsonl,
)
from ..migration._migrate import MAX_CONCURRENCY, ON_EXISTING
from ..migration._paths import NamedPath, Role, check_creatable, check_distinct
from ..migration._rejects import RejectsCollector, write_rejects
from ..migration._report import RowResult
from ..migration._summary import print_summary
from ..migration._summary_file import summary_object, write_summary
from ._arguments import (
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    configuration_error,
    non_negative_number,
    positive_integer,
    rate_or_none,
)

__all__ = ["register", "run"]

_CSV_SUFFIXES = (".csv",)
# Shells report a process ended by signal N as 128 + N; a run stopped by one says the same.
# (Windows has no SIGHUP.)
_EXIT_BY_SIGNAL: dict[signal.Signals, int] = {signal.SIGINT: EXIT_INTERRUPTED} | {
    getattr(signal, name): 128 + int(getattr(signal, name))
    for name in ("SIGTERM", "SIGHUP")
    if hasattr(signal, name)
}
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "migrate",
        help="create customers from a CSV or JSONL file, exactly once per email",
        description=(
            "Create one customer per email of INPUT (CSV with an `email` column, or JSON Lines "
            "of create requests). Rerun the same command to resume: the journal records each "
            "row's state, so no customer is ever created twice. Credentials come from "
            "CKO_SECRET_KEY (or CKO_CLIENT_ID/CKO_CLIENT_SECRET), CKO_PREFIX, CKO_ENVIRONMENT, "
            "CKO_BASE_URL."
        ),
        epilog=(
            "exit status: 0 every valid row created or existing; 1 some row failed or was "
            "invalid, or a file could not be written; 2 usage or configuration error, or the "
            "API cannot be reached (before any request); 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP "
            "(rerun to resume)"
        ),
    )
    parser.add_argument(
        "input", metavar="INPUT", help="INPUT.csv or INPUT.jsonl (e.g. customers.csv)"
    )
    parser.add_argument(
        "--journal",
        metavar="PATH",
        help="SQLite journal of row states (default: INPUT.journal.sqlite3; with --emulator, "
        "a temporary file), e.g. --journal migration.sqlite3",
    )
    parser.add_argument(
        "--report",
        metavar="PATH",
        help="write one JSON line per input row to PATH (e.g. --report report.jsonl)",
    )
    parser.add_argument(
        "--summary",
        metavar="PATH",
        help="write one JSON object with the run's counts, paths, times, rate, requests, "
        "429s and exit status to PATH (e.g. --summary summary.json)",
    )
    parser.add_argument(
        "--rejects",
        metavar="PATH",
        help="write the invalid and failed rows to PATH in the input's own format, with an "
        "added `error` column (CSV) or field (JSONL): fix them and migrate PATH (e.g. "
        "--rejects rejects.csv)",
    )
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"rows worked on at once (default {DEFAULT_CONCURRENCY}, at most "
        f"{MAX_CONCURRENCY:,}), e.g. --concurrency 16",
    )
    parser.add_argument(
        "--write-rate",
        type=rate_or_none,
        default=DEFAULT_RATE,
        metavar="R",
        help=f"creates and updates per second at most (default {DEFAULT_RATE:g}; 'none': no "
        "cap), e.g. --write-rate 50 for an account with a lower limit",
    )
    parser.add_argument(
        "--read-rate",
        type=rate_or_none,
        default=DEFAULT_RATE,
        metavar="R",
        help=f"lookups per second at most (default {DEFAULT_RATE:g}; 'none': no cap), "
        "e.g. --read-rate 50",
    )
    parser.add_argument(
        "--settle-seconds",
        type=non_negative_number,
        default=DEFAULT_SETTLE_SECONDS,
        metavar="S",
        help="after a create got no answer, trust 'not found' only S seconds after it was "
        f"sent (default {DEFAULT_SETTLE_SECONDS:g}: the API's 60 s gateway timeout and a "
        "margin), e.g. --settle-seconds 10 against an emulator",
    )
    parser.add_argument(
        "--delimiter",
        type=_delimiter,
        metavar="CHAR",
        help="the CSV delimiter, when the header line does not make it plain (default: the one "
        "of , ; tab | the header holds most of), e.g. --delimiter ';' or --delimiter tab",
    )
    parser.add_argument(
        "--id-column",
        metavar="NAME",
        help="the input's own id of each customer (a CSV column or a JSONL field), not sent but "
        "written to each report line as source_id, so the report maps old ids to cus_ ids, "
        "e.g. --id-column legacy_id",
    )
    parser.add_argument(
        "--id-metadata-key",
        metavar="KEY",
        help="also store the --id-column value in the customer's metadata under KEY (one of "
        "the 10 metadata pairs), e.g. --id-metadata-key legacy_id",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="validate every row and send look-ups only, never a create or update; the "
        "journal is not changed; the report says would_create / would_update / existing / "
        "invalid / duplicate (e.g. `migrate customers.csv --dry-run --report plan.jsonl`)",
    )
    parser.add_argument(
        "--limit",
        type=positive_integer,
        metavar="N",
        help="read and migrate only the first N rows (a sample); a later run without "
        "--limit on the same journal goes on with the rest (e.g. `--limit 100`)",
    )
    parser.add_argument(
        "--on-existing",
        choices=ON_EXISTING,
        default="skip",
        help="a customer already there for a row's email: skip it (default; `existing`) or "
        "update it with one PATCH of the row's fields (`updated`; its metadata is replaced, "
        "not merged); so is a customer an earlier skip run found, and one of a row changed "
        "since an earlier run (e.g. `--on-existing update`)",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="migrate into an emulator started in this process (no account needed), e.g. "
        "checkout-customers migrate examples/customers.csv --emulator",
    )
    parser.set_defaults(run=run)


def _error(message: str) -> int:
    print(f"checkout-customers migrate: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _fail(outcome: _Outcome, message: str) -> int:
    outcome.error = message
    return _error(message)


def _concurrency(text: str) -> int:
    value = positive_integer(text)
    if value > MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_CONCURRENCY:,}, got {text}")
    return value


def _delimiter(text: str) -> str:
    """`--delimiter`: one character; `tab` (or `\\t`) for a tab, which a shell makes hard."""
    delimiter = "\t" if text.lower() in ("tab", "\\t") else text
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"must be one character (or 'tab'), not a quote or a line end: {text!r}"
        )
    return delimiter


def _open_source(args: argparse.Namespace) -> CsvSource | JsonlSource:
    path, delimiter = args.input, args.delimiter
    if args.id_metadata_key is not None and args.id_column is None:
        raise MigrationInputError("--id-metadata-key needs --id-column (the id it stores)")
    # What is wrong with the path comes before what its name says about the format.
    if os.path.isdir(path):
        raise MigrationInputError(f"{path}: is a directory, not a CSV or JSON Lines file")
    if not os.path.lexists(path):
        raise MigrationInputError(f"{path}: no such file")
    lowered = path.lower()
    if lowered.endswith(_CSV_SUFFIXES):
        return read_csv(
            path,
            delimiter=delimiter,
            id_column=args.id_column,
            id_metadata_key=args.id_metadata_key,
        )
    if lowered.endswith(_JSONL_SUFFIXES):
        if delimiter is not None:
            raise MigrationInputError(f"{path}: --delimiter is for CSV input, not JSON Lines")
        return read_jsonl(path, id_field=args.id_column, id_metadata_key=args.id_metadata_key)
    raise MigrationInputError(
        f"{path}: cannot tell the format; name the file .csv or .jsonl", field=None
    )


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[AsyncClient]:
    """The client to migrate with: the account from the environment, or a local emulator."""
    if not args.emulator:
        yield AsyncClient()
        return
    from ..emulator import emulator_thread

    # The API's default per-account limits, so the emulator behaves like an account.
    with emulator_thread(read_rate=DEFAULT_RATE, write_rate=DEFAULT_RATE) as emulator:
        print(f"emulator: {emulator.base_url}", file=sys.stderr)
        # The emulator is in this process on loopback: a proxy from the environment (a
        # company's HTTP_PROXY, a SOCKS ALL_PROXY) could only stand between them and fail.
        yield AsyncClient(
            secret_key=emulator.secret_key, base_url=emulator.base_url, trust_env=False
        )


#: The options naming a file the command writes (`--report`): each is checked against the
#: input, the journal and the others before anything is opened. A new one is one more name.
_OUTPUT_OPTIONS = ("report", "summary", "rejects")


def _check_paths(args: argparse.Namespace, journal: str) -> None:
    """Raise `CheckoutArgumentError` when two of the command's files are one file."""
    if args.journal is not None:
        journal_label = "--journal"
    else:
        journal_label = "the temporary journal" if args.emulator else "the default journal"
    paths = [
        NamedPath("INPUT", args.input, role=Role.INPUT),
        NamedPath(journal_label, journal, role=Role.JOURNAL),
    ]
    outputs = [
        NamedPath(f"--{name}", getattr(args, name))
        for name in _OUTPUT_OPTIONS
        if getattr(args, name) is not None
    ]
    check_distinct(paths + outputs)
    for output in outputs:
        check_creatable(output)


def _resume_command(args: argparse.Namespace, journal: str) -> str:
    words = ["checkout-customers", "migrate", args.input, "--journal", journal]
    if args.report:
        words += ["--report", args.report]
    if getattr(args, "summary", None):
        words += ["--summary", args.summary]
    if getattr(args, "rejects", None):
        words += ["--rejects", args.rejects]
    if args.concurrency != DEFAULT_CONCURRENCY:
        words += ["--concurrency", str(args.concurrency)]
    for flag, rate in (("--write-rate", args.write_rate), ("--read-rate", args.read_rate)):
        if rate != DEFAULT_RATE:
            words += [flag, "none" if rate is None else f"{rate:g}"]
    if args.settle_seconds != DEFAULT_SETTLE_SECONDS:
        words += ["--settle-seconds", f"{args.settle_seconds:g}"]
    if args.delimiter is not None:  # the rows must be read as the first run read them
        words += ["--delimiter", "tab" if args.delimiter == "\t" else args.delimiter]
    # The rows must be the same as the first run's: their metadata holds the id.
    if args.id_column is not None:
        words += ["--id-column", args.id_column]
    if args.id_metadata_key is not None:
        words += ["--id-metadata-key", args.id_metadata_key]
    # A resumed sample stays a sample, and a resumed upsert goes on updating.
    if args.limit is not None:
        words += ["--limit", str(args.limit)]
    if args.on_existing != "skip":
        words += ["--on-existing", args.on_existing]
    if args.dry_run:
        words += ["--dry-run"]
    return shlex.join(words)


class _Outcome:
    """What `run` learnt, for the `--summary` file: set as the run goes."""

    def __init__(self) -> None:
        self.journal: str | None = None
        self.paths_checked = False
        self.report: MigrationReport | None = None
        self.error: str | None = None


def run(args: argparse.Namespace) -> int:
    started = datetime.now(timezone.utc)
    outcome = _Outcome()
    status = _run(args, outcome)
    if args.summary is None or not outcome.paths_checked:
        return status  # a usage error found before the paths were checked: nothing written
    summary = summary_object(
        outcome.report,
        input_path=args.input,
        journal=outcome.journal,
        report_path=args.report,
        started_at=started,
        ended_at=datetime.now(timezone.utc),
        exit_status=status,
        error=outcome.error,
    )
    try:
        write_summary(args.summary, summary)
    except OSError as exc:
        print(
            f"checkout-customers migrate: error: {args.summary}: cannot write the summary "
            f"({exc.strerror or exc})",
            file=sys.stderr,
        )
        return status if status != EXIT_OK else EXIT_FAILURES
    return status


def _run(args: argparse.Namespace, outcome: _Outcome) -> int:
    try:
        source = _open_source(args)
    except MigrationInputError as exc:
        return _error(str(exc))
    with contextlib.ExitStack() as stack:
        journal = args.journal
        if journal is None and args.emulator:
            # The in-process emulator forgets everything when the command ends, so a journal
            # kept beside the input would describe customers that no longer exist.
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="cko-migrate-"))
            journal = os.path.join(folder, "journal.sqlite3")
        elif journal is None:
            journal = args.input + ".journal.sqlite3"
        try:
            _check_paths(args, journal)
        except CheckoutArgumentError as exc:
            return _error(str(exc))
        outcome.paths_checked = True
        outcome.journal = None if args.emulator and args.journal is None else journal
        try:
            client = stack.enter_context(_target(args))
        except CheckoutArgumentError as exc:
            return _fail(outcome, configuration_error(exc, emulator_option=True))
        except OSError as exc:
            return _fail(outcome, f"the emulator could not start: {exc}")
        signals: list[signal.Signals] = []
        display = ProgressDisplay(sys.stderr)
        rejects = RejectsCollector() if args.rejects is not None else None
        try:
            report = asyncio.run(
                _migrate(client, source, journal, args, display, signals, rejects=rejects)
            )
        except KeyboardInterrupt:
            outcome.error = "aborted by a second stop signal"
            print("aborted: the rows in flight are recorded in the journal", file=sys.stderr)
            _print_resume_hint(args, journal, sys.stderr)
            return _EXIT_BY_SIGNAL[signals[0] if signals else signal.SIGINT]
        except MigrationIOError as exc:
            outcome.error = str(exc)
            print(f"checkout-customers migrate: error: {exc}", file=sys.stderr)
            print("the journal keeps every row it recorded", file=sys.stderr)
            _print_resume_hint(args, journal, sys.stderr)
            return EXIT_FAILURES if exc.requests_sent else EXIT_USAGE
        except ApiUnreachableError as exc:
            return _fail(outcome, f"{exc}; nothing was sent, no row was marked failed")
        except (JournalError, CheckoutArgumentError) as exc:
            return _fail(outcome, str(exc))
        except OSError as exc:
            return _fail(outcome, f"{exc.filename or args.input}: {exc.strerror or exc}")
        except (AuthenticationError, PermissionDeniedError) as exc:
            return _fail(outcome, f"the API refused the credential: {exc}")
        except CheckoutError as exc:
            outcome.error = str(exc)
            print(f"checkout-customers migrate: {exc}", file=sys.stderr)
            return EXIT_FAILURES
        outcome.report = report
        if rejects is not None:
            try:
                write_rejects(source, args.rejects, rejects.errors)
            except OSError as exc:
                return _fail(
                    outcome, f"{args.rejects}: cannot write the rejects ({exc.strerror or exc})"
                )
        temporary = args.emulator and args.journal is None
        print_summary(
            report,
            source=args.input,
            report_path=args.report,
            journal_label="temporary (--emulator)" if temporary else None,
            problems=display.problems,
        )
        if report.interrupted:
            if args.emulator:
                again = "run again with another --journal" if args.journal else "run again"
                print(f"interrupted: the emulator's customers are gone; {again} to start over")
            else:
                command = _resume_command(args, journal)
                print(f"interrupted: to resume, run the same command:\n  {command}")
            return _EXIT_BY_SIGNAL[signals[0] if signals else signal.SIGINT]
        return EXIT_OK if report.ok else EXIT_FAILURES
    return EXIT_FAILURES  # pragma: no cover - the with block always returns


def _both(
    first: Callable[[RowResult], None], second: Callable[[RowResult], None]
) -> Callable[[RowResult], None]:
    def call(result: RowResult) -> None:
        first(result)
        second(result)

    return call


def _print_resume_hint(args: argparse.Namespace, journal: str, stream: IO[str]) -> None:
    if not args.emulator:  # an in-process emulator is gone: nothing to resume
        command = _resume_command(args, journal)
        print(f"to resume, run the same command:\n  {command}", file=stream)


async def _migrate(
    client: AsyncClient,
    source: CsvSource | JsonlSource,
    journal: str,
    args: argparse.Namespace,
    display: ProgressDisplay,
    signals: list[signal.Signals],
    *,
    rejects: RejectsCollector | None = None,
) -> MigrationReport:
    """Run the migration with a progress display; `signals` collects the stop signals seen."""
    stream: IO[str] = sys.stderr
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()

    def on_signal(number: signal.Signals) -> None:
        signals.append(number)
        if len(signals) == 1:
            again = "Ctrl-C again" if number is signal.SIGINT else f"a second {number.name}"
            with contextlib.suppress(OSError):  # a hung-up terminal
                stream.write(
                    f"\nstopping: no new rows; finishing the requests in flight ({again} "
                    "aborts them; the journal keeps them safe either way)\n"
                )
                stream.flush()
        elif main_task is not None:
            main_task.cancel()

    for number in _EXIT_BY_SIGNAL:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(number, on_signal, number)

    async def count_rows() -> None:
        with contextlib.suppress(OSError):
            total = await asyncio.to_thread(source.count_rows)
            display.total = total if args.limit is None else min(total, args.limit)

    async def tick() -> None:
        while True:
            await asyncio.sleep(display.interval)
            display.tick()

    background = [asyncio.create_task(count_rows()), asyncio.create_task(tick())]
    try:
        async with client:
            report = await migrate(
                client,
                source,
                journal=journal,
                concurrency=args.concurrency,
                write_rate=args.write_rate,
                read_rate=args.read_rate,
                report=args.report,
                progress=display.update if rejects is None else _both(rejects.add, display.update),
                should_stop=lambda: bool(signals),
                settle_seconds=args.settle_seconds,
                on_pause=display.paused,
                dry_run=args.dry_run,
                limit=args.limit,
                on_existing=args.on_existing,
            )
        display.total = report.rows  # every row was reported, even if it was not counted yet
        display.finish()
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        display.close()  # also when aborted: a live display gives the cursor back
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for number in _EXIT_BY_SIGNAL:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(number)
    return report
