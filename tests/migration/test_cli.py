"""The command line: the main-job command, exit statuses, report, get/delete, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration._journal import Journal

from .conftest import UNTHROTTLED, cli_command, cli_env, read_report, run_cli, write_csv

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_readme_main_job_command_migrates_the_example_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CKO_SECRET_KEY", raising=False)
    report = tmp_path / "report.jsonl"
    status = main(
        ["migrate", str(EXAMPLES / "customers.csv"), "--emulator", "--report", str(report)]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "finished" in out
    assert "created           300" in out
    assert "progress: 300/300 rows" in err  # plain log lines when stderr is not a terminal
    entries = read_report(report)
    assert [entry["status"] for entry in entries] == ["created"] * 300
    assert not (EXAMPLES / "customers.csv.journal.sqlite3").exists()


@pytest.mark.parametrize(
    "proxy",
    [
        {"http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"},
        {"ALL_PROXY": "socks5://127.0.0.1:9"},
    ],
    ids=["http-proxy", "socks-all-proxy"],
)
def test_the_main_job_ignores_a_proxy_exported_by_the_shell(
    proxy: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # The in-process emulator is on loopback: a company proxy could only stand in between.
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in proxy.items():
        monkeypatch.setenv(name, value)
    source = write_csv(tmp_path / "customers.csv", [("proxied@example.com", "Proxied")])
    status = main(["migrate", str(source), "--emulator"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "created             1" in out


def test_the_jsonl_example_migrates_with_typed_metadata(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    args = ["migrate", str(EXAMPLES / "customers.jsonl"), "--journal", str(journal)]
    assert main([*args, *UNTHROTTLED]) == 0
    customers = account.customers()
    assert len(customers) == 50
    assert all(isinstance(c["metadata"]["marketing_opt_in"], bool) for c in customers)
    assert all(isinstance(c["metadata"]["crm_id"], int) for c in customers)
    assert main([*args, *UNTHROTTLED]) == 0  # the rerun creates nothing
    assert "50 rows were already done by an earlier run" in capsys.readouterr().out
    assert len(account.customers()) == 50


def test_invalid_and_duplicate_rows_exit_1_and_are_in_the_report_with_their_lines(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "email,name\n"
        'a@example.com,"Two\nlines"\n'
        "b@example.com,B\n"
        "not-an-email,X\n"
        "A@EXAMPLE.COM,Again\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.jsonl"
    assert main(["migrate", str(source), "--report", str(report), *UNTHROTTLED]) == 1
    statuses = {entry["line"]: entry["status"] for entry in read_report(report)}
    assert statuses == {2: "created", 4: "created", 5: "invalid", 6: "duplicate"}
    assert (tmp_path / "in.csv.journal.sqlite3").exists()
    assert "invalid             1" in capsys.readouterr().out


def test_only_duplicates_besides_created_rows_exit_0(
    account: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"], ["a@example.com", "A"]])
    assert main(["migrate", str(source), *UNTHROTTLED]) == 0


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda folder: folder / "missing.csv", "no such file"),
        (
            lambda folder: write_csv(folder / "in.txt", [["a@example.com", "A"]]),
            "name the file .csv or .jsonl",
        ),
        (
            lambda folder: write_csv(folder / "in.csv", [["A"]], header=("name",)),
            "no `email` column",
        ),
    ],
)
def test_a_wrong_file_exits_2_before_any_request(
    account: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    make_input: Callable[[Path], Path],
    message: str,
) -> None:
    assert main(["migrate", str(make_input(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert account.customers() == []


def test_a_missing_credential_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith("CKO_"):
            monkeypatch.delenv(name)
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    assert main(["migrate", str(source)]) == 2
    assert "CKO_SECRET_KEY" in capsys.readouterr().err


def test_an_unusable_or_busy_journal_exits_2_before_any_request(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not sqlite" * 100)
    assert main(["migrate", str(source), "--journal", str(garbage)]) == 2
    assert "not a migration journal" in capsys.readouterr().err
    busy = tmp_path / "busy.sqlite3"
    holder = Journal(busy, target=account.base_url)
    try:
        assert main(["migrate", str(source), "--journal", str(busy)]) == 2
    finally:
        holder.close()
    assert "in use by another migration" in capsys.readouterr().err
    assert account.customers() == []


def test_a_refused_credential_exits_2(
    account: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", "sk_sbox_not_the_right_key")
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    assert main(["migrate", str(source), *UNTHROTTLED]) == 2
    assert "refused the credential" in capsys.readouterr().err


def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for options in (["--concurrency", "0"], ["--write-rate", "-5"], ["--read-rate", "fast"]):
        with pytest.raises(SystemExit) as exited:
            main(["migrate", "in.csv", *options])
        assert exited.value.code == 2
    assert "must be" in capsys.readouterr().err


def test_get_prints_the_customer_and_delete_removes_it(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [["bruce@wayne.com", "Bruce Wayne"]])
    assert main(["migrate", str(source), *UNTHROTTLED]) == 0
    capsys.readouterr()
    assert main(["get", "Bruce@Wayne.com"]) == 0
    customer = json.loads(capsys.readouterr().out)
    assert (customer["email"], customer["name"]) == ("bruce@wayne.com", "Bruce Wayne")
    assert main(["delete", customer["id"]]) == 0
    assert f"deleted {customer['id']}" in capsys.readouterr().out
    assert main(["get", customer["id"]]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["get", "neither-an-id-nor-an-email"]) == 2
    assert main(["delete", "bruce@wayne.com"]) == 2


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_sigkill_twice_then_rerun_gives_one_customer_per_email(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    rows = 1500
    source = write_csv(tmp_path / "in.csv", [[f"k{n}@example.com", f"K {n}"] for n in range(rows)])
    command = cli_command(
        "migrate",
        str(source),
        "--write-rate",
        "500",
        "--read-rate",
        "500",
        "--concurrency",
        "16",
        "--settle-seconds",
        "0.3",
    )
    for stop_at in (300, 800):
        process = subprocess.Popen(
            command, env=cli_env(emulator), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_for(
                lambda limit=stop_at: len(emulator.customers()) >= limit, f"{stop_at} customers"
            )
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert process.returncode == -signal.SIGKILL
        assert len(emulator.customers()) < rows

    report = tmp_path / "report.jsonl"
    done = run_cli(
        "migrate",
        str(source),
        "--report",
        str(report),
        "--settle-seconds",
        "0.3",
        "--write-rate",
        "none",
        "--read-rate",
        "none",
        env=cli_env(emulator),
    )
    assert done.returncode == 0, done.stderr
    assert Counter(str(c["email"]) for c in emulator.customers()) == Counter(
        f"k{n}@example.com" for n in range(rows)
    )
    entries = read_report(report)
    assert len(entries) == rows
    assert {entry["status"] for entry in entries} == {"created"}
    assert "already done by an earlier run" in done.stdout


def test_ctrl_c_stops_and_prints_how_to_resume(emulator: RunningEmulator, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", [[f"c{n}@example.com", "C"] for n in range(1000)])
    process = subprocess.Popen(
        cli_command("migrate", str(source), "--write-rate", "100", "--read-rate", "100"),
        env=cli_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: len(emulator.customers()) >= 50, "50 customers")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "stopping: no new rows" in err
    assert "interrupted: to resume, run the same command" in out
    assert "--write-rate" not in out  # options left at their defaults are not repeated
    assert f"--journal {source}.journal.sqlite3" in out
    assert "Traceback" not in err
    customers = len(emulator.customers())
    assert 50 <= customers < 1000
    resumed = run_cli("migrate", str(source), *UNTHROTTLED, env=cli_env(emulator))
    assert resumed.returncode == 0, resumed.stderr
    assert len(emulator.customers()) == 1000
