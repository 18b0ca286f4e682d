"""`migrate` against a real emulator: exactly once per email, resumable, every row reported."""

from __future__ import annotations

import asyncio
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from checkout_customers import AsyncClient, AuthenticationError, Client, CreatedCustomer
from checkout_customers.emulator import RunningEmulator, emulator_thread
from checkout_customers.migration import (
    JournalError,
    PreparedCreate,
    Row,
    RowResult,
    RowStatus,
    migrate,
    migrate_sync,
    read_csv,
    read_jsonl,
)
from checkout_customers.migration._journal import Journal, RowState
from checkout_customers.migration._rows import rows_of

from .conftest import FAST, emails_on, read_report, write_csv, write_jsonl


def people(count: int, start: int = 0) -> list[list[str]]:
    return [
        [f"person{number}@example.com", f"Person {number}"]
        for number in range(start, start + count)
    ]


async def test_every_valid_row_becomes_one_customer_and_every_row_is_reported(
    client: AsyncClient, emulator: RunningEmulator, journal: Path, tmp_path: Path
) -> None:
    rows = [
        *people(50),
        [" PERSON7@Example.com ", "Same person, other case"],
        ["not-an-email", "Bad"],
        ["", "No email"],
    ]
    source = write_csv(tmp_path / "in.csv", rows)
    report_path = tmp_path / "report.jsonl"
    report = await migrate(client, read_csv(source), journal=journal, report=report_path, **FAST)

    assert (report.rows, report.created, report.duplicate, report.invalid) == (53, 50, 1, 2)
    assert (report.existing, report.failed, report.interrupted, report.ok) == (0, 0, False, False)
    assert sorted(emails_on(emulator)) == sorted(f"person{n}@example.com" for n in range(50))
    entries = read_report(report_path)
    assert [entry["line"] for entry in entries] == list(range(2, 55))
    by_line = {entry["line"]: entry for entry in entries}
    assert by_line[2]["status"] == "created"
    assert by_line[2]["customer_id"].startswith("cus_")
    assert by_line[2]["request_id"]
    assert by_line[52] == {
        "line": 52,
        "email": "person7@example.com",
        "status": "duplicate",
        "customer_id": None,
        "error": "same email as line 9",
        "request_id": None,
    }
    assert by_line[53]["status"] == "invalid"
    assert "is not a valid email address" in by_line[53]["error"]
    assert by_line[54]["error"] == "email: is required"


