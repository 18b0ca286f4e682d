"""The JSON Lines input: one create-request object per line, streamed.

Whatever a line holds (not JSON, nested too deeply, far too long, not UTF-8), it becomes one
invalid row with its reason and the next line is read: a bad line never stops the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from ._input_files import (
    NOT_UTF8,
    BoundedLines,
    check_file,
    first_text,
    is_utf8,
    line_too_long,
    open_text,
)
from ._rows import MigrationInputError, Row, row_from_mapping, unreadable_row

__all__ = ["JsonlSource", "read_jsonl"]


class JsonlSource:
    """The rows of a JSON Lines file (see `read_jsonl`); iterate it to read them."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
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
                    yield _jsonl_row(lines.number, line)

    def count_rows(self) -> int:
        """How many rows the file holds now (blank lines excluded); reads the whole file."""
        with open_text(self.path) as text:
            return sum(1 for line in BoundedLines(text) if line is None or line.strip())


def _jsonl_row(number: int, line: str) -> Row:
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
        return row_from_mapping(number, value)
    except Exception as exc:
        return unreadable_row(number, exc)


def read_jsonl(path: str | os.PathLike[str]) -> JsonlSource:
    """The rows of a JSON Lines file (one create request object per line), streamed.

    Raises `MigrationInputError` when the file is missing, binary or not JSON Lines; a bad line
    later in the file is an invalid row, not an error.
    """
    return JsonlSource(path)
