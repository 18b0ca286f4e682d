"""Outages: an API that cannot be reached at the start stops the run at once; one that goes
away mid-run pauses it (circuit breaker), and no row is burnt into `failed` meanwhile."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from checkout_customers import AsyncClient
from checkout_customers.migration import ApiUnreachableError, RowResult, RowStatus, migrate
from checkout_customers.migration._journal import Journal

from .scripted_api import Act, ScriptedApi

UNPACED = {"read_rate": None, "write_rate": None, "settle_seconds": 0.2}


@pytest.fixture
async def api() -> AsyncIterator[ScriptedApi]:
    async with ScriptedApi() as running:
        yield running


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_api_refusing_connections_at_the_start_stops_the_run_within_seconds(
    journal: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.jsonl"
    rows = [{"email": f"p{n}@example.com"} for n in range(300)]
    started = time.monotonic()
    async with AsyncClient(
        secret_key="sk_sbox_scripted_key", base_url=f"http://127.0.0.1:{closed_port()}"
    ) as cko:
        with pytest.raises(ApiUnreachableError) as raised:
            await asyncio.wait_for(migrate(cko, rows, journal=journal, report=report), 30)
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "127.0.0.1" in message
    assert "could not connect to 127.0.0.1 (Connection refused)" in message
    assert "\n" not in message
    assert not report.exists()  # nothing is reported failed: nothing is reported at all
    opened = Journal(journal, target="http://127.0.0.1:1")
    try:
        assert await opened.claim([]) == []
    finally:
        opened.close()


async def test_an_unknown_host_names_the_host(journal: Path) -> None:
    async with AsyncClient(
        secret_key="sk_sbox_scripted_key", base_url="https://no-such-host.invalid"
    ) as cko:
        with pytest.raises(ApiUnreachableError, match=r"no-such-host\.invalid"):
            await asyncio.wait_for(migrate(cko, [{"email": "a@example.com"}], journal=journal), 30)


async def test_an_api_answering_503_to_everything_mid_run_pauses_the_run_without_failing_rows(
    api: ScriptedApi, journal: Path
) -> None:
    rows = [{"email": f"p{n}@example.com"} for n in range(120)]
    pauses: list[str | None] = []
    results: list[RowResult] = []

    def progress(result: RowResult) -> None:
        results.append(result)
        if len(results) == 40:
            api.down = True
            asyncio.get_running_loop().call_later(1.5, setattr, api, "down", False)

    async with AsyncClient(secret_key="sk_sbox_scripted_key", base_url=api.base_url) as cko:
        report = await migrate(
            cko,
            rows,
            journal=journal,
            concurrency=8,
            max_attempts=1,  # without the breaker, the outage would fail rows at once
            progress=progress,
            on_pause=pauses.append,
            **UNPACED,
        )
    assert (report.created, report.failed) == (120, 0)
    assert sum(api.created.values()) == 120
    assert max(api.created.values()) == 1
    assert pauses[0] is not None
    assert "503" in pauses[0]
    assert pauses[-1] is None
    during = [entry for entry in api.log if entry[3] is Act.ANSWER_503]
    assert len(during) < 40  # the breaker probes; it does not hammer the API


async def test_an_api_that_stops_listening_mid_run_is_waited_for(
    api: ScriptedApi, journal: Path
) -> None:
    rows = [{"email": f"p{n}@example.com"} for n in range(80)]
    pauses: list[str | None] = []
    results: list[RowResult] = []
    loop = asyncio.get_running_loop()
    outage: list[asyncio.Task[None]] = []

    async def hang_up_for_a_while() -> None:
        await api.hang_up()
        await asyncio.sleep(1.5)
        await api.listen()

    def progress(result: RowResult) -> None:
        results.append(result)
        if len(results) == 20:
            outage.append(loop.create_task(hang_up_for_a_while()))

    async with AsyncClient(secret_key="sk_sbox_scripted_key", base_url=api.base_url) as cko:
        report = await migrate(
            cko,
            rows,
            journal=journal,
            concurrency=4,
            max_attempts=1,
            progress=progress,
            on_pause=pauses.append,
            **UNPACED,
        )
    await asyncio.gather(*outage)
    assert (report.created, report.failed) == (80, 0)
    assert max(api.created.values()) == 1
    assert any(pause is not None for pause in pauses)
    assert pauses[-1] is None
    assert all(result.status is RowStatus.CREATED for result in results)
