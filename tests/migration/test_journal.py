"""The journal: what a claim says, durability across reopening, refusal of misuse."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from checkout_customers.migration import JournalError, Row
from checkout_customers.migration._journal import _LEASE_SECONDS, ClaimKind, Journal, RowState

TARGET = "https://abcd1234.api.sandbox.checkout.com"


def row(line: int, email: str, name: str = "N") -> Row:
    return Row(line=line, email=email, body={"email": email, "name": name})


async def test_claims_tell_new_duplicate_resumed_and_done_rows_apart(journal: Path) -> None:
    first = Journal(journal, target=TARGET)
    try:
        claims = await first.claim([row(2, "a@x.io"), row(3, "b@x.io"), row(4, "a@x.io")])
        assert [claim.kind for claim in claims] == [
            ClaimKind.NEW,
            ClaimKind.NEW,
            ClaimKind.DUPLICATE,
        ]
        assert claims[2].line == 2
        await first.record("a@x.io", RowState.CREATED, customer_id="cus_a", request_id="r1")
        await first.record("b@x.io", RowState.CREATING, attempt_at=123.0)
    finally:
        await first.aclose()

    second = Journal(journal, target=TARGET)
    try:
        assert second.run == first.run + 1
        done, resumed, changed = await second.claim(
            [row(2, "a@x.io"), row(3, "b@x.io", name="Other"), row(9, "a@x.io")]
        )
        assert (done.kind, done.state, done.customer_id, done.changed) == (
            ClaimKind.DONE,
            RowState.CREATED,
            "cus_a",
            False,
        )
        assert (resumed.kind, resumed.state, resumed.attempt_at) == (
            ClaimKind.RESUME,
            RowState.CREATING,
            123.0,
        )
        assert changed.kind is ClaimKind.DUPLICATE
    finally:
        await second.aclose()


async def test_a_changed_row_for_a_done_email_is_flagged_on_every_run(journal: Path) -> None:
    for run, expected in enumerate([False, True, True]):
        opened = Journal(journal, target=TARGET)
        try:
            [claim] = await opened.claim([row(2, "a@x.io", name="v1" if run == 0 else "v2")])
            if run == 0:
                await opened.record("a@x.io", RowState.EXISTING, customer_id="cus_a")
            else:
                assert claim.changed is expected
        finally:
            await opened.aclose()


def test_a_second_process_cannot_use_a_journal_in_use(journal: Path) -> None:
    opened = Journal(journal, target=TARGET)
    try:
        script = (
            "import sys\n"
            "from checkout_customers.migration._journal import Journal, JournalError\n"
            "try:\n"
            f"    Journal({str(journal)!r}, target={TARGET!r})\n"
            "except JournalError as exc:\n"
            "    print(exc); sys.exit(3)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=False
        )
        assert done.returncode == 3, done.stderr
        assert "in use by another migration" in done.stdout
    finally:
        opened.close()
    Journal(journal, target=TARGET).close()  # free again once closed


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 1000)
    with pytest.raises(JournalError, match="not a migration journal"):
        Journal(text, target=TARGET)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(JournalError, match="not a migration journal"):
        Journal(other, target=TARGET)


def test_a_journal_path_in_a_missing_folder_or_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="does not exist"):
        Journal(tmp_path / "missing" / "j.sqlite3", target=TARGET)
    with pytest.raises(JournalError, match="is a directory"):
        Journal(tmp_path, target=TARGET)


def test_a_journal_for_another_account_is_refused(journal: Path) -> None:
    Journal(journal, target=TARGET).close()
    with pytest.raises(JournalError, match="belongs to a migration to"):
        Journal(journal, target="https://other999.api.checkout.com")
    # Local emulators change port on every start and count as one target.
    other = journal.with_name("local.sqlite3")
    Journal(other, target="http://127.0.0.1:1111").close()
    Journal(other, target="http://127.0.0.1:2222").close()


async def test_queued_updates_apply_in_order(journal: Path) -> None:
    opened = Journal(journal, target=TARGET)
    try:
        await opened.claim([row(2, "a@x.io"), row(3, "b@x.io")])
        await opened.record("a@x.io", RowState.CREATING, attempt_at=5.0)
        opened.record_soon("a@x.io", RowState.FAILED, error="first")
        opened.record_soon("a@x.io", RowState.CREATED, customer_id="cus_a", request_id="r")
        opened.record_soon("b@x.io", RowState.EXISTING, customer_id="cus_b")
    finally:
        await opened.aclose()
    opened.check()
    with sqlite3.connect(journal) as connection:
        stored = connection.execute(
            "SELECT email, state, customer_id, error, attempt_at FROM rows ORDER BY email"
        ).fetchall()
    connection.close()
    assert stored == [
        ("a@x.io", "created", "cus_a", None, 5.0),
        ("b@x.io", "existing", "cus_b", None, None),
    ]


def stored_rows(journal: Path) -> dict[str, tuple[str, float | None]]:
    with sqlite3.connect(journal) as connection:
        found = connection.execute("SELECT email, state, attempt_at FROM rows").fetchall()
    connection.close()
    return {email: (state, attempt_at) for email, state, attempt_at in found}


def stored_lease(journal: Path) -> float:
    with sqlite3.connect(journal) as connection:
        found = connection.execute("SELECT value FROM meta WHERE key = 'creates_until'").fetchone()
    connection.close()
    return float(found[0]) if found else 0.0


async def committed_lease(opened: Journal) -> float:
    """The lease as committed, read through the journal's own (exclusive) connection."""

    def read(connection: sqlite3.Connection) -> float:
        found = connection.execute("SELECT value FROM meta WHERE key = 'creates_until'").fetchone()
        return float(found[0]) if found else 0.0

    return await opened._writer.submit(read)


