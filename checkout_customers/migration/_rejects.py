"""The `--rejects` file: the `invalid` and `failed` rows, copied from the input with their error.

Once the run ends, the input is read again and each rejected row is copied in the input's own
format, ready to fix and migrate (the readers ignore an `error` column or field):

- CSV: the header record and each rejected record exactly as the file spells them (quotes,
  spaces, line ends, even bytes that are not UTF-8), with one more cell, `error`, appended. When
  the header already has an `error` column (a rejects file fed back), its cells are replaced
  instead, and the records are written again by `csv.writer` from their cells. A record that
  cannot be parsed as CSV is copied from the line where it starts (its first physical line) with
  the error cell appended; for an unclosed quote that cell ends up inside the quote: close the
  quote when fixing it.
- JSONL: each rejected line as it is, with `"error": "..."` added before its closing brace (an
  `error` already there is replaced). A line that is not a JSON object (unparseable, not UTF-8,
  an array) is copied as it is, without the error, which is in the report.

A line longer than `MAX_LINE_CHARACTERS` was never read whole, so it is not copied (its reason
is in the report). The file is private (0600): it holds customers' personal data.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from typing import IO

from ._csv_input import CsvSource
from ._input_files import BoundedLines, open_text
from ._jsonl_input import JsonlSource
from ._private_files import create_private
from ._report import RowResult, RowStatus

__all__ = ["REJECTED_STATUSES", "RejectsCollector", "write_rejects"]

#: The report statuses whose rows go to the rejects file.
REJECTED_STATUSES = frozenset({RowStatus.INVALID, RowStatus.FAILED})
#: The column / field that carries a rejected row's error; the readers ignore it.
ERROR_FIELD = "error"
_MAX_RECORD_LINES = 1000


class RejectsCollector:
    """Keeps the line and error of each rejected row as results come in (`add` per result)."""

    def __init__(self) -> None:
        self.errors: dict[int, str] = {}

    def add(self, result: RowResult) -> None:
        if result.status in REJECTED_STATUSES:
            self.errors[result.line] = result.error or result.status.value


def write_rejects(
    source: CsvSource | JsonlSource, path: str | os.PathLike[str], errors: dict[int, str]
) -> int:
    """Write the rows of `source` at the lines of `errors` to `path`; return how many."""
    # Line ends and undecodable bytes are written back as they were read.
    with create_private(path, errors="surrogateescape", newline="") as out:
        if isinstance(source, CsvSource):
            return _write_csv(source, out, errors)
        return _write_jsonl(source, out, errors)


def _split_end(text: str) -> tuple[str, str]:
    body = text.rstrip("\r\n")
    return body, text[len(body) :] or "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _write_jsonl(source: JsonlSource, out: IO[str], errors: dict[int, str]) -> int:
    written = 0
    with open_text(source.path) as text:
        lines = BoundedLines(text)
        for line in lines:
            error = errors.get(lines.number)
            if error is None or line is None:
                continue
            out.write(_jsonl_line(line, error))
            written += 1
    return written


def _jsonl_line(line: str, error: str) -> str:
    body, end = _split_end(line)
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return body + end
    if not isinstance(value, dict):
        return body + end
    if ERROR_FIELD in value:
        value[ERROR_FIELD] = error
        return json.dumps(value, ensure_ascii=False) + end
    stripped = body.rstrip()
    inside = stripped[:-1].rstrip()
    separator = "" if inside.endswith("{") else ", "
    field = f"{json.dumps(ERROR_FIELD)}: {json.dumps(error, ensure_ascii=False)}"
    return f"{inside}{separator}{field}}}{end}"


class _Physical:
    """Numbered physical lines, with a way to look ahead at those after the current one."""

    def __init__(self, text: IO[str]) -> None:
        self._lines = BoundedLines(text)
        self._ahead: list[tuple[int, str | None]] = []

    def __iter__(self) -> Iterator[tuple[int, str | None]]:
        while True:
            if self._ahead:
                yield self._ahead.pop(0)
                continue
            try:
                line = next(self._lines)
            except StopIteration:
                return
            yield self._lines.number, line

    def record_from(self, first: str, delimiter: str) -> list[str] | None:
        """The physical lines of the CSV record that starts with `first`, or None if broken.

        The lines read after `first` are consumed only when they belong to the record.
        """
        taken: list[str] = [first]
        read: list[tuple[int, str | None]] = []

        def feed() -> Iterator[str]:
            yield first
            while len(taken) < _MAX_RECORD_LINES:
                if self._ahead:
                    item = self._ahead.pop(0)
                else:
                    try:
                        line = next(self._lines)
                    except StopIteration:
                        return
                    item = (self._lines.number, line)
                read.append(item)
                if item[1] is None:
                    return
                taken.append(item[1])
                yield item[1]

        try:
            next(csv.reader(feed(), delimiter=delimiter, strict=True))
        except (csv.Error, StopIteration):
            self._ahead = read + self._ahead
            return None
        # The reader asks for a line only while the record goes on.
        self._ahead = read[len(taken) - 1 :] + self._ahead
        return taken[: len(taken)]


def _write_csv(source: CsvSource, out: IO[str], errors: dict[int, str]) -> int:
    delimiter = str(getattr(source, "delimiter", ","))
    written = 0
    with open_text(source.path) as text:
        physical = _Physical(text)
        lines = iter(physical)
        header_lines: list[str] | None = None
        for _, line in lines:
            if line is None:
                return 0
            if line.strip():
                header_lines = physical.record_from(line, delimiter)
                break
        if header_lines is None:
            return 0
        header_text = "".join(header_lines)
        header = next(csv.reader(io.StringIO(header_text), delimiter=delimiter))
        stripped = [cell.strip().lower() for cell in header]
        error_column = stripped.index(ERROR_FIELD) if ERROR_FIELD in stripped else None
        if error_column is None:
            body, end = _split_end(header_text)
            out.write(f"{body}{delimiter}{ERROR_FIELD}{end}")
        else:
            out.write(header_text if header_text.endswith(("\n", "\r")) else header_text + "\n")
        rewriter = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        for number, line in lines:
            if line is None:
                continue
            error = errors.get(number)
            if error is None:
                if line.strip():
                    physical.record_from(line, delimiter)  # skip the rest of the record
                continue
            record = physical.record_from(line, delimiter)
            raw = "".join(record) if record is not None else line
            cells = None
            if error_column is not None and record is not None:
                cells = next(csv.reader(io.StringIO(raw), delimiter=delimiter), None)
            if cells is not None and error_column is not None and len(cells) == len(header):
                cells[error_column] = error
                rewriter.writerow(cells)
            else:
                body, end = _split_end(raw)
                out.write(f"{body}{delimiter}{_quoted(error)}{end}")
            written += 1
    return written
