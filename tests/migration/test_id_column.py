"""`--id-column`: the input's own id of each row, in the report (`source_id`), the journal, and
with `--id-metadata-key` in the customer's metadata."""

from __future__ import annotations

import contextlib
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import MigrationInputError, migrate, read_csv, read_jsonl

from .conftest import (
    FAST,
    UNTHROTTLED,
    cli_command,
    cli_env,
    read_report,
    run_cli,
    write_csv,
    write_jsonl,
)


def journal_source_ids(journal: Path) -> dict[str, str | None]:
    with contextlib.closing(sqlite3.connect(journal)) as connection:
        return dict(connection.execute("SELECT email, source_id FROM rows").fetchall())


async def test_the_report_maps_each_source_id_to_its_customer_and_nothing_extra_is_sent(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [
            ["L-1", "a@example.com", "A"],
            ["L-2", "not-an-email", "B"],
            ["L-3", "a@example.com", "A again"],
            ["", "c@example.com", "C"],
            ["L-5", "d@example.com", "D"],
        ],
        header=(" Legacy_ID ", "email", "name"),
    )
    report_path = tmp_path / "report.jsonl"
    report = await migrate(
        client, read_csv(source, id_column="legacy_id"), journal=journal, report=report_path, **FAST
    )
    assert (report.created, report.invalid, report.duplicate) == (2, 2, 1)
    entries = {entry["line"]: entry for entry in read_report(report_path)}
    customers = {str(c["email"]): c for c in emulator.customers()}
    assert entries[2]["source_id"] == "L-1"
    assert entries[2]["customer_id"] == customers["a@example.com"]["id"]
    assert entries[6]["customer_id"] == customers["d@example.com"]["id"]
    assert entries[6]["source_id"] == "L-5"
    assert (entries[3]["status"], entries[3]["source_id"]) == ("invalid", "L-2")
    assert (entries[4]["status"], entries[4]["source_id"]) == ("duplicate", "L-3")
    assert entries[5]["status"] == "invalid"
    assert entries[5]["error"] == "the id column `Legacy_ID` is empty"
    assert "source_id" not in entries[5]
    assert [customer.get("metadata") for customer in customers.values()] == [None, None]
    assert journal_source_ids(journal) == {"a@example.com": "L-1", "d@example.com": "L-5"}

    # A rerun reports the same mapping for the rows an earlier run finished.
    again_path = tmp_path / "again.jsonl"
    again = await migrate(
        client, read_csv(source, id_column="legacy_id"), journal=journal, report=again_path, **FAST
    )
    assert again.already_done == 2
    mapping = {
        e["source_id"]: e["customer_id"] for e in read_report(again_path) if e["customer_id"]
    }
    assert mapping == {
        "L-1": customers["a@example.com"]["id"],
        "L-5": customers["d@example.com"]["id"],
    }


async def test_id_metadata_key_stores_the_id_and_counts_toward_the_ten_pairs(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    nine = [f"metadata.k{n}" for n in range(9)]
    ten = [*nine, "metadata.k9"]
    header = ("id", "email", *ten)
    source = write_csv(
        tmp_path / "in.csv",
        [
            ["7", "nine@example.com", *["v"] * 9, ""],  # 9 pairs + the id: 10, allowed
            ["8", "ten@example.com", *["v"] * 10],  # 10 pairs + the id: 11, refused
        ],
        header=header,
    )
    clash = write_csv(
        tmp_path / "clash.csv",
        [["9", "clash@example.com", "other"]],
        header=("id", "email", "metadata.old_id"),
    )
    report_path = tmp_path / "report.jsonl"
    report = await migrate(
        client,
        read_csv(source, id_column="id", id_metadata_key="old_id"),
        journal=journal,
        report=report_path,
        **FAST,
    )
    assert (report.created, report.invalid) == (1, 1)
    [customer] = emulator.customers()
    assert customer["metadata"] == {**{f"k{n}": "v" for n in range(9)}, "old_id": "7"}
    [refused] = [e for e in read_report(report_path) if e["status"] == "invalid"]
    assert refused["source_id"] == "8"
    assert refused["error"] == (
        "metadata: with the source id under 'old_id' the row has 11 pairs, more than the 10 "
        "the API allows"
    )

    clash_report = tmp_path / "clash.jsonl"
    await migrate(
        client,
        read_csv(clash, id_column="id", id_metadata_key="old_id"),
        journal=tmp_path / "clash.sqlite3",
        report=clash_report,
        **FAST,
    )
    [entry] = read_report(clash_report)
    assert entry["status"] == "invalid"
    assert "gives 'old_id' the value 'other'" in entry["error"]
    assert len(emulator.customers()) == 1


async def test_a_jsonl_id_field_is_taken_out_of_the_request(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"legacy": 101, "email": "a@example.com", "metadata": {"tier": "gold"}},
            {"legacy": "x-2", "email": "b@example.com"},
            {"email": "c@example.com"},
            {"legacy": True, "email": "d@example.com"},
        ],
    )
    report_path = tmp_path / "report.jsonl"
    report = await migrate(
        client,
        read_jsonl(source, id_field="legacy", id_metadata_key="legacy"),
        journal=journal,
        report=report_path,
        **FAST,
    )
    assert (report.created, report.invalid) == (2, 2)
    stored = {str(c["email"]): c.get("metadata") for c in emulator.customers()}
    assert stored == {
        "a@example.com": {"tier": "gold", "legacy": "101"},
        "b@example.com": {"legacy": "x-2"},
    }
    entries = read_report(report_path)
    assert [e.get("source_id") for e in entries] == ["101", "x-2", None, None]
    assert entries[2]["error"] == "the id field 'legacy' is missing"
    assert entries[3]["error"] == "the id field 'legacy' is not a string or integer (True)"


