"""A secret pasted into any argument is never echoed by an error, through either client."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from checkout_customers import (
    AsyncClient,
    CheckoutApiError,
    CheckoutArgumentError,
    CheckoutConnectionError,
    Client,
)

from .conftest import CUSTOMER_ID, SECRET_KEY
from .peers import CLIENT_KINDS, app_server, client

CLIENT_SECRET = "Zq8vT2mWx9pLr4Kd"  # shapeless: only known because it was given
PUBLIC_KEY = "pk_sbox_xwz4y3n6ghzf2ewbarc5p7mphqa"
TOKEN = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjbGkifQ.c2lnbmF0dXJl"
PROXY_PASSWORD = "hunter2-proxy-pass"


def _texts(error: BaseException) -> str:
    """Every message and repr along the exception's chain."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(seen.args)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


@pytest.mark.parametrize("make", [AsyncClient, Client])
@pytest.mark.parametrize(
    ("arguments", "secret"),
    [
        ({"secret_key": SECRET_KEY, "prefix": SECRET_KEY}, SECRET_KEY),
        ({"secret_key": SECRET_KEY, "environment": SECRET_KEY}, SECRET_KEY),
        ({"secret_key": SECRET_KEY, "base_url": SECRET_KEY}, SECRET_KEY),
        ({"secret_key": SECRET_KEY, "base_url": f"https://{SECRET_KEY}@x.test"}, SECRET_KEY),
        (
            {"secret_key": SECRET_KEY, "prefix": SECRET_KEY.removeprefix("sk_sbox_")},
            SECRET_KEY.removeprefix("sk_sbox_"),
        ),
        ({"secret_key": PUBLIC_KEY, "prefix": "abcd1234"}, PUBLIC_KEY),
        ({"secret_key": SECRET_KEY, "prefix": PUBLIC_KEY}, PUBLIC_KEY),
        ({"secret_key": SECRET_KEY, "base_url": TOKEN}, TOKEN.split()[1]),
        (
            {
                "client_id": "cli_abcdefghijkl",
                "client_secret": CLIENT_SECRET,
                "prefix": CLIENT_SECRET,
            },
            CLIENT_SECRET,
        ),
        (
            {"client_id": CLIENT_SECRET, "client_secret": CLIENT_SECRET, "prefix": "abcd1234"},
            CLIENT_SECRET,
        ),
        ({"secret_key": SECRET_KEY, "prefix": "abcd1234", "proxy": SECRET_KEY}, SECRET_KEY),
        (
            {
                "secret_key": SECRET_KEY,
                "prefix": "abcd1234",
                "proxy": f"socks5://user:{PROXY_PASSWORD}@proxy:1080",
            },
            PROXY_PASSWORD,
        ),
    ],
    ids=[
        "key-as-prefix",
        "key-as-environment",
        "key-as-base-url",
        "key-in-base-url",
        "key-body-as-prefix",
        "public-key-as-secret-key",
        "public-key-as-prefix",
        "token-as-base-url",
        "client-secret-as-prefix",
        "client-secret-as-client-id",
        "key-as-proxy",
        "proxy-password",
    ],
)
def test_a_secret_in_the_wrong_argument_is_masked(
    make: type, arguments: dict[str, Any], secret: str
) -> None:
    with pytest.raises(CheckoutArgumentError) as raised:
        make(**arguments)
    assert secret not in _texts(raised.value)
    assert raised.value.field is not None


@pytest.mark.parametrize("make", [AsyncClient, Client])
def test_a_secret_in_an_environment_variable_is_masked(
    make: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CKO_PREFIX", SECRET_KEY)
    with pytest.raises(CheckoutArgumentError, match="prefix") as raised:
        make()
    assert SECRET_KEY not in _texts(raised.value)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_proxy_credentials_are_not_in_a_connection_error(kind: str) -> None:
    proxy = f"http://user:{PROXY_PASSWORD}@127.0.0.1:9"  # nothing listens on port 9
    async with client(kind, "http://127.0.0.1:9", proxy=proxy, max_retries=0) as api:
        with pytest.raises(CheckoutConnectionError) as raised:
            await api.customers.get(CUSTOMER_ID)
    assert PROXY_PASSWORD not in _texts(raised.value)
    assert "proxy" in str(raised.value)


def test_a_client_shows_no_proxy_credentials() -> None:
    proxy = f"http://user:{PROXY_PASSWORD}@127.0.0.1:3128"
    cko = AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234", proxy=proxy)
    assert PROXY_PASSWORD not in repr(cko)
    assert PROXY_PASSWORD not in repr(cko._config)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_secret_in_an_answer_is_masked_in_the_error(kind: str) -> None:
    location = f"https://user:{PROXY_PASSWORD}@elsewhere.test/login?key={SECRET_KEY}"
    app = web.Application()

    async def moved(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": location})

    app.router.add_get("/customers/{id}", moved)
    async with app_server(app) as base_url, client(kind, base_url) as api:
        with pytest.raises(CheckoutApiError) as raised:
            await api.customers.get(CUSTOMER_ID)
    assert "elsewhere.test/login" in str(raised.value)
    assert SECRET_KEY not in _texts(raised.value)
    assert PROXY_PASSWORD not in _texts(raised.value)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_key_passed_where_an_identifier_belongs_is_masked(kind: str) -> None:
    async with client(kind, "http://127.0.0.1:9") as api:
        for pasted in (SECRET_KEY, TOKEN):
            with pytest.raises(CheckoutArgumentError, match="neither a customer id") as raised:
                await api.customers.get(pasted)
            assert pasted.split()[-1] not in _texts(raised.value)
