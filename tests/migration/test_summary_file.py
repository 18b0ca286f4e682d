"""`migrate --summary`: one JSON object saying how the run went, for scripts and CI."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path

from checkout_customers.emulator import RunningEmulator

from .conftest import cli_env, run_cli, write_csv

FAST = ("--write-rate", "none", "--read-rate", "none", "--settle-seconds", "0.2")


def _parse_utc(text: str) -> datetime:
    assert text.endswith("Z")
    moment = datetime.fromisoformat(text[:-1] + "+00:00")
    assert moment.utcoffset() is not None
    return moment


def test_the_summary_holds_counts_paths_times_rate_requests_and_exit_status(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    rows = [[f"s{n}@example.com", "S"] for n in range(6)] + [["bad", "B"], ["s0@example.com", "D"]]
    source = write_csv(tmp_path / "in.csv", rows)
    report = tmp_path / "report.jsonl"
    summary_path = tmp_path / "summary.json"
    emulator.fail_next("429", method="GET", email="s3@example.com", times=2)
    result = run_cli(
        "migrate",
        str(source),
        "--report",
        str(report),
        "--summary",
        str(summary_path),
        *FAST,
        env=cli_env(emulator),
    )
    assert result.returncode == 1, result.stderr
    assert stat.S_IMODE(os.stat(summary_path).st_mode) == 0o600
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    counts = summary["status_counts"]
    assert (counts["created"], counts["invalid"], counts["duplicate"], counts["failed"]) == (
        6,
        1,
        1,
        0,
    )
    assert summary["rows"] == 8
    assert summary["input"] == str(source)
    assert summary["journal"] == str(source) + ".journal.sqlite3"
    assert summary["report"] == str(report)
    started, ended = _parse_utc(summary["started_at"]), _parse_utc(summary["ended_at"])
    assert started <= ended
    assert summary["rows_per_second"] > 0
    requests = [entry for entry in emulator.requests() if entry.path.startswith("/customers")]
    assert summary["requests_sent"] == len(requests) - 1  # less the reachability probe
    assert summary["rate_limited"] == 2
    assert summary["exit_status"] == 1
    assert summary["interrupted"] is False
    assert summary["error"] is None


def test_a_run_that_fails_early_still_writes_its_summary_with_the_error(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    summary_path = tmp_path / "summary.json"
    result = run_cli("migrate", str(source), "--summary", str(summary_path), env=cli_env())
    assert result.returncode == 2
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    assert summary["exit_status"] == 2
    assert summary["status_counts"] is None
    assert "CKO_SECRET_KEY" in summary["error"]
    assert summary["requests_sent"] == 0


def test_the_summary_path_may_not_be_another_file_of_the_run(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    before = source.read_bytes()
    report = tmp_path / "report.jsonl"
    for target in (str(source), str(report), str(source) + ".journal.sqlite3-wal"):
        result = run_cli(
            "migrate", str(source), "--report", str(report), "--summary", target,
            env=cli_env(emulator),
        )  # fmt: skip
        assert result.returncode == 2
        assert "--summary" in result.stderr
        assert "one file" in result.stderr
    assert source.read_bytes() == before
    assert emulator.requests() == []


def test_migrate_help_shows_an_example_for_summary_and_rejects() -> None:
    shown = run_cli("migrate", "--help", env=cli_env())
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    assert "--summary summary.json" in text
    assert "--rejects rejects.csv" in text
