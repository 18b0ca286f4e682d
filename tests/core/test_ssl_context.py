"""`ssl_context=`: trusting a CA of one's own (a proxy re-signing HTTPS), never less verification.

The API is `RecordingPeer` served over TLS with a `trustme` certificate for `localhost`, which
no system trusts; `ca_context` is the default context plus that CA, as a user behind a
re-signing corporate proxy would build it. Both clients take it, for the API, the OAuth token
endpoint and inside a `CONNECT` tunnel (`peers.ConnectProxy`).
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web

from checkout_customers import AsyncClient, CheckoutArgumentError, CheckoutConnectionError, Client

from ..peers import CUSTOMER_ID, RecordingPeer
from .conftest import SECRET_KEY
from .peers import CLIENT_KINDS, ConnectProxy, client, tls_app_server

CLIENT_ID = "cli_abcd1234efgh5678"
CLIENT_SECRET = "very-secret-client-secret"
ACCESS_TOKEN = "token-over-verified-tls"


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_context_trusting_the_ca_gets_a_customer_over_verified_tls(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext
) -> None:
    api = RecordingPeer()
    async with (
        tls_app_server(api.app(), ca) as base_url,
        client(kind, base_url, ssl_context=ca_context) as cko,
    ):
        customer = await cko.customers.get(CUSTOMER_ID)
        # A client made by with_options shares the pool, so the context, too.
        fast = cko.with_options(timeout=5, max_retries=0)
        again = await fast.customers.get(CUSTOMER_ID)
    assert customer.id == again.id == CUSTOMER_ID
    assert [request.path for request in api.requests] == [f"/customers/{CUSTOMER_ID}"] * 2


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_context_trusting_the_ca_works_inside_a_connect_tunnel(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext
) -> None:
    api = RecordingPeer()
    async with (
        tls_app_server(api.app(), ca) as base_url,
        ConnectProxy() as proxy,
        client(kind, base_url, proxy=proxy.url, ssl_context=ca_context) as cko,
    ):
        customer = await cko.customers.get(CUSTOMER_ID)
    assert customer.id == CUSTOMER_ID
    assert proxy.connects == [f"CONNECT {base_url.removeprefix('https://')} HTTP/1.1"]
    assert proxy.piped[:1] == b"\x16"  # TLS from end to end: the proxy saw a handshake
    assert SECRET_KEY.encode() not in proxy.piped
    assert len(api.requests) == 1


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_the_oauth_token_endpoint_is_verified_with_the_same_context(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext
) -> None:
    api = RecordingPeer()
    token_requests: list[str] = []

    async def token(request: web.Request) -> web.Response:
        token_requests.append(request.headers["Authorization"])
        return web.json_response(
            {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
        )

    app = api.app()
    app.router.add_post("/connect/token", token)
    options: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    async with (
        tls_app_server(app, ca) as base_url,
        client(kind, base_url, secret_key=None, ssl_context=ca_context, **options) as cko,
    ):
        customer = await cko.customers.get(CUSTOMER_ID)
    assert customer.id == CUSTOMER_ID
    assert len(token_requests) == 1
    assert token_requests[0].startswith("Basic ")
    assert api.headers[0]["Authorization"] == f"Bearer {ACCESS_TOKEN}"


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_without_a_context_the_ca_is_not_trusted(kind: str, ca: trustme.CA) -> None:
    api = RecordingPeer()
    async with (
        tls_app_server(api.app(), ca) as base_url,
        client(kind, base_url, max_retries=2) as cko,
    ):
        with pytest.raises(CheckoutConnectionError) as raised:
            await cko.customers.get(CUSTOMER_ID)
    assert str(raised.value).startswith("TLS certificate verification failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in str(raised.value)
    assert api.requests == []


def _without_hostname_check(context: ssl.SSLContext) -> ssl.SSLContext:
    context.check_hostname = False
    return context


def _without_verification(context: ssl.SSLContext) -> ssl.SSLContext:
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _optional_verification(context: ssl.SSLContext) -> ssl.SSLContext:
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize(
    ("weaken", "reason"),
    [
        (_without_hostname_check, "must verify certificates and host names"),
        (_without_verification, "must verify certificates and host names"),
        (_optional_verification, "must verify certificates and host names"),
        # A server's context (what tls_app_server uses) verifies nothing by default.
        (
            lambda _: ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
            "must verify certificates and host names",
        ),
        (lambda _: "/etc/ssl/certs/company-ca.pem", "must be an ssl.SSLContext"),
        (lambda _: True, "must be an ssl.SSLContext"),
        (lambda _: False, "must be an ssl.SSLContext"),
    ],
    ids=["no-hostname", "cert-none", "cert-optional", "server-side", "path", "true", "false"],
)
async def test_a_context_that_does_not_verify_is_refused_before_anything_is_sent(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext, weaken: Any, reason: str
) -> None:
    api = RecordingPeer()
    async with tls_app_server(api.app(), ca) as base_url:
        with pytest.raises(CheckoutArgumentError) as raised:
            async with client(kind, base_url, ssl_context=weaken(ca_context)) as cko:
                await cko.customers.get(CUSTOMER_ID)
    assert raised.value.field == "ssl_context"
    assert str(raised.value).startswith(f"ssl_context: {reason}")
    assert "create_default_context(cafile=...)" in str(raised.value)
    assert api.requests == []


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_context_weakened_after_it_was_given_is_refused_before_the_next_request(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext
) -> None:
    api = RecordingPeer()
    async with (
        tls_app_server(api.app(), ca) as base_url,
        client(kind, base_url, ssl_context=ca_context) as cko,
    ):
        await cko.customers.get(CUSTOMER_ID)
        # The context object is the caller's, and mutable: editing it must not weaken the
        # connection the client promised to verify.
        ca_context.check_hostname = False
        ca_context.verify_mode = ssl.CERT_NONE
        with pytest.raises(CheckoutArgumentError) as raised:
            await cko.customers.get(CUSTOMER_ID)
    assert raised.value.field == "ssl_context"
    assert str(raised.value).startswith("ssl_context: must verify certificates and host names")
    assert len(api.requests) == 1


async def test_a_session_of_ones_own_beside_a_context_is_refused(
    ca_context: ssl.SSLContext,
) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(CheckoutArgumentError) as raised:
            AsyncClient(
                secret_key=SECRET_KEY,
                base_url="https://localhost:9",
                session=session,
                ssl_context=ca_context,
            )
        assert not session.closed
    assert raised.value.field == "ssl_context"
    assert str(raised.value).startswith("ssl_context: cannot be combined with session=")


def test_the_sync_client_takes_no_session_but_takes_a_context(
    ca_context: ssl.SSLContext,
) -> None:
    with Client(secret_key=SECRET_KEY, base_url="https://localhost:9", ssl_context=ca_context):
        pass
    with pytest.raises(TypeError, match="session"):
        Client(secret_key=SECRET_KEY, session=object())  # type: ignore[call-arg]


def test_the_config_shows_a_context_is_given_without_its_address(
    ca_context: ssl.SSLContext,
) -> None:
    given = AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234", ssl_context=ca_context)
    default = AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234")
    assert "ssl_context=<ssl.SSLContext given>" in repr(given._config)
    assert "ssl_context=None" in repr(default._config)
    assert " at 0x" not in repr(given._config)
    assert SECRET_KEY not in repr(given._config)
