"""Files the migration writes personal data to are private even when they already existed.

An operator who made the report's file beforehand (`touch report.jsonl`, mode 0644 under the
usual umask) used to get the customers' emails in a file every user of the machine could read:
the mode was only given when the file was created. Now an existing regular file is narrowed to
0600 before it is emptied and written; one that cannot be made private is refused and left as it
was; what is no regular file (a named pipe) keeps its mode.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkout_customers.cli import main

from .conftest import UNTHROTTLED, read_report, write_csv


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The test's folder as the current directory, with the usual umask (022)."""
    monkeypatch.chdir(tmp_path)
    previous = os.umask(0o022)
    try:
        yield tmp_path
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _input(folder: Path) -> Path:
    rows = [["a@example.com", "A"], ["b@example.com", "B"], ["not-an-email", "C"]]
    return write_csv(folder / "in.csv", rows)


@pytest.mark.usefixtures("account")
def test_existing_output_files_are_made_private_before_they_are_written(workdir: Path) -> None:
    _input(workdir)
    names = ("report.jsonl", "summary.json", "rejects.csv", "journal.sqlite3")
    for name in names:
        (workdir / name).write_bytes(b"")
        (workdir / name).chmod(0o644)
    status = main(
        [
            "migrate",
            "in.csv",
            "--journal",
            "journal.sqlite3",
            "--report",
            "report.jsonl",
            "--summary",
            "summary.json",
            "--rejects",
            "rejects.csv",
            *UNTHROTTLED,
        ]
    )
    assert status == 1  # one row was invalid
    assert {name: mode_of(workdir / name) for name in names} == dict.fromkeys(names, 0o600)
    assert len(read_report(workdir / "report.jsonl")) == 3
    assert json.loads((workdir / "summary.json").read_text())["exit_status"] == 1
    assert "not-an-email" in (workdir / "rejects.csv").read_text()


@pytest.mark.usefixtures("account")
def test_a_named_pipe_is_written_to_and_keeps_its_mode(workdir: Path) -> None:
    _input(workdir)
    pipe = workdir / "summary.pipe"
    os.mkfifo(pipe, 0o644)
    received: list[bytes] = []

    def read_pipe() -> None:
        with open(pipe, "rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read_pipe)
    reader.start()
    try:
        status = main(["migrate", "in.csv", "--summary", "summary.pipe", *UNTHROTTLED])
    finally:
        if reader.is_alive():  # the run failed before opening the pipe: let the reader go
            with open(pipe, "wb"):
                pass
        reader.join(timeout=30)
    assert status == 1
    assert json.loads(received[0])["exit_status"] == 1
    assert mode_of(pipe) == 0o644


def _as_nobody() -> list[str] | None:
    """The command prefix that runs a program as the unprivileged `nobody`, if this can."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    prefix = [setpriv, "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    # An interpreter under root's home (pyenv) may be out of `nobody`'s reach.
    tried = subprocess.run(
        [*prefix, sys.executable, "-c", "import checkout_customers"],
        cwd="/",
        capture_output=True,
        timeout=60,
        check=False,
    )
    return prefix if tried.returncode == 0 else None


def test_a_file_that_cannot_be_made_private_is_refused_before_any_request(
    tmp_path: Path,
) -> None:
    prefix = _as_nobody()
    if prefix is None:
        pytest.skip(
            "needs root, setpriv and an interpreter that `nobody` may run, to run the "
            "command as a user who cannot chmod"
        )
    # A folder `nobody` works in, holding a report file of root's that everyone may write.
    folder = Path(tempfile.mkdtemp(prefix="cko-private-"))
    try:
        shutil.chown(folder, user="nobody")
        _input(folder)
        report = folder / "r.jsonl"
        report.write_text("kept until the run starts\n")
        report.chmod(0o666)
        command = [*prefix, sys.executable, "-m", "checkout_customers", "migrate", "in.csv"]
        done = subprocess.run(
            [*command, "--emulator", "--report", "r.jsonl"],
            cwd=folder,
            env={**os.environ, "HOME": str(folder)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        errors = [line for line in done.stderr.splitlines() if "error" in line]
        assert errors == [
            "checkout-customers migrate: error: report: cannot write 'r.jsonl' (it is readable "
            "by other users and cannot be made private (mode 0600): Operation not permitted)"
        ]
        assert "Traceback" not in done.stderr
        assert mode_of(report) == 0o666
        assert report.read_text() == "kept until the run starts\n"  # not even emptied
    finally:
        shutil.rmtree(folder)
