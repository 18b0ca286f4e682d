"""A journal commit that the file system refuses, mid-run, through the command line.

A write that SQLite cannot make (EFBIG past a file-size limit: SQLITE_IOERR_WRITE; a full file
system: SQLITE_FULL) fails at COMMIT, the batch being still in the page cache until then, and
SQLite has then rolled the whole transaction back itself. The rule: the operator sees that
cause, on one line naming the journal, not the "cannot rollback - no transaction is active" of
a second rollback; the journal keeps its last good commit, so it opens and holds no outcome the
API did not give; and the same command, with room to write, finishes with one customer per
email.
"""

from __future__ import annotations

import contextlib
import resource
import shutil
import signal
import sqlite3
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from checkout_customers.emulator import RunningEmulator

from .conftest import UNTHROTTLED, cli_command, cli_env, run_cli, write_csv

ROWS = 1000
#: Room for a few hundred outcomes of the 1000 rows before a commit fails.
LIMIT = 192 * 1024


def _limit_file_size(limit: int) -> None:
    # Runs in the child: writes past `limit` bytes fail with EFBIG instead of killing it.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    assert "no transaction is active" not in stderr
    [line] = [line for line in stderr.splitlines() if "error" in line]
    return line


def _check_journal_and_resume(
    emulator: RunningEmulator, source: Path, journal: Path, prefix: str
) -> None:
    created = {str(c["id"]): str(c["email"]) for c in emulator.customers()}
    assert 0 < len(created) < ROWS
    with contextlib.closing(sqlite3.connect(journal)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        done = connection.execute(
            "SELECT email, customer_id FROM rows WHERE state IN ('created', 'existing')"
        ).fetchall()
    # Nothing of the failed batch was committed: every outcome the journal holds is one the
    # API gave, and the rows whose outcome was lost are left to the rerun.
    assert all(created.get(str(customer_id)) == email for email, customer_id in done)
    assert 0 < len(done) < ROWS

    resumed = run_cli(
        "migrate", str(source), "--journal", str(journal), *UNTHROTTLED, env=cli_env(emulator)
    )
    assert resumed.returncode == 0, resumed.stderr
    assert Counter(str(c["email"]) for c in emulator.customers()) == Counter(
        f"{prefix}{n}@example.com" for n in range(ROWS)
    )


def test_a_commit_past_the_file_size_limit_names_the_journal_and_cause_and_resumes(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [[f"f{n}@example.com", "F"] for n in range(ROWS)])
    journal = tmp_path / "journal.sqlite3"
    done = subprocess.run(
        cli_command("migrate", str(source), "--journal", str(journal), *UNTHROTTLED),
        env=cli_env(emulator),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: _limit_file_size(LIMIT),
    )
    assert done.returncode == 1, done.stderr
    line = _error_line(done.stderr)
    # SQLite's words for the EFBIG of the limit, with its code where Python gives it (3.11+).
    assert line.startswith(
        f"checkout-customers migrate: error: {journal}: cannot write the journal (disk I/O error"
    ), line
    assert "to resume, run the same command" in done.stderr
    _check_journal_and_resume(emulator, source, journal, "f")


def _unshare_mounts() -> list[str]:
    """The command that runs its arguments in a mount namespace of an unprivileged user, or
    skips the test where the system does not allow one."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1)")
    command = [unshare, "--user", "--map-root-user", "--mount"]
    probe = subprocess.run([*command, "true"], capture_output=True, check=False, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"no unprivileged mount namespace: {probe.stderr.decode(errors='replace')}")
    return command


def test_a_commit_on_a_full_file_system_names_the_journal_and_cause_and_resumes(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    unshare = _unshare_mounts()
    source = write_csv(tmp_path / "in.csv", [[f"g{n}@example.com", "G"] for n in range(ROWS)])
    small, kept = tmp_path / "small", tmp_path / "kept"
    small.mkdir()
    kept.mkdir()
    journal = small / "journal.sqlite3"
    # A tmpfs of LIMIT bytes over `small`, seen by this command alone; its journal files are
    # kept, as an operator who frees space would find them.
    script = (
        'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99; small=$2 kept=$3; shift 3; '
        '"$@"; status=$?; cp "$small"/journal.sqlite3* "$kept"/ || exit 98; exit $status'
    )
    migrate = cli_command("migrate", str(source), "--journal", str(journal), *UNTHROTTLED)
    done = subprocess.run(
        [*unshare, "sh", "-c", script, "sh", str(LIMIT), str(small), str(kept), *migrate],
        env=cli_env(emulator),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode == 99:
        pytest.skip(f"no tmpfs mount in a user namespace: {done.stderr}")
    assert done.returncode == 1, done.stderr
    line = _error_line(done.stderr)
    assert line.startswith(
        f"checkout-customers migrate: error: {journal}: cannot write the journal "
        "(database or disk is full"
    ), line
    assert "to resume, run the same command" in done.stderr
    for file in kept.iterdir():
        shutil.move(file, small / file.name)
    _check_journal_and_resume(emulator, source, journal, "g")
