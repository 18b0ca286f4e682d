"""The JSON Lines input: one create-request object per line, streamed.

Whatever a line holds (not JSON, nested too deeply, far too long, not UTF-8), it becomes one
invalid row with its reason and the next line is read: a bad line never stops the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import attrs

from ._input_files import (
    NOT_UTF8,
    BoundedLines,
    check_file,
    first_text,
    is_utf8,
    line_too_long,
    open_text,
)
from ._rows import (
    CREATE_FIELDS,
    MigrationInputError,
    Row,
    add_source_id,
    check_id_metadata_key,
    invalid_row,
    row_from_mapping,
    unreadable_row,
)

__all__ = ["JsonlSource", "read_jsonl"]


class JsonlSource:
    """The rows of a JSON Lines file (see `read_jsonl`); iterate it to read them."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        id_field: str | None = None,
        id_metadata_key: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        check_id_metadata_key(id_metadata_key, id_field)
        self._id_field = id_field
        self._id_metadata_key = id_metadata_key
        check_file(path, "JSONL")
        try:
            with open_text(path) as text:
                start = first_text(text)
        except OSError as exc:
            raise MigrationInputError(f"{self.path}: cannot be read ({exc})") from None
        if not start:
            raise MigrationInputError(f"{self.path}: is empty")
        if not start.startswith("{"):
            raise MigrationInputError(f"{self.path}: is not JSON Lines (one JSON object per line)")

    def __repr__(self) -> str:
        return f"read_jsonl({self.path!r})"

    def __iter__(self) -> Iterator[Row]:
        with open_text(self.path) as text:
            lines = BoundedLines(text)
            for line in lines:
                if line is None:
                    yield Row(line=lines.number, email=None, error=line_too_long(lines.number))
                elif line.strip():
                    yield _jsonl_row(lines.number, line, self._id_field, self._id_metadata_key)

    def count_rows(self) -> int:
        """How many rows the file holds now (blank lines excluded); reads the whole file."""
        with open_text(self.path) as text:
            return sum(1 for line in BoundedLines(text) if line is None or line.strip())


def _jsonl_row(number: int, line: str, id_field: str | None, id_metadata_key: str | None) -> Row:
    if not is_utf8(line):
        return Row(line=number, email=None, error=NOT_UTF8)
    try:
        value = json.loads(line)
    except RecursionError:
        # Python's parser recurses once per level: a line nested deeper than the interpreter's
        # recursion limit (about 1000) cannot be a create request anyway.
        return Row(line=number, email=None, error="unparseable JSON: nested too deeply")
    except ValueError as exc:
        return Row(line=number, email=None, error=f"unparseable JSON: {exc}")
    except Exception as exc:
        return unreadable_row(number, exc)
    if not isinstance(value, dict):
        return Row(
            line=number,
            email=None,
            error=f"a line must be a JSON object, not {type(value).__name__}",
        )
    # `error`: added by `--rejects`, so that a rejects file can be migrated as it is.
    value.pop("error", None)
    try:
        if id_field is None:
            return row_from_mapping(number, value)
        return _with_source_id(number, value, id_field, id_metadata_key)
    except Exception as exc:
        return unreadable_row(number, exc)


def _with_source_id(
    number: int, fields: dict[str, Any], id_field: str, id_metadata_key: str | None
) -> Row:
    """The row, its `id_field` taken out (unless a create field) and carried as `source_id`."""
    raw = fields.get(id_field) if id_field in CREATE_FIELDS else fields.pop(id_field, None)
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)  # ids exported as numbers
    if not isinstance(raw, str) or not raw.strip():
        found = "missing" if raw is None else f"not a string or integer ({raw!r})"
        if isinstance(raw, str):
            found = "empty"
        return invalid_row(number, fields.get("email"), f"the id field {id_field!r} is {found}")
    source_id = raw.strip()
    error = add_source_id(fields, source_id, id_metadata_key)
    row = (
        invalid_row(number, fields.get("email"), error)
        if error
        else row_from_mapping(number, fields)
    )
    return attrs.evolve(row, source_id=source_id)


def read_jsonl(
    path: str | os.PathLike[str],
    *,
    id_field: str | None = None,
    id_metadata_key: str | None = None,
) -> JsonlSource:
    """The rows of a JSON Lines file (one create request object per line), streamed.

    `id_field` names the field holding the input's own identifier of each customer (a string
    or an integer): it is not sent (unless it is a create field) but carried into the report
    as `source_id`; a line without it is invalid. `id_metadata_key` also stores it in the
    customer's metadata under that key.

    Raises `MigrationInputError` when the file is missing, binary or not JSON Lines; a bad line
    later in the file is an invalid row, not an error.
    """
    return JsonlSource(path, id_field=id_field, id_metadata_key=id_metadata_key)
