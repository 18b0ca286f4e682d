"""The command line when the run is cut short: stop signals, an unreachable API, a full disk.

Each of these ends with one clear message, the exit status of the table in docs/migration.md,
the report holding a line per input row where the run got that far, and a journal from which
the same command resumes to exactly one customer per email.
"""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from checkout_customers.emulator import RunningEmulator

from .conftest import UNTHROTTLED, cli_command, cli_env, read_report, run_cli, write_csv


def _wait_for_customers(emulator: RunningEmulator, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(emulator.customers()) < count:
        assert time.monotonic() < deadline, f"timed out waiting for {count} customers"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_writes_the_report_summary_and_resume_hint(
    emulator: RunningEmulator, tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    rows = 600
    source = write_csv(tmp_path / "in.csv", [[f"s{n}@example.com", "S"] for n in range(rows)])
    report = tmp_path / "report.jsonl"
    process = subprocess.Popen(
        cli_command("migrate", str(source), "--report", str(report), "--write-rate", "100"),
        env=cli_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_customers(emulator, 50)
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, err
    assert "Traceback" not in err
    assert "stopping: no new rows" in err
    assert "interrupted after" in out  # the summary
    assert "interrupted: to resume, run the same command" in out
    entries = read_report(report)
    assert [entry["line"] for entry in entries] == list(range(2, rows + 2))
    assert 50 <= len(emulator.customers()) < rows

    resumed = run_cli("migrate", str(source), *UNTHROTTLED, env=cli_env(emulator))
    assert resumed.returncode == 0, resumed.stderr
    assert Counter(str(c["email"]) for c in emulator.customers()) == Counter(
        f"s{n}@example.com" for n in range(rows)
    )


def test_an_api_unreachable_at_the_start_exits_2_with_one_line_naming_host_and_cause(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = write_csv(tmp_path / "in.csv", [[f"u{n}@example.com", "U"] for n in range(300)])
    report = tmp_path / "report.jsonl"
    env = {**cli_env(), "CKO_SECRET_KEY": "sk_sbox_unreachable_key"}
    env["CKO_BASE_URL"] = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    done = run_cli("migrate", str(source), "--report", str(report), env=env, timeout=60)
    assert time.monotonic() - started < 15
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "error" in line]
    assert "cannot reach the API at 127.0.0.1" in line
    assert "could not connect to 127.0.0.1 (Connection refused)" in line
    assert "Traceback" not in done.stderr
    assert not report.exists()
    assert "failed" not in done.stdout


def _limit_file_size(limit: int) -> None:
    # Runs in the child: writes past `limit` bytes fail with EFBIG instead of killing it.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow
def test_a_journal_that_cannot_be_written_names_it_exits_1_and_the_rerun_completes(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    rows = 3000
    source = write_csv(tmp_path / "in.csv", [[f"d{n}@example.com", "D"] for n in range(rows)])
    journal = tmp_path / "journal.sqlite3"
    done = subprocess.run(
        cli_command("migrate", str(source), "--journal", str(journal), *UNTHROTTLED),
        env=cli_env(emulator),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: _limit_file_size(160 * 1024),
    )
    assert done.returncode == 1, done.stderr
    assert f"{journal}: cannot write the journal" in done.stderr
    # SQLite says "disk I/O error" for the EFBIG of the limit ("database or disk is full" for
    # a full disk), not the system's words.
    assert "(disk I/O error" in done.stderr
    assert "to resume, run the same command" in done.stderr
    assert "Traceback" not in done.stderr
    assert 0 < len(emulator.customers()) < rows

    resumed = run_cli(
        "migrate", str(source), "--journal", str(journal), *UNTHROTTLED, env=cli_env(emulator)
    )
    assert resumed.returncode == 0, resumed.stderr
    assert Counter(str(c["email"]) for c in emulator.customers()) == Counter(
        f"d{n}@example.com" for n in range(rows)
    )
