"""`--on-existing update` after a run that skipped: customers only found `existing` get their PATCH.

The journal records whether each customer got its row's fields (`applied`, journal format 3); a
customer a `skip` run found did not, so a later update run on the same journal patches it once.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from checkout_customers import AsyncClient
from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import JournalError, migrate, read_csv, rollback

from .conftest import FAST, UNTHROTTLED, read_report, write_csv
from .test_on_existing import create_outside, customer, last_seq, patches

OLD = {"old1@example.com": "Old One", "old2@example.com": "Old Two"}
NEW = [("old1@example.com", "New One"), ("old2@example.com", "New Two"), ("fresh@example.com", "F")]


def journal_table(journal: Path) -> list[tuple[Any, ...]]:
    """Every journal row, as stored, in email order."""
    connection = sqlite3.connect(journal)
    try:
        return connection.execute("SELECT * FROM rows ORDER BY email").fetchall()
    finally:
        connection.close()


def schema_of(journal: Path) -> str:
    connection = sqlite3.connect(journal)
    try:
        return str(connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])
    finally:
        connection.close()


def as_format_2(journal: Path) -> None:
    """Rewrite the journal as the version before `applied` wrote it."""
    with sqlite3.connect(journal) as connection:
        connection.execute("ALTER TABLE rows DROP COLUMN applied")
        connection.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    connection.close()


async def skip_run(emulator: RunningEmulator, client: AsyncClient, tmp_path: Path) -> Path:
    """Customers made outside the migration, then a default (`skip`) run: the journal."""
    for email, name in OLD.items():
        await client.customers.create(email=email, name=name)
    journal = tmp_path / "journal.sqlite3"
    source = write_csv(tmp_path / "in.csv", NEW)
    first = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert (first.existing, first.created, first.updates_sent) == (2, 1, 0)
    return journal


def test_an_update_run_patches_once_the_customers_a_skip_run_found(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for email, name in OLD.items():
        create_outside(account, email, name=name)
    ids = {email: customer(account, email)["id"] for email in OLD}
    journal, report = tmp_path / "journal.sqlite3", tmp_path / "report.jsonl"
    source = write_csv(tmp_path / "in.csv", NEW)
    args = ["migrate", str(source), "--journal", str(journal), "--report", str(report),
            *UNTHROTTLED]  # fmt: skip

    assert main(args) == 0  # the default: skip
    capsys.readouterr()
    assert [e["status"] for e in read_report(report)] == ["existing", "existing", "created"]
    assert patches(account) == Counter()
    assert customer(account, "old1@example.com")["name"] == "Old One"

    since = last_seq(account)
    assert main([*args, "--on-existing", "update"]) == 0

    out, _ = capsys.readouterr()
    # One PATCH per customer found before; none for the one the migration created.
    assert patches(account, since) == Counter(ids.values())
    assert [e["status"] for e in read_report(report)] == ["updated", "updated", "created"]
    assert [customer(account, email)["name"] for email in OLD] == ["New One", "New Two"]
    assert "1 rows were already done by an earlier run" in out  # not the two patched
    assert "2 updates" in out

    since = last_seq(account)
    assert main([*args, "--on-existing", "update"]) == 0  # applied now: nothing to send

    out, _ = capsys.readouterr()
    assert patches(account, since) == Counter()
    entries = read_report(report)
    assert [e["status"] for e in entries] == ["existing", "existing", "created"]
    assert "3 rows were already done by an earlier run" in out


async def test_a_skip_run_after_it_still_patches_nothing(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = await skip_run(emulator, client, tmp_path)
    source = tmp_path / "in.csv"

    again = await migrate(client, read_csv(source), journal=journal, **FAST)

    assert (again.existing, again.created, again.already_done, again.updates_sent) == (2, 1, 3, 0)
    assert patches(emulator) == Counter()


async def test_a_journal_of_format_2_is_upgraded_and_its_existing_rows_patched_once(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = await skip_run(emulator, client, tmp_path)
    as_format_2(journal)
    before = journal_table(journal)
    source = tmp_path / "in.csv"

    updated = await migrate(client, read_csv(source), journal=journal, on_existing="update", **FAST)

    assert schema_of(journal) == "3"
    after = journal_table(journal)
    # The rows are kept; `applied` is added: set for the customer the migration created.
    kept = [(row[0], row[1], row[3], row[4], row[5]) for row in before]  # email ... customer_id
    assert [(row[0], row[1], row[3], row[4], row[5]) for row in after] == kept
    assert [(row[0], row[-1]) for row in after] == [
        ("fresh@example.com", 1), ("old1@example.com", 1), ("old2@example.com", 1),
    ]  # fmt: skip
    assert (updated.updated, updated.already_done, updated.updates_sent) == (2, 1, 2)
    assert sum(patches(emulator).values()) == 2
    assert customer(emulator, "old2@example.com")["name"] == "New Two"
    again = await migrate(client, read_csv(source), journal=journal, on_existing="update", **FAST)
    assert (again.updated, again.updates_sent, again.already_done) == (0, 0, 3)


async def test_a_failed_upgrade_leaves_the_journal_as_it_was(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = await skip_run(emulator, client, tmp_path)
    # A format-1 journal that somehow has the format-3 column: the second step fails.
    with sqlite3.connect(journal) as connection:
        connection.execute("ALTER TABLE rows DROP COLUMN source_id")
        connection.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    connection.close()
    before = hashlib.sha256(journal.read_bytes()).hexdigest()

    with pytest.raises(JournalError, match="duplicate column"):
        await migrate(client, read_csv(tmp_path / "in.csv"), journal=journal, **FAST)

    # Both steps or neither: the first step's column was not added either.
    assert hashlib.sha256(journal.read_bytes()).hexdigest() == before
    assert schema_of(journal) == "1"


async def test_a_dry_run_after_a_skip_run_plans_the_patches_and_writes_nothing(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = await skip_run(emulator, client, tmp_path)
    before = hashlib.sha256(journal.read_bytes()).hexdigest()
    since = last_seq(emulator)

    plan = await migrate(
        client, read_csv(tmp_path / "in.csv"), journal=journal, on_existing="update",
        dry_run=True, **FAST,
    )  # fmt: skip

    assert (plan.would_update, plan.updated, plan.already_done) == (2, 0, 1)
    assert [r.method for r in emulator.requests(since) if r.method != "GET"] == []
    assert hashlib.sha256(journal.read_bytes()).hexdigest() == before
    assert customer(emulator, "old1@example.com")["name"] == "Old One"


async def test_a_rollback_after_skip_then_update_deletes_only_what_the_migration_created(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = await skip_run(emulator, client, tmp_path)
    source = tmp_path / "in.csv"
    updated = await migrate(client, read_csv(source), journal=journal, on_existing="update", **FAST)
    assert updated.updated == 2
    fresh = customer(emulator, "fresh@example.com")["id"]
    since = last_seq(emulator)

    undone = await rollback(client, journal, write_rate=None)

    assert (undone.deleted, undone.failed) == (1, 0)
    deletes = [r.path for r in emulator.requests(since) if r.method == "DELETE"]
    assert deletes == [f"/customers/{fresh}"]
    assert sorted(str(c["email"]) for c in emulator.customers()) == sorted(OLD)
