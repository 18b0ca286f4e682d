"""Small purpose-built HTTP peers on loopback, and clients of either kind pointed at them.

    async with serve(app) as base_url:
        async with open_client("sync", base_url) as client:   # or "async"
            customer = await client.customers.get(CUSTOMER_ID)

`open_client("sync", ...)` gives the sync `Client` wrapped by `sync_adapter.adapt`, so one test
body drives both clients; the peer runs on the test's event loop while the sync client waits in
a worker thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from checkout_customers import AsyncClient, Client

from .sync_adapter import adapt

__all__ = ["CLIENT_KINDS", "SECRET_KEY", "open_client", "serve"]

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
