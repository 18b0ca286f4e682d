"""The per-row exactly-once protocol: look the email up, create, settle an ambiguous create.

One `RowProtocol.step` takes a row as far as it can go now and returns either its final
`RowResult` or `Parked`: its create may have acted, and the row waits, costing no worker and no
request, until its due time, when `step` is called again with the same job. The rules (the
numbers are those of "Exactly once per email" in docs/migration.md):

- A new row is looked up by email first (2); found means `existing`.
- A first create goes out only under the journal's lease (3); every later create of the row
  only after a committed `creating` record with its own send time (4).
- What the create's answer means is decided by `CREATE_VERDICTS`, a table, not by scattered
  branches: a 429 did not act (5), a 5xx or no answer may have acted (4), a 409/422 is looked
  up (5), a refused credential stops the run, anything else is the row's failure.
- A create that may have acted is recorded `creating` before anything else happens, then the
  row is parked until `attempt_at + settle_seconds` (4). When due it is looked up: found means
  `created`; "not found" is trusted only for a look-up sent after the due time, and only then
  is the create sent again.
- Failures while the circuit breaker is open are the outage's and do not count against the
  row; a rate of faults that does not stop ends the row `failed` after `max_attempts`.
- With `on_existing_update`, a customer found on the account (now, or by an earlier run that
  did not patch it: not `applied` in the journal), or created by an earlier run from a row
  that has changed since, gets one PATCH with the row's fields (`updated`). A PATCH sets the
  same fields however often it is sent, so one without a definite answer is simply sent
  again. The journal then keeps the fingerprint that was patched and marks the row applied,
  never a new state: a `created` row stays `created` (a rollback deletes it), an `existing`
  one stays `existing` (a rollback never deletes it), and a PATCH that failed leaves a done
  row as it was (still changed or not applied: the next update run patches it).
- A dry run (`dry_run`) sends look-ups only: where a real run would create or patch, the row
  ends `would_create` or `would_update`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from enum import Enum

import anyio
import attrs

from .._client import AsyncClient
from .._customers import PreparedCreate, prepare_create
from .._errors import (
    AuthenticationError,
    CheckoutApiError,
    CheckoutConnectionError,
    CheckoutError,
    ConflictError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from .._models import ApiResult, CreatedCustomer, Customer
from ._circuit_breaker import CircuitBreaker, Stopped, describe_failure
from ._journal import Claim, ClaimKind, Journal, RowState
from ._ratelimit import AdaptiveRateLimiter
from ._report import RowResult, RowStatus
from ._rows import Row

__all__ = [
    "CREATE_VERDICTS",
    "NOT_STARTED",
    "UNSETTLED",
    "CreateVerdict",
    "Job",
    "Parked",
    "RowProtocol",
    "interrupted",
]

_MAX_RATE_LIMITED = 200  # 429s in a row for one request before the row is given up
_BACKOFF_BASE_SECONDS = 0.05
_BACKOFF_MAX_SECONDS = 2.0
INTERRUPTED = "interrupted: the run was stopped; run the same command again to resume"
#: A row stopped before any create of it was sent: nothing happened to it yet.
NOT_STARTED = (
    "the run was interrupted before this row was started; run the same command again to resume"
)
#: A row stopped while a create of it may still act: the journal says `creating`.
UNSETTLED = (
    "interrupted while waiting to learn whether its create acted (the journal says "
    "`creating`); run the same command again to resume"
)


class CreateVerdict(Enum):
    """What the answer to a create means for the row."""

    NOT_ACTED_AGAIN = "the API did not act; send again once the pace allows"
    MAYBE_ACTED = "the API may have acted; record `creating`, park, settle"
    LOOK_UP = "refused, perhaps as a second customer for the email; look it up"
    STOP_RUN = "the credential is refused: every row would fail the same way"
    REFUSED = "the API did not act and will not: the row fails"


#: The create's outcome, by the class of its error: the first matching line wins.
CREATE_VERDICTS: tuple[tuple[tuple[type[CheckoutError], ...], CreateVerdict], ...] = (
    ((RateLimitError,), CreateVerdict.NOT_ACTED_AGAIN),
    ((AuthenticationError, PermissionDeniedError), CreateVerdict.STOP_RUN),
    ((ServerError, CheckoutConnectionError), CreateVerdict.MAYBE_ACTED),
    ((ConflictError, UnprocessableEntityError), CreateVerdict.LOOK_UP),
    ((CheckoutError,), CreateVerdict.REFUSED),
)


def create_verdict(error: CheckoutError) -> CreateVerdict:
    """The line of `CREATE_VERDICTS` that `error` falls under."""
    for classes, verdict in CREATE_VERDICTS:
        if isinstance(error, classes):
            return verdict
    raise AssertionError(f"no verdict for {error!r}")  # pragma: no cover - CheckoutError ends it


class _OutcomeUnknown(Exception):
    """The row's outcome could not be settled in this run; the journal keeps its state."""

    def __init__(self, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@attrs.define(slots=True)
class Job:
    """A row on its way: what the protocol knows about it between steps."""

    row: Row
    #: The journal says `creating`: a create of this row may have acted.
    ambiguous: bool = False
    #: When the last create that may have acted failed (time.time(), after it was sent).
    attempt_at: float = 0.0
    #: Creates settled as not created (not counting those lost to an outage).
    failures: int = 0
    #: The breaker's outage count at the last failure (see `_settle`).
    outages: int = 0
    prepared: PreparedCreate | None = None
    #: A row an earlier run finished, changed since or never applied: the customer to PATCH.
    update_id: str | None = None

    @classmethod
    def of(cls, row: Row, claim: Claim) -> Job:
        if claim.kind is ClaimKind.DONE:
            return cls(row, update_id=claim.customer_id)
        if claim.state is RowState.CREATING:
            # An earlier run sent a create and never learnt its outcome.
            return cls(row, ambiguous=True, attempt_at=claim.attempt_at or 0.0)
        return cls(row)


@attrs.frozen
class Parked:
    """The row waits until `due` (time.time()) to learn whether its create acted."""

    job: Job
    due: float


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CheckoutApiError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _request_id(exc: BaseException) -> str | None:
    # A connection error has one too when an answer came but could not be read.
    if isinstance(exc, (CheckoutApiError, CheckoutConnectionError)):
        return exc.request_id
    return None


def _backoff(attempt: int) -> float:
    ceiling = min(_BACKOFF_MAX_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


class _PatchFailed(Exception):
    """The PATCH of a row's customer failed for good in this run."""

    def __init__(self, message: str, cause: CheckoutError | None) -> None:
        super().__init__(message)
        self.cause = cause


def _planned(row: Row, status: RowStatus, customer_id: str | None = None) -> RowResult:
    """What a real run would do with the row (a dry run): nothing is sent or recorded."""
    return RowResult(row.line, row.email, status, customer_id=customer_id)


def interrupted(row: Row, why: str = INTERRUPTED) -> RowResult:
    """A valid row the stopped run did not finish: reported `failed`, left for the next run."""
    return RowResult(row.line, row.email, RowStatus.FAILED, error=why)


class RowProtocol:
    """Takes rows through the protocol against `client`, recording each step in `journal`."""

    def __init__(
        self,
        client: AsyncClient,
        journal: Journal,
        *,
        writes: AdaptiveRateLimiter,
        reads: AdaptiveRateLimiter,
        breaker: CircuitBreaker,
        stopping: Callable[[], bool],
        settle_seconds: float,
        max_attempts: int,
        on_existing_update: bool = False,
        dry_run: bool = False,
    ) -> None:
        self.customers = client.customers
        self.journal = journal
        self.writes = writes
        self.reads = reads
        self.breaker = breaker
        self.stopping = stopping
        self.settle_seconds = settle_seconds
        self.max_attempts = max_attempts
        self.on_existing_update = on_existing_update
        self.dry_run = dry_run
        self.creates_sent = 0
        self.lookups_sent = 0
        self.updates_sent = 0
        # Creates sent whose outcome the journal has not been told (or queued) yet.
        self.unsettled_creates = 0

    async def step(self, job: Job) -> RowResult | Parked:
        """Take the row as far as it goes now: its final result, or parked until due."""
        try:
            if job.update_id is not None:
                return await self._update_done(job, job.update_id)
            if job.ambiguous:
                if self.dry_run:
                    return await self._plan_unsettled(job)
                return await self._settle(job)
            customer = await self._lookup_existing(job.row)
            if customer is not None:
                return await self._found(job.row, customer)
            if self.dry_run:
                return _planned(job.row, RowStatus.WOULD_CREATE)
            return await self._create(job)
        except _OutcomeUnknown as exc:
            return RowResult(
                job.row.line,
                job.row.email,
                RowStatus.FAILED,
                error=f"{exc}; rerun to finish this row",
                request_id=exc.request_id,
            )
        except Stopped:
            if job.ambiguous:
                return interrupted(job.row, UNSETTLED)
            return RowResult(job.row.line, job.row.email, RowStatus.NOT_STARTED, error=NOT_STARTED)

    async def _settle(self, job: Job) -> RowResult | Parked:
        """A create of the row may have acted: found means `created`; not found is trusted
        only from a look-up sent once the settle window since that create has passed."""
        assert job.row.email is not None
        due = job.attempt_at + self.settle_seconds
        sent_at = time.time()
        if sent_at < due:
            return Parked(job, due)
        customer = await self._lookup(job.row.email)
        if customer is not None:
            return self._finish(job.row, RowStatus.CREATED, customer)
        if job.outages != self.breaker.outages:
            # An outage began after the last failed create: that failure was its first sign.
            job.failures = max(0, job.failures - 1)
            job.outages = self.breaker.outages
        if job.failures >= self.max_attempts:
            return self._fail(
                job.row,
                f"gave up after {job.failures} attempts: every create got no definite answer "
                "and none acted",
            )
        return await self._create(job)

    async def _create(self, job: Job) -> RowResult | Parked:
        row = job.row
        assert row.email is not None
        assert row.body is not None
        if job.prepared is None:
            job.prepared = row.prepared or prepare_create(row.body)
        rate_limited = 0
        while True:
            if self.stopping():
                raise Stopped
            await self.writes.acquire()
            if not self.breaker.closed:
                await self.breaker.admit(self.stopping)
            # Stamped after the pacing wait, so the settle window counts from the send.
            attempt_at = time.time()
            if job.ambiguous:
                # The journal says `creating`: move its send time forward before sending.
                await self.journal.record(row.email, RowState.CREATING, attempt_at=attempt_at)
            else:
                await self.journal.cover_creates()  # the row is `pending`: the lease covers it
            self.creates_sent += 1
            self.unsettled_creates += 1
            outcome: CreatedCustomer | CheckoutError
            try:
                outcome = await self.customers.create_prepared(job.prepared, max_retries=0)
            except CheckoutError as exc:
                outcome = exc
            # Not reached when cancelled mid-send: the create stays unsettled (see `migrate`).
            if isinstance(outcome, CreatedCustomer):
                self.unsettled_creates -= 1
                self.breaker.answered()
                return self._finish(row, RowStatus.CREATED, outcome)
            verdict = create_verdict(outcome)
            if verdict is CreateVerdict.MAYBE_ACTED:
                # The settle window counts from now, when the failure is seen: later than the
                # send (which may have waited for a connection), so never too early.
                seen_at = time.time()
                # The API may have acted: the journal says so before anything else happens.
                if not job.ambiguous:
                    await self.journal.record(row.email, RowState.CREATING, attempt_at=seen_at)
                    job.ambiguous = True
                self.unsettled_creates -= 1
                job.attempt_at = seen_at
                if not self.breaker.failed(describe_failure(outcome)):
                    job.failures += 1
                    job.outages = self.breaker.outages
                return Parked(job, seen_at + self.settle_seconds)
            self.unsettled_creates -= 1
            self.breaker.answered()
            if verdict is CreateVerdict.NOT_ACTED_AGAIN:
                self.writes.rate_limited()
                rate_limited += 1
                if rate_limited < _MAX_RATE_LIMITED:
                    continue
                error = f"gave up after {rate_limited} attempts: {_describe(outcome)}"
                return self._fail(row, error, outcome)
            if verdict is CreateVerdict.STOP_RUN:
                raise outcome
            if verdict is CreateVerdict.LOOK_UP:
                # Perhaps the API refuses a second customer with this email.
                customer = await self._lookup(row.email)
                if customer is not None:
                    if job.ambiguous:
                        return self._finish(row, RowStatus.CREATED, customer)
                    return await self._found(row, customer)
            return self._fail(row, _describe(outcome), outcome)

    async def _lookup(self, email: str) -> Customer | None:
        """The customer with this email, None on a definite 404; raises `_OutcomeUnknown`."""
        failures = 0
        rate_limited = 0
        outages = self.breaker.outages
        while True:
            await self.reads.acquire()
            if not self.breaker.closed:
                await self.breaker.admit(self.stopping)
            self.lookups_sent += 1
            try:
                customer = await self.customers.find(email, max_retries=0)
            except RateLimitError as exc:
                self.breaker.answered()
                self.reads.rate_limited()
                rate_limited += 1
                if rate_limited >= _MAX_RATE_LIMITED:
                    raise _OutcomeUnknown(f"lookup rate limited: {exc}", exc.request_id) from exc
                continue
            except (AuthenticationError, PermissionDeniedError):
                raise
            except (ServerError, CheckoutConnectionError) as exc:
                if self.breaker.failed(describe_failure(exc)):
                    continue  # the outage's failure, not the row's: wait for the API
                error: CheckoutError = exc
            except CheckoutApiError as exc:
                self.breaker.answered()
                error = exc
            else:
                self.breaker.answered()
                return customer
            failures += 1
            if self.stopping():
                raise Stopped
            await anyio.sleep(_backoff(failures))
            if self.breaker.outages != outages:
                # An outage began meanwhile: this failure was its first sign, not the row's.
                failures -= 1
                outages = self.breaker.outages
                continue
            if failures >= self.max_attempts:
                raise _OutcomeUnknown(
                    f"the lookup by email failed {failures} times: {_describe(error)}",
                    _request_id(error),
                )

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

    # -- on_existing="update" and the dry run --------------------------------------------------

    async def _found(self, row: Row, customer: Customer) -> RowResult:
        """A customer with the row's email is on the account: `existing`, or patched."""
        if not self.on_existing_update:
            return self._finish(row, RowStatus.EXISTING, customer)
        if self.dry_run:
            return _planned(row, RowStatus.WOULD_UPDATE, customer.id)
        try:
            result = await self._patch(row, customer.id)
        except _PatchFailed as exc:
            # `failed`, not `existing`: the next run looks the row up and patches it again.
            return self._fail(row, str(exc), exc.cause)
        return self._finish(row, RowStatus.UPDATED, customer, request_id=result.request_id)

    async def _update_done(self, job: Job, customer_id: str) -> RowResult:
        """An earlier run finished the row, which has changed since or whose customer it only
        found: PATCH the customer."""
        row = job.row
        assert row.email is not None
        if self.dry_run:
            return _planned(row, RowStatus.WOULD_UPDATE, customer_id)
        try:
            result = await self._patch(row, customer_id)
        except _PatchFailed as exc:
            # The journal is left as it is: the row stays done (a `created` one stays the
            # migration's), and still changed or not applied, so the next run patches it.
            return RowResult(
                row.line,
                row.email,
                RowStatus.FAILED,
                customer_id=customer_id,
                error=f"{exc}; the customer was not updated, rerun to update it",
                request_id=_request_id(exc.cause) if exc.cause else None,
            )
        self.journal.record_patched(row.email, row.fingerprint, request_id=result.request_id)
        return RowResult(
            row.line, row.email, RowStatus.UPDATED, customer_id=customer_id,
            request_id=result.request_id,
        )  # fmt: skip

    async def _plan_unsettled(self, job: Job) -> RowResult:
        """A dry run of a row whose create an earlier run left unsettled: found means that
        create acted (`created`); otherwise a real run would create it."""
        assert job.row.email is not None
        customer = await self._lookup(job.row.email)
        if customer is None:
            return _planned(job.row, RowStatus.WOULD_CREATE)
        return RowResult(
            job.row.line, job.row.email, RowStatus.CREATED, customer_id=customer.id,
            request_id=customer.request_id,
        )  # fmt: skip

    async def _patch(self, row: Row, customer_id: str) -> ApiResult:
        """PATCH the row's fields onto `customer_id`; raise `_PatchFailed` when it cannot be done.

        Sent again on a 429, a 5xx or no answer (a PATCH is idempotent), at the write pace.
        """
        assert row.body is not None
        failures = 0
        rate_limited = 0
        outages = self.breaker.outages
        while True:
            if self.stopping():
                raise Stopped
            await self.writes.acquire()
            if not self.breaker.closed:
                await self.breaker.admit(self.stopping)
            self.updates_sent += 1
            try:
                return await self.customers.update(customer_id, **row.body, max_retries=0)
            except RateLimitError as exc:
                self.breaker.answered()
                self.writes.rate_limited()
                rate_limited += 1
                if rate_limited >= _MAX_RATE_LIMITED:
                    raise _PatchFailed(f"update gave up after {rate_limited} 429s", exc) from exc
                continue
            except (AuthenticationError, PermissionDeniedError):
                raise
            except (ServerError, CheckoutConnectionError) as exc:
                if self.breaker.failed(describe_failure(exc)):
                    continue  # the outage's failure, not the row's: wait for the API
                error: CheckoutError = exc
            except CheckoutError as exc:
                self.breaker.answered()
                raise _PatchFailed(f"update refused: {_describe(exc)}", exc) from exc
            failures += 1
            if self.stopping():
                raise Stopped
            await anyio.sleep(_backoff(failures))
            if self.breaker.outages != outages:
                failures -= 1  # an outage began meanwhile: this failure was its first sign
                outages = self.breaker.outages
                continue
            if failures >= self.max_attempts:
                raise _PatchFailed(f"the update failed {failures} times: {_describe(error)}", error)

    def _finish(
        self,
        row: Row,
        status: RowStatus,
        customer: CreatedCustomer | Customer,
        *,
        request_id: str | None = None,
    ) -> RowResult:
        assert row.email is not None
        state = RowState.CREATED if status is RowStatus.CREATED else RowState.EXISTING
        customer_id, request_id = customer.id, request_id or customer.request_id
        self.journal.record_soon(
            row.email, state, customer_id=customer_id, request_id=request_id,
            applied=status is not RowStatus.EXISTING,
        )  # fmt: skip
        return RowResult(
            row.line, row.email, status, customer_id=customer_id, request_id=request_id
        )

    def _fail(self, row: Row, error: str, exc: BaseException | None = None) -> RowResult:
        assert row.email is not None
        request_id = None if exc is None else _request_id(exc)
        self.journal.record_soon(row.email, RowState.FAILED, error=error, request_id=request_id)
        return RowResult(row.line, row.email, RowStatus.FAILED, error=error, request_id=request_id)
