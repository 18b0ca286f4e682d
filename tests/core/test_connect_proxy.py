"""HTTPS to the API through an HTTP proxy's `CONNECT` tunnel, on real sockets.

The API is `RecordingPeer` served over TLS with a throwaway `trustme` certificate for
`localhost`; the proxy (`peers.ConnectProxy`) records each CONNECT and every byte it relays.
Both clients trust the test CA through `ssl_context=` (`ca_context`); one test takes the other
supported route of async code, a caller-owned `session=` whose connector trusts it, and one the
command line's, `SSL_CERT_FILE` in a fresh process (OpenSSL reads it when aiohttp builds its
default context, at import).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import trustme

from checkout_customers import AsyncClient, CheckoutConnectionError

from ..peers import CUSTOMER_ID, RecordingPeer
from ..sync.conftest import REPO_ROOT, python_flags
from .conftest import SECRET_KEY
from .peers import CLIENT_KINDS, ConnectProxy, client, tls_app_server

PROXY_USER, PROXY_PASSWORD = "agent", "s3cret-proxy-pass"
PROXY_BASIC = "Basic " + base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test from an environment without proxy settings."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
async def trusting_session(ca_context: ssl.SSLContext) -> AsyncIterator[aiohttp.ClientSession]:
    """A caller-owned session whose connector verifies certificates against the test CA."""
    connector = aiohttp.TCPConnector(ssl=ca_context)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


def _authority(base_url: str) -> str:
    return base_url.removeprefix("https://")


def _assert_tunnelled_without_secrets(proxy: ConnectProxy, api: RecordingPeer) -> None:
    """The proxy relayed TLS records only: no secret key, no request in the clear."""
    assert proxy.piped[:1] == b"\x16"  # a TLS handshake record opens the tunnel
    assert SECRET_KEY.encode() not in proxy.piped
    assert b"/customers" not in proxy.piped
    for headers in proxy.headers:
        assert "Authorization" not in headers
        assert SECRET_KEY not in str(headers)
    # The proxy's credentials are for the proxy: they never travel inside the tunnel.
    assert all("Proxy-Authorization" not in headers for headers in api.headers)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_get_through_a_connect_tunnel_reaches_the_api_over_verified_tls(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext
) -> None:
    api = RecordingPeer()
    async with tls_app_server(api.app(), ca) as base_url, ConnectProxy() as proxy:
        proxy_url = proxy.url_with_credentials(PROXY_USER, PROXY_PASSWORD)
        async with client(kind, base_url, proxy=proxy_url, ssl_context=ca_context) as cko:
            customer = await cko.customers.get(CUSTOMER_ID)
    assert customer.id == CUSTOMER_ID
    assert proxy.connects == [f"CONNECT {_authority(base_url)} HTTP/1.1"]
    assert proxy.headers[0]["Proxy-Authorization"] == PROXY_BASIC
    assert [request.path for request in api.requests] == [f"/customers/{CUSTOMER_ID}"]
    assert api.headers[0]["Authorization"] == f"Bearer {SECRET_KEY}"
    _assert_tunnelled_without_secrets(proxy, api)


async def test_a_session_of_ones_own_goes_through_the_tunnel_with_its_own_tls(
    ca: trustme.CA, trusting_session: aiohttp.ClientSession
) -> None:
    api = RecordingPeer()
    async with tls_app_server(api.app(), ca) as base_url, ConnectProxy() as proxy:
        proxy_url = proxy.url_with_credentials(PROXY_USER, PROXY_PASSWORD)
        async with AsyncClient(
            secret_key=SECRET_KEY, base_url=base_url, proxy=proxy_url, session=trusting_session
        ) as cko:
            customer = await cko.customers.get(CUSTOMER_ID)
        assert not trusting_session.closed  # the caller's to close
        # Closed while the tunnel is up, as a caller would: on Python 3.10 a TLS connection
        # whose tunnel the proxy closed first is left for the garbage collector (a warning).
        await trusting_session.close()
    assert customer.id == CUSTOMER_ID
    assert proxy.connects == [f"CONNECT {_authority(base_url)} HTTP/1.1"]
    _assert_tunnelled_without_secrets(proxy, api)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_an_untrusted_certificate_behind_the_tunnel_fails_verification_once(
    kind: str, ca: trustme.CA
) -> None:
    # The client's own session trusts the system's CAs only, not the test CA.
    api = RecordingPeer()
    async with (
        tls_app_server(api.app(), ca) as base_url,
        ConnectProxy() as proxy,
        client(kind, base_url, proxy=proxy.url, max_retries=3) as cko,
    ):
        with pytest.raises(CheckoutConnectionError) as raised:
            await cko.customers.get(CUSTOMER_ID)
    message = str(raised.value)
    assert message.startswith("TLS certificate verification failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert message.endswith("(localhost)")
    assert proxy.connects == [f"CONNECT {_authority(base_url)} HTTP/1.1"]  # not retried
    assert api.requests == []


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize(
    ("status", "reason"), [(407, "Proxy Authentication Required"), (403, "Forbidden")]
)
async def test_a_proxy_refusing_the_tunnel_is_named_without_its_credentials(
    kind: str, status: int, reason: str
) -> None:
    async with ConnectProxy(refuse=status) as proxy:
        proxy_url = proxy.url_with_credentials(PROXY_USER, PROXY_PASSWORD)
        async with client(kind, "https://localhost:9", proxy=proxy_url, max_retries=3) as cko:
            with pytest.raises(CheckoutConnectionError) as raised:
                await cko.customers.get(CUSTOMER_ID)
    assert str(raised.value) == (
        f"could not reach localhost through the proxy: the proxy answered {status} {reason}"
    )
    assert proxy.connects == ["CONNECT localhost:9 HTTP/1.1"]  # refused once, not retried
    assert proxy.headers[0]["Proxy-Authorization"] == PROXY_BASIC
    shown = f"{raised.value!s} {raised.value!r}"
    for secret in (PROXY_PASSWORD, PROXY_BASIC.removeprefix("Basic "), SECRET_KEY):
        assert secret not in shown


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_https_proxy_from_the_environment_opens_a_tunnel(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = RecordingPeer()
    async with tls_app_server(api.app(), ca) as base_url, ConnectProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # for http:// URLs only
        monkeypatch.setenv("HTTPS_PROXY", proxy.url_with_credentials(PROXY_USER, PROXY_PASSWORD))
        async with client(kind, base_url, ssl_context=ca_context) as cko:
            customer = await cko.customers.get(CUSTOMER_ID)
    assert customer.id == CUSTOMER_ID
    assert proxy.connects == [f"CONNECT {_authority(base_url)} HTTP/1.1"]
    assert proxy.headers[0]["Proxy-Authorization"] == PROXY_BASIC
    _assert_tunnelled_without_secrets(proxy, api)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_no_proxy_sends_an_https_call_directly(
    kind: str, ca: trustme.CA, ca_context: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = RecordingPeer()
    async with tls_app_server(api.app(), ca) as base_url, ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost")
        async with client(kind, base_url, ssl_context=ca_context) as cko:
            customer = await cko.customers.get(CUSTOMER_ID)
    assert customer.id == CUSTOMER_ID
    assert proxy.connects == []
    assert len(api.requests) == 1


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


async def test_the_command_line_trusts_ssl_cert_file_through_https_proxy(
    ca: trustme.CA, ca_file: Path
) -> None:
    # The command line has no TLS flag: as any OpenSSL program, it reads SSL_CERT_FILE.
    api = RecordingPeer()
    async with tls_app_server(api.app(), ca) as base_url, ConnectProxy() as proxy:
        environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith("CKO_")},
            "PYTHONDEVMODE": "1",
            "CKO_SECRET_KEY": SECRET_KEY,
            "CKO_BASE_URL": base_url,
            "HTTPS_PROXY": proxy.url_with_credentials(PROXY_USER, PROXY_PASSWORD),
            "SSL_CERT_FILE": str(ca_file),
        }
        # The peers run on this loop while the child process calls them.
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            *python_flags(),
            "-m",
            "checkout_customers",
            "get",
            CUSTOMER_ID,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO_ROOT,
            env=environment,
        )
        stdout, stderr = await asyncio.wait_for(child.communicate(), timeout=30)
    assert child.returncode == 0, stderr.decode()
    assert stderr == b""
    assert json.loads(stdout)["id"] == CUSTOMER_ID
    assert proxy.connects == [f"CONNECT {_authority(base_url)} HTTP/1.1"]
    assert proxy.headers[0]["Proxy-Authorization"] == PROXY_BASIC
    assert api.headers[0]["Authorization"] == f"Bearer {SECRET_KEY}"
    _assert_tunnelled_without_secrets(proxy, api)
