"""The CSV input: a header naming the columns, then one customer per record, streamed.

A broken record (a field over `csv.field_size_limit()`, a quote never closed, a line longer than
`MAX_LINE_CHARACTERS`, bytes that are not UTF-8) becomes one invalid row at the line where it
starts and reading goes on, so no later row is lost and memory stays bounded by one record.
"""

from __future__ import annotations

import csv
import os
from collections import deque
from collections.abc import Iterator
from typing import Any

from .._customer_fields import CUSTOMER_FIELDS, CustomerFields
from .._field_kinds import CsvCellError
from ._input_files import (
    MAX_LINE_CHARACTERS,
    NOT_UTF8,
    BoundedLines,
    check_file,
    is_utf8,
    line_too_long,
    open_text,
)
from ._rows import MigrationInputError, Row, invalid_row, row_from_mapping, unreadable_row

__all__ = ["CsvSource", "read_csv"]

#: A CSV record that spans more physical lines than this is taken for a quoted cell that is
#: never closed: far more than a real row holds (a name is at most 255 characters).
_MAX_RECORD_LINES = 1000


class CsvSource:
    """The rows of a CSV file (see `read_csv`); iterate it to read them, as often as needed."""

    def __init__(
        self, path: str | os.PathLike[str], fields: CustomerFields = CUSTOMER_FIELDS
    ) -> None:
        self.path = os.fspath(path)
        self._fields = fields
        check_file(path, "CSV")
        try:
            with open_text(path) as text:
                header = next(csv.reader(_Lines(BoundedLines(text)), strict=True), None)
        except (csv.Error, OSError, _RecordTooLong) as exc:
            raise MigrationInputError(
                f"{self.path}: the CSV header cannot be read: {exc}"
            ) from None
        required = [
            column
            for field in fields
            if field.required
            for column in field.kind.csv_columns(field.name)
        ]
        if not header or not any(cell.strip() for cell in header):
            raise MigrationInputError(
                f"{self.path}: is empty; a CSV header with `{required[0]}` is needed"
            )
        self.columns = tuple(cell.strip() for cell in header)
        unknown = [
            column
            for column in self.columns
            # `error`: added by `--rejects`, so that a rejects file can be migrated as it is.
            if column.lower() != "error"
            and not any(field.kind.csv_claims(field.name, column) for field in fields)
        ]
        for column in required:
            if column not in self.columns:
                raise MigrationInputError(
                    f"{self.path}: the CSV header has no `{column}` column (found: "
                    f"{', '.join(self.columns[:8])})"
                )
        if unknown:
            # The named columns first, then the patterns such as `metadata.<key>`.
            expected = sorted(fields.csv_columns(), key=lambda column: "<" in column)
            raise MigrationInputError(
                f"{self.path}: unknown CSV column {unknown[0]!r}; expected {', '.join(expected)}"
            )
        duplicated = [column for column in self.columns if self.columns.count(column) > 1]
        if duplicated:
            raise MigrationInputError(f"{self.path}: the CSV column {duplicated[0]!r} is repeated")

    def __repr__(self) -> str:
        return f"read_csv({self.path!r})"

    def __iter__(self) -> Iterator[Row]:
        for line, cells, error in self._records():
            if error is not None:
                yield Row(line=line, email=None, error=error)
            elif cells and (len(cells) > 1 or cells[0].strip()):  # a blank line is not a row
                try:
                    row = self._row(line, cells)
                except Exception as exc:
                    row = unreadable_row(line, exc)
                yield row

    def _records(self) -> Iterator[tuple[int, list[str], str | None]]:
        """(line, cells, None) for each CSV record after the header, (line, [], why) if broken.

        A record that ends in a CSV error (such as the field size limit) or runs into an
        over-long line after more than one physical line, at the end of the data inside a quote,
        or past `_MAX_RECORD_LINES` lines holds a quoted cell that was never closed: it is
        reported at the line where it starts, and reading resumes on the physical line after
        that one, so no later row is lost.
        """
        with open_text(self.path) as text:
            lines = _Lines(BoundedLines(text), _MAX_RECORD_LINES)
            reader = csv.reader(lines, strict=True)
            next(reader, None)  # the header, checked at construction
            while True:
                lines.start_record()
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except (csv.Error, _RecordTooLong) as exc:
                    start = lines.record[0][0]
                    if len(lines.record) == 1 and isinstance(exc, _LineTooLong):
                        yield start, [], line_too_long(start)
                    elif len(lines.record) == 1 and not _is_unclosed_error(exc):
                        yield start, [], f"unparseable CSV: {exc}"
                    else:
                        detail = "" if _is_unclosed_error(exc) else f" ({exc})"
                        yield (
                            start,
                            [],
                            f"unparseable CSV: a quoted cell opened on line {start} is never "
                            f"closed{detail}",
                        )
                        lines.reread_after_start()
                    reader = csv.reader(lines, strict=True)  # a clean parser state
                    continue
                yield lines.record[0][0], cells, None

    def _row(self, line: int, cells: list[str]) -> Row:
        if not is_utf8("".join(cells)):
            return Row(line=line, email=None, error=NOT_UTF8)
        if len(cells) != len(self.columns):
            record = dict(zip(self.columns, cells, strict=False))
            return invalid_row(
                line,
                record.get("email"),
                f"unparseable CSV: {len(cells)} cells where the header has {len(self.columns)}",
            )
        # An empty cell means the field is absent.
        cells_by_column = {
            column: cell for column, cell in zip(self.columns, cells, strict=True) if cell != ""
        }
        fields: dict[str, Any] = {}
        for field in self._fields:
            try:
                value = field.kind.from_csv(field.name, cells_by_column)
            except CsvCellError as exc:
                return invalid_row(line, fields.get("email"), str(exc))
            if value is not None:
                fields[field.name] = value
        return row_from_mapping(line, fields, self._fields)

    def count_rows(self) -> int:
        """How many rows the file holds now (blank lines excluded); reads the whole file."""
        return sum(
            1
            for _, cells, error in self._records()
            if error is not None or (cells and (len(cells) > 1 or cells[0].strip()))
        )


