"""The migration journal: one SQLite (WAL) record per email, written before and after requests.

After a crash the journal never claims less than what was sent: a row whose create may have
reached the API is reconciled by looking its email up before anything is created again. Two
records guard creates:

- A row's first create is covered by the run's *lease*: a time, committed before the send and
  renewed ahead of need, before which every create of the run's `pending` rows is sent. A run
  that ends with every create settled clears it. When a run starts and finds the previous run's
  lease still set (that run was killed), the previous run's `pending` rows become `creating`
  with the lease's end as their send time. This spares a commit per row before its create.
- A row whose create got no definite answer is recorded `creating` with the send time, and
  every further create of it is preceded by a committed `creating` with the new send time.

Changes are committed together (group commit): at the end of the event loop's turn when someone
waits for one of them, else within `_OUTCOME_COMMIT_SECONDS` (outcomes, which nothing waits for:
a kill loses at most those, and their rows are looked up again).

Durability: WAL with `synchronous=NORMAL`. A commit is in the operating system's hands before
the request it guards is sent, so it survives any death of the process (SIGKILL included). An
operating-system crash or power cut can lose the last commits; the rows concerned are then
looked up by email again on the next run, which finds any customer that was created (reported
`existing` rather than `created`), so even then no email gets a second customer. In exchange
there is no fsync per commit: the journal runs on the event loop's own thread, without a
writer thread competing for the GIL, and costs little next to the HTTP requests.

States: `pending` (claimed; a create may be in flight under the lease), `creating` (a create
may have acted, sent at `attempt_at`), `created`, `existing` (found on the account, not created
by us), `failed` (definitely not created; `pending` again when the next run claims it).

The journal is held exclusively by one process (SQLite's exclusive locking mode): a second
migration on the same journal fails with `JournalError` instead of racing the first.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, TypeVar

import attrs

from .._errors import CheckoutError
from ._rows import Row

__all__ = ["Claim", "ClaimKind", "Journal", "JournalError", "RowState"]

_APPLICATION_ID = 0x434B4A31  # "CKJ1"
_SCHEMA_VERSION = "1"
_T = TypeVar("_T")
#: How far ahead a lease covers creates. A killed run's unfinished rows wait for the settle
#: window counted from the end of its lease, so it is short; it is renewed once less than
#: `_RENEW_BEFORE_SECONDS` is left (about once a second), so that no create waits for it.
_LEASE_SECONDS = 3.0
_RENEW_BEFORE_SECONDS = 2.0
_SET_LEASE_SQL = "INSERT OR REPLACE INTO meta VALUES ('creates_until', ?)"
_OUTCOME_COMMIT_SECONDS = 0.05

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE rows (
    email TEXT PRIMARY KEY,
    line INTEGER NOT NULL,
    run INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    customer_id TEXT,
    request_id TEXT,
    error TEXT,
    attempt_at REAL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
"""


class JournalError(CheckoutError):
    """The journal cannot be used: unreadable, not a journal, or in use by another migration."""


class RowState(str, Enum):
    PENDING = "pending"
    CREATING = "creating"
    CREATED = "created"
    EXISTING = "existing"
    FAILED = "failed"


DONE_STATES = frozenset({RowState.CREATED, RowState.EXISTING})


class ClaimKind(str, Enum):
    NEW = "new"  # first time this email is seen: look it up, create it
    RESUME = "resume"  # seen by an earlier run that did not finish it
    DONE = "done"  # finished by an earlier run
    DUPLICATE = "duplicate"  # seen earlier in this same run


@attrs.frozen
class Claim:
    """What the journal knew about a row's email when the row was read."""

    kind: ClaimKind
    state: RowState | None = None
    line: int | None = None  # the line that holds the email (the first one, for a duplicate)
    customer_id: str | None = None
    request_id: str | None = None
    error: str | None = None
    attempt_at: float | None = None
    changed: bool = False  # a done row whose content differs from what was migrated


_UPDATE_SQL = (
    "UPDATE rows SET state = ?, customer_id = ?, request_id = ?, error = ?, "
    "attempt_at = coalesce(?, attempt_at), updated_at = ? WHERE email = ?"
)
_UpdateValues = tuple[str, str | None, str | None, str | None, float | None, float, str]


