"""Two emulator processes sharing one `--db` never hold two customers with one email."""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from checkout_customers.emulator import DEFAULT_SECRET_KEY

_LAUNCH = "import sys; from checkout_customers.cli import main; sys.exit(main())"
EMAILS = [f"Race{index}@Example.com" for index in range(300)]
HEADERS = {"Authorization": f"Bearer {DEFAULT_SECRET_KEY}"}


def _start(db: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "emulator", "--db", str(db), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("listening on "), process.communicate(timeout=10)
    return process, line.split()[-1]


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr


async def _create_all(base_urls: list[str]) -> collections.Counter[int]:
    """Every email created on every emulator at once, interleaved; the statuses answered."""
    statuses: collections.Counter[int] = collections.Counter()
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(headers=HEADERS, connector=connector) as http:

        async def create(base_url: str, email: str) -> None:
            async with http.post(base_url + "/customers", json={"email": email}) as response:
                statuses[response.status] += 1

        await asyncio.gather(
            *(create(base_url, email) for email in EMAILS for base_url in base_urls)
        )
    return statuses


async def _customers(base_url: str) -> list[dict[str, str]]:
    async with (
        aiohttp.ClientSession(headers=HEADERS) as http,
        http.get(base_url + "/_emulator/customers") as response,
    ):
        customers: list[dict[str, str]] = json.loads(await response.read())["customers"]
        return customers


@pytest.mark.slow
@pytest.mark.parametrize(("flags", "refused"), [((), 409), (("422",), 422)])
def test_two_processes_on_one_db_create_each_email_once(
    tmp_path: Path, flags: tuple[str, ...], refused: int
) -> None:
    db = tmp_path / "shared.sqlite3"
    first, first_url = _start(db, "--reject-duplicate-emails", *flags)
    try:
        second, second_url = _start(db, "--reject-duplicate-emails", *flags)
        try:
            statuses = asyncio.run(_create_all([first_url, second_url]))
            seen_by_each = [asyncio.run(_customers(url)) for url in (first_url, second_url)]
        finally:
            _stop(second)
    finally:
        _stop(first)

    assert statuses == {201: len(EMAILS), refused: len(EMAILS)}
    for customers in seen_by_each:
        assert sorted(customer["email"] for customer in customers) == sorted(EMAILS)
