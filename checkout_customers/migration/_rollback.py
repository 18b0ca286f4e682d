"""`rollback`: delete every customer a migration journal records as created by it, exactly once.

Only rows the journal holds as the migration's are deleted: a customer found `existing` was on
the account before the migration and is never touched. A row whose create got no definite
answer (`creating`, or `pending` under a killed run's lease) is settled as the migration would
settle it: once the create can no longer act (`settle_seconds` after it was sent) its email is
looked up, and the customer found is deleted (the migration looked the email up and found
nothing before it created); none found is reported `already_gone`.

Progress is kept in the journal itself, in a table of its own (`rollback`, versioned by the
`rollback_schema` entry of `meta`; the migration's own tables are unchanged): a row is recorded
`deleted` or `already_gone` once the API answered, so a rollback run again, or resumed after it
was stopped, sends no second DELETE for it. A DELETE whose answer was lost is safe to send again:
the API then answers 404 and the row is reported `already_gone`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from enum import Enum
from typing import IO, Any

import anyio
import attrs

from .._client import AsyncClient
from .._errors import (
    AuthenticationError,
    CheckoutApiError,
    CheckoutArgumentError,
    CheckoutConnectionError,
    CheckoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from ._circuit_breaker import check_reachable, describe_failure
from ._group_commit import GroupCommitWriter
from ._journal_schema import JournalError, journal_error, open_journal, start_run
from ._migrate import DEFAULT_SETTLE_SECONDS
from ._paths import NamedPath, Role, check_distinct
from ._private_files import create_private
from ._ratelimit import AdaptiveRateLimiter

__all__ = [
    "DEFAULT_ROLLBACK_CONCURRENCY",
    "RollbackReport",
    "RollbackResult",
    "RollbackStatus",
    "rollback",
]

#: Deletes in flight at once: enough to keep 100 writes/s busy at the API's ~0.2-0.5 s each.
DEFAULT_ROLLBACK_CONCURRENCY = 32
_DEFAULT_RATE = 100.0
#: Attempts per customer (5xx, no answer, 429) before it is reported `failed` for this run.
_MAX_ATTEMPTS = 10
#: Rows read from the journal at a time: memory stays bounded whatever the migration's size.
_CHUNK = 1000
_ROLLBACK_SCHEMA_VERSION = "1"
_ROLLBACK_TABLE = """
CREATE TABLE IF NOT EXISTS rollback (
    email TEXT PRIMARY KEY,
    customer_id TEXT,
    state TEXT NOT NULL,
    request_id TEXT,
    error TEXT,
    updated_at REAL NOT NULL
) WITHOUT ROWID
"""
_UNSETTLED = (
    "the migration's create of this row had no definite answer: the customer, if it exists, "
    "is found by its email and deleted"
)


class RollbackStatus(str, Enum):
    """How one customer of a rollback ended."""

    DELETED = "deleted"  # deleted by this rollback (or by an earlier run of it)
    ALREADY_GONE = "already_gone"  # the API answered 404: someone else deleted it
    FAILED = "failed"  # not deleted; a rerun retries it
    WOULD_DELETE = "would_delete"  # a dry run: would be deleted


@attrs.frozen
class RollbackResult:
    """One customer of the rollback, as written to its report."""

    line: int
    email: str
    customer_id: str | None
    status: RollbackStatus
    error: str | None = None
    request_id: str | None = None
    #: Finished by an earlier rollback run (nothing was sent for it in this run).
    already_done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "email": self.email,
            "status": self.status.value,
            "customer_id": self.customer_id,
            "error": self.error,
            "request_id": self.request_id,
        }


@attrs.frozen(kw_only=True)
class RollbackReport:
    """The totals of one rollback run."""

    deleted: int = 0
    already_gone: int = 0
    failed: int = 0
    would_delete: int = 0
    #: Finished by an earlier rollback run of the same journal (counted under their status).
    already_done: int = 0
    #: The run stopped early (`should_stop`): run it again to resume.
    interrupted: bool = False
    dry_run: bool = False
    deletes_sent: int = 0
    rate_limited: int = 0
    elapsed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every customer the migration created is gone (or, dry run, could be deleted)."""
        return not self.interrupted and self.failed == 0


