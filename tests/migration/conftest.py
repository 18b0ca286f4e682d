"""Fixtures for the migration tests: an emulator without rate limits, a client, input files.

Migrations here run unthrottled (`read_rate=None, write_rate=None`) against an emulator on a
thread of its own, over real loopback sockets, so that the suite stays fast; the 100/s account
limits are exercised by `benchmarks/bench_migration.py`.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from checkout_customers import AsyncClient
from checkout_customers.emulator import RunningEmulator, emulator_thread

FAST = {"read_rate": None, "write_rate": None, "settle_seconds": 0.2}
#: The same for the command line.
UNTHROTTLED = ("--write-rate", "none", "--read-rate", "none", "--settle-seconds", "0.2")


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with emulator_thread() as running:
        yield running


@pytest.fixture
async def client(emulator: RunningEmulator) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
        yield cko


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def account(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """The emulator, configured as the account of the in-process command line."""
    for name in list(os.environ):
        if name.startswith("CKO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CKO_SECRET_KEY", emulator.secret_key)
    monkeypatch.setenv("CKO_BASE_URL", emulator.base_url)
    return emulator


def write_csv(
    path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = ("email", "name")
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, objects: Iterable[Mapping[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for item in objects:
            stream.write(json.dumps(item) + "\n")
    return path


def read_report(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        return sorted((json.loads(line) for line in stream), key=lambda entry: entry["line"])


def emails_on(emulator: RunningEmulator) -> list[str]:
    return [str(customer["email"]).lower() for customer in emulator.customers()]


def cli_env(emulator: RunningEmulator | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CKO_")}
    if emulator is not None:
        env["CKO_SECRET_KEY"] = emulator.secret_key
        env["CKO_BASE_URL"] = emulator.base_url
    return env


def cli_command(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from checkout_customers.cli import main; sys.exit(main())",
        *args,
    ]


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
