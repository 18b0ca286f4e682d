"""Proxies: `proxy=` and the standard environment variables, through a real forwarding proxy.

The API here is the emulator; the proxy (`peers.ForwardingProxy`) forwards plain-HTTP requests
on loopback and counts them, so each test sees which requests went through it.
"""

from __future__ import annotations

import base64

import pytest

from checkout_customers import AsyncClient, CheckoutArgumentError, Client
from checkout_customers.emulator import RunningEmulator

from .conftest import SECRET_KEY
from .peers import CLIENT_KINDS, ForwardingProxy, client

pytestmark = pytest.mark.parametrize("kind", CLIENT_KINDS)

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from an environment without proxy settings."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def _round_trip(api: object, email: str) -> None:
    created = await api.customers.create(email=email)  # type: ignore[attr-defined]
    found = await api.customers.get(created.id)  # type: ignore[attr-defined]
    assert found.email == email


async def test_proxy_argument_sends_every_request_through_the_proxy_with_its_credentials(
    kind: str, checkout_emulator: RunningEmulator
) -> None:
    async with ForwardingProxy() as proxy:
        with_credentials = proxy.url.replace("http://", "http://agent:s3cret-pass@")
        async with client(
            kind,
            checkout_emulator.base_url,
            secret_key=checkout_emulator.secret_key,
            proxy=with_credentials,
        ) as api:
            await _round_trip(api, "proxied@example.com")
    base = checkout_emulator.base_url
    assert proxy.requests[0] == f"POST {base}/customers"
    assert proxy.requests[1].startswith(f"GET {base}/customers/cus_")
    assert len(proxy.requests) == 2
    expected = "Basic " + base64.b64encode(b"agent:s3cret-pass").decode()
    assert proxy.proxy_authorizations == [expected, expected]


async def test_http_proxy_from_the_environment_is_honoured(
    kind: str, checkout_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardingProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with client(
            kind, checkout_emulator.base_url, secret_key=checkout_emulator.secret_key
        ) as api:
            await _round_trip(api, "env-proxied@example.com")
    assert len(proxy.requests) == 2


async def test_lower_case_variables_win_and_all_proxy_is_a_fallback(
    kind: str, checkout_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardingProxy() as used, ForwardingProxy() as ignored:
        monkeypatch.setenv("http_proxy", used.url)
        monkeypatch.setenv("HTTP_PROXY", ignored.url)
        async with client(
            kind, checkout_emulator.base_url, secret_key=checkout_emulator.secret_key
        ) as api:
            await _round_trip(api, "lower@example.com")
        monkeypatch.delenv("http_proxy")
        monkeypatch.delenv("HTTP_PROXY")
        monkeypatch.setenv("ALL_PROXY", used.url)
        async with client(
            kind, checkout_emulator.base_url, secret_key=checkout_emulator.secret_key
        ) as api:
            await _round_trip(api, "all@example.com")
    assert len(used.requests) == 4
    assert ignored.requests == []


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*", "localhost,127.0.0.1", ".0.0.1"])
async def test_no_proxy_sends_matching_hosts_directly(
    kind: str,
    checkout_emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    no_proxy: str,
) -> None:
    async with ForwardingProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        async with client(
            kind, checkout_emulator.base_url, secret_key=checkout_emulator.secret_key
        ) as api:
            await _round_trip(api, "direct@example.com")
    assert proxy.requests == []


async def test_no_proxy_for_other_hosts_still_proxies(
    kind: str, checkout_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardingProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "internal.example.com,10.0.0.1")
        async with client(
            kind, checkout_emulator.base_url, secret_key=checkout_emulator.secret_key
        ) as api:
            await _round_trip(api, "still-proxied@example.com")
    assert len(proxy.requests) == 2


async def test_trust_env_false_ignores_the_environment(
    kind: str, checkout_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardingProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with client(
            kind,
            checkout_emulator.base_url,
            secret_key=checkout_emulator.secret_key,
            trust_env=False,
        ) as api:
            await _round_trip(api, "no-env@example.com")
    assert proxy.requests == []


async def test_the_proxy_argument_wins_over_the_environment(
    kind: str, checkout_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ForwardingProxy() as explicit, ForwardingProxy() as from_env:
        monkeypatch.setenv("HTTP_PROXY", from_env.url)
        monkeypatch.setenv("NO_PROXY", "*")
        async with client(
            kind,
            checkout_emulator.base_url,
            secret_key=checkout_emulator.secret_key,
            proxy=explicit.url,
        ) as api:
            await _round_trip(api, "explicit@example.com")
    assert len(explicit.requests) == 2
    assert from_env.requests == []


def test_an_unusable_proxy_variable_is_named(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:pw-in-env@proxy:1080")
    make = AsyncClient if kind == "async" else Client
    with pytest.raises(CheckoutArgumentError, match="HTTPS_PROXY") as raised:
        make(secret_key=SECRET_KEY, prefix="abcd1234")
    assert "pw-in-env" not in str(raised.value)
    assert "trust_env=False" in str(raised.value)
