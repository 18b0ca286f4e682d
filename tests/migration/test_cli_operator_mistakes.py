"""Mistakes an operator makes on the command line: each is one clear line, before any request.

Found by trying the command as a hurried operator would: an output file in a folder that is not
there (noticed only after the whole run had created its customers), a concurrency typed with too
many zeros (the process ran out of memory), a folder or a missing file given as the input.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from checkout_customers import AsyncClient, CheckoutArgumentError
from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import migrate

from .conftest import FAST, UNTHROTTLED, write_csv


def _source(folder: Path) -> Path:
    return write_csv(folder / "in.csv", [["a@example.com", "A"], ["not-an-email", "B"]])


@pytest.mark.parametrize("option", ["--summary", "--rejects", "--report"])
@pytest.mark.parametrize(
    ("make_path", "problem"),
    [
        (
            lambda folder: folder / "missing-folder" / "out",
            "the directory '{folder}/missing-folder' does not exist",
        ),
        (lambda folder: folder, "is a directory, not a file"),
    ],
    ids=["missing-folder", "a-directory"],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_request(
    account: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    option: str,
    make_path: Callable[[Path], Path],
    problem: str,
) -> None:
    source = _source(tmp_path)
    target = make_path(tmp_path)
    journal = tmp_path / "journal.sqlite3"

    status = main(["migrate", str(source), "--journal", str(journal), option, str(target)])

    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    assert f"{option} {str(target)!r}: {problem.format(folder=tmp_path)}" in err
    assert "nothing was sent" in err
    assert "Traceback" not in err
    assert account.requests() == []  # not even the reachability probe
    assert account.customers() == []
    assert not journal.exists()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
@pytest.mark.parametrize("option", ["--summary", "--rejects"])
def test_an_output_in_a_read_only_folder_is_refused_before_any_request(
    account: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    option: str,
) -> None:
    source = _source(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        status = main(["migrate", str(source), option, str(locked / "out"), *UNTHROTTLED])
    finally:
        locked.chmod(0o700)
    assert status == 2
    assert "cannot be written (permission denied)" in capsys.readouterr().err
    assert account.customers() == []


def test_a_good_output_path_through_a_symbolic_link_is_written(
    account: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    summary = tmp_path / "summary.json"
    link = tmp_path / "link.json"
    link.symlink_to(summary)  # leads to a file that is not there yet: it is created

    assert main(["migrate", str(source), "--summary", str(link), *UNTHROTTLED]) == 0
    assert '"exit_status": 0' in summary.read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ["10001", "99999999999999999999"])
def test_a_concurrency_beyond_the_maximum_is_a_usage_error(
    account: RunningEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    source = _source(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["migrate", str(source), "--concurrency", value, *UNTHROTTLED])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --concurrency: must be at most 10,000, got {value}" in err
    assert account.requests() == []


async def test_migrate_refuses_a_concurrency_beyond_the_maximum(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    async with AsyncClient(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
        with pytest.raises(CheckoutArgumentError, match="at most 10,000") as raised:
            await migrate(
                cko,
                [{"email": "a@example.com"}],
                journal=tmp_path / "journal.sqlite3",
                concurrency=10_001,
                **FAST,
            )
    assert raised.value.field == "concurrency"
    assert emulator.requests() == []


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda folder: folder, "is a directory, not a CSV or JSON Lines file"),
        (lambda folder: folder / "customers", "no such file"),
        (lambda folder: folder / "customers.txt", "no such file"),
    ],
    ids=["a-directory", "missing-without-extension", "missing-with-another-extension"],
)
def test_an_input_that_is_a_directory_or_missing_says_so_whatever_its_name(
    account: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    make_input: Callable[[Path], Path],
    message: str,
) -> None:
    path = make_input(tmp_path)
    assert main(["migrate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {message}" in err
    assert "cannot tell the format" not in err
    assert account.requests() == []
