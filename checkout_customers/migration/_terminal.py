"""How the migration's display may draw on a stream: live with rich, or plain lines of text.

rich is the `cli` extra (`pip install "checkout-customers[cli]"`), not a dependency of the core:
without it the command still works and falls back to plain lines. Escape codes are written only
to a terminal that understands them (not `TERM=dumb`, not a pipe or a file).
"""

from __future__ import annotations

import importlib.util
import os
import unicodedata
from typing import IO

__all__ = ["capable_terminal", "printable", "rich_installed"]

# rich treats these as terminals that cannot move the cursor; so do we.
_DUMB_TERMS = frozenset({"dumb", "unknown"})
# Control, format (bidirectional overrides, zero-width), surrogate, private, unassigned, and
# line or paragraph separators: none of them may reach a terminal as they are.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def rich_installed() -> bool:
    """Whether rich (the `cli` extra) can be imported."""
    try:
        return importlib.util.find_spec("rich") is not None
    except ValueError:  # a stub left in sys.modules without a spec
        return False


def capable_terminal(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal that takes escape codes (a cursor that moves, colours)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False
    return tty and os.environ.get("TERM", "").strip().lower() not in _DUMB_TERMS


def printable(text: str) -> str:
    """`text` with control and format characters spelled out, on one line.

    Input rows are data, not trusted text: an email or a reason holding an escape sequence
    (`\\x1b[2J`) or a bidirectional override must not drive the user's terminal.
    """
    if text.isprintable():
        return text
    return "".join(
        _escape(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES else char for char in text
    )


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
