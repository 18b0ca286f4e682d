"""Rollback: the customers a migration created are deleted exactly once, never an existing one.

Against the emulator over loopback: the emulator's request journal says which DELETEs were
sent, so "nothing more" and "never that customer" are counted, not assumed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import stat
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator, emulator_thread
from checkout_customers.migration import (
    JournalError,
    RollbackResult,
    RollbackStatus,
    RowResult,
    RowStatus,
    migrate,
    rollback,
)
from checkout_customers.migration._journal_schema import open_journal, start_run

from .conftest import FAST, cli_command, cli_env, run_cli, write_csv

UNLIMITED = {"write_rate": None}


def _deletes(emulator: RunningEmulator) -> list[str]:
    return [entry.path for entry in emulator.requests() if entry.method == "DELETE"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_rollback_deletes_what_the_migration_created_once_and_never_an_existing_one(
    emulator: RunningEmulator, client: AsyncClient, journal: Path, tmp_path: Path
) -> None:
    before = await client.customers.create(email="old@example.com", name="Here before")
    rows = [{"email": f"r{n}@example.com", "name": "R"} for n in range(4)]
    rows.append({"email": "old@example.com", "name": "Here before"})
    results: list[RowResult] = []
    migrated = await migrate(client, rows, journal=journal, progress=results.append, **FAST)
    assert (migrated.created, migrated.existing) == (4, 1)
    created = {r.email: r.customer_id for r in results if r.status is RowStatus.CREATED}
    # Someone deletes one of them before the rollback.
    await client.customers.delete(created["r0@example.com"])
    emulator.clear_requests()

    report = tmp_path / "rollback.jsonl"
    first = await rollback(client, journal, report=report, **UNLIMITED)

    assert (first.deleted, first.already_gone, first.failed, first.already_done) == (3, 1, 0, 0)
    assert first.ok
    assert sorted(_deletes(emulator)) == sorted(f"/customers/{cid}" for cid in created.values())
    assert f"/customers/{before.id}" not in _deletes(emulator)
    assert [str(c["email"]) for c in emulator.customers()] == ["old@example.com"]
    entries = {entry["email"]: entry for entry in _lines(report)}
    assert set(entries) == set(created)  # one line per created customer, none for `existing`
    assert entries["r0@example.com"]["status"] == "already_gone"
    assert entries["r1@example.com"]["status"] == "deleted"
    assert entries["r1@example.com"]["customer_id"] == created["r1@example.com"]
    assert entries["r1@example.com"]["line"] == 2
    assert entries["r1@example.com"]["request_id"]
    assert _mode(report) == 0o600

    emulator.clear_requests()
    second = await rollback(client, journal, report=report, **UNLIMITED)
    assert _deletes(emulator) == []  # nothing is deleted twice
    assert (second.deleted, second.already_gone, second.failed) == (3, 1, 0)
    assert second.already_done == 4
    assert {entry["email"]: entry["status"] for entry in _lines(report)} == {
        email: entries[email]["status"] for email in created
    }


async def test_rollback_after_a_stopped_migration_settles_the_unanswered_create_by_email(
    emulator: RunningEmulator, client: AsyncClient, journal: Path, tmp_path: Path
) -> None:
    rows = [{"email": f"k{n}@example.com", "name": "K"} for n in range(30)]
    # The first create acts but its answer is lost: the row stays `creating` in the journal.
    emulator.fail_next("drop_after_acting", method="POST", path="/customers")
    finished: list[RowResult] = []
    stopped = await migrate(
        client,
        rows,
        journal=journal,
        progress=finished.append,
        should_stop=lambda: len(finished) >= 10,
        concurrency=2,
        **{**FAST, "settle_seconds": 30.0},
    )
    assert stopped.interrupted
    on_account = {str(c["email"]) for c in emulator.customers()}
    assert stopped.created < len(on_account) < len(rows)  # one create acted without an answer
    unanswered = on_account - {r.email for r in finished if r.status is RowStatus.CREATED}
    assert len(unanswered) == 1

    plan = tmp_path / "plan.jsonl"
    await rollback(None, journal, report=plan, dry_run=True)
    planned = {entry["email"]: entry for entry in _lines(plan)}
    assert set(planned) == on_account
    assert planned[next(iter(unanswered))]["customer_id"] is None  # found by email when run

    emulator.clear_requests()
    results: list[RollbackResult] = []
    first = await rollback(
        client, journal, progress=results.append, settle_seconds=0.2, **UNLIMITED
    )
    assert first.ok
    assert first.deleted == len(on_account)
    assert emulator.customers() == []
    assert {r.email for r in results if r.status is RollbackStatus.DELETED} == on_account
    assert len(_deletes(emulator)) == len(on_account)

    emulator.clear_requests()
    second = await rollback(client, journal, settle_seconds=0.2, **UNLIMITED)
    assert (second.deleted, second.already_done) == (len(on_account), len(on_account))
    sent = [e.path for e in emulator.requests() if "reachability-check" not in e.path]
    assert sent == []  # beyond the probe that the API answers: no lookup, no DELETE


async def test_rollback_after_a_cancelled_migration_deletes_what_its_leased_creates_made(
    emulator: RunningEmulator, client: AsyncClient, journal: Path
) -> None:
    rows = [{"email": f"c{n}@example.com"} for n in range(200)]
    run = asyncio.create_task(migrate(client, rows, journal=journal, concurrency=4, **FAST))
    deadline = time.monotonic() + 20
    while len(emulator.customers()) < 20:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    run.cancel()  # killed mid-way: its lease stays set, its pending rows unsettled
    with pytest.raises(asyncio.CancelledError):
        await run
    await asyncio.sleep(0.3)  # any create in flight lands
    on_account = {str(c["email"]) for c in emulator.customers()}
    assert 20 <= len(on_account) < len(rows)

    result = await rollback(client, journal, settle_seconds=0.2, **UNLIMITED)
    assert result.ok
    assert result.deleted == len(on_account)
    assert emulator.customers() == []


async def test_a_dry_run_sends_nothing_changes_nothing_and_lists_what_it_would_delete(
    emulator: RunningEmulator, client: AsyncClient, journal: Path, tmp_path: Path
) -> None:
    await client.customers.create(email="old@example.com")
    rows = [{"email": "new@example.com"}, {"email": "old@example.com"}]
    await migrate(client, rows, journal=journal, **FAST)
    emulator.clear_requests()
    digest = _digest(journal)
    report = tmp_path / "plan.jsonl"

    planned = await rollback(None, journal, report=report, dry_run=True)

    assert emulator.requests() == []
    assert _digest(journal) == digest
    assert (planned.would_delete, planned.deleted, planned.dry_run) == (1, 0, True)
    assert [(e["email"], e["status"]) for e in _lines(report)] == [
        ("new@example.com", "would_delete")
    ]
    assert len(emulator.customers()) == 2


async def test_deletes_are_paced_and_a_429_is_retried(
    emulator: RunningEmulator, client: AsyncClient, journal: Path
) -> None:
    await migrate(
        client, [{"email": f"p{n}@example.com"} for n in range(3)], journal=journal, **FAST
    )
    emulator.fail_next("429", method="DELETE", times=2)
    emulator.fail_next("429", method="GET")  # the probe that the API answers: a 429 is an answer
    result = await rollback(client, journal, write_rate=50)
    assert (result.deleted, result.rate_limited) == (3, 2)
    assert Counter(entry.status for entry in emulator.requests() if entry.method == "DELETE") == {
        429: 2,
        204: 3,
    }
    assert result.deletes_sent == 5
    assert emulator.customers() == []


async def test_the_report_may_not_be_the_journal_and_a_missing_journal_is_named(
    client: AsyncClient, journal: Path, tmp_path: Path
) -> None:
    await migrate(client, [{"email": "keep@example.com"}], journal=journal, **FAST)
    digest = _digest(journal)
    with pytest.raises(ValueError, match="one file"):
        await rollback(client, journal, report=journal)
    with pytest.raises(ValueError, match="one file"):
        await rollback(client, journal, report=str(journal) + "-wal")
    assert _digest(journal) == digest
    with pytest.raises(JournalError, match="no such journal"):
        await rollback(client, tmp_path / "missing.sqlite3")
    assert not (tmp_path / "missing.sqlite3").exists()
    not_journal = tmp_path / "in.csv"
    not_journal.write_text("email\n", encoding="utf-8")
    with pytest.raises(JournalError, match="not a migration journal"):
        await rollback(client, not_journal)


def test_the_command_rolls_back_with_the_exit_statuses_of_migrate(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [[f"c{n}@example.com", "C"] for n in range(5)])
    env = cli_env(emulator)
    migrated = run_cli("migrate", str(source), "--write-rate", "none", env=env)
    assert migrated.returncode == 0, migrated.stderr
    journal = str(source) + ".journal.sqlite3"

    planned = run_cli("rollback", journal, "--dry-run", env=cli_env())  # no credential needed
    assert planned.returncode == 0, planned.stderr
    assert "would delete 5" in planned.stdout
    assert len(emulator.customers()) == 5

    same = run_cli("rollback", journal, "--report", journal, env=env)
    assert same.returncode == 2
    assert "one file" in same.stderr
    assert "Traceback" not in same.stderr

    nocred = run_cli("rollback", journal, env=cli_env())
    assert nocred.returncode == 2
    assert "CKO_SECRET_KEY" in nocred.stderr
    assert "Traceback" not in nocred.stderr

    emulator.clear_requests()
    nowhere = run_cli("rollback", journal, "--report", str(tmp_path / "no" / "r.jsonl"), env=env)
    assert nowhere.returncode == 2
    assert "cannot write" in nowhere.stderr
    assert emulator.requests() == []  # refused before any request

    report = tmp_path / "rollback.jsonl"
    done = run_cli("rollback", journal, "--report", str(report), env=env)
    assert done.returncode == 0, done.stderr
    assert "deleted 5" in done.stdout
    assert emulator.customers() == []
    assert Counter(entry["status"] for entry in _lines(report)) == {"deleted": 5}
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600

    emulator.clear_requests()
    emulator.fail_next("500", method="DELETE", times=100)
    again = run_cli("rollback", journal, env=env)
    assert again.returncode == 0, again.stderr  # already done: nothing sent, nothing fails
    assert [e for e in emulator.requests() if e.method == "DELETE"] == []

    missing = run_cli("rollback", str(tmp_path / "nope.sqlite3"), env=env)
    assert missing.returncode == 2
    assert "no such journal" in missing.stderr


def test_help_shows_an_example_per_option() -> None:
    shown = run_cli("rollback", "--help", env=cli_env())
    assert shown.returncode == 0
    for example in ("--report rollback.jsonl", "--dry-run --report", "--write-rate 50"):
        assert example in shown.stdout.replace("\n", " ").replace("  ", " ")


@pytest.mark.slow
def test_a_stopped_rollback_exits_143_and_the_rerun_deletes_the_rest_once(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    count = 150
    source = write_csv(tmp_path / "in.csv", [[f"t{n}@example.com", "T"] for n in range(count)])
    env = cli_env(emulator)
    migrated = run_cli("migrate", str(source), "--write-rate", "none", env=env)
    assert migrated.returncode == 0, migrated.stderr
    journal = str(source) + ".journal.sqlite3"
    emulator.clear_requests()
    process = subprocess.Popen(
        cli_command("rollback", journal, "--write-rate", "40"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(emulator.customers()) > count - 20:
            assert time.monotonic() < deadline, "the rollback deleted nothing"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert "Traceback" not in err
    assert "interrupted: to resume, run the same command" in out
    assert 0 < len(emulator.customers()) < count

    resumed = run_cli("rollback", journal, "--write-rate", "none", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert emulator.customers() == []
    deleted = [e.path for e in emulator.requests() if e.method == "DELETE" and e.status == 204]
    assert len(deleted) == count
    assert len(set(deleted)) == count
    assert len(_deletes(emulator)) == count  # no DELETE sent twice, even across the stop


@pytest.mark.slow
async def test_an_unanswered_create_is_looked_up_only_once_it_can_no_longer_act(
    journal: Path,
) -> None:
    # The create waits 2 s inside the API before acting: it is still in flight when the
    # migration is cancelled, and lands after the rollback has started.
    with emulator_thread(fault_slow_ms=2000) as emulator:
        async with AsyncClient(
            secret_key=emulator.secret_key, base_url=emulator.base_url
        ) as client:
            emulator.fail_next("act_late", method="POST", path="/customers")
            rows = [{"email": "late@example.com"}]
            run = asyncio.create_task(migrate(client, rows, journal=journal, **FAST))
            deadline = time.monotonic() + 10
            while not any(e.method == "POST" for e in emulator.requests()):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
            assert emulator.customers() == []  # not yet acted

            result = await rollback(client, journal, settle_seconds=2.5, **UNLIMITED)
            await asyncio.sleep(2.5)  # had the create still been in flight, it has landed now
        assert (result.deleted, result.already_gone) == (1, 0)
        assert emulator.customers() == []


async def test_a_journal_in_use_by_a_migration_is_refused(
    emulator: RunningEmulator, client: AsyncClient, journal: Path
) -> None:
    await migrate(client, [{"email": "busy@example.com"}], journal=journal, **FAST)
    holder = open_journal(str(journal))
    try:
        start_run(holder, str(journal), client.base_url)  # a migration holding the journal
        emulator.clear_requests()
        with pytest.raises(JournalError, match="in use"):
            await rollback(client, journal, **UNLIMITED)
        with pytest.raises(JournalError, match="in use"):
            await rollback(None, journal, dry_run=True)
    finally:
        holder.close()
    assert emulator.requests() == []
    assert len(emulator.customers()) == 1
