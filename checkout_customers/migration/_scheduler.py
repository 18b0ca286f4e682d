"""The worker pool: reads and claims rows, runs them through the protocol, parks the waiting.

Three kinds of task share one anyio task group:

- the reader claims the input a chunk at a time in the journal and keeps a buffer of rows
  ready for the workers (never a task per row; workers take rows without a task switch);
- `concurrency` workers run one row step at a time (`RowProtocol.step`). A step that ends
  `Parked` puts the row in the parking lot, a heap by due time, and the worker goes on with
  the next row: a row waiting out its settle window costs no worker and no request (a row an
  earlier run finished is reported at once, unless it is to be patched: see `_to_patch`);
- the clock moves parked rows that are due to the front of the line (they go before new rows,
  so they finish), polls `should_stop`, and ends the grace after a stop.

The run ends when the input is read and every row is final. On a stop no new row or create
starts; the rows in flight finish their current request within `STOP_GRACE_SECONDS`, after
which the workers are cancelled (the journal keeps their rows safe); every row of the input,
read or not, still gets its line in the report.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator

import anyio
import anyio.lowlevel

from ._journal import Claim, ClaimKind, Journal, RowState
from ._report import RowResult, RowStatus
from ._row_protocol import NOT_STARTED, UNSETTLED, Job, Parked, RowProtocol, interrupted
from ._rows import Row

__all__ = ["STOP_GRACE_SECONDS", "Scheduler"]

#: How long rows in flight may take to finish their request once the run is told to stop.
STOP_GRACE_SECONDS = 10.0
_CHUNK_ROWS = 256
_CLOCK_SECONDS = 0.05
_PARKED_WHY = UNSETTLED


class Scheduler:
    """Runs `protocol` over `rows` with `concurrency` workers; `on_result` gets every row."""

    def __init__(
        self,
        protocol: RowProtocol,
        journal: Journal,
        *,
        concurrency: int,
        on_result: Callable[[RowResult], None],
        should_stop: Callable[[], bool],
    ) -> None:
        self.protocol = protocol
        self.journal = journal
        self.concurrency = concurrency
        self.on_result = on_result
        self.should_stop = should_stop
        self.stopping = False
        self.stopped_at = 0.0
        # New rows, claimed and waiting for a worker; the reader refills it when it runs short.
        self.ready: deque[Job] = deque()
        # Parked rows whose due time has come: they go before new rows.
        self.due: deque[Job] = deque()
        self.parked: list[tuple[float, int, Job]] = []
        self._sequence = itertools.count()
        self.in_flight: dict[int, Row] = {}
        self.input_ended = False  # the reader is done, one way or another
        self._input_read = False  # ... and it read the input to its end
        self._claiming: list[Row] = []
        self._work_ready = anyio.Event()
        self._running_short = anyio.Event()
        self._error: BaseException | None = None
        self._rows: Iterator[Row] | None = None

    def stop_requested(self) -> bool:
        """Whether the run is stopping; polls `should_stop` until it says so."""
        if not self.stopping and self.should_stop():
            self.stopping = True
            self.stopped_at = time.monotonic()
            self._wake()
        return self.stopping

    @property
    def finished(self) -> bool:
        return (
            self.input_ended
            and not self.ready
            and not self.due
            and not self.parked
            and not self.in_flight
        )

    async def run(self, rows: Iterator[Row]) -> None:
        """Migrate every row; raise the first error that stops the run (e.g. a refused
        credential, a journal that cannot be written). On cancellation, every row not final
        yet is reported before the cancellation goes on."""
        self._rows = rows
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                group.start_soon(self._guard, self._clock)
                async with anyio.create_task_group() as pool:
                    pool.start_soon(self._guard, self._produce, rows)
                    for number in range(self.concurrency):
                        pool.start_soon(self._guard, self._work, number)
                # Every row is final: the clock has nothing left to do (and the run's end
                # must not wait for its next tick).
                group.cancel_scope.cancel()
        finally:
            self._report_unfinished()
        if self._error is not None:
            raise self._error

    async def _guard(self, function: Callable[..., object], *args: object) -> None:
        # One error stops the run as itself, not wrapped in an ExceptionGroup.
        try:
            await function(*args)  # type: ignore[misc]
        except Exception as exc:
            if self._error is None:
                self._error = exc
            self._group.cancel_scope.cancel()

    def _wake(self) -> None:
        self._work_ready.set()

    def _report_unfinished(self) -> None:
        """Report every row that is not final: in flight, parked, ready, or not read yet."""
        for row in self.in_flight.values():
            self.on_result(interrupted(row))
        self.in_flight.clear()
        for job in self.due:
            self.on_result(interrupted(job.row, _PARKED_WHY))
        self.due.clear()
        for _, _, job in sorted(self.parked, key=lambda entry: entry[0]):
            self.on_result(interrupted(job.row, _PARKED_WHY))
        self.parked.clear()
        for job in self.ready:
            self.on_result(_unstarted(job))
        self.ready.clear()
        for row in self._claiming:
            self.on_result(_not_started(row))
        self._claiming = []
        if not self._input_read and self._rows is not None:
            # The rest of the input is still read, so that the report has a line for every
            # row; nothing is claimed or sent.
            self._input_read = self.input_ended = True
            for row in self._rows:
                self.on_result(_not_started(row))

    # -- reading the input -------------------------------------------------------------------

    async def _produce(self, rows: Iterator[Row]) -> None:
        try:
            while True:
                chunk = [row for _, row in zip(range(_CHUNK_ROWS), rows, strict=False)]
                if not chunk:
                    self._input_read = True
                    break
                await self._take(chunk)
                if len(self.ready) >= self.concurrency and not self.stopping:
                    self._running_short = anyio.Event()
                    await self._running_short.wait()
                else:
                    await anyio.lowlevel.checkpoint()  # let the workers run between chunks
        finally:
            self.input_ended = True
            self._wake()

    async def _take(self, chunk: list[Row]) -> None:
        if self.stop_requested():
            for row in chunk:
                self.on_result(_not_started(row))
            return
        valid = [row for row in chunk if row.valid]
        self._claiming = chunk  # reported by `_report_unfinished` if the claim is cut short
        claims = iter(await self.journal.claim(valid) if valid else ())
        self._claiming = []
        for row in chunk:
            if not row.valid:
                self.on_result(RowResult(row.line, row.email, RowStatus.INVALID, error=row.error))
                continue
            claim = next(claims)
            if claim.kind is ClaimKind.DUPLICATE:
                self.on_result(_duplicate(row, claim))
            elif claim.kind is ClaimKind.DONE and not self._to_patch(claim):
                self.on_result(_already_done(row, claim))
            else:
                self.ready.append(Job.of(row, claim))
        if self.ready:
            self._wake()

    def _to_patch(self, claim: Claim) -> bool:
        """Whether an update run patches the customer of a row an earlier run finished: the
        row changed since, or its customer was only found `existing`, never given its fields."""
        return (
            self.protocol.on_existing_update
            and bool(claim.customer_id)
            and (claim.changed or not claim.applied)
        )

    # -- the workers -------------------------------------------------------------------------

    async def _work(self, number: int) -> None:
        due, ready, in_flight = self.due, self.ready, self.in_flight
        while True:
            if due:
                job = due.popleft()
            elif ready:
                job = ready.popleft()
                if len(ready) < self.concurrency:
                    self._running_short.set()
            else:
                if self.finished:
                    self._wake()  # let the others see it too
                    return
                self._running_short.set()
                self._work_ready = anyio.Event() if self._work_ready.is_set() else self._work_ready
                await self._work_ready.wait()
                continue
            if self.stop_requested():
                self.on_result(_unstarted(job))
                continue
            # Left in `in_flight` if the step is cancelled or raises: then reported unfinished.
            in_flight[number] = job.row
            outcome = await self.protocol.step(job)
            del in_flight[number]
            if isinstance(outcome, Parked):
                if self.stopping:
                    self.on_result(interrupted(job.row, _PARKED_WHY))
                else:
                    heapq.heappush(self.parked, (outcome.due, next(self._sequence), job))
            else:
                self.on_result(outcome)

    # -- the clock ---------------------------------------------------------------------------

    async def _clock(self) -> None:
        parked = self.parked
        while True:
            stopping = self.stop_requested()
            if stopping:
                if parked:
                    while parked:
                        _, _, job = heapq.heappop(parked)
                        self.on_result(interrupted(job.row, _PARKED_WHY))
                    self._wake()  # idle workers may be done now
                if time.monotonic() - self.stopped_at >= STOP_GRACE_SECONDS:
                    self._group.cancel_scope.cancel()
                    return
            elif parked and parked[0][0] <= time.time():
                while parked and parked[0][0] <= time.time():
                    self.due.append(heapq.heappop(parked)[2])
                self._wake()
            await anyio.sleep(_CLOCK_SECONDS)


def _not_started(row: Row) -> RowResult:
    """A row the interrupted run did not start: reported, left for the next run."""
    if not row.valid:
        return RowResult(row.line, row.email, RowStatus.INVALID, error=row.error)
    return RowResult(row.line, row.email, RowStatus.NOT_STARTED, error=NOT_STARTED)


def _unstarted(job: Job) -> RowResult:
    """A claimed row the stopped run did not take up: `creating` ones are still unsettled."""
    return interrupted(job.row, _PARKED_WHY) if job.ambiguous else _not_started(job.row)


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
