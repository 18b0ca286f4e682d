"""The dry run's journal: a private copy of the real one, so that the real one is never written.

A dry run claims rows like a real run (it must tell duplicates and rows an earlier run finished),
and claiming writes. It does so in a copy, made in a private temporary folder and deleted at the
end: what the dry run says matches what a real run would do next, and the real journal is read
once, through SQLite (a journal in use by a running migration is refused, as for a real run).
"""

from __future__ import annotations

import os
import pathlib
import sqlite3

from ._journal_schema import JournalError, journal_error

__all__ = ["copy_journal", "name_the_original"]

_COPY_NAME = "dry-run.journal.sqlite3"


def copy_journal(path: str, folder: str) -> str:
    """Copy the journal at `path` (if there is one) to a new file in `folder`; its path."""
    copy = os.path.join(folder, _COPY_NAME)
    # 0600 like every journal: the copy holds the customers' emails too.
    os.close(os.open(copy, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    if not os.path.exists(path):
        return copy  # no run yet: the dry run starts from an empty journal
    if os.path.isdir(path):
        raise JournalError(f"{path}: is a directory; --journal needs a file path")
    try:
        # `mode=rw`: never create the file; reading does not change what the journal says.
        uri = pathlib.Path(path).absolute().as_uri() + "?mode=rw"
        source = sqlite3.connect(uri, uri=True, timeout=0)
        try:
            # A read first: on a journal locked by a running migration it fails at once, where
            # `backup` would wait for the lock for ever.
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise journal_error(path, exc) from None
    return copy


def name_the_original(exc: JournalError, copy: str, path: str) -> JournalError:
    """`exc`, raised about the copy, told about the journal the user named."""
    return JournalError(str(exc).replace(copy, path))
