"""The worker pool when the run is told to stop: parked rows and rows in flight are reported,
the journal keeps them, and requests that hang are cut after the grace."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from checkout_customers import AsyncClient
from checkout_customers.migration import RowResult, RowStatus, _scheduler, migrate

from .scripted_api import Act, ScriptedApi

UNPACED = {"read_rate": None, "write_rate": None}


@pytest.fixture
async def api() -> AsyncIterator[ScriptedApi]:
    async with ScriptedApi(late_seconds=0.8) as running:
        yield running


async def test_a_stop_reports_parked_rows_and_the_next_run_settles_them(
    api: ScriptedApi, journal: Path
) -> None:
    api.script_create = lambda email, attempt: (  # type: ignore[assignment]
        Act.LATE_500 if email == "late@example.com" and attempt == 1 else Act.OK
    )
    rows = [{"email": "late@example.com"}, *({"email": f"r{n}@example.com"} for n in range(5))]
    results: list[RowResult] = []
    started = time.monotonic()
    async with AsyncClient(secret_key="sk_sbox_scripted_key", base_url=api.base_url) as cko:
        first = await migrate(
            cko,
            rows,
            journal=journal,
            settle_seconds=30,
            progress=results.append,
            should_stop=lambda: len(results) >= 5,
            **UNPACED,
        )
        assert time.monotonic() - started < 10  # not the 30 s settle window
        assert first.interrupted
        assert sorted(result.line for result in results) == list(range(1, 7))
        [parked] = [result for result in results if result.email == "late@example.com"]
        assert parked.status is RowStatus.FAILED
        assert "waiting to learn whether its create acted" in (parked.error or "")

        second = await migrate(cko, rows, journal=journal, settle_seconds=1.0, **UNPACED)
    assert (second.created, second.creates_sent, second.failed) == (6, 0, 0)
    assert api.created["late@example.com"] == 1


async def test_requests_that_hang_after_a_stop_are_cut_after_the_grace(
    api: ScriptedApi, journal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_scheduler, "STOP_GRACE_SECONDS", 0.3)
    api.late_seconds = 20.0
    api.script_create = lambda email, attempt: Act.HANG  # type: ignore[assignment]
    results: list[RowResult] = []
    stop_at = time.monotonic() + 0.5
    async with AsyncClient(secret_key="sk_sbox_scripted_key", base_url=api.base_url) as cko:
        report = await migrate(
            cko,
            [{"email": f"h{n}@example.com"} for n in range(10)],
            journal=journal,
            concurrency=4,
            progress=results.append,
            should_stop=lambda: time.monotonic() >= stop_at,
            **UNPACED,
        )
    assert time.monotonic() - stop_at < 3
    assert report.interrupted
    assert sorted(result.line for result in results) == list(range(1, 11))
    # The 4 rows in flight were cut by the grace; the other 6 were never started.
    statuses = Counter(result.status for result in results)
    assert statuses == {RowStatus.FAILED: 4, RowStatus.NOT_STARTED: 6}
    assert sum(1 for result in results if "interrupted" in (result.error or "")) == 10


async def test_a_cancelled_run_still_reports_every_input_row(
    api: ScriptedApi, journal: Path, tmp_path: Path
) -> None:
    # What a second Ctrl-C does: the call is cancelled with rows in flight, parked and unread.
    api.late_seconds = 20.0
    api.script_create = lambda email, attempt: (  # type: ignore[assignment]
        Act.HANG if email.startswith("h") else Act.ERROR_500 if email.startswith("p") else Act.OK
    )
    rows = [
        *({"email": f"h{n}@example.com"} for n in range(2)),
        *({"email": f"p{n}@example.com"} for n in range(2)),
        *({"email": f"r{n}@example.com"} for n in range(2000)),
    ]
    report = tmp_path / "report.jsonl"
    async with AsyncClient(secret_key="sk_sbox_scripted_key", base_url=api.base_url) as cko:
        run = asyncio.create_task(
            migrate(
                cko,
                rows,
                journal=journal,
                report=report,
                concurrency=4,
                settle_seconds=30,
                **UNPACED,
            )
        )
        await api.wait_for_requests("POST", "p1@example.com", 1)
        await asyncio.sleep(0.2)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
    lines = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert sorted(entry["line"] for entry in lines) == list(range(1, len(rows) + 1))
    by_email = {entry["email"]: entry for entry in lines}
    assert "interrupted" in by_email["h0@example.com"]["error"]
    assert "waiting to learn whether its create acted" in by_email["p0@example.com"]["error"]
    assert by_email["r1999@example.com"]["status"] == "not_started"


async def test_after_a_stop_no_create_is_sent_for_rows_in_flight(
    api: ScriptedApi, journal: Path
) -> None:
    # The rows are being looked up when the stop comes: their creates are not sent.
    api.late_seconds = 0.6
    api.script_lookup = lambda email, attempt: Act.HANG  # type: ignore[assignment]
    results: list[RowResult] = []
    stop_at = time.monotonic() + 0.2
    async with AsyncClient(secret_key="sk_sbox_scripted_key", base_url=api.base_url) as cko:
        report = await migrate(
            cko,
            [{"email": f"s{n}@example.com"} for n in range(8)],
            journal=journal,
            concurrency=4,
            progress=results.append,
            should_stop=lambda: time.monotonic() >= stop_at,
            **UNPACED,
        )
    assert report.interrupted
    assert api.requests("POST") == []
    assert len(results) == 8
    assert all("interrupted" in (result.error or "") for result in results)
