"""Opening an input file and reading its physical lines with bounded memory.

Shared by the CSV and JSONL readers: the checks made when a file is opened (missing, binary,
not UTF-8), and `BoundedLines`, which never holds more than `MAX_LINE_CHARACTERS` of one line,
so that a file without line ends (or a runaway line) costs no more memory than a normal row.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import IO

from ._rows import MigrationInputError

__all__ = [
    "MAX_LINE_CHARACTERS",
    "NOT_UTF8",
    "BoundedLines",
    "check_file",
    "first_text",
    "is_utf8",
    "line_too_long",
    "open_text",
]

#: The longest physical line read (line end included). A valid row holds a few kilobytes at
#: most (an email and a name of 255 characters, ten metadata pairs of 100 + 100); a longer line
#: is reported invalid without being held in memory.
MAX_LINE_CHARACTERS = 1 << 20
_SNIFF_BYTES = 8192
NOT_UTF8 = "the row is not valid UTF-8"


def line_too_long(number: int) -> str:
    """The reason given for a line longer than `MAX_LINE_CHARACTERS`."""
    return (
        f"line {number} is longer than {MAX_LINE_CHARACTERS:,} characters; no customer row is "
        "that long, so it was skipped without being read whole"
    )


def is_utf8(text: str) -> bool:
    """False when `text` holds bytes that were not UTF-8 (read as surrogate escapes)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def open_text(path: str | os.PathLike[str]) -> io.TextIOWrapper:
    """The file as text: UTF-8 with an optional BOM, line ends kept as they are (for `csv`)."""
    # Undecodable bytes become surrogates, so one bad row is reported invalid instead of
    # stopping the whole file.
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def check_file(path: str | os.PathLike[str], kind: str) -> None:
    """Raise `MigrationInputError` unless `path` is a readable text file that starts as UTF-8."""
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


def first_text(text: IO[str]) -> str:
    """The start of the text after any leading white space (blank lines), "" if there is none."""
    while chunk := text.read(_SNIFF_BYTES):
        if stripped := chunk.lstrip():
            return stripped
    return ""


class BoundedLines:
    """The physical lines of a text stream, each with its line end, counted in `number`.

    A line longer than `limit` characters comes out as None: it is read to its end a piece at a
    time and never held whole. Line ends are those of `open_text` (`\\n`, `\\r\\n`, `\\r`).
    """

    def __init__(self, text: IO[str], limit: int = MAX_LINE_CHARACTERS) -> None:
        self._text = text
        self._limit = limit
        self._pending = ""  # the start of the next line, read to see past a `\r`
        #: The number of the last line returned (1-based).
        self.number = 0

    def __iter__(self) -> Iterator[str | None]:
        return self

    def __next__(self) -> str | None:
        piece = self._piece()
        if not piece:
            raise StopIteration
        self.number += 1
        if self._ends_line(piece):
            return piece
        while (piece := self._piece()) and not self._ends_line(piece):
            pass  # the rest of an over-long line: dropped as it is read
        return None

    def _ends_line(self, piece: str) -> bool:
        # Shorter than asked means the line ended, or the file did without a line end.
        return len(piece) < self._limit or piece.endswith(("\n", "\r"))

    def _piece(self) -> str:
        """Up to `limit` characters of the current line (one more for a `\\r\\n` cut in two)."""
        if self._pending:
            piece, self._pending = self._pending, ""
            return piece
        piece = self._text.readline(self._limit)
        if len(piece) == self._limit and piece.endswith("\r"):
            # The size may have cut a `\r\n` in two: the `\n` belongs to this line end.
            following = self._text.readline(self._limit)
            if following == "\n":
                return piece + "\n"
            self._pending = following
        return piece
