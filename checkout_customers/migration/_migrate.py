"""The migration engine: every valid row becomes exactly one customer, at the account's pace.

For each email, in this order:

1. The producer reads rows in input order and claims their emails in the journal, which tells
   new rows, rows left unfinished by an earlier run, finished rows and repeated emails apart
   (without holding the input's emails in memory).
2. A bounded pool of workers takes the new and unfinished rows. A row is looked up by email
   (read budget); found means `existing`. Otherwise the create is sent (write budget, no
   automatic retry) under the journal's lease, which tells a later run that this run's
   unfinished rows may have been sent if it dies (see `_journal`).
3. A create that got no definite answer (timeout, dropped connection, 5xx) may have acted, so
   the journal records `creating` with its send time, and the email is looked up again until
   the answer is definite: found means `created`; not found is trusted only once
   `settle_seconds` have passed since the create was sent (a request still travelling inside
   the API must not land after we create again). Only then is the create sent again, after a
   committed `creating` with the new send time. A row left `creating` by a killed run is
   reconciled the same way.
4. A 429 means the API did not act: the request waits for the (now slower) rate limiter and
   goes again.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

from .._client import AsyncClient
from .._errors import (
    AuthenticationError,
    CheckoutApiError,
    CheckoutArgumentError,
    CheckoutConnectionError,
    CheckoutError,
    ConflictError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from .._models import CreatedCustomer, Customer
from ._journal import Claim, ClaimKind, Journal, RowState
from ._paths import check_migration_paths
from ._ratelimit import AdaptiveRateLimiter
from ._report import MigrationReport, ReportWriter, RowResult, RowStatus, Tally
from ._rows import Row, rows_of

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RATE",
    "DEFAULT_SETTLE_SECONDS",
    "migrate",
]

#: Rows worked on at once. At the API's ~0.2-0.5 s per request and two requests per row,
#: 64 rows in flight keep 100 writes/s busy.
DEFAULT_CONCURRENCY = 64
#: Requests per second, for reads and for writes: the API's default limits per account.
DEFAULT_RATE = 100.0
#: How long after a create without a definite answer was sent a "not found" is trusted: until
#: then the request may still be inside the API and act later. The API's gateway gives up after
#: 60 s (shared/reference), so nothing sent lands later than that; 5 s more for clocks and queues.
DEFAULT_SETTLE_SECONDS = 65.0
#: Failed attempts (5xx, no answer) per request before a row is given up for this run.
DEFAULT_MAX_ATTEMPTS = 10

_CHUNK_ROWS = 256
_MAX_RATE_LIMITED = 200  # 429s in a row for one request before the row is given up
_BACKOFF_BASE_SECONDS = 0.05
_BACKOFF_MAX_SECONDS = 2.0
_POLL_SECONDS = 0.25


class _OutcomeUnknown(Exception):
    """The row's outcome could not be settled in this run; the journal keeps its state."""

    def __init__(self, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CheckoutApiError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _request_id(exc: BaseException) -> str | None:
    return exc.request_id if isinstance(exc, CheckoutApiError) else None


def _backoff(attempt: int) -> float:
    ceiling = min(_BACKOFF_MAX_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


class _Migration:
    def __init__(
        self,
        client: AsyncClient,
        journal: Journal,
        *,
        concurrency: int,
        writes: AdaptiveRateLimiter,
        reads: AdaptiveRateLimiter,
        on_result: Callable[[RowResult], None],
        should_stop: Callable[[], bool],
        settle_seconds: float,
        max_attempts: int,
    ) -> None:
        self.client = client
        self.journal = journal
        self.concurrency = concurrency
        self.writes = writes
        self.reads = reads
        self.on_result = on_result
        self.should_stop = should_stop
        self.settle_seconds = settle_seconds
        self.max_attempts = max_attempts
        # Rows claimed and waiting for a worker. Workers take from it without waiting; the
        # reader refills it a chunk at a time when it runs short, so handing a row over costs
        # no task switch (a queue would wake the reader for every row).
        self.ready: deque[tuple[Row, Claim]] = deque()
        self.ready_or_ended = asyncio.Event()
        self.running_short = asyncio.Event()
        self.input_ended = False
        self.stopping = False
        self.creates_sent = 0
        self.lookups_sent = 0
        # Creates sent whose outcome the journal has not been told (or queued) yet.
        self.unsettled_creates = 0

    def _stop_requested(self) -> bool:
        if not self.stopping and self.should_stop():
            self.stopping = True
        return self.stopping

    async def run(self, rows: Iterator[Row]) -> None:
        workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]
        tasks = {asyncio.create_task(self._produce(rows)), *workers}
        try:
            while tasks:
                done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    error = None if task.cancelled() else task.exception()
                    if error is not None:
                        raise error
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    # -- reading the input -------------------------------------------------------------------

    async def _produce(self, rows: Iterator[Row]) -> None:
        try:
            while True:
                chunk = [row for _, row in zip(range(_CHUNK_ROWS), rows, strict=False)]
                if not chunk:
                    break
                await self._take(chunk)
                if len(self.ready) >= self.concurrency:
                    self.running_short.clear()
                    await self.running_short.wait()
                else:
                    await asyncio.sleep(0)  # let the workers run between chunks
        finally:
            self.input_ended = True
            self.ready_or_ended.set()

    async def _take(self, chunk: list[Row]) -> None:
        if self._stop_requested():
            # The rest of the input is still read, so that the report has a line for every
            # row; nothing is claimed or sent.
            for row in chunk:
                self.on_result(_not_started(row))
            return
        valid = [row for row in chunk if row.valid]
        claims = iter(await self.journal.claim(valid) if valid else ())
        for row in chunk:
            if not row.valid:
                self.on_result(RowResult(row.line, row.email, RowStatus.INVALID, error=row.error))
                continue
            claim = next(claims)
            if claim.kind is ClaimKind.DUPLICATE:
                self.on_result(_duplicate(row, claim))
            elif claim.kind is ClaimKind.DONE:
                self.on_result(_already_done(row, claim))
            else:
                self.ready.append((row, claim))
        if self.ready:
            self.ready_or_ended.set()

    # -- the workers -------------------------------------------------------------------------

    async def _work(self) -> None:
        ready = self.ready
        while True:
            if not ready:
                if self.input_ended:
                    return
                self.running_short.set()
                self.ready_or_ended.clear()
                await self.ready_or_ended.wait()
                continue
            row, claim = ready.popleft()
            if len(ready) < self.concurrency:
                self.running_short.set()
            if self._stop_requested():
                self.on_result(_not_started(row))  # the next run takes it
                continue
            self.on_result(await self._migrate_row(row, claim))

    async def _migrate_row(self, row: Row, claim: Claim) -> RowResult:
        assert row.email is not None
        assert row.body is not None
        try:
            if claim.state is RowState.CREATING:
                # An earlier run sent a create and never learnt its outcome.
                customer = await self._settle(row.email, claim.attempt_at or 0.0)
                if customer is not None:
                    return self._finish(row, RowStatus.CREATED, customer.id, customer.request_id)
            else:
                customer = await self._lookup_existing(row)
                if customer is not None:
                    return self._finish(row, RowStatus.EXISTING, customer.id, customer.request_id)
            return await self._create(row, ambiguous=claim.state is RowState.CREATING)
        except _OutcomeUnknown as exc:
            return RowResult(
                row.line,
                row.email,
                RowStatus.FAILED,
                error=f"{exc}; rerun to finish this row",
                request_id=exc.request_id,
            )

    async def _create(self, row: Row, *, ambiguous: bool) -> RowResult:
        assert row.email is not None
        assert row.payload is not None
        failures = 0
        rate_limited = 0
        last_error: BaseException | None = None
        while failures < self.max_attempts and rate_limited < _MAX_RATE_LIMITED:
            await self.writes.acquire()
            # Stamped after the pacing wait, so the settle window counts from the send.
            attempt_at = time.time()
            if ambiguous:
                # The journal says `creating`: move its send time forward before sending.
                await self.journal.record(row.email, RowState.CREATING, attempt_at=attempt_at)
            else:
                await self.journal.cover_creates()  # the row is `pending`: the lease covers it
            self.creates_sent += 1
            self.unsettled_creates += 1
            outcome: CreatedCustomer | CheckoutError
            try:
                outcome = await self.client.customers._create(row.payload, max_retries=0)
            except (ServerError, CheckoutConnectionError) as exc:
                # The API may have acted: the journal says so before anything else happens.
                if not ambiguous:
                    await self.journal.record(row.email, RowState.CREATING, attempt_at=attempt_at)
                    ambiguous = True
                outcome = exc
            except CheckoutError as exc:
                outcome = exc  # a definite answer: the API did not act
            # Not reached when cancelled mid-send: the create stays unsettled (see `migrate`).
            self.unsettled_creates -= 1

            if isinstance(outcome, CreatedCustomer):
                return self._finish(row, RowStatus.CREATED, outcome.id, outcome.request_id)
            last_error = outcome
            if isinstance(outcome, RateLimitError):
                self.writes.rate_limited()
                rate_limited += 1
                continue
            if isinstance(outcome, (ServerError, CheckoutConnectionError)):
                # Settle the question before creating again.
                failures += 1
                customer = await self._settle(row.email, attempt_at)
                if customer is not None:
                    return self._finish(row, RowStatus.CREATED, customer.id, customer.request_id)
                await asyncio.sleep(_backoff(failures))
                continue
            if isinstance(outcome, (AuthenticationError, PermissionDeniedError)):
                raise outcome  # every row would fail the same way: stop the run
            if isinstance(outcome, (ConflictError, UnprocessableEntityError)):
                # Perhaps the API refuses a second customer with this email.
                customer = await self._lookup(row.email)
                if customer is not None:
                    status = RowStatus.CREATED if ambiguous else RowStatus.EXISTING
                    return self._finish(row, status, customer.id, customer.request_id)
            return self._fail(row, outcome)
        # Every attempt was refused (429) or settled as not created: nothing was created.
        assert last_error is not None
        return self._fail(
            row, last_error, prefix=f"gave up after {failures + rate_limited} attempts: "
        )

    async def _lookup(self, email: str) -> Customer | None:
        """The customer with this email, None on a definite 404; raises `_OutcomeUnknown`."""
        failures = 0
        rate_limited = 0
        while True:
            await self.reads.acquire()
            self.lookups_sent += 1
            try:
                return await self.client.customers._find(email, max_retries=0)
            except RateLimitError as exc:
                self.reads.rate_limited()
                rate_limited += 1
                if rate_limited >= _MAX_RATE_LIMITED:
                    raise _OutcomeUnknown(f"lookup rate limited: {exc}", exc.request_id) from exc
            except (AuthenticationError, PermissionDeniedError):
                raise
            except (CheckoutApiError, CheckoutConnectionError) as exc:
                failures += 1
                if failures >= self.max_attempts:
                    raise _OutcomeUnknown(
                        f"the lookup by email failed {failures} times: {_describe(exc)}",
                        _request_id(exc),
                    ) from exc
                await asyncio.sleep(_backoff(failures))

    async def _lookup_existing(self, row: Row) -> Customer | None:
        """A customer already on the account under the row's email, in either spelling.

        Whether the API matches emails regardless of letter case is unknown, so an input
        spelling that differs from the key is looked up too before anything is created.
        """
        assert row.email is not None
        customer = await self._lookup(row.email)
        if customer is None and row.spelling is not None:
            customer = await self._lookup(row.spelling)
        return customer

    async def _settle(self, email: str, attempt_at: float) -> Customer | None:
        """Look the email up until the answer is definite (see the module docstring).

        Found at once is definite. Not found is looked at again once the settle window since
        the create has passed (two look-ups, not a poll, to spare the read budget).
        """
        customer = await self._lookup(email)
        deadline = attempt_at + self.settle_seconds
        if customer is not None or time.time() >= deadline:
            return customer
        while (wait := deadline - time.time()) > 0:
            if self._stop_requested():
                raise _OutcomeUnknown("interrupted while checking whether a create had acted")
            await asyncio.sleep(min(wait, _POLL_SECONDS))
        return await self._lookup(email)

    def _finish(
        self, row: Row, status: RowStatus, customer_id: str, request_id: str | None
    ) -> RowResult:
        assert row.email is not None
        state = RowState.CREATED if status is RowStatus.CREATED else RowState.EXISTING
        self.journal.record_soon(row.email, state, customer_id=customer_id, request_id=request_id)
        return RowResult(
            row.line, row.email, status, customer_id=customer_id, request_id=request_id
        )

    def _fail(self, row: Row, exc: BaseException, *, prefix: str = "") -> RowResult:
        assert row.email is not None
        error = prefix + _describe(exc)
        request_id = _request_id(exc)
        self.journal.record_soon(row.email, RowState.FAILED, error=error, request_id=request_id)
        return RowResult(row.line, row.email, RowStatus.FAILED, error=error, request_id=request_id)


def _not_started(row: Row) -> RowResult:
    """A row the interrupted run did not start: reported, left for the next run."""
    if not row.valid:
        return RowResult(row.line, row.email, RowStatus.INVALID, error=row.error)
    return RowResult(
        row.line,
        row.email,
        RowStatus.FAILED,
        error="not started: the run was interrupted; run the same command again to resume",
    )


def _duplicate(row: Row, claim: Claim) -> RowResult:
    return RowResult(
        row.line, row.email, RowStatus.DUPLICATE, error=f"same email as line {claim.line}"
    )


def _already_done(row: Row, claim: Claim) -> RowResult:
    status = RowStatus.CREATED if claim.state is RowState.CREATED else RowStatus.EXISTING
    error = (
        "the row changed since an earlier run migrated it; the customer was not updated"
        if claim.changed
        else None
    )
    return RowResult(
        row.line,
        row.email,
        status,
        customer_id=claim.customer_id,
        request_id=claim.request_id,
        error=error,
        already_done=True,
        changed=claim.changed,
    )


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
    `should_stop` is polled as rows are taken: once it returns True no new row starts, rows in
    flight finish, and the report says `interrupted`.

    Raises `JournalError` (journal unusable or in use), `CheckoutArgumentError` (bad
    arguments), and `AuthenticationError` / `PermissionDeniedError` (the credential is refused:
    no row can succeed). Cancelling the call leaves the journal consistent: rerun to resume.
    """
    concurrency = _check_count("concurrency", concurrency)
    max_attempts = _check_count("max_attempts", max_attempts)
    writes = AdaptiveRateLimiter(_check_rate("write_rate", write_rate))
    reads = AdaptiveRateLimiter(_check_rate("read_rate", read_rate))
    if not (isinstance(settle_seconds, (int, float)) and settle_seconds >= 0):
        raise CheckoutArgumentError(
            f"settle_seconds: must be a number >= 0, got {settle_seconds!r}",
            field="settle_seconds",
        )
    started = time.monotonic()
    check_migration_paths(rows, journal=journal, report=report)  # before anything is written
    opened = Journal(journal, target=client.base_url)
    writer: ReportWriter | None = None
    try:
        if report is not None:
            try:
                writer = ReportWriter(report)
            except OSError as exc:
                raise CheckoutArgumentError(
                    f"report: cannot write {os.fspath(report)!r} ({exc.strerror or exc})",  # type: ignore[arg-type]
                    field="report",
                ) from None
        tally = Tally()

        def on_result(result: RowResult) -> None:
            tally.add(result)
            if writer is not None:
                writer.write(result)
            if progress is not None:
                progress(result)

        migration = _Migration(
            client,
            opened,
            concurrency=concurrency,
            writes=writes,
            reads=reads,
            on_result=on_result,
            should_stop=should_stop or _never,
            settle_seconds=float(settle_seconds),
            max_attempts=max_attempts,
        )
        try:
            await migration.run(rows_of(rows))
        finally:
            if migration.unsettled_creates == 0:
                opened.release_creates()
        await opened.aclose()
        opened.check()
        return tally.snapshot(
            interrupted=migration.stopping,
            elapsed_seconds=time.monotonic() - started,
            creates_sent=migration.creates_sent,
            lookups_sent=migration.lookups_sent,
            rate_limited=writes.rate_limited_count + reads.rate_limited_count,
            journal=opened.path,
        )
    finally:
        if writer is not None:
            writer.close()
        opened.close()
