"""Input no row can come from: each bad row is `invalid` with its reason, the run goes on.

Nested too deeply, too large for `csv`, a line far longer than any row (read without holding it
whole), bytes that are not UTF-8, an item that raises when read: never a traceback, and a rerun
reports the same.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import Row, migrate, read_csv, read_jsonl
from checkout_customers.migration._input_files import MAX_LINE_CHARACTERS

from .conftest import FAST, cli_env, emails_on, read_report, run_cli

DEEP = 100_000
DEEP_LINES = [
    "[" * DEEP + "]" * DEEP,
    '{"a":' * DEEP + "1" + "}" * DEEP,
    '{"email": "deep@example.com", "metadata": {"k": ' + "[" * DEEP + "]" * DEEP + "}}",
]


def _jsonl(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_bytes("".join(line + newline for line in lines).encode("utf-8"))
    return path


@pytest.mark.parametrize("deep", DEEP_LINES, ids=["array", "object", "metadata"])
async def test_a_line_nested_100000_deep_is_invalid_and_the_run_goes_on_and_reruns_the_same(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, deep: str
) -> None:
    source = _jsonl(
        tmp_path / "in.jsonl",
        ['{"email": "a@example.com"}', deep, '{"email": "b@example.com"}'],
    )
    journal = tmp_path / "j.sqlite3"
    for run in (1, 2):
        report_path = tmp_path / f"report{run}.jsonl"
        report = await migrate(
            client, read_jsonl(source), journal=journal, report=report_path, **FAST
        )
        assert (report.rows, report.created, report.invalid) == (3, 2, 1)
        entries = read_report(report_path)
        assert [(entry["line"], entry["status"]) for entry in entries] == [
            (1, "created"),
            (2, "invalid"),
            (3, "created"),
        ]
        assert entries[1]["error"] == "unparseable JSON: nested too deeply"
    assert sorted(emails_on(emulator)) == ["a@example.com", "b@example.com"]


def test_the_command_reports_a_deep_line_invalid_without_a_traceback(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = _jsonl(tmp_path / "in.jsonl", ['{"email": "a@example.com"}', DEEP_LINES[1], "{}"])
    report_path = tmp_path / "report.jsonl"
    arguments = ("migrate", str(source), "--report", str(report_path))
    throttle = ("--write-rate", "none", "--read-rate", "none")
    for _ in range(2):  # the rerun does the same
        done = run_cli(*arguments, *throttle, env=cli_env(emulator))
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert "RecursionError" not in done.stderr
        entries = read_report(report_path)
        assert [entry["status"] for entry in entries] == ["created", "invalid", "invalid"]
        assert entries[1]["error"] == "unparseable JSON: nested too deeply"
    assert emails_on(emulator) == ["a@example.com"]


class _Unreadable(Mapping[str, Any]):
    """A row whose reading raises, as a broken object from a user's own source would."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("the database cursor went away")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("the database cursor went away")

    def __len__(self) -> int:
        return 1


async def test_any_exception_reading_one_row_makes_that_row_invalid(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    rows: list[Mapping[str, Any]] = [{"email": "a@example.com"}, _Unreadable()]
    rows.append({"email": "b@example.com"})
    report_path = tmp_path / "report.jsonl"
    report = await migrate(client, rows, journal=tmp_path / "j.sqlite3", report=report_path, **FAST)
    assert (report.rows, report.created, report.invalid) == (3, 2, 1)
    bad = read_report(report_path)[1]
    assert (bad["line"], bad["status"], bad["email"]) == (2, "invalid", None)
    assert bad["error"] == "the row cannot be read (RuntimeError: the database cursor went away)"


def test_a_csv_field_over_the_csv_field_size_limit_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        f"email,name\na@example.com,{'N' * 200_000}\nb@example.com,B\n", encoding="utf-8"
    )
    bad, good = read_csv(path)
    assert (bad.line, bad.email) == (2, None)
    assert bad.error == "unparseable CSV: field larger than field limit (131072)"
    assert (good.line, good.email) == (3, "b@example.com")


def test_a_json_field_too_large_is_invalid(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "in.jsonl",
        [
            json.dumps({"email": "a@example.com", "name": "N" * 500_000}),
            json.dumps({"email": "x" * 100_000 + "@example.com"}),
            '{"email": "c@example.com", "metadata": {"n": ' + "9" * 5000 + "}}",
            json.dumps({"email": "d@example.com"}),
        ],
    )
    too_long_name, too_long_email, huge_number, good = read_jsonl(path)
    assert too_long_name.error == "name: must be at most 255 characters"
    assert too_long_email.error == "email: must be at most 255 characters"
    # Refused by the parser (Python 3.11+ limits int digits) or by the metadata limit.
    assert not huge_number.valid
    assert huge_number.error is not None
    assert huge_number.error.startswith(("unparseable JSON", "metadata.n: must be at most"))
    assert good.valid