async def test_a_rerun_of_a_finished_migration_creates_nothing(
    client: AsyncClient, emulator: RunningEmulator, journal: Path, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", people(40))
    first = await migrate(client, read_csv(source), journal=journal, **FAST)
    ids = {customer["id"] for customer in emulator.customers()}
    report_path = tmp_path / "again.jsonl"
    second = await migrate(client, read_csv(source), journal=journal, report=report_path, **FAST)

    assert first.created == second.created == 40
    assert (second.already_done, second.creates_sent, second.lookups_sent) == (40, 0, 0)
    assert {customer["id"] for customer in emulator.customers()} == ids
    assert {entry["customer_id"] for entry in read_report(report_path)} == ids


async def test_customers_already_on_the_account_are_existing_with_their_id(
    client: AsyncClient, emulator: RunningEmulator, journal: Path
) -> None:
    before = await client.customers.create(email="Known@Example.com", name="Known")
    results: list[RowResult] = []
    report = await migrate(
        client,
        [{"email": "known@example.com", "name": "Known again"}, {"email": "new@example.com"}],
        journal=journal,
        progress=results.append,
        **FAST,
    )
    assert (report.existing, report.created) == (1, 1)
    existing = next(result for result in results if result.status is RowStatus.EXISTING)
    assert (existing.line, existing.customer_id) == (1, before.id)
    assert emulator.count_customers_with_email("known@example.com") == 1


async def test_input_appended_between_runs_resumes_with_the_new_rows(
    client: AsyncClient, emulator: RunningEmulator, journal: Path, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    write_jsonl(path, [{"email": f"p{n}@example.com"} for n in range(10)])
    await migrate(client, read_jsonl(path), journal=journal, **FAST)
    with path.open("a", encoding="utf-8") as stream:
        for number in range(10, 15):
            stream.write(json.dumps({"email": f"p{number}@example.com"}) + "\n")
        stream.write(json.dumps({"email": "P3@example.com"}) + "\n")
    report = await migrate(client, read_jsonl(path), journal=journal, **FAST)
    assert (report.created, report.already_done, report.duplicate, report.creates_sent) == (
        15,
        10,
        1,
        5,
    )
    assert len(emulator.customers()) == 15


async def test_a_changed_row_for_a_migrated_email_is_reported_not_applied(
    client: AsyncClient, emulator: RunningEmulator, journal: Path, tmp_path: Path
) -> None:
    await migrate(client, [{"email": "a@example.com", "name": "Old"}], journal=journal, **FAST)
    stream = io.StringIO()
    report = await migrate(
        client, [{"email": "a@example.com", "name": "New"}], journal=journal, report=stream, **FAST
    )
    [entry] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (report.changed, report.created, report.ok) == (1, 1, True)
    assert entry["status"] == "created"
    assert "changed since an earlier run" in entry["error"]
    assert [customer["name"] for customer in emulator.customers()] == ["Old"]


async def test_a_row_left_creating_by_a_killed_run_is_reconciled_not_created_again(
    client: AsyncClient, emulator: RunningEmulator, journal: Path
) -> None:
    # The state a SIGKILL leaves: the create reached the API, its answer never came back.
    opened = Journal(journal, target=client.base_url)
    await opened.claim(
        [*read_rows([{"email": "sent@example.com"}, {"email": "unsent@example.com"}])]
    )
    await opened.record("sent@example.com", RowState.CREATING, attempt_at=0.0)
    await opened.record("unsent@example.com", RowState.CREATING, attempt_at=0.0)
    await opened.aclose()
    created = await client.customers.create(email="sent@example.com")

    results: list[RowResult] = []
    report = await migrate(
        client,
        [{"email": "sent@example.com"}, {"email": "unsent@example.com"}],
        journal=journal,
        progress=results.append,
        **FAST,
    )
    assert (report.created, report.existing, report.creates_sent) == (2, 0, 1)
    assert {r.email: r.customer_id for r in results}["sent@example.com"] == created.id
    assert sorted(emails_on(emulator)) == ["sent@example.com", "unsent@example.com"]


def read_rows(objects: list[dict[str, str]]) -> list[Row]:
    return list(rows_of(objects))


async def test_should_stop_finishes_rows_in_flight_and_a_rerun_completes(
    client: AsyncClient, emulator: RunningEmulator, journal: Path, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", people(300))
    finished: list[RowResult] = []
    first = await migrate(
        client,
        read_csv(source),
        journal=journal,
        progress=finished.append,
        should_stop=lambda: len(finished) >= 40,
        concurrency=4,
        **FAST,
    )
    assert first.interrupted
    assert not first.ok
    assert first.rows == 300  # every row is accounted for, started or not
    assert 40 <= first.created < 300
    assert first.created == len(emulator.customers())
    assert sorted(result.line for result in finished) == list(range(2, 302))
    not_started = [result for result in finished if result.status is not RowStatus.CREATED]
    assert len(not_started) == first.failed + first.not_started == 300 - first.created
    assert first.not_started > 0  # rows never started have their own status, not `failed`
    assert all("interrupted" in (result.error or "") for result in not_started)

    second = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert (second.created, second.already_done, second.ok) == (300, first.created, True)
    assert Counter(emails_on(emulator)) == Counter(f"person{n}@example.com" for n in range(300))


async def test_an_api_that_refuses_duplicate_emails_is_handled_the_same(journal: Path) -> None:
    with emulator_thread(reject_duplicate_emails=True) as emulator:
        async with AsyncClient(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
            await cko.customers.create(email="known@example.com")
            report = await migrate(
                cko,
                [{"email": "known@example.com"}, {"email": "new@example.com"}],
                journal=journal,
                **FAST,
            )
        assert (report.existing, report.created) == (1, 1)


async def test_an_api_matching_emails_by_exact_case_still_finds_existing_customers(
    journal: Path,
) -> None:
    with emulator_thread(case_sensitive_emails=True) as emulator:
        async with AsyncClient(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
            known = await cko.customers.create(email="Bruce@Wayne.com")
            report = await migrate(
                cko,
                [{"email": " Bruce@Wayne.com "}, {"email": "Alfred@Wayne.com"}],
                journal=journal,
                **FAST,
            )
            alfred = await cko.customers.get("alfred@wayne.com")
        assert (report.existing, report.created) == (1, 1)
        assert emulator.count_customers_with_email("bruce@wayne.com") == 1
        assert [customer["id"] for customer in emulator.customers()] == [known.id, alfred.id]


async def test_a_refused_credential_stops_the_run(emulator: RunningEmulator, journal: Path) -> None:
    async with AsyncClient(secret_key="sk_sbox_wrong_key_123", base_url=emulator.base_url) as cko:
        with pytest.raises(AuthenticationError):
            await migrate(
                cko, [{"email": f"p{n}@example.com"} for n in range(20)], journal=journal, **FAST
            )
    assert emulator.customers() == []


async def test_a_journal_in_use_is_refused_before_any_request(
    client: AsyncClient, emulator: RunningEmulator, journal: Path
) -> None:
    holder = Journal(journal, target=client.base_url)
    try:
        with pytest.raises(JournalError, match="in use"):
            await migrate(client, [{"email": "a@example.com"}], journal=journal, **FAST)
    finally:
        holder.close()
    assert emulator.customers() == []


def test_migrate_sync_runs_on_a_blocking_client(emulator: RunningEmulator, journal: Path) -> None:
    with Client(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
        report = migrate_sync(
            cko, [{"email": f"s{n}@example.com"} for n in range(25)], journal=journal, **FAST
        )
    assert report.created == 25
    assert len(emulator.customers()) == 25


async def test_an_account_slower_than_the_client_answers_429_and_nothing_is_lost(
    journal: Path,
) -> None:
    # Well below what the client reaches even on a loaded machine, so 429s surely come.
    with emulator_thread(write_rate=100, read_rate=100) as emulator:
        async with AsyncClient(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
            report = await migrate(
                cko,
                [{"email": f"paced{n}@example.com"} for n in range(400)],
                journal=journal,
                write_rate=2000,
                read_rate=2000,
                settle_seconds=0.2,
            )
        counts = Counter(emails_on(emulator))
    assert report.rate_limited > 0
    assert (report.created, report.failed) == (400, 0)
    assert counts == Counter(f"paced{n}@example.com" for n in range(400))


async def test_rows_built_by_hand_are_checked_before_anything_is_sent(
    client: AsyncClient, emulator: RunningEmulator, journal: Path
) -> None:
    rows = [
        Row(line=1, email="hand@example.com", body={"email": "hand@example.com", "name": "Hand"}),
        Row(line=2, email="bad@example.com", body={"email": "bad@example.com", "name": "x" * 300}),
    ]
    results: list[RowResult] = []
    report = await migrate(client, rows, journal=journal, progress=results.append, **FAST)

    assert (report.created, report.invalid) == (1, 1)
    invalid = next(result for result in results if result.status is RowStatus.INVALID)
    assert invalid.line == 2
    assert "name" in (invalid.error or "")
    assert emails_on(emulator) == ["hand@example.com"]
    assert (await client.customers.get("hand@example.com")).name == "Hand"


async def test_a_hand_built_row_with_its_own_payload_is_still_checked_before_sending(
    client: AsyncClient, emulator: RunningEmulator, journal: Path
) -> None:
    # The payload claims to be the encoded body, but only a reader's own check is trusted.
    body = {"email": "long@example.com", "name": "x" * 300}
    rows = [Row(line=1, email="long@example.com", body=body, payload=json.dumps(body))]
    results: list[RowResult] = []
    report = await migrate(client, rows, journal=journal, progress=results.append, **FAST)

    assert report.created == 0
    [result] = results
    assert result.status is RowStatus.INVALID
    assert "name" in (result.error or "")
    assert emails_on(emulator) == []
    assert [r.method for r in emulator.requests() if r.method == "POST"] == []


async def test_a_run_cancelled_with_a_create_in_flight_is_reconciled_by_the_next(
    journal: Path,
) -> None:
    # Every request waits 1 s inside the API before acting: the create is still in flight
    # when the run is cancelled, and lands afterwards.
    with emulator_thread(fault_slow_before_acting=1.0, fault_slow_ms=1000) as emulator:
        async with AsyncClient(
            secret_key=emulator.secret_key, base_url=emulator.base_url
        ) as client:
            create_sent = asyncio.Event()
            send_create = client.customers.create_prepared

            async def spy(
                body: PreparedCreate, *, max_retries: int | None = None
            ) -> CreatedCustomer:
                create_sent.set()
                return await send_create(body, max_retries=max_retries)

            client.customers.create_prepared = spy  # type: ignore[method-assign]
            rows = [{"email": "late@example.com", "name": "Late"}]
            run = asyncio.create_task(migrate(client, rows, journal=journal, **FAST))
            await asyncio.wait_for(create_sent.wait(), timeout=10)
            await asyncio.sleep(0.3)  # the request is with the API, not yet acted on
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
            client.customers.create_prepared = send_create  # type: ignore[method-assign]

            results: list[RowResult] = []
            report = await migrate(client, rows, journal=journal, progress=results.append, **FAST)
        # The cancelled run's create may have acted, so the row is looked up, not created
        # again, and it is ours: `created`, not `existing`.
        assert (report.created, report.existing, report.creates_sent) == (1, 0, 0)
        assert results[0].status is RowStatus.CREATED
        assert emulator.count_customers_with_email("late@example.com") == 1
