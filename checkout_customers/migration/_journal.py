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

Changes are committed together (group commit, `_group_commit`): at the end of the event loop's
turn when someone waits for one of them, else within 50 ms (outcomes, which nothing waits for:
a kill loses at most those, and their rows are looked up again). The file, its schema and its
opening are `_journal_schema`; this module holds the domain operations.

Durability: WAL with `synchronous=NORMAL`. A commit is in the operating system's hands before
the request it guards is sent, so it survives any death of the process (SIGKILL included). An
operating-system crash or power cut can lose the last commits; the rows concerned are then
looked up by email again on the next run, which finds any customer that was created (reported
`existing` rather than `created`), so even then no email gets a second customer. In exchange
there is no fsync per commit: the journal runs on the event loop's own thread, without a
writer thread competing for the GIL, and costs little next to the HTTP requests.

States: `pending` (claimed; a create may be in flight under the lease), `creating` (a create
may have acted, sent at `attempt_at`: the row is *parked* until `attempt_at` plus the settle
window, its due time, then looked up), `created`, `existing` (found on the account, not created
by us), `failed` (definitely not created; `pending` again when the next run claims it).
Besides its state, a row records whether its customer got the fields of the row with its
`fingerprint` (`applied`): a customer the migration created or patched did, one it only found
`existing` did not, so that a later `--on-existing update` run patches it.

The journal is held exclusively by one process (SQLite's exclusive locking mode): a second
migration on the same journal fails with `JournalError` instead of racing the first.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Sequence
from enum import Enum
from typing import Any

import attrs

from ._group_commit import GroupCommitWriter
from ._journal_schema import SET_LEASE_SQL, JournalError, open_journal, start_run
from ._rows import Row

__all__ = ["Claim", "ClaimKind", "Journal", "JournalError", "RowState"]

#: How far ahead a lease covers creates. A killed run's unfinished rows wait for the settle
#: window counted from the end of its lease, so it is short; it is renewed once less than
#: `_RENEW_BEFORE_SECONDS` is left (about once a second), so that no create waits for it.
_LEASE_SECONDS = 3.0
_RENEW_BEFORE_SECONDS = 2.0


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
    #: A done row whose customer got its fields (created or patched), not only found existing.
    applied: bool = True


class Journal:
    """The journal at `path`, opened and locked for one migration run (see module docstring).

    `target` identifies the account (its base URL); a journal written for another account is
    refused. Raises `JournalError`.
    """

    def __init__(self, path: str | os.PathLike[str], *, target: str) -> None:
        self.path = os.fspath(path)
        self._connection = open_journal(self.path)
        try:
            self.run = start_run(self._connection, self.path, target)
        except BaseException:
            self._connection.close()
            raise
        self._writer = GroupCommitWriter(self._connection, self.path)
        self._lease_until = 0.0  # committed; 0 while this run holds no lease
        self._renewal: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"<Journal {self.path!r} run={self.run}>"

    async def aclose(self) -> None:
        """Commit what is queued and release the journal (and its lock)."""
        self.close()

    def close(self) -> None:
        """Commit what is queued and release the journal (and its lock); idempotent.

        Raises `JournalError` if that last commit fails (the file then keeps its last good
        commit); the journal is released either way.
        """
        if self._writer.closed:
            return
        try:
            self._writer.close()
        finally:
            self._connection.close()

    @property
    def failure(self) -> JournalError | None:
        """The error of a failed commit, if any: the journal then accepts nothing more."""
        return self._writer.failure

    async def claim(self, rows: Sequence[Row]) -> list[Claim]:
        """Record that this run reads `rows` (valid rows, in input order); say what is known."""
        run = self.run
        now = time.time()
        entries = [(row.email, row.line, row.fingerprint, row.source_id) for row in rows]

        def claim_all(connection: sqlite3.Connection) -> list[Claim]:
            return _claim_all(connection, run, now, entries)

        return await self._writer.submit(claim_all)

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
        """Set the state of `email` (not a done one); returns once it is committed (see the
        module docstring)."""
        values = (state.value, customer_id, request_id, error, attempt_at, time.time(), False,
                  email)  # fmt: skip
        await self._writer.update(values)

    def record_soon(
        self,
        email: str,
        state: RowState,
        *,
        customer_id: str | None = None,
        request_id: str | None = None,
        error: str | None = None,
        applied: bool = False,
    ) -> None:
        """Queue a state change, committed within 50 ms; do not wait.

        For outcomes only (`created`, `existing`, `failed`): if the process dies before the
        commit, the row is still `creating` or `pending` (suspect, under the lease) and the next
        run looks it up again, which is safe. A failed commit is raised by `check`. `applied`:
        the customer got the row's fields (it was created or patched), not only found.
        """
        values = (state.value, customer_id, request_id, error, None, time.time(), applied, email)
        self._writer.update_soon(values)

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
            connection.execute(SET_LEASE_SQL, (repr(until),))

        future = self._writer.submit(write)

        def committed(done: asyncio.Future[None]) -> None:
            self._renewal = None
            # A failed commit is also kept for `check`; reading it here marks it seen.
            if not done.cancelled() and done.exception() is None:
                self._lease_until = until

        future.add_done_callback(committed)
        return future

    def record_patched(self, email: str, fingerprint: str, *, request_id: str | None) -> None:
        """Queue that the customer of `email` got the fields of the row with `fingerprint`.

        The state is kept (`created` stays `created`: a rollback deletes it; `existing` stays
        `existing`, never deleted), and the row is now `applied`. A PATCH sends the same fields
        every time, so a kill before this commit only means the next run patches once more,
        which changes nothing.
        """

        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE rows SET fingerprint = ?, request_id = ?, updated_at = ?, applied = 1 "
                "WHERE email = ?",
                (fingerprint, request_id, time.time(), email),
            )

        self._writer.execute_soon(write)

    def release_creates(self) -> None:
        """Clear the lease: every create this run sent has its outcome queued for the journal.

        Queued after those outcomes, so it commits with them or after them.
        """
        if self._lease_until or self._renewal is not None:
            self._writer.execute_soon(lambda connection: connection.execute(SET_LEASE_SQL, ("0",)))
            self._lease_until = 0.0

    def check(self) -> None:
        """Raise the error of a failed write (e.g. a `record_soon`), if any."""
        if self._writer.failure is not None:
            raise self._writer.failure


