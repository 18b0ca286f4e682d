from __future__ import annotations

import inspect
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import Mock

import aiohttp
import pytest
import trustme
from aioresponses import aioresponses
from aioresponses.core import RequestMatch

from checkout_customers import AsyncClient, _retry

BASE_URL = "https://abcd1234.api.sandbox.checkout.com"
TOKEN_URL = "https://abcd1234.access.sandbox.checkout.com/connect/token"
SECRET_KEY = "sk_sbox_m73dzbpy7cf3gfd46xr4yj5xo4e"
CUSTOMER_ID = "cus_y3oqhf46pyzuxjbcn2giaqnb44"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the jittered backoff real but tiny, so retry tests take milliseconds."""
    monkeypatch.setattr(_retry, "BACKOFF_BASE_SECONDS", 0.001)


class _CompatResponse(aiohttp.ClientResponse):
    """aiohttp 3.14 made `stream_writer` a required argument that aioresponses 0.7.9 does not
    pass yet (pnuckowski/aioresponses#289); only its `output_size` is read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:
            kwargs.setdefault("stream_writer", Mock(output_size=0))
        super().__init__(*args, **kwargs)


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    build_response = RequestMatch._build_response

    def build_compatible_response(self: RequestMatch, *args: Any, **kwargs: Any) -> Any:
        kwargs["response_class"] = kwargs.get("response_class") or _CompatResponse
        return build_response(self, *args, **kwargs)

    monkeypatch.setattr(RequestMatch, "_build_response", build_compatible_response)
    with aioresponses() as mock:
        yield mock


@pytest.fixture
async def cko() -> AsyncIterator[AsyncClient]:
    async with AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234") as client:
        yield client


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throwaway certificate authority, for `peers.tls_app_server`; no system trusts it."""
    return trustme.CA()


@pytest.fixture
def ca_context(ca: trustme.CA) -> ssl.SSLContext:
    """What a user behind a re-signing proxy builds: the default context, trusting their CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context
