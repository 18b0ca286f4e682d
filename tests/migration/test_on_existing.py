"""`migrate --on-existing update`: one PATCH per customer already there, exactly once."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from checkout_customers import AsyncClient, Client
from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import migrate, read_csv, read_jsonl

from .conftest import FAST, UNTHROTTLED, read_report, write_csv, write_jsonl


def create_outside(emulator: RunningEmulator, email: str, **fields: Any) -> None:
    """A customer created on the account by something other than the migration."""
    with Client(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
        cko.customers.create(email=email, **fields)


def patches(emulator: RunningEmulator, since: int = 0) -> Counter[str]:
    """PATCH requests by customer id."""
    return Counter(
        request.path.rsplit("/", 1)[-1]
        for request in emulator.requests(since)
        if request.method == "PATCH"
    )


def last_seq(emulator: RunningEmulator) -> int:
    requests = emulator.requests()
    return requests[-1].seq if requests else 0


def customer(emulator: RunningEmulator, email: str) -> dict[str, Any]:
    (found,) = [c for c in emulator.customers() if str(c["email"]).lower() == email]
    return dict(found)


def journal_rows(journal: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(journal) as connection:
        rows = connection.execute("SELECT email, state, fingerprint FROM rows").fetchall()
    connection.close()
    return {email: (state, fingerprint) for email, state, fingerprint in rows}


def test_customers_created_outside_are_patched_once_and_again_only_when_changed(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_outside(account, "old1@example.com", name="Old One", metadata={"crm": "1"})
    create_outside(account, "old2@example.com", name="Old Two")
    journal, report = tmp_path / "journal.sqlite3", tmp_path / "report.jsonl"
    rows = [
        {"email": "old1@example.com", "name": "New One", "metadata": {"tier": "gold"}},
        {"email": "old2@example.com", "name": "New Two"},
        {"email": "fresh@example.com", "name": "Fresh"},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    args = ["migrate", str(source), "--journal", str(journal), "--report", str(report),
            "--on-existing", "update", *UNTHROTTLED]  # fmt: skip
    one, two = customer(account, "old1@example.com")["id"], customer(account, "old2@example.com")

    assert main(args) == 0

    out, _ = capsys.readouterr()
    assert [e["status"] for e in read_report(report)] == ["updated", "updated", "created"]
    assert patches(account) == Counter({one: 1, two["id"]: 1})
    patched = customer(account, "old1@example.com")
    assert patched["name"] == "New One"
    assert patched["metadata"] == {"tier": "gold"}  # replaced, not merged
    assert "updated" in out
    assert "2 updates" in out  # the summary's count of requests

    since = last_seq(account)
    assert main(args) == 0  # nothing changed: no second PATCH
    capsys.readouterr()
    assert patches(account, since) == Counter()
    assert [e["status"] for e in read_report(report)] == ["existing", "existing", "created"]

    rows[1] = {"email": "old2@example.com", "name": "Newer Two"}
    write_jsonl(source, rows)
    since = last_seq(account)
    assert main(args) == 0  # one row changed: it alone is patched, once
    capsys.readouterr()
    assert patches(account, since) == Counter({two["id"]: 1})
    assert customer(account, "old2@example.com")["name"] == "Newer Two"
    assert [e["status"] for e in read_report(report)] == ["existing", "updated", "created"]
    since = last_seq(account)
    assert main(args) == 0
    capsys.readouterr()
    assert patches(account, since) == Counter()


def test_skip_is_the_default_and_patches_nothing(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_outside(account, "old@example.com", name="Old")
    source = write_csv(tmp_path / "in.csv", [("old@example.com", "New")])
    report = tmp_path / "report.jsonl"
    args = ["migrate", str(source), "--journal", str(tmp_path / "j.sqlite3"), *UNTHROTTLED]
    assert main([*args, "--report", str(report)]) == 0
    capsys.readouterr()
    assert patches(account) == Counter()
    assert [e["status"] for e in read_report(report)] == ["existing"]
    assert customer(account, "old@example.com")["name"] == "Old"


async def test_a_row_created_by_an_earlier_run_that_changed_is_patched_and_stays_created(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    source = write_csv(tmp_path / "in.csv", [("a@example.com", "A"), ("b@example.com", "B")])
    first = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert first.created == 2
    write_csv(source, [("a@example.com", "A changed"), ("b@example.com", "B")])
    skipped = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert (skipped.changed, skipped.updated) == (1, 0)  # skip: reported, not patched
    assert patches(emulator) == Counter()

    updated = await migrate(client, read_csv(source), journal=journal, on_existing="update", **FAST)

    assert (updated.updated, updated.created, updated.changed, updated.updates_sent) == (1, 1, 0, 1)
    assert customer(emulator, "a@example.com")["name"] == "A changed"
    # Still the migration's own customer (a rollback deletes it), now with the patched content.
    assert journal_rows(journal)["a@example.com"][0] == "created"
    again = await migrate(client, read_csv(source), journal=journal, on_existing="update", **FAST)
    assert (again.updated, again.created, again.updates_sent) == (0, 2, 0)
    assert sum(patches(emulator).values()) == 1


async def test_an_ambiguous_patch_is_sent_again_and_the_row_is_updated(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    await client.customers.create(email="old@example.com", name="Old")
    emulator.fail_next("drop_after_acting", method="PATCH")
    emulator.fail_next("503", method="PATCH")
    source = write_csv(tmp_path / "in.csv", [("old@example.com", "New")])

    result = await migrate(
        client, read_csv(source), journal=tmp_path / "j", on_existing="update", **FAST
    )

    assert (result.updated, result.failed) == (1, 0)
    assert result.updates_sent == 3
    assert customer(emulator, "old@example.com")["name"] == "New"


async def test_a_patch_that_fails_for_good_is_retried_by_the_next_run(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    await client.customers.create(email="old@example.com", name="Old")
    emulator.fail_next("500", method="PATCH", times=2)
    source = write_csv(tmp_path / "in.csv", [("old@example.com", "New")])
    journal, report = tmp_path / "j.sqlite3", tmp_path / "report.jsonl"
    options: dict[str, Any] = {"on_existing": "update", "max_attempts": 2, **FAST}

    failed = await migrate(client, read_csv(source), journal=journal, report=report, **options)

    assert (failed.failed, failed.updated) == (1, 0)
    assert "update failed 2 times" in read_report(report)[0]["error"]
    assert customer(emulator, "old@example.com")["name"] == "Old"
    retried = await migrate(client, read_csv(source), journal=journal, **options)
    assert (retried.updated, retried.failed) == (1, 0)
    assert customer(emulator, "old@example.com")["name"] == "New"


async def test_a_failed_patch_of_a_created_row_leaves_it_created_and_changed(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    source = write_csv(tmp_path / "in.csv", [("a@example.com", "A")])
    await migrate(client, read_csv(source), journal=journal, **FAST)
    before = journal_rows(journal)["a@example.com"]
    write_csv(source, [("a@example.com", "A changed")])
    emulator.fail_next("500", method="PATCH", times=2)
    options: dict[str, Any] = {"on_existing": "update", "max_attempts": 2, **FAST}

    failed = await migrate(client, read_csv(source), journal=journal, **options)

    assert (failed.failed, failed.updated) == (1, 0)
    assert journal_rows(journal)["a@example.com"] == before  # still `created`, still changed
    retried = await migrate(client, read_csv(source), journal=journal, **options)
    assert (retried.updated, retried.failed, retried.creates_sent) == (1, 0, 0)
    assert customer(emulator, "a@example.com")["name"] == "A changed"
    assert journal_rows(journal)["a@example.com"][0] == "created"


async def test_a_bad_on_existing_is_refused(client: AsyncClient, tmp_path: Path) -> None:
    from checkout_customers import CheckoutArgumentError

    source = write_jsonl(tmp_path / "in.jsonl", [{"email": "a@example.com"}])
    with pytest.raises(CheckoutArgumentError, match="on_existing"):
        await migrate(client, read_jsonl(source), journal=tmp_path / "j", on_existing="merge")