async def test_a_run_that_dies_under_its_lease_leaves_its_pending_rows_suspect(
    journal: Path,
) -> None:
    older = Journal(journal, target=TARGET)
    await older.claim([row(1, "older@x.io")])  # a cleanly ended run that never sent it
    await older.aclose()

    killed = Journal(journal, target=TARGET)
    await killed.claim([row(2, "sent@x.io"), row(3, "done@x.io")])
    await killed.cover_creates()
    lease = await committed_lease(killed)
    await killed.record("done@x.io", RowState.CREATED, customer_id="cus_d")
    await killed.aclose()  # closed without release_creates: as if the process died
    assert lease > 0

    resumed = Journal(journal, target=TARGET)
    try:
        claims = await resumed.claim([row(1, "older@x.io"), row(2, "sent@x.io")])
    finally:
        await resumed.aclose()
    # The killed run may have sent its pending row's create up to the end of its lease.
    assert [(claim.kind, claim.state) for claim in claims] == [
        (ClaimKind.RESUME, RowState.PENDING),
        (ClaimKind.RESUME, RowState.CREATING),
    ]
    assert claims[1].attempt_at == lease
    assert stored_rows(journal)["done@x.io"] == ("created", None)
    assert stored_lease(journal) == 0.0


async def test_a_run_that_settles_every_create_releases_its_lease(journal: Path) -> None:
    first = Journal(journal, target=TARGET)
    await first.claim([row(1, "a@x.io"), row(2, "b@x.io")])
    await first.cover_creates()
    assert await committed_lease(first) > 0
    await first.record("a@x.io", RowState.CREATED, customer_id="cus_a")
    first.release_creates()
    await first.aclose()
    assert stored_lease(journal) == 0.0

    second = Journal(journal, target=TARGET)
    try:
        claims = await second.claim([row(2, "b@x.io")])
    finally:
        await second.aclose()
    assert (claims[0].kind, claims[0].state) == (ClaimKind.RESUME, RowState.PENDING)


async def test_the_lease_is_renewed_ahead_of_need(
    journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = Journal(journal, target=TARGET)
    try:
        await opened.cover_creates()
        first = await committed_lease(opened)
        await opened.cover_creates()  # plenty left: nothing is written
        assert await committed_lease(opened) == first
        later = first - 1.5  # less than the renewal margin left, still covered
        monkeypatch.setattr("checkout_customers.migration._journal.time.time", lambda: later)
        await opened.cover_creates()  # returns at once; the renewal commits on the next turn
        assert await committed_lease(opened) == later + _LEASE_SECONDS
    finally:
        await opened.aclose()


async def test_a_failed_row_claimed_again_is_pending_under_the_new_lease(journal: Path) -> None:
    first = Journal(journal, target=TARGET)
    await first.claim([row(1, "f@x.io")])
    await first.record("f@x.io", RowState.FAILED, error="422")
    await first.aclose()

    second = Journal(journal, target=TARGET)
    try:
        await second.claim([row(1, "f@x.io")])
    finally:
        await second.aclose()
    assert stored_rows(journal)["f@x.io"][0] == "pending"


async def test_a_damaged_lease_is_a_clear_journal_error(journal: Path) -> None:
    Journal(journal, target=TARGET).close()
    with sqlite3.connect(journal) as connection:
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('creates_until', 'soon')")
    connection.close()
    with pytest.raises(JournalError, match="damaged"):
        Journal(journal, target=TARGET)


async def test_an_outcome_is_on_disk_soon_without_more_work(journal: Path, tmp_path: Path) -> None:
    opened = Journal(journal, target=TARGET)
    try:
        await opened.claim([row(1, "a@x.io")])
        opened.record_soon("a@x.io", RowState.CREATED, customer_id="cus_a")
        await asyncio.sleep(0.3)
        # What a kill now would leave behind: the database and its write-ahead log.
        for suffix in ("", "-wal"):
            shutil.copy(f"{journal}{suffix}", tmp_path / f"copy.sqlite3{suffix}")
    finally:
        await opened.aclose()
    assert stored_rows(tmp_path / "copy.sqlite3")["a@x.io"] == ("created", None)
