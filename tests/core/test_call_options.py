"""Per-call `timeout=`, `headers=` and `max_retries=`, and `client.with_options(...)`, through
both clients against a recording peer on loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest

from checkout_customers import (
    AsyncClient,
    CheckoutArgumentError,
    CheckoutTimeoutError,
    ServerError,
    Timeout,
)

from ..peers import CLIENT_KINDS, CUSTOMER_ID, SECRET_KEY, RecordingPeer, open_client, serve

EMAIL = "bruce@wayne.com"


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def every_method(customers: Any, **options: Any) -> None:
    await customers.create(email=EMAIL, **options)
    await customers.get(CUSTOMER_ID, **options)
    await customers.get_or_create(email=EMAIL, **options)
    await customers.update(CUSTOMER_ID, name="Batman", **options)
    await customers.delete(CUSTOMER_ID, **options)
    await customers.with_raw_response.create(email=EMAIL, **options)
    await customers.with_raw_response.get(CUSTOMER_ID, **options)
    await customers.with_raw_response.update(CUSTOMER_ID, name="Batman", **options)
    await customers.with_raw_response.delete(CUSTOMER_ID, **options)


async def test_every_method_sends_the_extra_headers_of_the_call(kind: str) -> None:
    peer = RecordingPeer()
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        await every_method(cko.customers, headers={"X-Correlation-Id": "abc-123"})
        await cko.customers.get(CUSTOMER_ID)  # and only that call's

    assert len(peer.headers) == 10
    assert all(sent.get("X-Correlation-Id") == "abc-123" for sent in peer.headers[:-1])
    assert "X-Correlation-Id" not in peer.headers[-1]
    assert all(sent["Authorization"] == f"Bearer {SECRET_KEY}" for sent in peer.headers)


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION"])
async def test_authorization_cannot_be_overridden_per_call(kind: str, name: str) -> None:
    peer = RecordingPeer()
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(CheckoutArgumentError, match="headers") as caught:
            await cko.customers.get(CUSTOMER_ID, headers={name: "Bearer sk_sbox_someone_else"})
        with pytest.raises(CheckoutArgumentError, match="headers"):
            cko.with_options(headers={name: "Bearer sk_sbox_someone_else"})
    assert "someone_else" not in str(caught.value)
    assert peer.requests == []


async def test_a_per_call_timeout_is_honoured(kind: str) -> None:
    peer = RecordingPeer(delay=2.0)
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        started = time.monotonic()
        with pytest.raises(CheckoutTimeoutError):
            await cko.customers.get(CUSTOMER_ID, timeout=0.3, max_retries=0)
        assert time.monotonic() - started < 1.5
        started = time.monotonic()
        with pytest.raises(CheckoutTimeoutError):
            await cko.customers.get(CUSTOMER_ID, timeout=Timeout(0.3), max_retries=0)
        assert time.monotonic() - started < 1.5


async def test_a_per_call_max_retries_is_honoured(kind: str) -> None:
    peer = RecordingPeer(fail_first=10)
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(ServerError):
            await cko.customers.get(CUSTOMER_ID, max_retries=0)
        assert len(peer.requests) == 1
        with pytest.raises(ServerError):
            await cko.customers.get(CUSTOMER_ID, max_retries=3)
        assert len(peer.requests) == 5


async def test_bad_per_call_options_are_refused_before_sending(kind: str) -> None:
    peer = RecordingPeer()
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        for options in ({"timeout": float("nan")}, {"timeout": -1}, {"max_retries": -1}):
            with pytest.raises(CheckoutArgumentError):
                await cko.customers.get(CUSTOMER_ID, **options)
            with pytest.raises(CheckoutArgumentError):
                cko.with_options(**options)
    assert peer.requests == []


async def test_with_options_shares_one_connection_pool(kind: str) -> None:
    peer = RecordingPeer()
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        fast = cko.with_options(timeout=5, max_retries=0)
        traced = fast.with_options(headers={"X-Trace": "1"})
        for client in (cko, fast, traced, cko, traced):
            await client.customers.get(CUSTOMER_ID)
        async with open_client(kind, base_url) as other:  # a second client: a second pool
            await other.customers.get(CUSTOMER_ID)

    assert len(set(peer.ports[:5])) == 1  # every call of the family on one connection
    assert peer.ports[5] not in peer.ports[:5]


async def test_with_options_changes_only_the_defaults_of_the_new_client(kind: str) -> None:
    peer = RecordingPeer(fail_first=1)
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        strict = cko.with_options(max_retries=0, headers={"X-Trace": "1"})
        with pytest.raises(ServerError):
            await strict.customers.get(CUSTOMER_ID)  # no retry of the 503
        peer.fail_first = 2
        customer = await cko.customers.get(CUSTOMER_ID)  # the original still retries
        traced = strict.with_options(headers={"X-Span": "2"})  # headers add up
        await traced.customers.get(CUSTOMER_ID, headers={"X-Call": "3"})

    assert customer.id == CUSTOMER_ID
    assert [sent.get("X-Trace") for sent in peer.headers] == ["1", None, None, "1"]
    last = peer.headers[3]
    assert (last.get("X-Trace"), last.get("X-Span"), last.get("X-Call")) == ("1", "2", "3")


async def test_closing_a_derived_client_leaves_the_shared_pool_open(kind: str) -> None:
    peer = RecordingPeer()
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        async with cko.with_options(timeout=5) as derived:
            await derived.customers.get(CUSTOMER_ID)
        await derived.aclose()  # again: still nothing closed
        await cko.customers.get(CUSTOMER_ID)
        await derived.customers.get(CUSTOMER_ID)
    assert len(set(peer.ports)) == 1
    with pytest.raises(RuntimeError, match="closed"):
        await derived.customers.get(CUSTOMER_ID)  # the pool closed with the original


async def test_the_async_original_is_unchanged_by_with_options() -> None:
    async with AsyncClient(secret_key=SECRET_KEY, base_url="http://127.0.0.1:9") as cko:
        derived = cko.with_options(timeout=3, max_retries=0, headers={"X-Trace": "1"})
        assert cko._config.max_retries == 2
        assert cko._config.timeout != derived._config.timeout
        assert derived._config.max_retries == 0
        assert derived.base_url == cko.base_url
