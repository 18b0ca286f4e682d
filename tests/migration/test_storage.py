"""The migration's files: the journal is private, and a file that cannot be written mid-run
stops the run with its name and cause while the journal stays consistent."""

from __future__ import annotations

import errno
import io
import os
import stat
from collections import Counter
from pathlib import Path

import pytest

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import MigrationIOError, RowResult, migrate

from .conftest import FAST, emails_on


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_the_journal_and_its_wal_are_created_private(
    client: AsyncClient, journal: Path
) -> None:
    seen: dict[str, int] = {}

    def progress(result: RowResult) -> None:
        wal = Path(f"{journal}-wal")
        if wal.exists():
            seen["wal"] = mode_of(wal)

    old_umask = os.umask(0o022)
    try:
        await migrate(
            client,
            [{"email": f"m{n}@example.com"} for n in range(50)],
            journal=journal,
            progress=progress,
            **FAST,
        )
    finally:
        os.umask(old_umask)
    assert mode_of(journal) == 0o600
    assert seen == {"wal": 0o600}


class FullDisk(io.StringIO):
    """A report stream whose writes fail like a full disk after `room` lines."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, text: str) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= 1
        return super().write(text)


async def test_a_report_that_cannot_be_written_stops_the_run_and_the_journal_resumes_it(
    client: AsyncClient, emulator: RunningEmulator, journal: Path
) -> None:
    rows = [{"email": f"f{n}@example.com"} for n in range(400)]
    with pytest.raises(MigrationIOError) as raised:
        await migrate(client, rows, journal=journal, report=FullDisk(100), **FAST)
    assert "cannot write the report (No space left on device)" in str(raised.value)
    assert raised.value.requests_sent
    assert 0 < len(emulator.customers()) < 400

    again = await migrate(client, rows, journal=journal, **FAST)
    assert (again.created, again.failed) == (400, 0)
    assert Counter(emails_on(emulator)) == Counter(row["email"] for row in rows)
