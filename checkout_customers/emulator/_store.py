"""The emulator's state: customers and instruments, in SQLite (a file, or in memory).

One implementation serves both modes: `Store(None)` is an in-memory database, `Store(path)` a
file in WAL mode where every write is committed before the request is answered, so stopping
the emulator (Ctrl-C included) never loses an acknowledged write.

Customers are kept as their stored record (`id`, `email`, optional `name`, `phone`, `metadata`,
`default`, and `instruments`, a list of linked instrument ids); `render()` turns a record into
the API's retrieve shape. Instruments are kept in the API's response shape, with their origin:
built in, added by a test (`add_instrument`), or stored through `POST /instruments`; only the
last are deleted with the customer they belong to. Card tokens (`POST /tokens`) are kept with
their expiry and whether they were used. Every method takes a lock, so the store can be read
from another thread than the one serving requests (the tests' introspection does that).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._instruments import TEST_INSTRUMENTS

__all__ = ["ORIGIN_ADDED", "ORIGIN_API", "ORIGIN_BUILTIN", "Store", "email_key"]

Record = dict[str, Any]
_APPLICATION_ID = 0x434B4531  # "CKE1", stamped in every emulator database file
#: Where an instrument came from (the `builtin` column, kept so older files still open).
ORIGIN_ADDED, ORIGIN_BUILTIN, ORIGIN_API = 0, 1, 2

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
CREATE TABLE IF NOT EXISTS card_tokens (
    token TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    card TEXT NOT NULL
);
"""
#: Used or expired tokens are forgotten this long after they expire (until then, using one
#: again says `token_used` or `token_expired` rather than `token_invalid`).
_TOKEN_MEMORY_S = 3600.0


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
        self._restore_builtin_instruments()

    def _restore_builtin_instruments(self) -> None:
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
        """Remove a customer and the instruments stored for it through `POST /instruments`
        that no other customer links; built-in and test-added ones stay known (unlinked)."""
        with self._lock, self._write_transaction(True):
            row = self._db.execute(
                "SELECT record FROM customers WHERE id = ?", (customer_id,)
            ).fetchone()
            if row is None:
                return False
            self._db.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
            linked = json.loads(row[0]).get("instruments") or []
            placeholders = ",".join("?" * len(linked))
            # Only instruments stored through the API can go: the built-in ones a migration
            # links to every row never cost a scan of the customers.
            stored = self._db.execute(
                f"SELECT id FROM instruments WHERE builtin = ? AND id IN ({placeholders})",  # noqa: S608
                (ORIGIN_API, *linked),
            ).fetchall()
            for (instrument_id,) in stored:
                if not self._linking(instrument_id):
                    self._db.execute("DELETE FROM instruments WHERE id = ?", (instrument_id,))
        return True

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

    def instrument(self, instrument_id: str) -> Record | None:
        """One instrument in the API's shape, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT instrument FROM instruments WHERE id = ?", (instrument_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def customers_linking(self, instrument_id: str) -> list[Record]:
        """The customers linking an instrument, oldest first."""
        with self._lock:
            return self._linking(instrument_id)

    def _linking(self, instrument_id: str) -> list[Record]:
        # `instr` narrows the scan cheaply; the parsed list decides (the id could also be
        # text in a customer's metadata).
        rows = self._db.execute(
            "SELECT record FROM customers WHERE instr(record, ?) > 0 ORDER BY seq",
            (f'"{instrument_id}"',),
        ).fetchall()
        records = [dict(json.loads(row[0])) for row in rows]
        return [record for record in records if instrument_id in (record.get("instruments") or [])]

    def save(
        self,
        *,
        instruments: Iterable[Record] = (),
        customers: Iterable[Record] = (),
        new_customer: Record | None = None,
        deleted_instrument: str | None = None,
        unique_email: bool = False,
    ) -> bool:
        """Write instruments (new ones as stored through the API), changed customers, a new
        customer and a deleted instrument in one transaction. With `unique_email`, False (and
        nothing written) when another customer already has the new customer's email."""
        with self._lock, self._write_transaction(True):
            if new_customer is not None:
                if unique_email and self._email_taken(new_customer["email"], None):
                    return False
                self._db.execute(
                    "INSERT INTO customers (id, email_key, record) VALUES (?, ?, ?)",
                    (
                        new_customer["id"],
                        self._email_key(new_customer["email"]),
                        _dumps(new_customer),
                    ),
                )
            self._db.executemany(
                "INSERT INTO instruments (id, builtin, instrument) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET instrument = excluded.instrument",
                [(item["id"], ORIGIN_API, _dumps(item)) for item in instruments],
            )
            self._db.executemany(
                "UPDATE customers SET record = ? WHERE id = ?",
                [(_dumps(record), record["id"]) for record in customers],
            )
            if deleted_instrument is not None:
                self._db.execute("DELETE FROM instruments WHERE id = ?", (deleted_instrument,))
        return True

    # -- card tokens -------------------------------------------------------------------------

    def add_card_token(self, token: str, expires_at: float, card: Mapping[str, Any]) -> None:
        """Keep a new card token (and forget those long expired)."""
        with self._lock:
            self._db.execute(
                "DELETE FROM card_tokens WHERE expires_at < ?", (expires_at - _TOKEN_MEMORY_S,)
            )
            self._db.execute(
                "INSERT INTO card_tokens (token, expires_at, card) VALUES (?, ?, ?)",
                (token, expires_at, _dumps(dict(card))),
            )

    def use_card_token(self, token: str, now: float) -> Record | str:
        """The card behind a token, marking it used; or why not: `token_invalid` (unknown),
        `token_used` or `token_expired`. Single use holds across emulators sharing a file."""
        with self._lock, self._write_transaction(True):
            row = self._db.execute(
                "SELECT expires_at, used, card FROM card_tokens WHERE token = ?", (token,)
            ).fetchone()
            if row is None:
                return "token_invalid"
            expires_at, used, card = row
            if used:
                return "token_used"
            if now >= expires_at:
                return "token_expired"
            self._db.execute("UPDATE card_tokens SET used = 1 WHERE token = ?", (token,))
        return dict(json.loads(card))

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
        """Forget every customer, card token and added instrument; the built-in ones are as
        they were at the start (an update or a delete through the API is undone)."""
        with self._lock:
            self._db.execute("DELETE FROM customers")
            self._db.execute("DELETE FROM card_tokens")
            self._db.execute("DELETE FROM instruments WHERE builtin != ?", (ORIGIN_BUILTIN,))
            self._restore_builtin_instruments()

    def render(self, record: Record) -> Record:
        """A stored customer in the API's retrieve shape, with its instruments in full."""
        customer = {key: value for key, value in record.items() if key != "instruments"}
        linked = record.get("instruments") or []
        customer["instruments"] = self.instruments(linked)
        if not customer["instruments"]:
            customer.pop("default", None)
        return customer
