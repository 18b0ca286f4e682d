"""`migrate --rejects`: invalid and failed rows in the input's own format, fixable, rerunnable.

End to end through the command line against the emulator: the rejects file is compared with
the input's own text, then fixed and migrated as it is.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from checkout_customers.emulator import RunningEmulator

from .conftest import cli_env, emails_on, read_report, run_cli

FAST = ("--write-rate", "none", "--read-rate", "none", "--settle-seconds", "0.2")


def test_csv_rejects_copy_the_rows_as_written_and_migrate_once_fixed(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    text = (
        "email,name,metadata.tier\r\n"
        "good@example.com,Good,gold\r\n"
        'not-an-email,"Bad, Really",silver\r\n'
        'fails@example.com,"Two\nLines",bronze\r\n'
        ",No Email,\r\n"
        'broken@example.com,"never closed\r\n'
    )
    source.write_bytes(text.encode("utf-8"))
    # Every create for this email answers 500: retried, then given up as `failed`.
    emulator.fail_next("500", method="POST", path="/customers", email="fails@example.com", times=50)
    rejects = tmp_path / "rejects.csv"
    report = tmp_path / "report.jsonl"
    env = cli_env(emulator)
    first = run_cli(
        "migrate", str(source), "--rejects", str(rejects), "--report", str(report), *FAST, env=env
    )
    assert first.returncode == 1, first.stderr
    statuses = {entry["line"]: entry["status"] for entry in read_report(report)}
    assert statuses[2] == "created"
    # The quoted name spans lines 4 and 5: the next rows are on lines 6 and 7.
    assert {statuses[3], statuses[6], statuses[7]} == {"invalid"}
    assert statuses[4] == "failed"
    assert stat.S_IMODE(os.stat(rejects).st_mode) == 0o600

    written = rejects.read_bytes().decode("utf-8")
    errors = {entry["line"]: entry["error"] for entry in read_report(report)}

    def cell(error: str) -> str:
        return '"' + error.replace('"', '""') + '"'

    assert written == (
        "email,name,metadata.tier,error\r\n"
        f'not-an-email,"Bad, Really",silver,{cell(errors[3])}\r\n'
        f'fails@example.com,"Two\nLines",bronze,{cell(errors[4])}\r\n'
        f",No Email,,{cell(errors[6])}\r\n"
        f'broken@example.com,"never closed,{cell(errors[7])}\r\n'
    )

    # Fixed by hand (the error column left in place), the rejects file is an input as it is.
    fixed = (
        written.replace("not-an-email", "bad@example.com")
        .replace(",No Email,", "noemail@example.com,No Email,")
        .replace('"never closed,', '"closed now",,')  # the quote closed, the missing cell
    )
    emulator.clear_faults()  # the API accepts that email now
    rejects.write_bytes(fixed.encode("utf-8"))
    second_report = tmp_path / "second.jsonl"
    # With the first run's journal, as docs/migration.md advises: a row whose create may have
    # acted is then settled, never created a second time.
    journal = str(source) + ".journal.sqlite3"
    second = run_cli(
        "migrate", str(rejects), "--journal", journal, "--report", str(second_report), *FAST,
        env=env,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert [entry["status"] for entry in read_report(second_report)] == ["created"] * 4
    assert sorted(emails_on(emulator)) == sorted(
        [
            "good@example.com",
            "bad@example.com",
            "fails@example.com",
            "noemail@example.com",
            "broken@example.com",
        ]
    )
    customer = next(c for c in emulator.customers() if c["email"] == "fails@example.com")
    assert customer["name"] == "Two\nLines"
    assert customer["metadata"] == {"tier": "bronze"}


def test_rejects_fed_back_and_rejected_again_keep_one_error_column(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email,name,error\nstill-bad,X,old reason\n", encoding="utf-8")
    rejects = tmp_path / "again.csv"
    result = run_cli(
        "migrate", str(source), "--rejects", str(rejects), *FAST, env=cli_env(emulator)
    )
    assert result.returncode == 1, result.stderr
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "email,name,error"
    assert lines[1].startswith("still-bad,X,")
    assert "old reason" not in lines[1]
    assert "email" in lines[1]


def test_jsonl_rejects_keep_each_line_and_add_the_error(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        '{"email": "ok@example.com"}',
        '{"email":"bad",  "metadata": {"n": 1}}',
        "{not json at all",
        "{}",
        '{"email": "x", "error": "old"}',
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    report = tmp_path / "report.jsonl"
    env = cli_env(emulator)
    result = run_cli(
        "migrate", str(source), "--rejects", str(rejects), "--report", str(report), *FAST, env=env
    )
    assert result.returncode == 1, result.stderr
    errors = {entry["line"]: entry["error"] for entry in read_report(report)}
    written = rejects.read_text(encoding="utf-8").splitlines()
    assert (
        written[0]
        == '{"email":"bad",  "metadata": {"n": 1}, "error": ' + json.dumps(errors[2]) + "}"
    )
    assert written[1] == "{not json at all"  # copied as it is: its reason is in the report
    assert json.loads(written[2]) == {"error": errors[4]}
    assert json.loads(written[3]) == {"email": "x", "error": errors[5]}
    assert len(written) == 4

    fixed = [
        json.dumps({**json.loads(written[0]), "email": "bad@example.com"}),
        '{"email": "j@example.com"}',
    ]
    rejects.write_text("\n".join(fixed) + "\n", encoding="utf-8")
    journal = str(source) + ".journal.sqlite3"
    again = run_cli("migrate", str(rejects), "--journal", journal, *FAST, env=env)
    assert again.returncode == 0, again.stderr
    assert sorted(emails_on(emulator)) == ["bad@example.com", "j@example.com", "ok@example.com"]
    bad = next(c for c in emulator.customers() if c["email"] == "bad@example.com")
    assert bad["metadata"] == {"n": 1}


def test_the_rejects_path_may_not_be_the_input_or_the_journal(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email\nbad\n", encoding="utf-8")
    before = source.read_bytes()
    env = cli_env(emulator)
    for target in (str(source), str(source) + ".journal.sqlite3"):
        result = run_cli("migrate", str(source), "--rejects", target, *FAST, env=env)
        assert result.returncode == 2
        assert "--rejects" in result.stderr
        assert "one file" in result.stderr
    assert source.read_bytes() == before
    assert emulator.requests() == []
