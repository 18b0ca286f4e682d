"""The report: one valid JSON line per row, whatever text the input held."""

from __future__ import annotations

import io
import json
from pathlib import Path

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import RowResult, RowStatus, migrate, read_csv, read_jsonl
from checkout_customers.migration._report import ReportWriter

from .conftest import FAST, emails_on, read_report


def test_text_that_is_not_unicode_is_written_as_valid_utf8_json(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    stream = io.StringIO()
    results = [
        RowResult(1, "\udcff", RowStatus.INVALID, error="name: '\ud800' is bad"),
        RowResult(2, "café@example.com", RowStatus.INVALID, error="ünïcode stays as it is"),
    ]
    for target in (path, stream):
        writer = ReportWriter(target)
        for result in results:
            writer.write(result)
        writer.close()
    for text in (path.read_bytes().decode("utf-8"), stream.getvalue()):
        first, second = (json.loads(line) for line in text.splitlines())
        assert (first["email"], first["error"]) == ("\\udcff", "name: '\\ud800' is bad")
        assert second["email"] == "café@example.com"
        assert second["error"] == "ünïcode stays as it is"
        assert "café" in text  # not escaped when it need not be


def test_a_stream_that_cannot_hold_the_text_gets_ascii_escapes() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    writer = ReportWriter(stream)
    writer.write(RowResult(3, "café@example.com", RowStatus.INVALID, error="x"))
    writer.close()
    assert json.loads(raw.getvalue())["email"] == "café@example.com"


async def test_lone_surrogates_in_jsonl_rows_are_reported_invalid(
    client: AsyncClient, emulator: RunningEmulator, journal: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"email": "\\udcff"}\n'
        '{"email": "a@example.com", "name": "\\ud800"}\n'
        '{"email": "b@example.com", "name": "B"}\n',
        encoding="utf-8",
    )
    report_path = tmp_path / "report.jsonl"
    report = await migrate(client, read_jsonl(source), journal=journal, report=report_path, **FAST)

    assert (report.rows, report.created, report.invalid) == (3, 1, 2)
    assert emails_on(emulator) == ["b@example.com"]
    entries = read_report(report_path)
    assert [(entry["line"], entry["status"]) for entry in entries] == [
        (1, "invalid"),
        (2, "invalid"),
        (3, "created"),
    ]
    assert entries[0]["email"] is None
    assert entries[0]["error"] == "email: is not valid Unicode (a lone surrogate)"
    assert entries[1]["email"] == "a@example.com"
    assert entries[1]["error"] == "name: is not valid Unicode (a lone surrogate)"


async def test_an_unclosed_csv_quote_is_reported_and_later_rows_migrate(
    client: AsyncClient, emulator: RunningEmulator, journal: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        'email,name\na@example.com,A\nb@example.com,"B\nc@example.com,C\nd@example.com,D\n',
        encoding="utf-8",
    )
    report_path = tmp_path / "report.jsonl"
    report = await migrate(client, read_csv(source), journal=journal, report=report_path, **FAST)

    assert (report.rows, report.created, report.invalid) == (4, 3, 1)
    assert sorted(emails_on(emulator)) == ["a@example.com", "c@example.com", "d@example.com"]
    entries = read_report(report_path)
    assert [(entry["line"], entry["status"]) for entry in entries] == [
        (2, "created"),
        (3, "invalid"),
        (4, "created"),
        (5, "created"),
    ]
    assert entries[1]["error"] == (
        "unparseable CSV: a quoted cell opened on line 3 is never closed"
    )
