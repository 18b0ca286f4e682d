"""Time limits: refused when meaningless, and one call never outlives its deadline.

Peers on loopback trickle, stall or ask for long waits; each test runs through both clients.
"""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from aiohttp import web

from checkout_customers import (
    AsyncClient,
    CheckoutArgumentError,
    CheckoutTimeoutError,
    Client,
    RateLimitError,
    ServerError,
    Timeout,
)

from .conftest import CUSTOMER_ID, SECRET_KEY
from .peers import CLIENT_KINDS, app_server, client, raw_server

BAD_SECONDS = [math.nan, math.inf, -math.inf, -1, 0, True, "10"]


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
@pytest.mark.parametrize("field", ["total", "connect", "read", "pool", "deadline"])
def test_a_timeout_of_nan_infinite_or_negative_seconds_is_refused(
    field: str, value: object
) -> None:
    with pytest.raises(CheckoutArgumentError, match=f"timeout.{field}") as raised:
        Timeout(**{field: value})  # type: ignore[arg-type]
    assert raised.value.field == f"timeout.{field}"


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
@pytest.mark.parametrize("make", [AsyncClient, Client])
def test_both_clients_refuse_such_a_timeout_at_construction(make: type, value: object) -> None:
    with pytest.raises(CheckoutArgumentError, match="timeout"):
        make(secret_key=SECRET_KEY, base_url="http://127.0.0.1:9", timeout=value)


def test_the_default_worst_case_of_one_call_is_about_two_minutes() -> None:
    default = Timeout()
    assert default.deadline == 120.0
    assert default.total == 90.0  # one attempt may use most of it
    assert Timeout.of(300).deadline == 300.0  # a longer attempt is not cut by the default
    assert Timeout.of(5).deadline == 120.0


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_server_trickling_bytes_cannot_hold_a_call_past_its_deadline(kind: str) -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: 100000\r\n\r\n{")
        while True:  # each byte in time for the read timeout, never the whole body
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    # Without the deadline: 5 attempts of 1 s each, plus back-off.
    timeout = Timeout(total=1.0, read=0.5, deadline=1.5)
    async with (
        raw_server(trickle) as base_url,
        client(kind, base_url, timeout=timeout, max_retries=4) as api,
    ):
        started = time.monotonic()
        with pytest.raises(CheckoutTimeoutError, match=r"deadline of 1\.5 s") as raised:
            await api.customers.get(CUSTOMER_ID)
        elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.5
    assert "may have acted" not in str(raised.value)  # a GET cannot have acted


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_retry_after_beyond_the_deadline_is_not_waited_for(kind: str) -> None:
    hits: list[float] = []

    async def busy(request: web.Request) -> web.StreamResponse:
        hits.append(time.monotonic())
        return web.Response(status=429, headers={"Retry-After": "30"})

    app = web.Application()
    app.router.add_get("/customers/{id}", busy)
    async with (
        app_server(app) as base_url,
        client(kind, base_url, timeout=Timeout(total=5, deadline=10)) as api,
    ):
        started = time.monotonic()
        with pytest.raises(RateLimitError):
            await api.customers.get(CUSTOMER_ID)
    assert time.monotonic() - started < 2.0
    assert len(hits) == 1


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_retries_stop_at_the_deadline_however_many_are_allowed(kind: str) -> None:
    hits: list[float] = []

    async def slow_failure(request: web.Request) -> web.StreamResponse:
        hits.append(time.monotonic())
        await asyncio.sleep(0.3)
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/customers/{id}", slow_failure)
    async with (
        app_server(app) as base_url,
        client(kind, base_url, timeout=Timeout(total=5, deadline=1), max_retries=50) as api,
    ):
        started = time.monotonic()
        with pytest.raises((ServerError, CheckoutTimeoutError)):
            await api.customers.get(CUSTOMER_ID)
    assert time.monotonic() - started < 1.6
    assert 2 <= len(hits) <= 4


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_only_a_write_that_timed_out_says_the_api_may_have_acted(kind: str) -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    async with (
        raw_server(stall) as base_url,
        client(kind, base_url, max_retries=0, timeout=0.3) as api,
    ):
        with pytest.raises(CheckoutTimeoutError) as read:
            await api.customers.get(CUSTOMER_ID)
        with pytest.raises(CheckoutTimeoutError) as write:
            await api.customers.create(email="bruce@wayne.com")
    assert "may have acted" not in str(read.value)
    assert "may have acted" in str(write.value)