def test_a_missing_id_column_or_a_key_without_a_column_is_refused_before_any_request(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = write_csv(
        tmp_path / "in.csv", [["L-1", "a@example.com"]], header=("legacy_id", "email")
    )
    with pytest.raises(
        MigrationInputError, match=r"no id column `legacy` .*did you mean `legacy_id`"
    ):
        read_csv(source, id_column="legacy")
    with pytest.raises(MigrationInputError, match="id_metadata_key: needs the id column"):
        read_csv(source, id_metadata_key="old")
    missing = run_cli("migrate", str(source), "--id-column", "legacy", env=cli_env(emulator))
    assert missing.returncode == 2
    assert "did you mean `legacy_id`?" in missing.stderr
    alone = run_cli("migrate", str(source), "--id-metadata-key", "old", env=cli_env(emulator))
    assert alone.returncode == 2
    assert "--id-metadata-key needs --id-column" in alone.stderr
    assert emulator.customers() == []


async def test_a_journal_of_the_first_format_is_upgraded_and_resumed(
    client: AsyncClient, emulator: RunningEmulator, tmp_path: Path, journal: Path
) -> None:
    source = write_csv(tmp_path / "in.csv", [["a@example.com", "A"]])
    await migrate(client, read_csv(source), journal=journal, **FAST)
    with sqlite3.connect(journal) as connection:  # as an earlier version wrote it
        connection.execute("ALTER TABLE rows DROP COLUMN source_id")
        connection.execute("ALTER TABLE rows DROP COLUMN applied")
        connection.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    connection.close()
    with_ids = write_csv(
        tmp_path / "ids.csv",
        [["L-1", "a@example.com", "A"], ["L-2", "b@example.com", "B"]],
        header=("id", "email", "name"),
    )
    report = await migrate(client, read_csv(with_ids, id_column="id"), journal=journal, **FAST)
    assert (report.created, report.already_done) == (2, 1)
    assert len(emulator.customers()) == 2
    assert journal_source_ids(journal) == {"a@example.com": "L-1", "b@example.com": "L-2"}


@pytest.mark.slow
def test_the_resume_hint_repeats_the_id_options(emulator: RunningEmulator, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        [[f"L{n}", f"c{n}@example.com"] for n in range(1000)],
        header=("ref", "email"),
    )
    report = tmp_path / "report.jsonl"
    process = subprocess.Popen(
        cli_command(
            "migrate",
            str(source),
            "--id-column",
            "ref",
            "--id-metadata-key",
            "ref",
            "--report",
            str(report),
            "--write-rate",
            "100",
        ),
        env=cli_env(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(emulator.customers()) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    command = re.search(r"to resume, run the same command:\n  (.*)", out)
    assert command is not None, out
    assert "--id-column ref --id-metadata-key ref" in command.group(1)
    resumed = run_cli(
        "migrate",
        str(source),
        "--id-column",
        "ref",
        "--id-metadata-key",
        "ref",
        "--report",
        str(report),
        *UNTHROTTLED,
        env=cli_env(emulator),
    )
    assert resumed.returncode == 0, resumed.stderr
    entries = read_report(report)
    assert len(entries) == 1000
    by_id = {str(c["metadata"]["ref"]): c["id"] for c in emulator.customers()}
    assert {e["source_id"]: e["customer_id"] for e in entries} == by_id
    assert len(by_id) == 1000
