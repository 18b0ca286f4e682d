"""`migrate --dry-run` / `migrate(dry_run=True)`: look-ups only, the journal left as it was."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from checkout_customers import AsyncClient, Client
from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import migrate, read_csv

from .conftest import FAST, UNTHROTTLED, emails_on, read_report, write_csv

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def methods(emulator: RunningEmulator, since: int = 0) -> Counter[str]:
    return Counter(request.method for request in emulator.requests(since))


def last_seq(emulator: RunningEmulator) -> int:
    requests = emulator.requests()
    return requests[-1].seq if requests else 0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def create_outside(emulator: RunningEmulator, email: str, name: str) -> None:
    """A customer created on the account by something other than the migration."""
    with Client(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
        cko.customers.create(email=email, name=name)


def test_a_dry_run_sends_no_write_then_a_real_run_creates_everything(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create_outside(account, "there@example.com", "Already There")
    source = write_csv(
        tmp_path / "in.csv",
        [
            ("a@example.com", "A"),
            ("there@example.com", "There"),
            ("b@example.com", "B"),
            ("a@example.com", "A again"),
        ],
    )
    journal, report = tmp_path / "journal.sqlite3", tmp_path / "plan.jsonl"
    since = last_seq(account)
    args = ["migrate", str(source), "--journal", str(journal), *UNTHROTTLED]

    status = main([*args, "--dry-run", "--report", str(report)])

    out, err = capsys.readouterr()
    assert status == 0, err
    sent = methods(account, since)
    assert sent["GET"] >= 3
    assert not any(sent[method] for method in WRITES), sent
    assert [(e["line"], e["status"]) for e in read_report(report)] == [
        (2, "would_create"),
        (3, "existing"),
        (4, "would_create"),
        (5, "duplicate"),
    ]
    assert "Dry run of" in out
    assert "dry run: only look-ups were sent" in out
    assert not journal.exists()  # the real journal was never written, not even created
    assert sorted(emails_on(account)) == ["there@example.com"]

    since = last_seq(account)
    assert main([*args, "--report", str(report)]) == 0
    assert methods(account, since)["POST"] == 2
    assert [(e["line"], e["status"]) for e in read_report(report)] == [
        (2, "created"),
        (3, "existing"),
        (4, "created"),
        (5, "duplicate"),
    ]
    assert sorted(emails_on(account)) == ["a@example.com", "b@example.com", "there@example.com"]


def test_a_dry_run_after_a_sample_leaves_the_journal_as_it_was(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [(f"p{number}@example.com", f"P {number}") for number in range(6)]
    source = write_csv(tmp_path / "in.csv", rows)
    journal, report = tmp_path / "journal.sqlite3", tmp_path / "plan.jsonl"
    args = ["migrate", str(source), "--journal", str(journal), *UNTHROTTLED]
    assert main([*args, "--limit", "2"]) == 0
    before = digest(journal)
    since = last_seq(account)

    assert main([*args, "--dry-run", "--report", str(report)]) == 0

    capsys.readouterr()
    assert digest(journal) == before
    assert not any(methods(account, since)[method] for method in WRITES)
    # The dry run knows what the sample did: its rows are done, the rest would be created.
    assert [e["status"] for e in read_report(report)] == ["created"] * 2 + ["would_create"] * 4
    since = last_seq(account)
    assert main([*args, "--report", str(report)]) == 0
    assert methods(account, since)["POST"] == 4
    assert len(emails_on(account)) == 6


def test_a_dry_run_exits_1_when_a_row_is_invalid(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(tmp_path / "in.csv", [("ok@example.com", "Ok"), ("not-an-email", "X")])
    journal, report = tmp_path / "journal.sqlite3", tmp_path / "plan.jsonl"
    status = main(
        ["migrate", str(source), "--journal", str(journal), "--dry-run", "--report",
         str(report), *UNTHROTTLED]
    )  # fmt: skip
    capsys.readouterr()
    assert status == 1
    assert [e["status"] for e in read_report(report)] == ["would_create", "invalid"]
    assert not any(methods(account)[method] for method in WRITES)


async def test_dry_run_true_on_migrate_reports_what_would_happen(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    await client.customers.create(email="there@example.com", name="Already There")
    source = write_csv(tmp_path / "in.csv", [("new@example.com", "N"), ("there@example.com", "T")])
    journal = tmp_path / "journal.sqlite3"
    since = last_seq(emulator)

    result = await migrate(
        client, read_csv(source), journal=journal, dry_run=True, on_existing="update", **FAST
    )

    assert result.dry_run
    assert (result.would_create, result.would_update, result.created, result.updated) == (
        1, 1, 0, 0,
    )  # fmt: skip
    assert result.ok
    assert result.creates_sent == result.updates_sent == 0
    assert not any(methods(emulator, since)[method] for method in WRITES)
    assert not journal.exists()


async def test_a_dry_run_on_a_journal_in_use_is_refused(
    client: AsyncClient, tmp_path: Path
) -> None:
    from checkout_customers.migration import JournalError
    from checkout_customers.migration._journal import Journal

    source = write_csv(tmp_path / "in.csv", [("a@example.com", "A")])
    journal = tmp_path / "journal.sqlite3"
    holder = Journal(journal, target=client.base_url)
    try:
        with pytest.raises(JournalError, match="in use"):
            await migrate(client, read_csv(source), journal=journal, dry_run=True, **FAST)
    finally:
        holder.close()


async def test_a_dry_run_with_update_plans_the_patch_of_a_changed_row_and_sends_none(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    source = write_csv(tmp_path / "in.csv", [("a@example.com", "A"), ("b@example.com", "B")])
    await migrate(client, read_csv(source), journal=journal, **FAST)
    write_csv(source, [("a@example.com", "A changed"), ("b@example.com", "B")])
    before = digest(journal)
    since = last_seq(emulator)

    plan = await migrate(
        client, read_csv(source), journal=journal, dry_run=True, on_existing="update", **FAST
    )

    assert (plan.would_update, plan.created, plan.updated) == (1, 1, 0)
    assert not any(methods(emulator, since)[method] for method in WRITES)
    assert digest(journal) == before


async def test_a_dry_run_settles_rows_an_earlier_run_left_unsettled_by_looking_them_up(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    from checkout_customers.migration._journal import Journal, RowState

    journal = tmp_path / "journal.sqlite3"
    source = write_csv(tmp_path / "in.csv", [("acted@example.com", "A"), ("lost@example.com", "L")])
    # An earlier run sent both creates and never learnt their outcomes; one of them acted.
    earlier = Journal(journal, target=client.base_url)
    await earlier.claim(list(read_csv(source)))
    for email in ("acted@example.com", "lost@example.com"):
        await earlier.record(email, RowState.CREATING, attempt_at=1.0)
    earlier.close()
    await client.customers.create(email="acted@example.com", name="A")
    before = digest(journal)
    since = last_seq(emulator)

    plan = await migrate(client, read_csv(source), journal=journal, dry_run=True, **FAST)

    assert (plan.created, plan.would_create) == (1, 1)
    assert not any(methods(emulator, since)[method] for method in WRITES)
    assert digest(journal) == before
