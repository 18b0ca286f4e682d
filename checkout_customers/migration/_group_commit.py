"""Group commit: many journal changes, one SQLite transaction, on the event loop's own thread.

Work is queued as functions of the connection or as row-state updates. The queue is committed
in one transaction at the end of the event loop's turn when someone waits for one of its items
(`submit`, `update`), else within `OUTCOME_COMMIT_SECONDS` (`update_soon`, for outcomes that
nothing waits for). No writer thread: a commit costs tens of microseconds, less than a thread
hand-off, and a thread would compete with the loop for the GIL.

A failed commit (a full disk, an I/O error) is rolled back as a whole, so the file keeps the
state of the last good commit; its error goes to every waiter of the batch and is kept in
`failure`, and every later enqueue raises it: nothing is sent on the strength of a record that
was never written.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from ._journal_schema import JournalError, journal_error

__all__ = ["OUTCOME_COMMIT_SECONDS", "GroupCommitWriter", "UpdateValues"]

_T = TypeVar("_T")
OUTCOME_COMMIT_SECONDS = 0.05

_UPDATE_SQL = (
    "UPDATE rows SET state = ?, customer_id = ?, request_id = ?, error = ?, "
    "attempt_at = coalesce(?, attempt_at), updated_at = ?, applied = ? WHERE email = ?"
)
#: state, customer_id, request_id, error, attempt_at, updated_at, applied, email
UpdateValues = tuple[str, str | None, str | None, str | None, float | None, float, bool, str]


class _Op:
    """Queued work: a function, or the values of one state update (applied together with its
    neighbours); the result goes to `future`, if any."""

    __slots__ = ("function", "future", "update")

    def __init__(
        self,
        function: Callable[[sqlite3.Connection], Any] | None = None,
        future: asyncio.Future[Any] | None = None,
        update: UpdateValues | None = None,
    ) -> None:
        self.function = function
        self.update = update
        self.future = future


class GroupCommitWriter:
    """Commits queued work on `connection` in groups (see the module docstring)."""

    def __init__(self, connection: sqlite3.Connection, path: str) -> None:
        self._connection = connection
        self._path = path
        self.closed = False
        #: The error of a failed commit; once set, nothing more is accepted.
        self.failure: JournalError | None = None
        self._pending: list[_Op] = []
        self._flush_soon = False
        self._flush_later: asyncio.TimerHandle | None = None

    def submit(self, function: Callable[[sqlite3.Connection], _T]) -> asyncio.Future[_T]:
        """Queue `function(connection)`; the future gets its result once committed."""
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Op(function, future=future))
        return future

    def update(self, values: UpdateValues) -> asyncio.Future[None]:
        """Queue a row-state update; the future is done once it is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(_Op(future=future, update=values))
        return future

    def update_soon(self, values: UpdateValues) -> None:
        """Queue a row-state update committed within `OUTCOME_COMMIT_SECONDS`; do not wait."""
        self._enqueue(_Op(update=values))

    def execute_soon(self, function: Callable[[sqlite3.Connection], Any]) -> None:
        """Queue `function(connection)` with the next commit; do not wait."""
        self._enqueue(_Op(function))

    def _enqueue(self, op: _Op) -> None:
        if self.failure is not None:
            raise self.failure
        if self.closed:
            raise JournalError(f"{self._path}: the journal is closed")
        self._pending.append(op)
        if self._flush_soon:
            return
        loop = asyncio.get_running_loop()
        if op.future is not None:
            self._flush_soon = True
            loop.call_soon(self.flush)
        elif self._flush_later is None:
            self._flush_later = loop.call_later(OUTCOME_COMMIT_SECONDS, self.flush)

    def flush(self) -> None:
        """Commit everything queued in one transaction."""
        self._flush_soon = False
        if self._flush_later is not None:
            self._flush_later.cancel()
            self._flush_later = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        results: list[Any] = []
        error: BaseException | None = None
        try:
            results = self._commit(batch)
        except sqlite3.Error as exc:
            error = self.failure = journal_error(self._path, exc)
        except Exception as exc:  # a bug: hand it to every waiter rather than hang them
            error = exc
        for index, op in enumerate(batch):
            future = op.future
            if future is None or future.done():  # done: the waiting task was cancelled
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(results[index])

    def _commit(self, batch: list[_Op]) -> list[Any]:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            results = _run_batch(connection, batch)
            connection.execute("COMMIT")
        except BaseException:
            # What is raised is the cause, never the ROLLBACK's own error. A write to the file
            # that fails (SQLITE_FULL, SQLITE_IOERR: at COMMIT, or mid-batch when the page cache
            # spills) has already rolled the whole transaction back, and ROLLBACK then fails with
            # "cannot rollback - no transaction is active". Other failures leave the transaction
            # open (an error of a batch function, a constraint, a full disk that undoes only its
            # statement), and it is rolled back here.
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise
        return results

    def close(self) -> None:
        """Commit what is queued (unless a commit failed) and accept nothing more; idempotent."""
        if self.closed:
            return
        try:
            if self.failure is None:
                self.flush()
        finally:
            self.closed = True
            if self._flush_later is not None:
                self._flush_later.cancel()
                self._flush_later = None


def _run_batch(connection: sqlite3.Connection, batch: list[_Op]) -> list[Any]:
    """Run the batch in order; runs of state updates are applied together."""
    results: list[Any] = []
    updates: list[UpdateValues] = []
    for op in batch:
        if op.update is not None:
            updates.append(op.update)
            results.append(None)
            continue
        if updates:
            _apply_updates(connection, updates)
            updates = []
        assert op.function is not None
        results.append(op.function(connection))
    if updates:
        _apply_updates(connection, updates)
    return results


def _apply_updates(connection: sqlite3.Connection, updates: list[UpdateValues]) -> None:
    # One prepared statement stepped per row: cheaper than a multi-row UPDATE ... FROM (VALUES)
    # at the handful of rows a loop turn brings, and applied in order, so a later update of an
    # email wins.
    connection.executemany(_UPDATE_SQL, updates)
