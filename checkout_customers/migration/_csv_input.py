"""The CSV input: a header naming the columns, then one customer per record, streamed.

The header is forgiving: column names match whatever their case and surrounding spaces (a
`metadata.<key>` column keeps its key as written, since metadata keys are case-sensitive), the
delimiter is `,`, `;`, a tab or `|` (the one the header line holds most of, or the one named),
and an unknown or missing column is answered with the closest known name.

A broken record (a field over `csv.field_size_limit()`, a quote never closed, a line longer than
`MAX_LINE_CHARACTERS`, bytes that are not UTF-8) becomes one invalid row at the line where it
starts and reading goes on, so no later row is lost and memory stays bounded by one record.
"""

from __future__ import annotations

import csv
import difflib
import os
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

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
from ._rows import (
    MigrationInputError,
    Row,
    add_source_id,
    check_id_metadata_key,
    invalid_row,
    row_from_mapping,
    unreadable_row,
)

__all__ = ["DELIMITERS", "CsvSource", "read_csv"]

#: The delimiters recognised in a header line, in the order a tie is settled.
DELIMITERS = (",", ";", "\t", "|")

#: A CSV record that spans more physical lines than this is taken for a quoted cell that is
#: never closed: far more than a real row holds (a name is at most 255 characters).
_MAX_RECORD_LINES = 1000


class CsvSource:
    """The rows of a CSV file (see `read_csv`); iterate it to read them, as often as needed."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        fields: CustomerFields = CUSTOMER_FIELDS,
        *,
        delimiter: str | None = None,
        id_column: str | None = None,
        id_metadata_key: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self._fields = fields
        check_id_metadata_key(id_metadata_key, id_column)
        self._id_metadata_key = id_metadata_key
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise MigrationInputError(
                f"delimiter: must be one character other than a quote or a line end, "
                f"not {delimiter!r}",
                field="delimiter",
            )
        check_file(path, "CSV")
        try:
            with open_text(path) as text:
                first = next(BoundedLines(text), None) or ""
            #: The character between cells: named, or the one the header line holds most of.
            self.delimiter = delimiter or _detect_delimiter(first)
            with open_text(path) as text:
                header = next(self._reader(_Lines(BoundedLines(text))), None)
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
        #: The header's cells as written (spaces removed), and the columns they name.
        self.header = tuple(cell.strip() for cell in header)
        self.columns = tuple(_column_name(cell, fields) for cell in self.header)
        #: Where the row's own identifier is (`id_column`), None without one.
        self.id_index = None if id_column is None else self._find_id_column(id_column)
        unknown = [
            cell
            for index, (cell, column) in enumerate(zip(self.header, self.columns, strict=True))
            if index != self.id_index
            # `error`: added by `--rejects`, so that a rejects file can be migrated as it is.
            and column.lower() != "error"
            and not any(field.kind.csv_claims(field.name, column) for field in fields)
        ]
        for column in required:
            if column not in self.columns:
                # A header read with the wrong delimiter is one cell: say that, not "did you mean".
                hint = self._delimiter_hint(first, delimiter) or _instead_of(column, self.header)
                raise MigrationInputError(
                    f"{self.path}: the CSV header has no `{column}` column (found: "
                    f"{', '.join(self.header[:8])}){hint}"
                )
        if unknown:
            # The named columns first, then the patterns such as `metadata.<key>`.
            expected = sorted(fields.csv_columns(), key=lambda column: "<" in column)
            raise MigrationInputError(
                f"{self.path}: unknown CSV column {unknown[0]!r}"
                f"{_suggestion(unknown[0], expected)}; expected {', '.join(expected)}"
                f"{self._delimiter_hint(first, delimiter)}"
            )
        duplicated = [column for column in self.columns if self.columns.count(column) > 1]
        if duplicated:
            raise MigrationInputError(f"{self.path}: the CSV column {duplicated[0]!r} is repeated")

    def _find_id_column(self, id_column: str) -> int:
        wanted = id_column.strip().lower()
        for index, cell in enumerate(self.header):
            if cell.lower() == wanted:
                return index
        raise MigrationInputError(
            f"{self.path}: the CSV header has no id column `{id_column.strip()}` (found: "
            f"{', '.join(self.header[:8])}){_suggestion(id_column, self.header)}",
            field="id_column",
        )

    def _reader(self, lines: _Lines) -> Iterator[list[str]]:
        return csv.reader(lines, strict=True, delimiter=self.delimiter)

    def _delimiter_hint(self, first: str, named: str | None) -> str:
        """A hint when the header seems split by another delimiter than the one used."""
        if named is None:
            return ""
        likely = _detect_delimiter(first)
        if likely == named:
            return ""
        return (
            f"; the header seems separated by {_delimiter_name(likely)}, "
            f"not {_delimiter_name(named)}"
        )

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
            reader = self._reader(lines)
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
                    reader = self._reader(lines)  # a clean parser state
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
        source_id = None if self.id_index is None else cells[self.id_index].strip()
        for field in self._fields:
            try:
                value = field.kind.from_csv(field.name, cells_by_column)
            except CsvCellError as exc:
                row = invalid_row(line, fields.get("email"), str(exc))
                return attrs.evolve(row, source_id=source_id or None)
            if value is not None:
                fields[field.name] = value
        if source_id is None:
            return row_from_mapping(line, fields, self._fields)
        column = self.header[self.id_index or 0]
        error = (
            f"the id column `{column}` is empty"
            if not source_id
            else add_source_id(fields, source_id, self._id_metadata_key)
        )
        row = (
            invalid_row(line, fields.get("email"), error)
            if error
            else row_from_mapping(line, fields, self._fields)
        )
        return attrs.evolve(row, source_id=source_id or None)

    def count_rows(self) -> int:
        """How many rows the file holds now (blank lines excluded); reads the whole file."""
        return sum(
            1
            for _, cells, error in self._records()
            if error is not None or (cells and (len(cells) > 1 or cells[0].strip()))
        )


def _detect_delimiter(line: str) -> str:
    """The delimiter of `DELIMITERS` the header line holds most of (`,` when it holds none).

    Counted outside double quotes. A plain count of the one header line rather than
    `csv.Sniffer`: the sniffer guesses from letters too when a file has one column, and wants
    several rows to be sure; a header's names never hold a delimiter unquoted.
    """
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for character in line:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])  # the first of a tie
    return best if counts[best] else ","


def _delimiter_name(delimiter: str) -> str:
    return "a tab" if delimiter == "\t" else f"`{delimiter}`"


def _column_name(cell: str, fields: CustomerFields) -> str:
    """The column a header cell names: a known column whatever its case, else the cell."""
    lowered = cell.lower()
    for field in fields:
        for column in field.kind.csv_columns(field.name):
            if "<" not in column and column.lower() == lowered:
                return column
            prefix = f"{field.name}."
            # `metadata.<key>`: the prefix in any case, the key as written.
            if "<" in column and lowered.startswith(prefix) and len(cell) > len(prefix):
                return prefix + cell[len(prefix) :]
    return cell


def _closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `name` whatever the case, None if none is close."""
    by_lowered = {candidate.lower(): candidate for candidate in candidates}
    # 0.7: typos (`nmae`, `emial`, `e-mail`) but not other words that merely share letters.
    close = difflib.get_close_matches(name.lower(), by_lowered, n=1, cutoff=0.7)
    return by_lowered[close[0]] if close else None


