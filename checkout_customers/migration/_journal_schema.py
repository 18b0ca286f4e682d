"""The journal's file: its SQLite schema, how it is opened and locked, and how a run starts.

Opening creates the file 0600, or narrows an existing one to 0600 (it holds customers'
emails; SQLite gives its `-wal` the same mode), puts it in WAL mode with `synchronous=NORMAL`
and takes SQLite's exclusive lock, so a second migration on the same journal is refused.
Starting a run checks that the file is a journal for this account (upgrading one of an earlier
format in place), numbers the run, and turns a killed run's leased rows into `creating` (see
`_journal`).
"""

from __future__ import annotations

import os
import sqlite3

from .._errors import CheckoutError
from ._private_files import open_private

__all__ = ["SET_LEASE_SQL", "JournalError", "journal_error", "open_journal", "start_run"]

_APPLICATION_ID = 0x434B4A31  # "CKJ1"
#: "2" added `rows.source_id` (the input's own id of the row); "3" added `rows.applied`
#: (whether the customer got the fields of the row with `fingerprint`). Older journals are
#: upgraded in place (see `_upgrade`).
_SCHEMA_VERSION = "3"
SET_LEASE_SQL = "INSERT OR REPLACE INTO meta VALUES ('creates_until', ?)"

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
    updated_at REAL NOT NULL,
    source_id TEXT,
    applied INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""


class JournalError(CheckoutError):
    """The journal cannot be used: unreadable, not a journal, in use, or not writable."""


def journal_error(path: str, exc: sqlite3.Error) -> JournalError:
    """The `JournalError` that says what went wrong with the journal at `path`, in words."""
    message = str(exc)
    if "locked" in message or "busy" in message:
        return JournalError(
            f"{path}: the journal is in use by another migration; wait for it to finish "
            "(two migrations on one journal could create a customer twice)"
        )
    if "not a database" in message or "malformed" in message:
        return JournalError(f"{path}: is not a migration journal ({message})")
    if isinstance(exc, sqlite3.OperationalError) and (
        "disk" in message or "full" in message or "I/O" in message or "readonly" in message
    ):
        # SQLite's own code (Python 3.11+) tells a write from a read, a full disk from a fault.
        name = getattr(exc, "sqlite_errorname", None)
        detail = f"{message}, {name}" if name else message
        return JournalError(f"{path}: cannot write the journal ({detail})")
    return JournalError(f"{path}: the journal cannot be used ({message})")


def open_journal(path: str) -> sqlite3.Connection:
    """Open (creating it 0600 if need be) and lock the journal at `path`; raise `JournalError`."""
    if os.path.isdir(path):
        raise JournalError(f"{path}: is a directory; --journal needs a file path")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise JournalError(f"{path}: the directory {directory} does not exist")
    try:
        # Created here rather than by SQLite, whose default mode (0644, less the umask) would
        # let other users read the emails; SQLite creates the `-wal` with this file's mode.
        # A journal that exists with a wider mode (made by hand, or by an older version) is
        # narrowed to 0600 too.
        os.close(open_private(path, os.O_RDWR))
    except OSError as exc:
        raise JournalError(f"{path}: cannot create the journal ({exc.strerror or exc})") from None
    try:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise journal_error(path, exc) from None
    try:
        # Exclusive locking: once written, the file stays locked until this process closes it
        # or dies, so a second migration on the same journal is refused. (In WAL mode it also
        # keeps the wal-index in memory: no `-shm` file.)
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"{path}: the journal cannot be put in WAL mode (got {mode})")
        connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        connection.close()
        raise journal_error(path, exc) from None
    except BaseException:
        connection.close()
        raise
    return connection


def start_run(connection: sqlite3.Connection, path: str, target: str) -> int:
    """Check the journal is ours for `target`, number this run, recover a killed run's lease."""
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
                    f"{path}: is an SQLite database but not a migration journal; "
                    "choose another --journal path"
                )
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            meta["schema"] = _upgrade(connection, meta.get("schema"))
            if meta.get("schema") != _SCHEMA_VERSION:
                raise JournalError(
                    f"{path}: journal format {meta.get('schema')!r} is not supported"
                )
            known = meta.get("target", target)
            if not _same_target(known, target):
                raise JournalError(
                    f"{path}: this journal belongs to a migration to {known}, not "
                    f"{target}; use another --journal for another account"
                )
            run = int(meta.get("runs", "0")) + 1
            connection.execute("UPDATE meta SET value = ? WHERE key = 'runs'", (str(run),))
            lease = _lease_of(meta.get("creates_until", "0"), path)
            if lease > 0:
                # The previous run stopped with creates unsettled: any of its `pending`
                # rows may have been sent, at the latest when its lease ended.
                connection.execute(
                    "UPDATE rows SET state = 'creating', attempt_at = ? "
                    "WHERE state = 'pending' AND run = ?",
                    (lease, run - 1),
                )
                connection.execute(SET_LEASE_SQL, ("0",))
    except sqlite3.Error as exc:
        raise journal_error(path, exc) from None
    return run


def _upgrade(connection: sqlite3.Connection, schema: str | None) -> str | None:
    """Bring a journal of an earlier format to this one, step by step; the format it now has.

    Runs inside `start_run`'s transaction: a failed step leaves the journal as it was.
    """
    found = schema
    if schema == "1":
        # Additive: the new column is empty for the rows an earlier version claimed.
        connection.execute("ALTER TABLE rows ADD COLUMN source_id TEXT")
        schema = "2"
    if schema == "2":
        connection.execute("ALTER TABLE rows ADD COLUMN applied INTEGER NOT NULL DEFAULT 0")
        # A customer the migration created got the row's fields. One it found `existing` may
        # or may not have been patched by an earlier `--on-existing update` run: counted as
        # not, so that an update run patches it once more (a PATCH is idempotent), rather than
        # never.
        connection.execute("UPDATE rows SET applied = 1 WHERE state = 'created'")
        schema = "3"
    if schema != found:
        connection.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (schema,))
    return schema


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