# A chunk of claims is read and inserted with a few multi-row statements, not one per row:
# each statement costs a round of the sqlite3 module's Python glue.
_VALUES_ROWS = 100  # rows per multi-row INSERT: 6 x 100 parameters stays under 999
_SELECT_IN_HEAD = (
    "SELECT email, line, run, fingerprint, state, customer_id, request_id, error, attempt_at, "
    "applied FROM rows WHERE email IN ("
)
_INSERT_HEAD = (
    "INSERT INTO rows (email, line, run, fingerprint, state, updated_at, source_id) VALUES "
)


def _claim_all(
    connection: sqlite3.Connection,
    run: int,
    now: float,
    entries: Sequence[tuple[str | None, int, str, str | None]],
) -> list[Claim]:
    """Claim a chunk of rows in input order with a handful of statements."""
    emails = list(dict.fromkeys(email for email, _, _, _ in entries))
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
    for email, line, fingerprint, source_id in entries:
        assert email is not None
        if email in claimed_now:
            claims.append(Claim(ClaimKind.DUPLICATE, line=claimed_now[email]))
            continue
        found = known.get(email)
        if found is None:
            claimed_now[email] = line
            inserts.append((email, line, run, fingerprint, now, source_id))
            claims.append(Claim(ClaimKind.NEW, line=line))
            continue
        (known_line, known_run, known_fingerprint, state, customer_id, request_id, error,
         attempt_at, applied) = found  # fmt: skip
        row_state = RowState(state)
        if known_run == run:
            claims.append(Claim(ClaimKind.DUPLICATE, state=row_state, line=known_line))
            continue
        claimed_now[email] = line
        if row_state in DONE_STATES:
            # Keep the fingerprint of what was migrated, so a changed row is reported on
            # every run.
            moves.append((run, line, known_fingerprint, source_id, email))
            claims.append(
                Claim(
                    ClaimKind.DONE,
                    state=row_state,
                    line=line,
                    customer_id=customer_id,
                    request_id=request_id,
                    changed=known_fingerprint != fingerprint,
                    applied=bool(applied),
                )
            )
        else:
            moves.append((run, line, fingerprint, source_id, email))
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
        sql = _INSERT_HEAD + ",".join(["(?,?,?,?,'pending',?,?)"] * len(new_rows))
        connection.execute(sql, [value for values in new_rows for value in values])
    if moves:
        # A `failed` row was definitely not created: `pending` again, under this run's lease.
        connection.executemany(
            "UPDATE rows SET run = ?, line = ?, fingerprint = ?, "
            "source_id = COALESCE(?, source_id), "
            "state = CASE state WHEN 'failed' THEN 'pending' ELSE state END WHERE email = ?",
            moves,
        )
    return claims