def _suggestion(unknown: str, known: Iterable[str]) -> str:
    """` (did you mean `name`?)` for an unknown column close to a known one."""
    close = _closest(unknown, known)
    return f" (did you mean `{close}`?)" if close else ""


def _instead_of(missing: str, header: Iterable[str]) -> str:
    """`: did you mean `email` instead of `emial`?` for a header cell close to a missing column."""
    close = _closest(missing, header)
    return f": did you mean `{missing}` instead of `{close}`?" if close else ""


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


def read_csv(
    path: str | os.PathLike[str],
    *,
    delimiter: str | None = None,
    id_column: str | None = None,
    id_metadata_key: str | None = None,
) -> CsvSource:
    """The rows of a CSV file, streamed; the header is checked now.

        report = await migrate(cko, read_csv("customers.csv"), journal="customers.sqlite3")

    Column names match whatever their case and surrounding spaces (`EMAIL`, ` Name `); the key of
    a `metadata.<key>` column is kept as written. The delimiter is the one of `,` `;` tab `|` the
    header line holds most of, or `delimiter` when given.

    `id_column` names the column holding the input's own identifier of each customer (matched
    like the others): it is not sent (unless it is also a `metadata.<key>` column) but carried
    into the report as `source_id`, and an empty one makes the row invalid. `id_metadata_key`
    also stores it in the customer's metadata under that key.

    Columns: `email` (required), `name`, `phone_country_code`, `phone_number`, `default`,
    `instruments` (ids separated by spaces) and `metadata.<key>`. An empty cell means the field
    is absent. Raises `MigrationInputError` when the file is missing, binary, or its header is
    not one of these columns; a bad row later in the file is an invalid row, not an error.
    """
    return CsvSource(
        path, delimiter=delimiter, id_column=id_column, id_metadata_key=id_metadata_key
    )
