"""Forgiving CSV headers: any case and spacing, a detected or named delimiter, suggestions."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import pytest

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import MigrationInputError, migrate, read_csv

from .conftest import FAST, UNTHROTTLED, cli_command, cli_env, read_report, run_cli


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


async def test_column_names_match_any_case_and_spacing_and_metadata_keys_keep_theirs(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    source = write_text(
        tmp_path / "in.csv",
        " EMAIL , Name ,METADATA.OldId\r\nBruce@Wayne.com,Bruce Wayne,W-1\r\n",
    )
    report = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert (report.created, report.invalid) == (1, 0)
    [customer] = emulator.customers()
    assert customer["email"] == "bruce@wayne.com"
    assert customer["name"] == "Bruce Wayne"
    assert customer["metadata"] == {"OldId": "W-1"}  # the key as written, the prefix any case


@pytest.mark.parametrize(
    "delimiter", [";", "\t", "|", ","], ids=["semicolon", "tab", "pipe", "comma"]
)
async def test_the_delimiter_is_detected_from_the_header(
    delimiter: str, client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    # The names hold the other delimiters, so a wrong guess would fail the row count.
    names = ["Wayne, Bruce", "Kent; Clark", "Prince|Diana", "Allen\tBarry"]
    rows = [
        f"p{n}@example.com{delimiter}{name}"
        for n, name in enumerate(names)
        if delimiter not in name
    ]
    source = write_text(tmp_path / "in.csv", f"email{delimiter}name\n" + "\n".join(rows) + "\n")
    assert read_csv(source).delimiter == delimiter
    report = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert (report.created, report.invalid) == (3, 0)
    stored = {customer["email"]: customer["name"] for customer in emulator.customers()}
    assert stored == {
        f"p{n}@example.com": name for n, name in enumerate(names) if delimiter not in name
    }


async def test_a_one_column_file_is_read_whole(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    source = write_text(tmp_path / "in.csv", "Email\na@example.com\nb@example.com\n")
    report = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert report.created == 2
    assert sorted(customer["email"] for customer in emulator.customers()) == [
        "a@example.com",
        "b@example.com",
    ]


async def test_a_named_delimiter_is_used_even_when_the_header_suggests_another(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    # One column whose header holds a `|`: detection would split it; `delimiter=` does not.
    source = write_text(tmp_path / "in.csv", "email\na@example.com\n")
    assert read_csv(source, delimiter=";").delimiter == ";"
    piped = write_text(tmp_path / "piped.csv", "email;metadata.a|b\nc@example.com;x\n")
    report = await migrate(client, read_csv(piped, delimiter=";"), journal=journal, **FAST)
    assert report.created == 1
    [customer] = emulator.customers()
    assert customer["metadata"] == {"a|b": "x"}


@pytest.mark.parametrize(
    ("header", "delimiter", "message"),
    [
        (
            "emial,name",
            None,
            "has no `email` column (found: emial, name): did you mean `email` instead of `emial`?",
        ),
        ("email,nmae", None, "unknown CSV column 'nmae' (did you mean `name`?); expected email"),
        (
            "email;name",
            ",",
            "has no `email` column (found: email;name); the header seems separated by `;`, not `,`",
        ),
        ("Email,EMAIL", None, "the CSV column 'email' is repeated"),
        ("name,phone", None, "has no `email` column (found: name, phone)"),
    ],
    ids=["missing", "unknown", "wrong-delimiter", "repeated", "no-suggestion"],
)
def test_a_bad_header_is_refused_with_a_suggestion(
    header: str, delimiter: str | None, message: str, tmp_path: Path
) -> None:
    source = write_text(tmp_path / "in.csv", header + "\na@example.com,x\n")
    with pytest.raises(MigrationInputError) as caught:
        read_csv(source, delimiter=delimiter)
    assert message in str(caught.value)
    if header == "name,phone":
        assert "did you mean" not in str(caught.value)


@pytest.mark.parametrize("delimiter", ['"', "ab", "", "\n"])
def test_a_delimiter_that_cannot_be_one_is_refused(delimiter: str, tmp_path: Path) -> None:
    source = write_text(tmp_path / "in.csv", "email\na@example.com\n")
    with pytest.raises(MigrationInputError, match="delimiter: must be one character"):
        read_csv(source, delimiter=delimiter)


def test_the_command_line_takes_delimiter_tab_and_refuses_a_wrong_one_before_any_request(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_text(tmp_path / "in.csv", "EMAIL\tNAME\na@example.com\tA\n")
    report = tmp_path / "report.jsonl"
    done = run_cli(
        "migrate",
        str(source),
        "--delimiter",
        "tab",
        "--report",
        str(report),
        *UNTHROTTLED,
        env=cli_env(emulator),
    )
    assert done.returncode == 0, done.stderr
    assert [entry["status"] for entry in read_report(report)] == ["created"]

    semicolons = write_text(tmp_path / "semi.csv", "email;name\nb@example.com;B\n")
    refused = run_cli("migrate", str(semicolons), "--delimiter", ",", env=cli_env(emulator))
    assert refused.returncode == 2
    assert "the header seems separated by `;`, not `,`" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert [customer["email"] for customer in emulator.customers()] == ["a@example.com"]

    bad = run_cli("migrate", str(source), "--delimiter", "ab", env=cli_env(emulator))
    assert bad.returncode == 2
    assert "argument --delimiter: must be one character" in bad.stderr

    jsonl = write_text(tmp_path / "in.jsonl", '{"email": "c@example.com"}\n')
    wrong = run_cli("migrate", str(jsonl), "--delimiter", ";", env=cli_env(emulator))
    assert wrong.returncode == 2
    assert "--delimiter is for CSV input" in wrong.stderr


@pytest.mark.slow
def test_the_resume_hint_repeats_the_delimiter(emulator: RunningEmulator, tmp_path: Path) -> None:
    rows = "".join(f"c{n}@example.com;C\n" for n in range(1000))
    source = write_text(tmp_path / "in.csv", "email;name\n" + rows)
    process = subprocess.Popen(
        cli_command("migrate", str(source), "--delimiter", ";", "--write-rate", "100"),
        env=cli_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            if len(emulator.customers()) >= 20 or process.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    command = re.search(r"to resume, run the same command:\n  (.*)", out)
    assert command is not None, out
    assert "--delimiter ';'" in command.group(1)
    resumed = run_cli(
        "migrate", str(source), "--delimiter", ";", *UNTHROTTLED, env=cli_env(emulator)
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len(emulator.customers()) == 1000
