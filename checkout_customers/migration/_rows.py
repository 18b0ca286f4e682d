"""Input rows: streaming CSV and JSONL readers, email normalisation and row validation.

A `Row` is one customer of the input with its 1-based line number in the file. Valid rows carry
the create request (validated by the same code as `customers.create`); invalid ones carry the
reason and are never sent. Reading is streamed: one row at a time, whatever the file size.

    source = read_csv("customers.csv")     # checks the header now; raises MigrationInputError
    for row in source: ...                 # reads the file lazily, every time it is iterated
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from .._errors import CheckoutArgumentError
from .._transport import json_text
from .._validation import create_body

__all__ = [
    "CREATE_FIELDS",
    "CsvSource",
    "JsonlSource",
    "MigrationInputError",
    "Row",
    "normalise_email",
    "read_csv",
    "read_jsonl",
    "row_from_mapping",
    "rows_of",
]

#: The fields of a create request, as the API and the JSONL input spell them.
CREATE_FIELDS = ("email", "name", "phone", "metadata", "default", "instruments")
_CSV_PLAIN_COLUMNS = frozenset(
    {"email", "name", "phone_country_code", "phone_number", "default", "instruments"}
)
_METADATA_PREFIX = "metadata."
_SNIFF_BYTES = 8192
#: A CSV record that spans more physical lines than this is taken for a quoted cell that is
#: never closed: far more than a real row holds (a name is at most 255 characters).
_MAX_RECORD_LINES = 1000


class MigrationInputError(CheckoutArgumentError):
    """The input file cannot be migrated at all: missing, unreadable, or not the right format."""


@attrs.frozen
class Row:
    """One input row: its line number, email key, and the create request or why it is invalid.

    `email` is the normalised key (surrounding spaces removed, lower case), or None when the row
    has no usable email. `body` is the create request to send, None when the row is invalid;
    `error` then says why. `spelling` is the input's own spelling of the email when it differs
    from the key only by letter case: a customer already stored under it must be found too.
    `payload` is the body as sent (JSON text), set by the readers; a `Row` built by hand without
    it is validated again before anything is sent.
    """

    line: int
    email: str | None
    body: Mapping[str, Any] | None = None
    error: str | None = None
    spelling: str | None = None
    payload: str | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def valid(self) -> bool:
        return self.body is not None

    @property
    def fingerprint(self) -> str:
        """A digest of the create request, to notice a row that changed between runs."""
        payload = self.payload if self.payload is not None else json_text(self.body or {})
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def normalise_email(value: object) -> str | None:
    """The key of an email: surrounding white space removed, lower case; None if not a string."""
    if not isinstance(value, str):
        return None
    return value.strip().lower()


def _invalid(line: int, email: object, reason: str) -> Row:
    key = normalise_email(email)
    if key is not None and not _is_utf8(key):
        key = None  # a lone surrogate is no usable email (and cannot be written as UTF-8)
    return Row(line=line, email=key or None, error=reason)


def row_from_mapping(line: int, fields: Mapping[str, Any]) -> Row:
    """Validate one create request (as JSONL carries it) into a `Row`."""
    unknown = [str(key) for key in fields if key not in CREATE_FIELDS]
    email = fields.get("email")
    if unknown:
        return _invalid(line, email, f"unknown field {unknown[0]!r}")
    key = normalise_email(email)
    if email is None or key == "":
        return _invalid(line, None, "email: is required")
    if key is None:
        return _invalid(line, None, f"email: must be a string, not {type(email).__name__}")
    arguments = {name: fields.get(name) for name in CREATE_FIELDS}
    arguments["email"] = key
    try:
        body = create_body(**arguments)
    except CheckoutArgumentError as exc:
        return _invalid(line, key, str(exc))
    spelling = email.strip()
    return Row(
        line=line,
        email=key,
        body=body,
        spelling=spelling if spelling != key else None,
        payload=json_text(body),
    )


def _is_utf8(text: str) -> bool:
    """False when `text` holds bytes that were not UTF-8 (read as surrogate escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_NOT_UTF8 = "the row is not valid UTF-8"


def _open_text(path: str | os.PathLike[str]) -> io.TextIOWrapper:
    # Undecodable bytes become surrogates, so one bad row is reported invalid instead of
    # stopping the whole file.
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _check_file(path: str | os.PathLike[str], kind: str) -> None:
    name = os.fspath(path)
    try:
        with open(path, "rb") as raw:
            head = raw.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise MigrationInputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise MigrationInputError(f"{name}: is a directory, not a {kind} file") from None
    except OSError as exc:
        raise MigrationInputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in head:
        raise MigrationInputError(f"{name}: is a binary file, not a {kind} file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # not merely a character cut by the sniff
            raise MigrationInputError(
                f"{name}: is not UTF-8 text; save or convert it as UTF-8"
            ) from None


class CsvSource:
    """The rows of a CSV file (see `read_csv`); iterate it to read them, as often as needed."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        _check_file(path, "CSV")
        try:
            with _open_text(path) as text:
                header = next(csv.reader(text, strict=True), None)
        except (csv.Error, OSError) as exc:
            raise MigrationInputError(
                f"{self.path}: the CSV header cannot be read: {exc}"
            ) from None
        if not header or not any(cell.strip() for cell in header):
            raise MigrationInputError(f"{self.path}: is empty; a CSV header with `email` is needed")
        self.columns = tuple(cell.strip() for cell in header)
        unknown = [
            column
            for column in self.columns
            if column not in _CSV_PLAIN_COLUMNS
            and not (column.startswith(_METADATA_PREFIX) and len(column) > len(_METADATA_PREFIX))
        ]
        if "email" not in self.columns:
            raise MigrationInputError(
                f"{self.path}: the CSV header has no `email` column (found: "
                f"{', '.join(self.columns[:8])})"
            )
        if unknown:
            raise MigrationInputError(
                f"{self.path}: unknown CSV column {unknown[0]!r}; expected email, name, "
                "phone_country_code, phone_number, default, instruments, metadata.<key>"
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
                yield self._row(line, cells)

    def _records(self) -> Iterator[tuple[int, list[str], str | None]]:
        """(line, cells, None) for each CSV record after the header, (line, [], why) if broken.

        A record that ends in a CSV error (such as the field size limit) after more than one
        physical line, at the end of the data inside a quote, or past `_MAX_RECORD_LINES` lines
        holds a quoted cell that was never closed: it is reported at the line where it starts, and
        reading resumes on the physical line after that one, so no later row is lost.
        """
        with _open_text(self.path) as text:
            lines = _Lines(text, _MAX_RECORD_LINES)
            reader = csv.reader(lines, strict=True)
            next(reader, None)  # the header, checked at construction
            while True:
                lines.start_record()
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except (csv.Error, _TooManyLines) as exc:
                    start = lines.record[0][0]
                    if len(lines.record) == 1 and not _is_unclosed_error(exc):
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
        if not _is_utf8("".join(cells)):
            return Row(line=line, email=None, error=_NOT_UTF8)
        if len(cells) != len(self.columns):
            record = dict(zip(self.columns, cells, strict=False))
            return _invalid(
                line,
                record.get("email"),
                f"unparseable CSV: {len(cells)} cells where the header has {len(self.columns)}",
            )
        fields: dict[str, Any] = {}
        metadata: dict[str, str] = {}
        phone: dict[str, str] = {}
        for column, cell in zip(self.columns, cells, strict=True):
            if cell == "":
                continue  # an empty cell means the field is absent
            if column.startswith(_METADATA_PREFIX):
                metadata[column[len(_METADATA_PREFIX) :]] = cell
            elif column == "phone_country_code":
                phone["country_code"] = cell.strip()
            elif column == "phone_number":
                phone["number"] = cell.strip()
            elif column == "instruments":
                fields["instruments"] = cell.split()
            else:
                fields[column] = cell.strip() if column in ("default", "email") else cell
        if phone:
            if len(phone) != 2:
                missing = "phone_number" if "country_code" in phone else "phone_country_code"
                return _invalid(line, fields.get("email"), f"phone: {missing} is missing")
            fields["phone"] = phone
        if metadata:
            fields["metadata"] = metadata
        return row_from_mapping(line, fields)

    def count_rows(self) -> int:
        """How many rows the file holds now (blank lines excluded); reads the whole file."""
        return sum(
            1
            for _, cells, error in self._records()
            if error is not None or (cells and (len(cells) > 1 or cells[0].strip()))
        )


class _TooManyLines(Exception):
    """A CSV record went on for more physical lines than any row plausibly holds."""


def _is_unclosed_error(exc: BaseException) -> bool:
    """The record ended inside a quote: at the end of the data, or after too many lines."""
    return isinstance(exc, _TooManyLines) or "unexpected end of data" in str(exc)


class _Lines:
    """The physical lines of a text file, numbered, fed to `csv.reader`.

    Keeps the lines of the record being read (at most `limit`, then `_TooManyLines`), so that a
    broken record can be read again from its second line. Memory stays bounded by one record.
    """

    def __init__(self, text: Iterable[str], limit: int) -> None:
        self._text = iter(text)
        self._limit = limit
        self._read = 0  # physical lines read from the file so far
        self._pending: deque[tuple[int, str]] = deque()  # lines to read again, in order
        #: (line number, text) of each line of the current record.
        self.record: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.record) >= self._limit:
            raise _TooManyLines(f"more than {self._limit} lines in one record")
        if self._pending:
            number, line = self._pending.popleft()
        else:
            line = next(self._text)
            self._read += 1
            number = self._read
        self.record.append((number, line))
        return line

    def start_record(self) -> None:
        self.record = []

    def reread_after_start(self) -> None:
        """Read the current record again, from its second physical line."""
        self._pending.extendleft(reversed(self.record[1:]))
        self.record = []


class JsonlSource:
    """The rows of a JSON Lines file (see `read_jsonl`); iterate it to read them."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        _check_file(path, "JSONL")
        try:
            with _open_text(path) as text:
                first = next((line for line in text if line.strip()), None)
        except OSError as exc:
            raise MigrationInputError(f"{self.path}: cannot be read ({exc})") from None
        if first is None:
            raise MigrationInputError(f"{self.path}: is empty")
        if not first.lstrip().startswith("{"):
            raise MigrationInputError(f"{self.path}: is not JSON Lines (one JSON object per line)")

    def __repr__(self) -> str:
        return f"read_jsonl({self.path!r})"

    def __iter__(self) -> Iterator[Row]:
        with _open_text(self.path) as text:
            for number, line in enumerate(text, start=1):
                if not line.strip():
                    continue
                yield _jsonl_row(number, line)

    def count_rows(self) -> int:
        """How many rows the file holds now (blank lines excluded); reads the whole file."""
        with _open_text(self.path) as text:
            return sum(1 for line in text if line.strip())


def _jsonl_row(number: int, line: str) -> Row:
    if not _is_utf8(line):
        return Row(line=number, email=None, error=_NOT_UTF8)
    try:
        value = json.loads(line)
    except ValueError as exc:
        return Row(line=number, email=None, error=f"unparseable JSON: {exc}")
    if not isinstance(value, dict):
        return Row(
            line=number,
            email=None,
            error=f"a line must be a JSON object, not {type(value).__name__}",
        )
    return row_from_mapping(number, value)


def read_csv(path: str | os.PathLike[str]) -> CsvSource:
    """The rows of a CSV file, streamed; the header is checked now.

        report = await migrate(cko, read_csv("customers.csv"), journal="customers.sqlite3")

    Columns: `email` (required), `name`, `phone_country_code`, `phone_number`, `default`,
    `instruments` (ids separated by spaces) and `metadata.<key>`. An empty cell means the field
    is absent. Raises `MigrationInputError` when the file is missing, binary, or its header is
    not one of these columns; a bad row later in the file is an invalid row, not an error.
    """
    return CsvSource(path)


def read_jsonl(path: str | os.PathLike[str]) -> JsonlSource:
    """The rows of a JSON Lines file (one create request object per line), streamed.

    Raises `MigrationInputError` when the file is missing, binary or not JSON Lines; a bad line
    later in the file is an invalid row, not an error.
    """
    return JsonlSource(path)


def rows_of(items: Iterable[Row | Mapping[str, Any]]) -> Iterator[Row]:
    """`Row`s from rows or plain create-request mappings (numbered from 1)."""
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Row):
            yield row_from_mapping(number, item)
        elif item.body is not None and item.payload is None:
            # Built by hand: checked like any other input before it can be sent.
            checked = row_from_mapping(item.line, item.body)
            yield attrs.evolve(checked, spelling=item.spelling) if checked.valid else checked
        else:
            yield item