class _RecordTooLong(Exception):
    """A CSV record went on for more physical lines than any row plausibly holds."""


class _LineTooLong(_RecordTooLong):
    """A physical line of the record is longer than `MAX_LINE_CHARACTERS`."""


def _is_unclosed_error(exc: BaseException) -> bool:
    """The record ended inside a quote: at the end of the data, or after too many lines."""
    return type(exc) is _RecordTooLong or "unexpected end of data" in str(exc)


class _Lines:
    """The physical lines of a text file, numbered, fed to `csv.reader`.

    Keeps the lines of the record being read (at most `limit`, then `_RecordTooLong`), so that
    a broken record can be read again from its second line. Memory stays bounded by one record.
    An over-long line is kept as None and raises `_LineTooLong` each time it is read.
    """

    def __init__(self, lines: BoundedLines, limit: int = _MAX_RECORD_LINES) -> None:
        self._lines = lines
        self._limit = limit
        self._pending: deque[tuple[int, str | None]] = deque()  # lines to read again, in order
        #: (line number, text) of each line of the current record.
        self.record: list[tuple[int, str | None]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.record) >= self._limit:
            raise _RecordTooLong(f"more than {self._limit} lines in one record")
        if self._pending:
            number, line = self._pending.popleft()
        else:
            line = next(self._lines)
            number = self._lines.number
        self.record.append((number, line))
        if line is None:
            raise _LineTooLong(f"line {number} is longer than {MAX_LINE_CHARACTERS:,} characters")
        return line

    def start_record(self) -> None:
        self.record = []

    def reread_after_start(self) -> None:
        """Read the current record again, from its second physical line."""
        self._pending.extendleft(reversed(self.record[1:]))
        self.record = []


def read_csv(path: str | os.PathLike[str]) -> CsvSource:
    """The rows of a CSV file, streamed; the header is checked now.

        report = await migrate(cko, read_csv("customers.csv"), journal="customers.sqlite3")

    Columns: `email` (required), `name`, `phone_country_code`, `phone_number`, `default`,
    `instruments` (ids separated by spaces) and `metadata.<key>`. An empty cell means the field
    is absent. Raises `MigrationInputError` when the file is missing, binary, or its header is
    not one of these columns; a bad row later in the file is an invalid row, not an error.
    """
    return CsvSource(path)
