"""The contenders of the client benchmark: a raw aiohttp pool, the SDK, and the SDK's layers.

Each contender opens in the running loop, then offers one coroutine function per operation
(`get`, `create`, `update`, `delete`) taking the request's index. They all send the same
requests to the fixed server (`_fixed_server.py`) with the same explicit timeouts:

- `raw`: what a careful hand-written client does: one `aiohttp.ClientSession`, the
  `aiohttp.ClientTimeout` built once and passed per request, the status checked, `await
  r.json()` for answers with a body;
- `sdk`: `AsyncClient`, through its public methods;
- `unparsed`: `AsyncClient` through `customers.with_raw_response`, public too: the same
  validation, request, retries and request id, with the answer parsed into models only when
  `.parse()` is called (never, here). The SDK minus `unparsed` is what the models cost;
- `backend` and `transport`: the SDK cut at a layer, for the table of where the time goes:
  `backend` sends ready-made `BackendRequest`s through `AiohttpBackend` and `json.loads` the
  body; `transport` calls `Transport.request` (retry loop, headers, URL, decoding) with the
  path and body text already built. The SDK minus `transport` is validation, body encoding and
  the models; `transport` minus `backend` is the retry loop and its bookkeeping.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from _emulator_process import SECRET_KEY
from _fixed_server import CUSTOMER_ID
from yarl import URL

from checkout_customers import AsyncClient

__all__ = ["CONTENDERS", "LAYERS", "OPERATIONS", "Contender", "open_contender"]

OPERATIONS = ("get", "create", "update", "delete")
CONTENDERS = ("raw", "sdk")
LAYERS = ("unparsed", "backend", "transport")

One = Callable[[int], Awaitable[Any]]

# The SDK's default limits (`Timeout()`), spelled as aiohttp's timeout, as a raw client would.
RAW_TIMEOUT = aiohttp.ClientTimeout(
    total=90.0, connect=40.0, sock_connect=10.0, sock_read=65.0, ceil_threshold=5
)
UPDATE = {"name": "Bruce Wayne", "metadata": {"tier": "gold"}}


def _create(prefix: str, index: int) -> dict[str, str]:
    return {"email": f"{prefix}{index}@example.com", "name": "Bruce Wayne"}


class Contender:
    """One client under test: `operation(name)` is its coroutine function for that operation."""

    def __init__(self, name: str, close: Callable[[], Awaitable[None]], **ops: One) -> None:
        self.name = name
        self._ops = ops
        self.aclose = close

    def operation(self, name: str) -> One:
        return self._ops[name]


async def _raw(base_url: str, max_connections: int) -> Contender:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections),
        headers={"Authorization": f"Bearer {SECRET_KEY}", "Accept": "application/json"},
    )
    one = f"{base_url}/customers/{CUSTOMER_ID}"
    customers = f"{base_url}/customers"

    async def get(_: int) -> Any:
        async with session.get(one, timeout=RAW_TIMEOUT) as r:
            if r.status != 200:
                raise RuntimeError(f"GET answered {r.status}")
            return await r.json()

    async def create(index: int) -> Any:
        async with session.post(customers, json=_create("raw", index), timeout=RAW_TIMEOUT) as r:
            if r.status != 201:
                raise RuntimeError(f"POST answered {r.status}")
            return (await r.json())["id"]

    async def update(_: int) -> Any:
        async with session.patch(one, json=UPDATE, timeout=RAW_TIMEOUT) as r:
            if r.status != 204:
                raise RuntimeError(f"PATCH answered {r.status}")
            return await r.read()

    async def delete(_: int) -> Any:
        async with session.delete(one, timeout=RAW_TIMEOUT) as r:
            if r.status != 204:
                raise RuntimeError(f"DELETE answered {r.status}")
            return await r.read()

    return Contender("raw", session.close, get=get, create=create, update=update, delete=delete)


def _public(name: str, cko: AsyncClient, customers: Any) -> Contender:
    """The contender calling `customers` (`cko.customers` or its `with_raw_response`)."""

    async def create(index: int) -> Any:
        fields = _create(name, index)
        return await customers.create(email=fields["email"], name=fields["name"])

    async def update(_: int) -> Any:
        return await customers.update(CUSTOMER_ID, **UPDATE)

    return Contender(
        name,
        cko.aclose,
        get=lambda _: customers.get(CUSTOMER_ID),
        create=create,
        update=update,
        delete=lambda _: customers.delete(CUSTOMER_ID),
    )


async def _sdk(base_url: str, max_connections: int) -> Contender:
    cko = AsyncClient(secret_key=SECRET_KEY, base_url=base_url, max_connections=max_connections)
    return _public("sdk", cko, cko.customers)


async def _unparsed(base_url: str, max_connections: int) -> Contender:
    cko = AsyncClient(secret_key=SECRET_KEY, base_url=base_url, max_connections=max_connections)
    return _public("unparsed", cko, cko.customers.with_raw_response)


async def _transport(base_url: str, max_connections: int) -> Contender:
    from checkout_customers._transport import Idempotency, json_text

    cko = AsyncClient(secret_key=SECRET_KEY, base_url=base_url, max_connections=max_connections)
    transport = cko._transport
    one = f"/customers/{CUSTOMER_ID}"
    update_text = json_text(UPDATE)

    return Contender(
        "transport",
        cko.aclose,
        get=lambda _: transport.request("GET", one),
        create=lambda index: transport.request(
            "POST",
            "/customers",
            body=json_text(_create("transport", index)),
            idempotency=Idempotency.CREATE,
        ),
        update=lambda _: transport.request("PATCH", one, body=update_text),
        delete=lambda _: transport.request("DELETE", one),
    )


async def _backend(base_url: str, max_connections: int) -> Contender:
    from checkout_customers._aiohttp_backend import AiohttpBackend
    from checkout_customers._backend import BackendRequest
    from checkout_customers._config import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT
    from checkout_customers._transport import USER_AGENT, json_text

    backend = AiohttpBackend(max_connections=max_connections)
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        "Authorization": f"Bearer {SECRET_KEY}",
    }
    json_headers = {**headers, "Content-Type": "application/json"}
    one = URL(f"{base_url}/customers/{CUSTOMER_ID}")
    customers = URL(f"{base_url}/customers")

    def request(method: str, url: URL, body: str | None) -> BackendRequest:
        return BackendRequest(
            method,
            url,
            headers if body is None else json_headers,
            body,
            DEFAULT_TIMEOUT,
            None,
            DEFAULT_MAX_RESPONSE_BYTES,
        )

    get_request = request("GET", one, None)
    update_request = request("PATCH", one, json_text(UPDATE))
    delete_request = request("DELETE", one, None)

    async def send(backend_request: BackendRequest) -> Any:
        answer = await backend.send(backend_request)
        return json.loads(answer.body) if answer.body else None

    return Contender(
        "backend",
        backend.aclose,
        get=lambda _: send(get_request),
        create=lambda index: send(request("POST", customers, json_text(_create("backend", index)))),
        update=lambda _: send(update_request),
        delete=lambda _: send(delete_request),
    )


_OPENERS = {
    "raw": _raw,
    "sdk": _sdk,
    "unparsed": _unparsed,
    "transport": _transport,
    "backend": _backend,
}


async def open_contender(name: str, base_url: str, *, max_connections: int = 100) -> Contender:
    """Open the contender called `name` in the running loop."""
    return await _OPENERS[name](base_url, max_connections)
