"""Rows an interrupted run never started: status `not_started`, not `failed`; resumed next run."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import RowResult, migrate, read_csv

from .conftest import FAST, UNTHROTTLED, cli_command, cli_env, read_report, run_cli, write_csv


async def test_rows_never_started_are_not_started_in_the_report_and_the_next_run_takes_them(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    rows = [[f"p{n}@example.com", "P"] for n in range(300)] + [["not-an-email", "X"]]
    source = write_csv(tmp_path / "in.csv", rows)
    finished: list[RowResult] = []
    report_path = tmp_path / "report.jsonl"
    first = await migrate(
        client,
        read_csv(source),
        journal=journal,
        report=report_path,
        progress=finished.append,
        should_stop=lambda: len(finished) >= 40,
        concurrency=4,
        **FAST,
    )
    assert first.interrupted
    entries = read_report(report_path)
    assert len(entries) == first.rows == 301  # every row has a line, started or not
    by_status = {
        status: [e for e in entries if e["status"] == status]
        for status in {e["status"] for e in entries}
    }
    not_started = by_status["not_started"]
    assert first.not_started == len(not_started) > 200
    # Only rows stopped while in flight may be `failed`; none of them had its create refused.
    assert first.failed == len(by_status.get("failed", [])) <= 4
    assert all("interrupted" in (entry["error"] or "") for entry in by_status.get("failed", []))
    assert all(e["customer_id"] is None for e in not_started)
    assert {e["email"] for e in not_started}.isdisjoint(
        str(customer["email"]) for customer in emulator.customers()
    )
    # An invalid row stays `invalid` even when the run stopped before it.
    assert [e["status"] for e in entries if e["email"] is None or "@" not in e["email"]] == [
        "invalid"
    ]
    assert first.created + first.failed + first.not_started + first.invalid == first.rows

    second = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert (second.created, second.not_started, second.failed) == (300, 0, 0)
    assert second.already_done == first.created
    assert len(emulator.customers()) == 300


@pytest.mark.slow
def test_ctrl_c_reports_not_started_rows_exits_130_and_a_rerun_finishes(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [[f"c{n}@example.com", "C"] for n in range(1000)])
    report = tmp_path / "report.jsonl"
    process = subprocess.Popen(
        cli_command(
            "migrate",
            str(source),
            "--report",
            str(report),
            "--write-rate",
            "100",
            "--read-rate",
            "100",
        ),
        env=cli_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(emulator.customers()) < 50 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    statuses = [entry["status"] for entry in read_report(report)]
    created = statuses.count("created")
    assert created == len(emulator.customers())
    assert statuses.count("not_started") >= 1000 - created - 200  # in-flight rows may be failed
    assert statuses.count("not_started") + statuses.count("failed") == 1000 - created
    summary = out[out.index("Migration") :]
    assert "not_started" in summary
    assert "rows were not started (the run was interrupted); the next run takes them." in summary
    assert "Traceback" not in err

    resumed = run_cli(
        "migrate", str(source), "--report", str(report), *UNTHROTTLED, env=cli_env(emulator)
    )
    assert resumed.returncode == 0, resumed.stderr
    assert {entry["status"] for entry in read_report(report)} == {"created"}
    assert len(emulator.customers()) == 1000
