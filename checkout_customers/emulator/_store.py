"""The emulator's state: customers and instruments, in SQLite (a file, or in memory).

One implementation serves both modes: `Store(None)` is an in-memory database, `Store(path)` a
file in WAL mode where every write is committed before the request is answered, so stopping
the emulator (Ctrl-C included) never loses an acknowledged write.

Customers are kept as their stored record (`id`, `email`, optional `name`, `phone`, `metadata`,
`default`, and `instruments`, a list of linked instrument ids); `render()` turns a record into
the API's retrieve shape. Every method takes a lock, so the store can be read from another
thread than the one serving requests (the tests' introspection does that).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._instruments import TEST_INSTRUMENTS

__all__ = ["Store", "email_key"]

Record = dict[str, Any]
_APPLICATION_ID = 0x434B4531  # "CKE1", stamped in every emulator database file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    email_key TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_by_email ON customers (email_key, seq);
CREATE TABLE IF NOT EXISTS instruments (
    id TEXT PRIMARY KEY,
    builtin INTEGER NOT NULL,
    instrument TEXT NOT NULL
);
"""


def email_key(email: str) -> str:
    """The form under which emails are compared: letter case is ignored (as the migration
    does: `lower()`, not `casefold()`, which would make `ß` and `ss` one address)."""
    return email.lower()


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Store:
    """Customers and instruments of one emulator; see the module docstring."""

    def __init__(self, path: str | None, *, case_sensitive_emails: bool = False) -> None:
        self._email_key: Callable[[str], str] = str if case_sensitive_emails else email_key
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            path if path is not None else ":memory:",
            isolation_level=None,  # autocommit: each write is durable when it returns
            check_same_thread=False,  # guarded by self._lock
        )
        try:
            if path is not None:
                self._claim_file(path)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise
        self._db.executemany(
            "INSERT OR REPLACE INTO instruments (id, builtin, instrument) VALUES (?, 1, ?)",
            [(instrument["id"], _dumps(dict(instrument))) for instrument in TEST_INSTRUMENTS],
        )

    def _claim_file(self, path: str) -> None:
        """Refuse an SQLite file that is not an emulator's; mark a new one as ours."""
        application_id = self._db.execute("PRAGMA application_id").fetchone()[0]
        if application_id == _APPLICATION_ID:
            return
        tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id != 0 or tables != 0:
            raise sqlite3.DatabaseError(f"{path} is a database, but not an emulator's")
        self._db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")

    def email_key_of(self, email: str) -> str:
        """The form in which this store compares `email` (see `case_sensitive_emails`)."""
        return self._email_key(email)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- customers ---------------------------------------------------------------------------

    def insert_customer(self, record: Record, *, unique_email: bool = False) -> bool:
        """Store a new customer; with `unique_email`, False (and nothing stored) when another
        customer already has its email (compared as lookups compare emails)."""
        with self._lock, self._write_transaction(unique_email):
            if unique_email and self._email_taken(record["email"], None):
                return False
            self._db.execute(
                "INSERT INTO customers (id, email_key, record) VALUES (?, ?, ?)",
                (record["id"], self._email_key(record["email"]), _dumps(record)),
            )
        return True

    def replace_customer(self, record: Record, *, unique_email: bool = False) -> bool:
        """Store a changed customer; with `unique_email`, False (and nothing changed) when
        another customer already has its email."""
        with self._lock, self._write_transaction(unique_email):
            if unique_email and self._email_taken(record["email"], record["id"]):
                return False
            self._db.execute(
                "UPDATE customers SET email_key = ?, record = ? WHERE id = ?",
                (self._email_key(record["email"]), _dumps(record), record["id"]),
            )
        return True

    @contextlib.contextmanager
    def _write_transaction(self, needed: bool) -> Iterator[None]:
        """One write transaction when `needed` (a lone statement is atomic by itself, and the
        two extra statements would cost the common path). `BEGIN IMMEDIATE` takes SQLite's
        write lock at once, so a check and a write inside cannot interleave with another
        process's on the same file: that keeps emails unique across emulators sharing one
        database."""
        if not needed:
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def delete_customer(self, customer_id: str) -> bool:
        """Remove a customer; its instruments stay known but are no longer linked to it."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
        return cursor.rowcount > 0

    def customer_by_id(self, customer_id: str) -> Record | None:
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM customers WHERE id = ?", (customer_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def customer_by_email(self, email: str) -> Record | None:
        """The oldest customer with this email, ignoring letter case."""
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM customers WHERE email_key = ? ORDER BY seq LIMIT 1",
                (self._email_key(email),),
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def email_taken(self, email: str, *, except_id: str | None = None) -> bool:
        with self._lock:
            return self._email_taken(email, except_id)

    def _email_taken(self, email: str, except_id: str | None) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM customers WHERE email_key = ? AND id IS NOT ? LIMIT 1",
            (self._email_key(email), except_id),
        ).fetchone()
        return row is not None

    def count_customers_with_email(self, email: str) -> int:
        """How many customers have this email, ignoring letter case whatever the lookup rule."""
        key = email_key(email)
        return sum(1 for record in self.customer_records() if email_key(record["email"]) == key)

    def customer_records(self) -> list[Record]:
        """Every customer, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT record FROM customers ORDER BY seq").fetchall()
        return [dict(json.loads(row[0])) for row in rows]

    # -- instruments -------------------------------------------------------------------------

    def add_instrument(self, instrument: Mapping[str, Any]) -> bool:
        """Store an instrument; False when its id is already taken."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO instruments (id, builtin, instrument) VALUES (?, 0, ?)",
                (instrument["id"], _dumps(dict(instrument))),
            )
        return cursor.rowcount > 0

    def instrument_exists(self, instrument_id: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM instruments WHERE id = ?", (instrument_id,)
            ).fetchone()
        return row is not None

    def instruments(self, instrument_ids: Iterable[str] | None = None) -> list[Record]:
        """The named instruments in the given order (unknown ids are left out), or all."""
        with self._lock:
            if instrument_ids is None:
                rows = self._db.execute("SELECT id, instrument FROM instruments").fetchall()
                return [dict(json.loads(row[1])) for row in rows]
            ids = list(instrument_ids)
            placeholders = ",".join("?" * len(ids))
            rows = self._db.execute(
                f"SELECT id, instrument FROM instruments WHERE id IN ({placeholders})",  # noqa: S608
                ids,
            ).fetchall()
        by_id = {row[0]: row[1] for row in rows}
        return [dict(json.loads(by_id[i])) for i in ids if i in by_id]

    # -- the whole state ---------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every customer and every added instrument; the built-in ones stay."""
        with self._lock:
            self._db.execute("DELETE FROM customers")
            self._db.execute("DELETE FROM instruments WHERE builtin = 0")

    def render(self, record: Record) -> Record:
        """A stored customer in the API's retrieve shape, with its instruments in full."""
        customer = {key: value for key, value in record.items() if key != "instruments"}
        linked = record.get("instruments") or []
        customer["instruments"] = self.instruments(linked)
        if not customer["instruments"]:
            customer.pop("default", None)
        return customer
