"""Fault injection seen from a raw client: what it receives, and what the emulator stored."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from checkout_customers.emulator import run_emulator

from .conftest import Api


async def test_fault_500_answers_without_acting(http: aiohttp.ClientSession) -> None:
    async with run_emulator(fault_500=1.0) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)

        status, headers, raw = await api.call("POST", "/customers", json={"email": "a@b.co"})

        assert (status, raw) == (500, b"")
        assert headers["Cko-Request-Id"]
        assert emulator.customers() == []


async def test_reset_before_acting_fails_the_request_and_stores_nothing(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(fault_reset_before_acting=1.0) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)

        with pytest.raises(aiohttp.ClientConnectionError):
            await api.call("POST", "/customers", json={"email": "a@b.co"})

        assert emulator.customers() == []


async def test_drop_after_acting_stores_the_customer_but_never_answers(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(fault_drop_after_acting=1.0) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)

        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.call("POST", "/customers", json={"email": "a@b.co"})

        assert emulator.count_customers_with_email("a@b.co") == 1


async def test_slow_after_acting_stores_first_and_answers_late(
    http: aiohttp.ClientSession,
) -> None:
    # Margins of a second, not tenths: on a busy machine the emulator (on this loop) may take
    # a few hundred milliseconds to get to a request.
    async with run_emulator(fault_slow_after_acting=1.0, fault_slow_ms=1500) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)

        with pytest.raises(asyncio.TimeoutError):
            await api.call(
                "POST",
                "/customers",
                json={"email": "a@b.co"},
                timeout=aiohttp.ClientTimeout(total=0.5),
            )
        assert emulator.count_customers_with_email("a@b.co") == 1

        started = time.monotonic()
        status, _, _ = await api.call("POST", "/customers", json={"email": "c@d.co"})
        assert status == 201
        assert time.monotonic() - started >= 1.5


async def test_late_acting_stores_the_customer_after_the_client_gave_up(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(fault_slow_before_acting=1.0, fault_slow_ms=1500) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)

        with pytest.raises(asyncio.TimeoutError):
            await api.call(
                "POST",
                "/customers",
                json={"email": "a@b.co"},
                timeout=aiohttp.ClientTimeout(total=0.5),
            )
        assert emulator.count_customers_with_email("a@b.co") == 0  # not yet
        await asyncio.sleep(1.5)
        assert emulator.count_customers_with_email("a@b.co") == 1


async def test_latency_is_added_to_every_api_request(http: aiohttp.ClientSession) -> None:
    async with run_emulator(latency_ms=150) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        started = time.monotonic()

        await api.call("GET", "/customers/" + "cus_" + "a" * 26)

        assert time.monotonic() - started >= 0.15


async def _statuses(http: aiohttp.ClientSession, seed: int) -> list[int]:
    async with run_emulator(fault_500=0.5, seed=seed) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        return [(await api.call("GET", "/customers/x%40y.co"))[0] for _ in range(40)]


async def test_faults_are_drawn_from_the_seed(http: aiohttp.ClientSession) -> None:
    first, again = await _statuses(http, seed=7), await _statuses(http, seed=7)

    assert first == again
    assert set(first) == {404, 500}


async def test_fault_rate_is_a_share_not_all_or_nothing(http: aiohttp.ClientSession) -> None:
    async with run_emulator(fault_500=0.25, seed=1) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        statuses = [(await api.call("GET", "/customers/x%40y.co"))[0] for _ in range(200)]

    assert 25 <= statuses.count(500) <= 75


async def test_faults_spare_the_token_and_admin_endpoints(http: aiohttp.ClientSession) -> None:
    async with run_emulator(fault_500=1.0) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)

        assert (await api.call("GET", "/_emulator/customers"))[0] == 200