def _peak_bytes_reading(source: Iterable[Row]) -> tuple[list[Row], int]:
    tracemalloc.start()
    try:
        rows = list(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, peak


HUGE = 24 * MAX_LINE_CHARACTERS  # 24 MiB on one line


def test_a_huge_jsonl_line_is_invalid_and_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        stream.write('{"email": "a@example.com"}\n{"email": "')
        stream.write("x" * HUGE)
        stream.write('"}\n{"email": "b@example.com"}\n')
    source = read_jsonl(path)
    rows, peak = _peak_bytes_reading(source)
    assert [(row.line, row.email) for row in rows] == [
        (1, "a@example.com"),
        (2, None),
        (3, "b@example.com"),
    ]
    assert rows[1].error == (
        "line 2 is longer than 1,048,576 characters; no customer row is that long, so it was "
        "skipped without being read whole"
    )
    assert peak < 4 * MAX_LINE_CHARACTERS, peak  # a few pieces of the line, never all of it
    assert source.count_rows() == 3


def test_a_huge_csv_line_is_invalid_and_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("email,name\r\na@example.com,A\r\n")
        stream.write("x" * HUGE)
        stream.write("\r\nb@example.com,B\r\n")
    source = read_csv(path)
    rows, peak = _peak_bytes_reading(source)
    assert [(row.line, row.email, row.valid) for row in rows] == [
        (2, "a@example.com", True),
        (3, None, False),
        (4, "b@example.com", True),
    ]
    assert rows[1].error is not None
    assert rows[1].error.startswith("line 3 is longer than 1,048,576 characters")
    assert peak < 4 * MAX_LINE_CHARACTERS, peak
    assert source.count_rows() == 3


def test_an_open_quote_running_into_a_huge_line_loses_no_later_row(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write('email,name\na@example.com,"A\nb@example.com,B\n')
        stream.write("y" * (2 * MAX_LINE_CHARACTERS))
        stream.write("\nc@example.com,C\n")
    rows = list(read_csv(path))
    assert [(row.line, row.email, row.valid) for row in rows] == [
        (2, None, False),  # the quote opened here is never closed
        (3, "b@example.com", True),
        (4, None, False),  # the huge line, reported on its own
        (5, "c@example.com", True),
    ]
    assert rows[0].error == (
        "unparseable CSV: a quoted cell opened on line 2 is never closed (line 4 is longer "
        "than 1,048,576 characters)"
    )
    assert rows[2].error is not None
    assert rows[2].error.startswith("line 4 is longer than")
    assert read_csv(path).count_rows() == 4


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_line_just_under_the_limit_is_read_whole_and_keeps_the_line_count(
    tmp_path: Path, newline: str
) -> None:
    # The longest line read, whatever its line end: a `\r\n` cut in two by the size read must
    # not become a line end followed by a blank line.
    head = '{"email": "a@example.com", "name": "'
    padding = MAX_LINE_CHARACTERS - len(newline) - len(head) - len('"}')
    if newline == "\r\n":
        padding += 1  # the `\n` past the limit is the `\r`'s partner, read with it
    longest = head + "N" * padding + '"}'
    path = _jsonl(tmp_path / "in.jsonl", [longest, '{"email": "b@example.com"}'], newline)
    first, second = read_jsonl(path)
    assert (first.line, first.email, first.error) == (
        1,
        "a@example.com",
        "name: must be at most 255 characters",  # read and parsed: not "longer than"
    )
    assert (second.line, second.email) == (2, "b@example.com")


def test_a_line_one_character_over_the_limit_is_skipped(tmp_path: Path) -> None:
    head = '{"email": "a@example.com", "name": "'
    over = head + "N" * (MAX_LINE_CHARACTERS - len(head) - len('"}')) + '"}'
    path = _jsonl(tmp_path / "in.jsonl", [over, '{"email": "b@example.com"}'])
    first, second = read_jsonl(path)
    assert first.error is not None
    assert first.error.startswith("line 1 is longer than")
    assert (second.line, second.email) == (2, "b@example.com")


def test_a_jsonl_row_that_is_not_utf8_is_invalid_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    padding = b"".join(b'{"email": "user%d@example.com"}\n' % number for number in range(500))
    path.write_bytes(
        padding + b'{"email": "a@example.com", "name": "Caf\xe9"}\n{"email": "b@x.io"}\n'
    )
    *_, bad, good = read_jsonl(path)
    assert (bad.line, bad.email, bad.error) == (501, None, "the row is not valid UTF-8")
    assert (good.line, good.email) == (502, "b@x.io")