def _check_rate(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise CheckoutArgumentError(
            f"write_rate: must be a positive number of requests/s or None, got {value!r}",
            field="write_rate",
        )
    return float(value)


class _Report:
    def __init__(self, target: str | os.PathLike[str] | IO[str] | None) -> None:
        self._owned = isinstance(target, (str, os.PathLike))
        self._stream: IO[str] | None
        if isinstance(target, (str, os.PathLike)):
            try:
                self._stream = create_private(target)
            except OSError as exc:
                raise CheckoutArgumentError(
                    f"report: cannot write {os.fspath(target)!r} ({exc.strerror or exc})",
                    field="report",
                ) from None
        else:
            self._stream = target
        self.counts = dict.fromkeys(RollbackStatus, 0)
        self.already_done = 0

    def add(self, result: RollbackResult) -> None:
        self.counts[result.status] += 1
        self.already_done += result.already_done
        if self._stream is not None:
            self._stream.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._stream is not None:
            self._stream.flush()
            if self._owned:
                self._stream.close()
            self._stream = None


def _open_existing(path: str, *, read_only: bool) -> sqlite3.Connection:
    """The journal at `path`, which must exist and be a migration journal."""
    if os.path.isdir(path):
        raise JournalError(f"{path}: is a directory, not a migration journal")
    if not os.path.isfile(path):
        raise JournalError(f"{path}: no such journal")
    if read_only:
        uri = "file:" + _uri_path(path) + "?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
        except sqlite3.Error as exc:
            raise journal_error(path, exc) from None
    else:
        connection = open_journal(path)
    try:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.Error as exc:
        connection.close()
        raise journal_error(path, exc) from None
    if application_id != 0x434B4A31:
        connection.close()
        raise JournalError(f"{path}: is not a migration journal")
    return connection


def _uri_path(path: str) -> str:
    from urllib.parse import quote

    return quote(os.path.abspath(path))


def _has_rollback_table(connection: sqlite3.Connection) -> bool:
    found = connection.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'rollback'"
    ).fetchone()[0]
    return bool(found)


def _prepare_rollback_table(connection: sqlite3.Connection, path: str) -> None:
    try:
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(_ROLLBACK_TABLE)
            version = connection.execute(
                "SELECT value FROM meta WHERE key = 'rollback_schema'"
            ).fetchone()
            if version is None:
                connection.execute(
                    "INSERT INTO meta VALUES ('rollback_schema', ?)", (_ROLLBACK_SCHEMA_VERSION,)
                )
            elif version[0] != _ROLLBACK_SCHEMA_VERSION:
                raise JournalError(f"{path}: rollback format {version[0]!r} is not supported")
    except sqlite3.Error as exc:
        raise journal_error(path, exc) from None


def _rows(
    connection: sqlite3.Connection, path: str, *, with_progress: bool
) -> Iterator[list[tuple[Any, ...]]]:
    """The migration's rows that concern a rollback, a chunk at a time, in email order.

    Each: (email, line, state, customer_id, attempt_at, rollback_state, rollback_request_id).
    Only rows `created`, `creating`, or `pending` under a killed run's lease (sent at the
    latest when the lease ended) are listed.
    """
    lease = connection.execute("SELECT value FROM meta WHERE key = 'creates_until'").fetchone()
    runs = connection.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
    lease_end = float(lease[0]) if lease else 0.0
    leased_run = int(runs[0]) if runs and lease_end > 0 else -1
    join = (
        "r.email, r.line, r.state, r.customer_id, coalesce(r.attempt_at, ?), b.state, "
        "b.request_id FROM rows r LEFT JOIN rollback b ON b.email = r.email"
        if with_progress
        else "r.email, r.line, r.state, r.customer_id, coalesce(r.attempt_at, ?), NULL, NULL "
        "FROM rows r"
    )
    sql = (
        f"SELECT {join} WHERE r.email > ? AND (r.state IN ('created', 'creating') "
        "OR (r.state = 'pending' AND r.run = ?)) ORDER BY r.email LIMIT ?"
    )
    after = ""
    while True:
        try:
            chunk = connection.execute(sql, (lease_end, after, leased_run, _CHUNK)).fetchall()
        except sqlite3.Error as exc:
            raise journal_error(path, exc) from None
        if not chunk:
            return
        yield chunk
        after = chunk[-1][0]


