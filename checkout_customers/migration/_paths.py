"""The files a migration writes: none may be the input or another one, and each is private.

`check_distinct` is called before anything is opened for writing: a report that names the
input would empty it, one that names the journal would corrupt it for good. Two names are one
file when they are the same path (relative or absolute), lead to the same path through symbolic
links, or, for files that exist, are the same inode (a hard link, a bind mount, a
case-insensitive file system):

    check_distinct([
        NamedPath("INPUT", "customers.csv", role=Role.INPUT),
        NamedPath("--journal", "customers.csv.journal.sqlite3", role=Role.JOURNAL),
        NamedPath("--report", "report.jsonl"),
    ])   # raises CheckoutArgumentError naming both paths when two are one file

Files holding personal data are opened private (`create_private`, from `_private_files.py`):
created with mode 0600, or narrowed to it when they exist.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Iterator
from typing import IO

import attrs

from .._errors import CheckoutArgumentError
from ._csv_input import CsvSource
from ._jsonl_input import JsonlSource

__all__ = [
    "NamedPath",
    "Role",
    "check_creatable",
    "check_distinct",
    "check_migration_paths",
]

#: The files SQLite keeps beside a database (WAL mode, and a rollback journal in other modes):
#: writing any of them corrupts the journal as surely as writing the journal itself.
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class Role(enum.Enum):
    """What a path is to the migration."""

    INPUT = "input"  # read only: may be named twice, never written
    JOURNAL = "journal"  # read and written, with its SQLite side files
    OUTPUT = "output"  # written (truncated first)


@attrs.frozen
class NamedPath:
    """A path with the name the user gave it (`--report`, `journal`), for error messages."""

    label: str
    path: str | os.PathLike[str]
    role: Role = Role.OUTPUT
    #: The argument to name in `CheckoutArgumentError.field`.
    field: str | None = None


@attrs.frozen
class _Identity:
    named: NamedPath
    shown: str  # the path as the user wrote it (a side file: the journal's path + suffix)
    absolute: str
    resolved: str
    inode: tuple[int, int] | None
    group: int  # entries of one group (a journal and its side files) are not compared


def _identity(named: NamedPath, path: str, group: int) -> _Identity:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        inode = None  # not there (yet): the path comparisons decide
    else:
        inode = (status.st_dev, status.st_ino)
    return _Identity(
        named=named,
        shown=path,
        absolute=os.path.abspath(path),
        resolved=os.path.realpath(path),
        inode=inode,
        group=group,
    )


def _identities(paths: Iterable[NamedPath]) -> Iterator[_Identity]:
    for group, named in enumerate(paths):
        path = os.fspath(named.path)
        yield _identity(named, path, group)
        if named.role is Role.JOURNAL:
            # SQLite keeps the side files beside the file a symbolic link leads to.
            for base in dict.fromkeys((path, os.path.realpath(path))):
                for suffix in _SQLITE_SIDE_FILES:
                    yield _identity(named, base + suffix, group)


def _sameness(first: _Identity, second: _Identity) -> str | None:
    """How two paths are one file, or None when they are two."""
    # Resolved, not merely made absolute: `link/../x` is not `./x` when `link` leads elsewhere.
    if first.resolved == second.resolved:
        if first.absolute != second.absolute:
            return "the same file through a symbolic link"
        return "the same path" if first.shown == second.shown else "the same path, spelt two ways"
    if first.inode is not None and first.inode == second.inode:
        return "the same file: a hard link, or the same file under another name"
    return None


def _describe(identity: _Identity) -> str:
    named = identity.named
    if identity.shown == os.fspath(named.path):
        return f"{named.label} {identity.shown!r}"
    return f"the SQLite side file {identity.shown!r} of {named.label} {os.fspath(named.path)!r}"


def check_distinct(paths: Iterable[NamedPath]) -> None:
    """Raise `CheckoutArgumentError` if a written path is the input or another written path.

    Inputs may be the same file as each other (they are only read); a journal is compared with
    its SQLite side files too. Nothing is created or opened: call it before anything is.
    """
    identities = list(_identities(paths))
    for index, first in enumerate(identities):
        for second in identities[index + 1 :]:
            if first.group == second.group:
                continue
            if first.named.role is Role.INPUT and second.named.role is Role.INPUT:
                continue
            how = _sameness(first, second)
            if how is None:
                continue
            written = second if second.named.role is not Role.INPUT else first
            raise CheckoutArgumentError(
                f"{_describe(first)} and {_describe(second)} are one file ({how}); "
                f"nothing was written: give {written.named.label} another path",
                field=written.named.field,
            )


def check_migration_paths(
    rows: object,
    *,
    journal: str | os.PathLike[str],
    **outputs: str | os.PathLike[str] | IO[str] | None,
) -> None:
    """`check_distinct` for `migrate(rows, journal=..., report=..., ...)`, by argument name.

    The input is the file of `read_csv` / `read_jsonl` rows; each output given as a path (not
    an open stream, not None) is named by its keyword: `report=report` today, one more keyword
    for each new output.
    """
    paths: list[NamedPath] = []
    if isinstance(rows, (CsvSource, JsonlSource)):
        paths.append(NamedPath("the input file", rows.path, role=Role.INPUT, field="rows"))
    if isinstance(journal, (str, os.PathLike)):
        paths.append(NamedPath("journal", journal, role=Role.JOURNAL, field="journal"))
    for name, target in outputs.items():
        if isinstance(target, (str, os.PathLike)):
            paths.append(NamedPath(name, target, field=name))
    check_distinct(paths)


def check_creatable(named: NamedPath) -> None:
    """Raise `CheckoutArgumentError` if `named` cannot be opened for writing: its folder is
    missing or not writable, or it is a folder or a read-only file.

    For the files written only when a run ends (`--summary`, `--rejects`): found then, the
    mistake would cost a whole run. Nothing is created, so a refused run leaves no empty file.
    """
    path = os.fspath(named.path)
    # A symbolic link is written through: what matters is where it leads.
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        problem = "is a directory, not a file"
    elif not os.path.exists(target) and not os.path.isdir(folder):
        problem = f"the directory {folder!r} does not exist"
    elif not os.access(target if os.path.exists(target) else folder, os.W_OK):
        problem = "cannot be written (permission denied)"
    else:
        return
    raise CheckoutArgumentError(
        f"{named.label} {path!r}: {problem}; nothing was sent: give {named.label} another path",
        field=named.field,
    )
