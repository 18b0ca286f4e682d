"""Small purpose-built HTTP peers on loopback, and clients of either kind pointed at them.

    async with serve(app) as base_url:
        async with open_client("sync", base_url) as client:   # or "async"
            customer = await client.customers.get(CUSTOMER_ID)

`open_client("sync", ...)` gives the sync `Client` wrapped by `sync_adapter.adapt`, so one test
body drives both clients; the peer runs on the test's event loop while the sync client waits in
a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from checkout_customers import AsyncClient, Client

from .sync_adapter import adapt

__all__ = [
    "CKO_VERSION",
    "CLIENT_KINDS",
    "CUSTOMER_ID",
    "SECRET_KEY",
    "RecordingPeer",
    "open_client",
    "serve",
]

SECRET_KEY = "sk_sbox_m73dzbpy7cf3gfd46xr4yj5xo4e"
CLIENT_KINDS = ("async", "sync")


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on an ephemeral loopback port; yield its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def open_client(kind: str, base_url: str, **options: Any) -> AsyncIterator[Any]:
    """An `AsyncClient` or an adapted sync `Client` on `base_url`, closed on exit."""
    options = {"secret_key": SECRET_KEY, "base_url": base_url, **options}
    if kind == "async":
        async with AsyncClient(**options) as client:
            yield client
    else:
        async with adapt(Client(**options)) as client:
            yield client


CUSTOMER_ID = "cus_y3oqhf46pyzuxjbcn2giaqnb44"
CKO_VERSION = "1.0.0"


class RecordingPeer:
    """A small Customers API that records what it receives and answers like the real one.

    Every answer carries `Cko-Request-Id` (`req_<n>`, n counting requests) and `Cko-Version`.
    `ports` holds the client port of each request: one port per TCP connection used.
    `delay` holds each answer back; `fail_first` answers that many requests 503 first.
    """

    def __init__(self, *, delay: float = 0.0, fail_first: int = 0) -> None:
        self.delay = delay
        self.fail_first = fail_first
        self.requests: list[web.Request] = []
        self.headers: list[CIMultiDict[str]] = []  # case-insensitive, as HTTP headers are
        self.ports: list[int] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/customers", self.answer)
        app.router.add_route("*", "/customers/{identifier}", self.answer)
        return app

    async def answer(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        self.headers.append(request.headers.copy())
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.ports.append(peer[1] if peer else -1)
        headers = {"Cko-Request-Id": f"req_{len(self.requests)}", "Cko-Version": CKO_VERSION}
        if self.delay:
            await asyncio.sleep(self.delay)
        if len(self.requests) <= self.fail_first:
            return web.json_response({"error_type": "unavailable"}, status=503, headers=headers)
        if request.method == "POST":
            return web.json_response({"id": CUSTOMER_ID}, status=201, headers=headers)
        if request.method == "DELETE":
            return web.Response(status=204, headers=headers)
        if request.method == "PATCH":
            return web.Response(status=200, headers=headers)
        body = {"id": CUSTOMER_ID, "email": "bruce@wayne.com", "name": "Bruce Wayne"}
        return web.json_response(body, headers=headers)