async def rollback(
    client: AsyncClient | None,
    journal: str | os.PathLike[str],
    *,
    report: str | os.PathLike[str] | IO[str] | None = None,
    dry_run: bool = False,
    write_rate: float | None = _DEFAULT_RATE,
    read_rate: float | None = _DEFAULT_RATE,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    concurrency: int = DEFAULT_ROLLBACK_CONCURRENCY,
    progress: Callable[[RollbackResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RollbackReport:
    """Delete every customer that the migration `journal` records as created by it.

        async with AsyncClient() as cko:
            result = await rollback(cko, "migration.sqlite3", report="rollback.jsonl")
        print(result.deleted, result.already_gone, result.failed)

    Customers found `existing` by the migration are never deleted. Each customer is deleted at
    most once: progress is recorded in the journal, so running the rollback again (or after it
    was stopped) sends no second DELETE for a customer already deleted; a customer deleted by
    someone else is reported `already_gone`. A row whose create had no definite answer is
    looked up by email once that create can no longer act (`settle_seconds` after it was sent,
    as for `migrate`), and the customer found is deleted.

    `report` receives one JSON line per customer (a path, created 0600, or an open text
    stream). `write_rate` / `read_rate` cap DELETEs / lookups per second (None: no cap) and
    slow down on 429.
    `dry_run=True` sends nothing and changes nothing: every customer that would be deleted is
    reported `would_delete` (`client` may then be None). `should_stop` is polled between
    customers: once it returns True no new DELETE starts and the result says `interrupted`.

    Raises `JournalError` (no such journal, not a journal, in use by a migration, or written
    for another account), `CheckoutArgumentError` (bad arguments, the report is the journal),
    `ApiUnreachableError` (nothing was sent) and `AuthenticationError` /
    `PermissionDeniedError` (the credential is refused).
    """
    writes = AdaptiveRateLimiter(_check_rate(write_rate))
    reads = AdaptiveRateLimiter(_check_rate(read_rate))
    if not (isinstance(settle_seconds, (int, float)) and settle_seconds >= 0):
        raise CheckoutArgumentError(
            f"settle_seconds: must be a number >= 0, got {settle_seconds!r}",
            field="settle_seconds",
        )
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise CheckoutArgumentError(
            f"concurrency: must be an integer >= 1, got {concurrency!r}", field="concurrency"
        )
    if not dry_run and client is None:
        raise CheckoutArgumentError("client: is required unless dry_run=True", field="client")
    path = os.fspath(journal)
    if isinstance(report, (str, os.PathLike)):
        # Before anything is opened: a report written over the journal would destroy the only
        # record of which customers the migration created.
        check_distinct(
            [
                NamedPath("journal", path, role=Role.JOURNAL, field="journal"),
                NamedPath("report", report, field="report"),
            ]
        )
    started = time.monotonic()
    connection = _open_existing(path, read_only=dry_run)
    try:
        if dry_run:
            return _dry_run(connection, path, report, progress, started)
        assert client is not None
        start_run(connection, path, client.base_url)  # checks the account; recovers a lease
        _prepare_rollback_table(connection, path)
        writer = _Report(
            report
        )  # before any request: a report that cannot be written is a usage error
        try:
            await check_reachable(client)
            return await _delete_all(
                client,
                connection,
                path,
                writer,
                writes,
                reads,
                float(settle_seconds),
                concurrency,
                progress,
                should_stop,
                started,
            )
        finally:
            writer.close()
    finally:
        connection.close()


def _dry_run(
    connection: sqlite3.Connection,
    path: str,
    report: str | os.PathLike[str] | IO[str] | None,
    progress: Callable[[RollbackResult], None] | None,
    started: float,
) -> RollbackReport:
    with_progress = _has_rollback_table(connection)
    writer = _Report(report)
    try:
        for chunk in _rows(connection, path, with_progress=with_progress):
            for email, line, state, customer_id, _, done, request_id in chunk:
                if done is not None:
                    result = RollbackResult(
                        line, email, customer_id, RollbackStatus(done), None, request_id, True
                    )
                elif state == "created":
                    result = RollbackResult(line, email, customer_id, RollbackStatus.WOULD_DELETE)
                else:
                    result = RollbackResult(
                        line, email, None, RollbackStatus.WOULD_DELETE, _UNSETTLED
                    )
                writer.add(result)
                if progress is not None:
                    progress(result)
    finally:
        writer.close()
    counts = writer.counts
    return RollbackReport(
        deleted=counts[RollbackStatus.DELETED],
        already_gone=counts[RollbackStatus.ALREADY_GONE],
        failed=counts[RollbackStatus.FAILED],
        would_delete=counts[RollbackStatus.WOULD_DELETE],
        already_done=writer.already_done,
        dry_run=True,
        elapsed_seconds=time.monotonic() - started,
    )


async def _delete_all(
    client: AsyncClient,
    connection: sqlite3.Connection,
    path: str,
    writer: _Report,
    writes: AdaptiveRateLimiter,
    reads: AdaptiveRateLimiter,
    settle_seconds: float,
    concurrency: int,
    progress: Callable[[RollbackResult], None] | None,
    should_stop: Callable[[], bool] | None,
    started: float,
) -> RollbackReport:
    commits = GroupCommitWriter(connection, path)
    sent = 0
    stopped = False

    def stopping() -> bool:
        nonlocal stopped
        if not stopped and should_stop is not None and should_stop():
            stopped = True
        return stopped

    def finish(result: RollbackResult) -> None:
        writer.add(result)
        if progress is not None:
            progress(result)

    def record(email: str, customer_id: str | None, status: str, request_id: str | None) -> None:
        # Recorded once the API answered: a later run sends nothing more for this row.
        values = (email, customer_id, status, request_id, time.time())
        commits.execute_soon(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO rollback "
                "(email, customer_id, state, request_id, updated_at) VALUES (?, ?, ?, ?, ?)",
                values,
            )
        )

    async def settle(email: str, line: int, due: float) -> str | None:
        """The id of the customer an unanswered create may have made, once it cannot act."""
        while time.time() < due:
            if stopping():
                return None
            await anyio.sleep(min(0.2, due - time.time()))
        attempts = 0
        while True:
            await reads.acquire()
            if stopping():
                return None
            try:
                customer = await client.customers.find(email, max_retries=0)
            except (AuthenticationError, PermissionDeniedError):
                raise
            except RateLimitError as exc:
                reads.rate_limited()
                error: CheckoutError = exc
            except (ServerError, CheckoutConnectionError) as exc:
                error = exc
            except CheckoutError as exc:
                finish(RollbackResult(line, email, None, RollbackStatus.FAILED, str(exc)))
                return None
            else:
                if customer is not None:
                    return customer.id
                # The create never acted: there is nothing to delete.
                record(email, None, RollbackStatus.ALREADY_GONE.value, None)
                finish(RollbackResult(line, email, None, RollbackStatus.ALREADY_GONE))
                return None
            attempts += 1
            if attempts >= _MAX_ATTEMPTS:
                message = f"gave up looking it up: {describe_failure(error)}"
                finish(RollbackResult(line, email, None, RollbackStatus.FAILED, message))
                return None
            await anyio.sleep(min(0.1 * 2**attempts, 5.0))

    async def delete(email: str, line: int, customer_id: str) -> None:
        nonlocal sent
        attempts = 0
        while True:
            await writes.acquire()
            if stopping():
                return
            sent += 1
            error: CheckoutError
            try:
                answer = await client.customers.delete(customer_id, max_retries=0)
            except NotFoundError as exc:
                status, request_id, message = RollbackStatus.ALREADY_GONE, exc.request_id, None
                break
            except (AuthenticationError, PermissionDeniedError):
                raise  # no customer can be deleted with this credential: stop the run
            except RateLimitError as exc:
                writes.rate_limited()
                error = exc
            except (ServerError, CheckoutConnectionError) as exc:
                error = exc
            except CheckoutApiError as exc:
                status, request_id, message = RollbackStatus.FAILED, exc.request_id, str(exc)
                break
            else:
                status, request_id, message = RollbackStatus.DELETED, answer.request_id, None
                break
            attempts += 1
            if attempts >= _MAX_ATTEMPTS:
                status = RollbackStatus.FAILED
                request_id = getattr(error, "request_id", None)
                message = f"gave up after {attempts} attempts: {describe_failure(error)}"
                break
            await anyio.sleep(min(0.1 * 2**attempts, 5.0))
        if status is not RollbackStatus.FAILED:
            record(email, customer_id, status.value, request_id)
        finish(RollbackResult(line, email, customer_id, status, message, request_id))

    try:
        for chunk in _rows(connection, path, with_progress=True):
            todo: list[tuple[str, int, str | None, float]] = []
            for email, line, state, customer_id, attempt_at, done, request_id in chunk:
                if done is not None:
                    status = RollbackStatus(done)
                    finish(RollbackResult(line, email, customer_id, status, None, request_id, True))
                elif state == "created" and customer_id:
                    todo.append((email, line, customer_id, 0.0))
                elif state in ("creating", "pending"):
                    # The create may have acted (never `existing`: a customer found there was
                    # on the account before the migration, and is not the migration's).
                    todo.append((email, line, None, float(attempt_at or 0) + settle_seconds))

            async def worker(pending: Iterator[tuple[str, int, str | None, float]]) -> None:
                for email, line, customer_id, due in pending:
                    if stopping():
                        return
                    if customer_id is None:
                        customer_id = await settle(email, line, due)
                        if customer_id is None:
                            continue
                    await delete(email, line, customer_id)

            shared = iter(todo)  # the workers take the next customer from one iterator
            async with anyio.create_task_group() as group:
                for _ in range(min(concurrency, len(todo))):
                    group.start_soon(worker, shared)
            if commits.failure is not None:
                raise commits.failure
            if stopping():
                break
    finally:
        with contextlib.suppress(JournalError):
            commits.close()
        writer.close()  # complete before the caller reads it
    if commits.failure is not None:
        raise commits.failure
    counts = writer.counts
    return RollbackReport(
        deleted=counts[RollbackStatus.DELETED],
        already_gone=counts[RollbackStatus.ALREADY_GONE],
        failed=counts[RollbackStatus.FAILED],
        already_done=writer.already_done,
        interrupted=stopped,
        deletes_sent=sent,
        rate_limited=writes.rate_limited_count + reads.rate_limited_count,
        elapsed_seconds=time.monotonic() - started,
    )