class _Op:
    """Pending journal work: a function, or the values of one state update (applied together
    with its neighbours); the result goes to `future`, if any."""

    __slots__ = ("function", "future", "update")

    def __init__(
        self,
        function: Callable[[sqlite3.Connection], Any] | None = None,
        future: asyncio.Future[Any] | None = None,
        update: _UpdateValues | None = None,
    ) -> None:
        self.function = function
        self.update = update
        self.future = future


class Journal:
    """The journal at `path`, opened and locked for one migration run (see module docstring).

    `target` identifies the account (its base URL); a journal written for another account is
    refused. Raises `JournalError`.
    """

    def __init__(self, path: str | os.PathLike[str], *, target: str) -> None:
        self.path = os.fspath(path)
        self._connection = _open(self.path)
        try:
            self.run = self._start_run(target)
        except BaseException:
            self._connection.close()
            raise
        self._closed = False
        self._failure: BaseException | None = None
        self._pending: list[_Op] = []
        self._flush_soon = False
        self._flush_later: asyncio.TimerHandle | None = None
        self._lease_until = 0.0  # committed; 0 while this run holds no lease
        self._renewal: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"<Journal {self.path!r} run={self.run}>"

    def _start_run(self, target: str) -> int:
        connection = self._connection
        try:
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                application_id = connection.execute("PRAGMA application_id").fetchone()[0]
                tables = connection.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
                if application_id == 0 and tables == 0:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                    connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                    connection.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [("schema", _SCHEMA_VERSION), ("target", target), ("runs", "0")],
                    )
                elif application_id != _APPLICATION_ID:
                    raise JournalError(
                        f"{self.path}: is an SQLite database but not a migration journal; "
                        "choose another --journal path"
                    )
                meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
                if meta.get("schema") != _SCHEMA_VERSION:
                    raise JournalError(
                        f"{self.path}: journal format {meta.get('schema')!r} is not supported"
                    )
                known = meta.get("target", target)
                if not _same_target(known, target):
                    raise JournalError(
                        f"{self.path}: this journal belongs to a migration to {known}, not "
                        f"{target}; use another --journal for another account"
                    )
                run = int(meta.get("runs", "0")) + 1
                connection.execute("UPDATE meta SET value = ? WHERE key = 'runs'", (str(run),))
                lease = _lease_of(meta.get("creates_until", "0"), self.path)
                if lease > 0:
                    # The previous run stopped with creates unsettled: any of its `pending`
                    # rows may have been sent, at the latest when its lease ended.
                    connection.execute(
                        "UPDATE rows SET state = 'creating', attempt_at = ? "
                        "WHERE state = 'pending' AND run = ?",
                        (lease, run - 1),
                    )
                    connection.execute(_SET_LEASE_SQL, ("0",))
        except sqlite3.Error as exc:
            raise _journal_error(self.path, exc) from None
        return run

    # -- group commit ------------------------------------------------------------------------

    def _enqueue(self, op: _Op) -> None:
        if self._closed:
            raise JournalError(f"{self.path}: the journal is closed")
        self._pending.append(op)
        if self._flush_soon:
            return
        loop = asyncio.get_running_loop()
        if op.future is not None:
            self._flush_soon = True
            loop.call_soon(self._flush)
        elif self._flush_later is None:
            self._flush_later = loop.call_later(_OUTCOME_COMMIT_SECONDS, self._flush)

    def _flush(self) -> None:
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
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                results = _run_batch(connection, batch)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            error = _journal_error(self.path, exc)
        except Exception as exc:  # a bug: hand it to every waiter rather than hang them
            error = exc
        if error is not None:
            self._failure = error
        for index, op in enumerate(batch):
            future = op.future
            if future is None or future.done():  # done: the waiting task was cancelled
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(results[index])

    async def _submit(self, function: Callable[[sqlite3.Connection], _T]) -> _T:
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Op(function, future=future))
        return await future

    async def aclose(self) -> None:
        """Commit what is queued and release the journal (and its lock)."""
        self.close()

    def close(self) -> None:
        """Commit what is queued and release the journal (and its lock); idempotent."""
        if self._closed:
            return
        try:
            self._flush()
        finally:
            self._closed = True
            self._connection.close()

    # -- operations --------------------------------------------------------------------------

    async def claim(self, rows: Sequence[Row]) -> list[Claim]:
        """Record that this run reads `rows` (valid rows, in input order); say what is known."""
        run = self.run
        now = time.time()
        entries = [(row.email, row.line, row.fingerprint) for row in rows]

        def claim_all(connection: sqlite3.Connection) -> list[Claim]:
            return _claim_all(connection, run, now, entries)

        return await self._submit(claim_all)

    async def record(
        self,
        email: str,
        state: RowState,
        *,
        customer_id: str | None = None,
        request_id: str | None = None,
        error: str | None = None,
        attempt_at: float | None = None,
    ) -> None:
        """Set the state of `email`; returns once it is committed (see the module docstring)."""
        values = (state.value, customer_id, request_id, error, attempt_at, time.time(), email)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(_Op(future=future, update=values))
        await future

    def record_soon(
        self,
        email: str,
        state: RowState,
        *,
        customer_id: str | None = None,
        request_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Queue a state change, committed within `_OUTCOME_COMMIT_SECONDS`; do not wait.

        For outcomes only (`created`, `existing`, `failed`): if the process dies before the
        commit, the row is still `creating` or `pending` (suspect, under the lease) and the next
        run looks it up again, which is safe. A failed commit is raised by `check`.
        """
        values = (state.value, customer_id, request_id, error, None, time.time(), email)
        self._enqueue(_Op(update=values))

    async def cover_creates(self) -> None:
        """Return once a create of a `pending` row sent now is covered by the lease."""
        now = time.time()
        if self._lease_until - now > _RENEW_BEFORE_SECONDS:
            return
        if self._renewal is None:
            self._renewal = self._renew_lease(now + _LEASE_SECONDS)
        if now >= self._lease_until:
            # Shielded: a waiter that is cancelled must not cancel the others' renewal.
            await asyncio.shield(self._renewal)

    def _renew_lease(self, until: float) -> asyncio.Future[None]:
        def write(connection: sqlite3.Connection) -> None:
            connection.execute(_SET_LEASE_SQL, (repr(until),))

        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def committed(done: asyncio.Future[None]) -> None:
            self._renewal = None
            # A failed commit is also kept for `check`; reading it here marks it seen.
            if not done.cancelled() and done.exception() is None:
                self._lease_until = until

        future.add_done_callback(committed)
        self._enqueue(_Op(write, future=future))
        return future

    def release_creates(self) -> None:
        """Clear the lease: every create this run sent has its outcome queued for the journal.

        Queued after those outcomes, so it commits with them or after them.
        """
        if self._lease_until or self._renewal is not None:
            self._enqueue(_Op(lambda connection: connection.execute(_SET_LEASE_SQL, ("0",))))
            self._lease_until = 0.0

    def check(self) -> None:
        """Raise the error of a failed write (e.g. a `record_soon`), if any."""
        if self._failure is not None:
            raise self._failure


# A chunk of claims is read and inserted with a few multi-row statements, not one per row:
# each statement costs a round of the sqlite3 module's Python glue.
_VALUES_ROWS = 100  # rows per multi-row INSERT: 5 x 100 parameters stays under 999
_SELECT_IN_HEAD = (
    "SELECT email, line, run, fingerprint, state, customer_id, request_id, error, attempt_at "
    "FROM rows WHERE email IN ("
)
_INSERT_HEAD = "INSERT INTO rows (email, line, run, fingerprint, state, updated_at) VALUES "


def _run_batch(connection: sqlite3.Connection, batch: list[_Op]) -> list[Any]:
    """Run the batch in order; runs of state updates are applied together."""
    results: list[Any] = []
    updates: list[_UpdateValues] = []
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


def _apply_updates(connection: sqlite3.Connection, updates: list[_UpdateValues]) -> None:
    # One prepared statement stepped per row: cheaper than a multi-row UPDATE ... FROM (VALUES)
    # at the handful of rows a loop turn brings, and applied in order, so a later update of an
    # email wins.
    connection.executemany(_UPDATE_SQL, updates)


def _claim_all(
    connection: sqlite3.Connection,
    run: int,
    now: float,
    entries: Sequence[tuple[str | None, int, str]],
) -> list[Claim]:
    """Claim a chunk of rows in input order with a handful of statements."""
    emails = list(dict.fromkeys(email for email, _, _ in entries))
    known: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(emails), _VALUES_ROWS * 5):
        part = emails[start : start + _VALUES_ROWS * 5]
        sql = _SELECT_IN_HEAD + ",".join("?" * len(part)) + ")"
        for found in connection.execute(sql, part):
            known[found[0]] = found[1:]
    claims: list[Claim] = []
    inserts: list[tuple[Any, ...]] = []
    moves: list[tuple[Any, ...]] = []
    claimed_now: dict[str, int] = {}
    for email, line, fingerprint in entries:
        assert email is not None
        if email in claimed_now:
            claims.append(Claim(ClaimKind.DUPLICATE, line=claimed_now[email]))
            continue
        found = known.get(email)
        if found is None:
            claimed_now[email] = line
            inserts.append((email, line, run, fingerprint, now))
            claims.append(Claim(ClaimKind.NEW, line=line))
            continue
        (known_line, known_run, known_fingerprint, state, customer_id, request_id, error,
         attempt_at) = found  # fmt: skip
        row_state = RowState(state)
        if known_run == run:
            claims.append(Claim(ClaimKind.DUPLICATE, state=row_state, line=known_line))
            continue
        claimed_now[email] = line
        if row_state in DONE_STATES:
            # Keep the fingerprint of what was migrated, so a changed row is reported on
            # every run.
            moves.append((run, line, known_fingerprint, email))
            claims.append(
                Claim(
                    ClaimKind.DONE,
                    state=row_state,
                    line=line,
                    customer_id=customer_id,
                    request_id=request_id,
                    changed=known_fingerprint != fingerprint,
                )
            )
        else:
            moves.append((run, line, fingerprint, email))
            claims.append(
                Claim(
                    ClaimKind.RESUME,
                    state=row_state,
                    line=line,
                    customer_id=customer_id,
                    request_id=request_id,
                    error=error,
                    attempt_at=attempt_at,
                )
            )
    for start in range(0, len(inserts), _VALUES_ROWS):
        new_rows = inserts[start : start + _VALUES_ROWS]
        sql = _INSERT_HEAD + ",".join(["(?,?,?,?,'pending',?)"] * len(new_rows))
        connection.execute(sql, [value for values in new_rows for value in values])
    if moves:
        # A `failed` row was definitely not created: `pending` again, under this run's lease.
        connection.executemany(
            "UPDATE rows SET run = ?, line = ?, fingerprint = ?, "
            "state = CASE state WHEN 'failed' THEN 'pending' ELSE state END WHERE email = ?",
            moves,
        )
    return claims


def _lease_of(value: str, path: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise JournalError(f"{path}: the journal is damaged (lease {value!r})") from None


def _same_target(known: str, target: str) -> bool:
    if known == target:
        return True
    # Emulators on loopback get a new port on every start; they are all "the local emulator".
    loopback = ("http://127.0.0.1:", "http://localhost:", "http://[::1]:")
    return known.startswith(loopback) and target.startswith(loopback)


def _journal_error(path: str, exc: sqlite3.Error) -> JournalError:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return JournalError(
            f"{path}: the journal is in use by another migration; wait for it to finish "
            "(two migrations on one journal could create a customer twice)"
        )
    if "not a database" in message or "malformed" in message:
        return JournalError(f"{path}: is not a migration journal ({message})")
    return JournalError(f"{path}: the journal cannot be used ({message})")


def _open(path: str) -> sqlite3.Connection:
    if os.path.isdir(path):
        raise JournalError(f"{path}: is a directory; --journal needs a file path")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise JournalError(f"{path}: the directory {directory} does not exist")
    try:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _journal_error(path, exc) from None
    try:
        # Exclusive locking: once written, the file stays locked until this process closes it
        # or dies, so a second migration on the same journal is refused.
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"{path}: the journal cannot be put in WAL mode (got {mode})")
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        connection.close()
        raise _journal_error(path, exc) from None
    except BaseException:
        connection.close()
        raise
    return connection
