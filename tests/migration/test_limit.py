"""`migrate --limit N` / `migrate(limit=N)`: a sample of the first N rows, then the rest."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from checkout_customers import AsyncClient, CheckoutArgumentError
from checkout_customers.cli import main
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import migrate, read_csv

from .conftest import FAST, UNTHROTTLED, emails_on, read_report, write_csv


def creates_by_email(emulator: RunningEmulator) -> Counter[str]:
    return Counter(
        str(request.json()["email"])
        for request in emulator.requests()
        if request.method == "POST" and request.path == "/customers"
    )


def test_a_sample_then_a_full_run_creates_each_row_once(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emails = [f"row{number}@example.com" for number in range(7)]
    source = write_csv(tmp_path / "in.csv", [(email, "Name") for email in emails])
    journal, report = tmp_path / "journal.sqlite3", tmp_path / "report.jsonl"
    args = ["migrate", str(source), "--journal", str(journal), "--report", str(report)]

    assert main([*args, "--limit", "3", *UNTHROTTLED]) == 0

    _, err = capsys.readouterr()
    assert [(e["line"], e["email"], e["status"]) for e in read_report(report)] == [
        (2, emails[0], "created"),
        (3, emails[1], "created"),
        (4, emails[2], "created"),
    ]
    assert sorted(emails_on(account)) == sorted(emails[:3])
    assert "progress: 3/3 rows" in err  # the bar's total is the sample, not the file

    assert main([*args, *UNTHROTTLED]) == 0

    capsys.readouterr()
    assert [e["status"] for e in read_report(report)] == ["created"] * 7
    assert sorted(emails_on(account)) == sorted(emails)
    assert creates_by_email(account) == Counter(emails)  # one create per email, in all


async def test_limit_counts_every_data_row_invalid_ones_too(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path
) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [("a@example.com", "A"), ("not-an-email", "X"), ("b@example.com", "B")],
    )
    journal = tmp_path / "journal.sqlite3"

    sample = await migrate(client, read_csv(source), journal=journal, limit=2, **FAST)

    assert (sample.rows, sample.created, sample.invalid) == (2, 1, 1)
    rest = await migrate(client, read_csv(source), journal=journal, **FAST)
    assert (rest.rows, rest.created, rest.already_done, rest.invalid) == (3, 2, 1, 1)
    assert sorted(emails_on(emulator)) == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize("limit", [0, -1, 1.5, True])
async def test_a_bad_limit_is_refused_before_anything_is_sent(
    emulator: RunningEmulator, client: AsyncClient, tmp_path: Path, limit: object
) -> None:
    source = write_csv(tmp_path / "in.csv", [("a@example.com", "A")])
    with pytest.raises(CheckoutArgumentError, match="limit"):
        await migrate(client, read_csv(source), journal=tmp_path / "j", limit=limit, **FAST)  # type: ignore[arg-type]
    assert emulator.requests() == []


def test_limit_0_on_the_command_line_is_a_usage_error(
    account: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(tmp_path / "in.csv", [("a@example.com", "A")])
    with pytest.raises(SystemExit) as exit_info:
        main(["migrate", str(source), "--limit", "0"])
    assert exit_info.value.code == 2
    assert "--limit" in capsys.readouterr().err


def test_help_shows_each_planning_option_with_an_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["migrate", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "e.g. `migrate customers.csv --dry-run --report plan.jsonl`" in text
    assert "e.g. `--limit 100`" in text
    assert "{skip,update}" in text
    assert "e.g. `--on-existing update`" in text
    assert "metadata is replaced, not merged" in text
