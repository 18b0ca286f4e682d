"""Opening a file that will hold personal data so that only its owner can read it.

A new file is created with mode 0600, given to `os.open` so that it is never readable by
others, not even for a moment. An existing regular file (one the operator made beforehand, say
with `touch`) is narrowed to 0600 before anything is written to it: otherwise a file left
0644 would make the customers' emails readable by every user of the machine. Anything that is
not a regular file (`/dev/stdout`, a named pipe) is written as it is: its mode is not ours.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import IO

__all__ = ["PRIVATE_MODE", "create_private", "open_private"]

PRIVATE_MODE = 0o600


def open_private(path: str | os.PathLike[str], flags: int) -> int:
    """`os.open(path, flags | O_CREAT, 0o600)`, narrowing an existing regular file to 0600.

    Raises `OSError` (EPERM) naming the file when it cannot be made private, as when it
    belongs to another user; the file is then left as it was: `O_TRUNC` applies only once
    it is private.
    """
    truncate = bool(flags & os.O_TRUNC)
    flags = (flags & ~os.O_TRUNC) | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, PRIVATE_MODE)
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
            try:
                os.fchmod(descriptor, PRIVATE_MODE)
            except OSError as exc:
                raise OSError(
                    exc.errno or errno.EPERM,
                    "it is readable by other users and cannot be made private (mode 0600): "
                    f"{exc.strerror or exc}",
                    os.fspath(path),
                ) from None
        if truncate and stat.S_ISREG(mode):
            os.ftruncate(descriptor, 0)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def create_private(
    path: str | os.PathLike[str], *, errors: str = "strict", newline: str | None = None
) -> IO[str]:
    """Open `path` for writing UTF-8 text, truncated and private (`open_private`); `errors`
    and `newline` as for `open`."""
    descriptor = open_private(path, os.O_WRONLY | os.O_TRUNC)
    try:
        return open(descriptor, "w", encoding="utf-8", errors=errors, newline=newline)
    except BaseException:
        os.close(descriptor)
        raise
