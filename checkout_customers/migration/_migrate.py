"""The `migrate` function: every valid row becomes exactly one customer, at the account's pace.

This module checks the arguments, opens the journal, makes sure the API answers at all
(`check_reachable`), opens the report, and hands the rows to the worker pool (`_scheduler`),
which runs each through the per-row exactly-once protocol (`_row_protocol`) and pauses every
request while the API is down (`_circuit_breaker`). The journal (`_journal`) records each
email's state before and after its requests, so that any run, however it ended, can be resumed.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

import attrs

from .._client import AsyncClient
from .._errors import CheckoutArgumentError, CheckoutError
from ._circuit_breaker import CircuitBreaker, check_reachable
from ._dry_run import copy_journal, name_the_original
from ._journal import Journal, JournalError
from ._paths import check_migration_paths
from ._ratelimit import AdaptiveRateLimiter
from ._report import MigrationReport, ReportWriter, RowResult, Tally
from ._row_protocol import RowProtocol
from ._rows import Row, rows_of
from ._scheduler import Scheduler

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RATE",
    "DEFAULT_SETTLE_SECONDS",
    "ON_EXISTING",
    "MigrationIOError",
    "migrate",
]

#: Rows worked on at once. At the API's ~0.2-0.5 s per request and two requests per row,
#: 64 rows in flight keep 100 writes/s busy (rows waiting out a settle window are parked and
#: do not count).
DEFAULT_CONCURRENCY = 64
#: Each worker is a task started up front: far more than the connection pool can serve only
#: costs memory (10**20 of them took the machine's memory before the first request).
MAX_CONCURRENCY = 10_000
#: Requests per second, for reads and for writes: the API's default limits per account.
DEFAULT_RATE = 100.0
#: How long after a create without a definite answer was sent a "not found" is trusted: until
#: then the request may still be inside the API and act later. The API's gateway gives up after
#: 60 s (shared/reference), so nothing sent lands later than that; 5 s more for clocks and queues.
DEFAULT_SETTLE_SECONDS = 65.0
#: Failed attempts (5xx, no answer) per request before a row is given up for this run; failures
#: during an outage (the circuit breaker open) do not count.
DEFAULT_MAX_ATTEMPTS = 10
#: What `on_existing` may say about a customer already on the account for a row's email.
ON_EXISTING = ("skip", "update")


class MigrationIOError(CheckoutError):
    """The journal or the report could not be written during the run (a full disk, an I/O
    error). `path` names the file; `requests_sent` says whether any row's request had been
    sent. The journal keeps its last good commit: run the same migration again to resume."""

    def __init__(self, message: str, *, path: str, requests_sent: bool) -> None:
        super().__init__(message)
        self.path = path
        self.requests_sent = requests_sent


def _check_rate(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise CheckoutArgumentError(
            f"{name}: must be a positive number of requests/s or None, got {value!r}", field=name
        )
    return float(value)


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CheckoutArgumentError(f"{name}: must be an integer >= 1, got {value!r}", field=name)
    return value


def _never() -> bool:
    return False


async def migrate(
    client: AsyncClient,
    rows: Iterable[Row | Mapping[str, Any]],
    *,
    journal: str | os.PathLike[str],
    concurrency: int = DEFAULT_CONCURRENCY,
    write_rate: float | None = DEFAULT_RATE,
    read_rate: float | None = DEFAULT_RATE,
    report: str | os.PathLike[str] | IO[str] | None = None,
    progress: Callable[[RowResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    on_pause: Callable[[str | None], None] | None = None,
    dry_run: bool = False,
    limit: int | None = None,
    on_existing: str = "skip",
) -> MigrationReport:
    """Create one customer per email of `rows`, exactly once, resumably; return the totals.

        async with AsyncClient() as cko:
            report = await migrate(cko, read_csv("customers.csv"), journal="migration.sqlite3")
        print(report.created, report.existing, report.failed, report.invalid)

    `rows` is `read_csv(...)`, `read_jsonl(...)`, or any iterable of create-request mappings
    (numbered from line 1). The `journal` (an SQLite file) records each email's state: run the
    same migration again to resume it; finished rows are skipped, unfinished ones reconciled.
    `write_rate` / `read_rate` cap creates / lookups per second (None: no client-side cap);
    both slow down on 429 and recover. `report` receives one JSON line per row (a path or an
    open text stream); `progress` is called with each `RowResult` as rows finish;
    `should_stop` is polled several times a second: once it returns True no new row or create
    starts, requests in flight get a short grace to finish, and the report says `interrupted`.
    `on_pause` is told a sentence when the API stops answering and the run pauses (it probes
    until the API answers again), and None when it resumes.

    `dry_run=True` validates every row and sends look-ups only (at `read_rate`), never a
    create or an update; the journal is not changed (the run works on a temporary copy). Rows
    end `would_create` / `would_update` where a real run would create / update.
    `limit=N` reads and migrates only the first N rows of the input (a sample); a later run
    without it on the same journal goes on with the rest. `on_existing="update"` sends one
    PATCH with the row's fields to a customer found on the account under the row's email (by
    this run, or by an earlier `"skip"` run of the journal that left it as it was), or created
    by an earlier run from a row that changed since (status `updated`; the customer's metadata
    is *replaced* by the row's, as the API does); `"skip"` (the default) leaves it as it is
    (`existing`).

    Raises `ApiUnreachableError` (the API cannot be reached at the start; nothing was sent for
    any row), `JournalError` (journal unusable or in use), `CheckoutArgumentError` (bad
    arguments), `AuthenticationError` / `PermissionDeniedError` (the credential is refused:
    no row can succeed) and `MigrationIOError` (the journal or report could not be written
    mid-run). Cancelling the call leaves the journal consistent: rerun to resume.
    """
    concurrency = _check_count("concurrency", concurrency)
    if concurrency > MAX_CONCURRENCY:
        raise CheckoutArgumentError(
            f"concurrency: must be at most {MAX_CONCURRENCY:,}, got {concurrency!r}",
            field="concurrency",
        )
    max_attempts = _check_count("max_attempts", max_attempts)
    if limit is not None:
        limit = _check_count("limit", limit)
    if on_existing not in ON_EXISTING:
        raise CheckoutArgumentError(
            f"on_existing: must be 'skip' or 'update', got {on_existing!r}", field="on_existing"
        )
    if not isinstance(dry_run, bool):
        raise CheckoutArgumentError(
            f"dry_run: must be True or False, got {dry_run!r}", field="dry_run"
        )
    writes = AdaptiveRateLimiter(_check_rate("write_rate", write_rate))
    reads = AdaptiveRateLimiter(_check_rate("read_rate", read_rate))
    if not (isinstance(settle_seconds, (int, float)) and settle_seconds >= 0):
        raise CheckoutArgumentError(
            f"settle_seconds: must be a number >= 0, got {settle_seconds!r}",
            field="settle_seconds",
        )
    started = time.monotonic()
    check_migration_paths(rows, journal=journal, report=report)  # before anything is written
    with contextlib.ExitStack() as cleanup:
        if dry_run:
            # Never the real journal: a private copy, deleted at the end (see `_dry_run`).
            folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="cko-dry-run-"))
            copy = copy_journal(os.fspath(journal), folder)
            try:
                opened = Journal(copy, target=client.base_url)
            except JournalError as exc:
                raise name_the_original(exc, copy, os.fspath(journal)) from None
        else:
            opened = Journal(journal, target=client.base_url)
        return await _run(
            client,
            rows,
            opened,
            concurrency=concurrency,
            writes=writes,
            reads=reads,
            report=report,
            progress=progress,
            should_stop=should_stop,
            settle_seconds=float(settle_seconds),
            max_attempts=max_attempts,
            on_pause=on_pause,
            dry_run=dry_run,
            limit=limit,
            on_existing_update=on_existing == "update",
            journal_path=os.fspath(journal),
            started=started,
        )
    raise AssertionError("unreachable")  # pragma: no cover - the with block returns


async def _run(
    client: AsyncClient,
    rows: Iterable[Row | Mapping[str, Any]],
    opened: Journal,
    *,
    concurrency: int,
    writes: AdaptiveRateLimiter,
    reads: AdaptiveRateLimiter,
    report: str | os.PathLike[str] | IO[str] | None,
    progress: Callable[[RowResult], None] | None,
    should_stop: Callable[[], bool] | None,
    settle_seconds: float,
    max_attempts: int,
    on_pause: Callable[[str | None], None] | None,
    dry_run: bool,
    limit: int | None,
    on_existing_update: bool,
    journal_path: str,
    started: float,
) -> MigrationReport:
    """The run itself, on the opened journal (the real one, or a dry run's copy)."""
    writer: ReportWriter | None = None
    protocol: RowProtocol | None = None
    report_path = (
        os.fspath(report) if isinstance(report, (str, os.PathLike)) else "the report stream"
    )

    def requests_sent() -> bool:
        return protocol is not None and protocol.creates_sent + protocol.lookups_sent > 0

    try:
        await check_reachable(client)
        if report is not None:
            try:
                writer = ReportWriter(report)
            except OSError as exc:
                raise CheckoutArgumentError(
                    f"report: cannot write {report_path!r} ({exc.strerror or exc})",
                    field="report",
                ) from None
        tally = Tally()
        report_failed = False
        # The source ids of rows read and not reported yet (at most the rows in the works).
        source_ids: dict[int, str] = {}

        def on_result(result: RowResult) -> None:
            nonlocal report_failed
            source_id = source_ids.pop(result.line, None)
            if source_id is not None:
                result = attrs.evolve(result, source_id=source_id)
            tally.add(result)
            if writer is not None and not report_failed:
                try:
                    writer.write(result)
                except OSError as exc:
                    report_failed = True
                    raise MigrationIOError(
                        f"{report_path}: cannot write the report ({exc.strerror or exc})",
                        path=report_path,
                        requests_sent=requests_sent(),
                    ) from None
            if progress is not None:
                progress(result)

        breaker = CircuitBreaker(on_change=on_pause)
        scheduler: Scheduler | None = None

        def stopping() -> bool:
            return scheduler is not None and scheduler.stop_requested()

        protocol = RowProtocol(
            client,
            opened,
            writes=writes,
            reads=reads,
            breaker=breaker,
            stopping=stopping,
            settle_seconds=settle_seconds,
            max_attempts=max_attempts,
            on_existing_update=on_existing_update,
            dry_run=dry_run,
        )
        scheduler = Scheduler(
            protocol,
            opened,
            concurrency=concurrency,
            on_result=on_result,
            should_stop=should_stop or _never,
        )
        try:
            read: Iterator[Row] = _noting_source_ids(rows_of(rows), source_ids)
            if limit is not None:
                # Only the first `limit` rows are read: the rest are not even counted.
                read = itertools.islice(read, limit)
            await scheduler.run(read)
        except JournalError as exc:
            raise _journal_failed(exc, opened, requests_sent()) from None
        finally:
            if protocol.unsettled_creates == 0 and opened.failure is None:
                opened.release_creates()
        try:
            opened.close()
            if writer is not None:
                closing, writer = writer, None
                closing.close()
        except JournalError as exc:
            raise _journal_failed(exc, opened, requests_sent()) from None
        except OSError as exc:
            raise MigrationIOError(
                f"{report_path}: cannot write the report ({exc.strerror or exc})",
                path=report_path,
                requests_sent=requests_sent(),
            ) from None
        return tally.snapshot(
            interrupted=scheduler.stopping,
            elapsed_seconds=time.monotonic() - started,
            creates_sent=protocol.creates_sent,
            lookups_sent=protocol.lookups_sent,
            updates_sent=protocol.updates_sent,
            rate_limited=writes.rate_limited_count + reads.rate_limited_count,
            journal=journal_path,
            dry_run=dry_run,
        )
    finally:
        # Already reported, or the run is failing for another reason; the journal keeps its
        # last good commit.
        if writer is not None:
            with contextlib.suppress(OSError):
                writer.close()
        with contextlib.suppress(JournalError):
            opened.close()


def _noting_source_ids(rows: Iterator[Row], source_ids: dict[int, str]) -> Iterator[Row]:
    """The rows; each one's source id noted by line, for its report line (see `on_result`)."""
    for row in rows:
        if row.source_id is not None:
            source_ids[row.line] = row.source_id
        yield row


def _journal_failed(exc: JournalError, journal: Journal, requests_sent: bool) -> CheckoutError:
    """A journal that fails mid-run (a full disk) is an I/O error of the run, not a usage one."""
    if journal.failure is None:
        return exc
    return MigrationIOError(str(exc), path=journal.path, requests_sent=requests_sent)
