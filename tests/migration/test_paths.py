"""The files a migration writes: never the input, the journal or each other; the report is 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from checkout_customers import AsyncClient, CheckoutArgumentError
from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import migrate, read_csv

from .conftest import FAST, UNTHROTTLED, emails_on, read_report, write_csv


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's folder as the current directory, so that relative paths mean something."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_umask() -> Iterator[None]:
    """A umask of 0: a file's mode is then exactly what the code asked for when creating it."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _input(folder: Path) -> Path:
    return write_csv(folder / "in.csv", [["a@example.com", "A"], ["b@example.com", "B"]])


# Each case names the report as the input another way: (how, the --report argument).
REPORT_AS_INPUT: list[tuple[str, Callable[[Path], str]]] = [
    ("the same path", lambda folder: "in.csv"),
    ("the same path, spelt two ways", lambda folder: str(folder / "in.csv")),
    ("the same path, spelt two ways", lambda folder: "./sub/../in.csv"),
    (
        "the same file through a symbolic link",
        lambda folder: _symlink(folder, "link.csv", "in.csv"),
    ),
    (
        "the same file: a hard link, or the same file under another name",
        lambda folder: _hardlink(folder, "hard.csv", "in.csv"),
    ),
]


def _symlink(folder: Path, name: str, target: str) -> str:
    (folder / name).symlink_to(target)
    return name


def _hardlink(folder: Path, name: str, target: str) -> str:
    os.link(folder / target, folder / name)
    return name


@pytest.mark.parametrize(("how", "make_report"), REPORT_AS_INPUT)
def test_a_report_naming_the_input_exits_2_and_leaves_the_input_intact(
    account: RunningEmulator,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    how: str,
    make_report: Callable[[Path], str],
) -> None:
    source = _input(workdir)
    (workdir / "sub").mkdir()
    before = source.read_bytes()
    report = make_report(workdir)

    assert main(["migrate", "in.csv", "--report", report, *UNTHROTTLED]) == 2

    assert capsys.readouterr().err.splitlines() == [
        f"checkout-customers migrate: error: INPUT 'in.csv' and --report {report!r} are one "
        f"file ({how}); nothing was written: give --report another path"
    ]
    assert source.read_bytes() == before
    assert not (workdir / "in.csv.journal.sqlite3").exists()  # nothing was opened for writing
    assert account.customers() == []


def test_a_symbolic_link_to_a_folder_holding_the_input_is_not_mistaken_for_it(
    account: RunningEmulator, workdir: Path
) -> None:
    # `elsewhere/../in.csv` is `other/in.csv` when `elsewhere` leads into `other/`.
    source = _input(workdir)
    (workdir / "other" / "deeper").mkdir(parents=True)
    (workdir / "elsewhere").symlink_to(workdir / "other" / "deeper")
    before = source.read_bytes()

    assert main(["migrate", "in.csv", "--report", "elsewhere/../in.csv", *UNTHROTTLED]) == 0

    assert source.read_bytes() == before
    assert len(read_report(workdir / "other" / "in.csv")) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--journal", "j.sqlite3", "--report", "j.sqlite3"],
            "--journal 'j.sqlite3' and --report 'j.sqlite3' are one file (the same path)",
        ),
        (
            ["--report", "in.csv.journal.sqlite3"],
            "the default journal 'in.csv.journal.sqlite3' and --report "
            "'in.csv.journal.sqlite3' are one file (the same path)",
        ),
        (
            ["--journal", "j.sqlite3", "--report", "j.sqlite3-wal"],
            "the SQLite side file 'j.sqlite3-wal' of --journal 'j.sqlite3' and --report "
            "'j.sqlite3-wal' are one file (the same path)",
        ),
        (
            ["--journal", "in.csv"],
            "INPUT 'in.csv' and --journal 'in.csv' are one file (the same path)",
        ),
    ],
)
def test_a_journal_shared_with_the_report_or_the_input_exits_2(
    account: RunningEmulator,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    source = _input(workdir)
    before = source.read_bytes()
    assert main(["migrate", "in.csv", *arguments, *UNTHROTTLED]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert message in line
    assert source.read_bytes() == before
    assert account.customers() == []


def test_a_report_naming_an_existing_journal_leaves_it_usable(
    account: RunningEmulator, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _input(workdir)
    assert main(["migrate", "in.csv", "--journal", "j.sqlite3", *UNTHROTTLED]) == 0
    journal = workdir / "j.sqlite3"
    link = workdir / "journal-link"
    link.symlink_to(journal)
    before = journal.read_bytes()

    for report in ("j.sqlite3", "journal-link", str(journal)):
        assert main(["migrate", "in.csv", "--journal", "j.sqlite3", "--report", report]) == 2
        assert journal.read_bytes() == before
    capsys.readouterr()

    # The journal still works: the rerun finds both rows done by the first run.
    assert main(["migrate", "in.csv", "--journal", "j.sqlite3", "--report", "r.jsonl"]) == 0
    assert [entry["status"] for entry in read_report(workdir / "r.jsonl")] == ["created"] * 2
    assert "already done" in capsys.readouterr().out
    assert sorted(emails_on(account)) == ["a@example.com", "b@example.com"]


async def test_migrate_refuses_a_report_or_journal_that_is_the_input(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = _input(tmp_path)
    before = source.read_bytes()
    hard = tmp_path / "hard.csv"
    os.link(source, hard)
    journal = tmp_path / "j.sqlite3"

    with pytest.raises(CheckoutArgumentError, match="are one file") as refused:
        await migrate(client, read_csv(source), journal=journal, report=hard, **FAST)
    assert refused.value.field == "report"
    assert f"the input file {str(source)!r} and report {str(hard)!r}" in str(refused.value)
    with pytest.raises(CheckoutArgumentError, match="are one file") as refused:
        await migrate(client, read_csv(source), journal=source, **FAST)
    assert refused.value.field == "journal"
    with pytest.raises(CheckoutArgumentError, match="are one file") as refused:
        await migrate(client, read_csv(source), journal=journal, report=journal, **FAST)
    assert refused.value.field == "report"

    assert source.read_bytes() == before
    assert not journal.exists()
    assert emulator.customers() == []


@pytest.mark.usefixtures("no_umask")
def test_the_report_is_created_readable_by_its_owner_only(
    account: RunningEmulator, workdir: Path
) -> None:
    _input(workdir)
    assert main(["migrate", "in.csv", "--report", "r.jsonl", *UNTHROTTLED]) == 0
    assert stat.S_IMODE((workdir / "r.jsonl").stat().st_mode) == 0o600
    assert len(read_report(workdir / "r.jsonl")) == 2


@pytest.mark.usefixtures("no_umask")
async def test_migrate_creates_its_report_file_0600(client: AsyncClient, tmp_path: Path) -> None:
    source = _input(tmp_path)
    report_path = tmp_path / "report.jsonl"
    await migrate(
        client, read_csv(source), journal=tmp_path / "j.sqlite3", report=report_path, **FAST
    )
    assert stat.S_IMODE(report_path.stat().st_mode) == 0o600
    assert len(read_report(report_path)) == 2
