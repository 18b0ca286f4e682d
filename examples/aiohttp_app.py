"""An aiohttp web app that shares one `AsyncClient` (one connection pool) for its whole life.

    export CKO_SECRET_KEY=sk_sbox_... CKO_PREFIX=abcd1234   # or CKO_BASE_URL of an emulator
    python examples/aiohttp_app.py                          # serves http://127.0.0.1:8080
    curl -X POST http://127.0.0.1:8080/customers -d '{"email": "bruce@wayne.com"}'
    curl http://127.0.0.1:8080/customers/bruce@wayne.com

The client is opened once, when the app starts, by a `cleanup_ctx` generator, and closed when
the app shuts down: every request handler uses the same client, never one per request.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from aiohttp import web

from checkout_customers import AsyncClient, CheckoutArgumentError, NotFoundError

CHECKOUT = web.AppKey("checkout", AsyncClient)


async def checkout_client(app: web.Application) -> AsyncIterator[None]:
    """Open the client when the app starts and close it when the app stops."""
    async with AsyncClient() as client:  # credentials from the CKO_* variables
        app[CHECKOUT] = client
        yield


async def create_customer(request: web.Request) -> web.Response:
    body = await request.json()
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    try:
        created = await request.app[CHECKOUT].customers.create(
            email=body.get("email"), name=body.get("name")
        )
    except CheckoutArgumentError as error:  # bad input: nothing was sent
        raise web.HTTPBadRequest(text=str(error)) from None
    return web.json_response({"id": created.id}, status=201)


async def show_customer(request: web.Request) -> web.Response:
    try:
        customer = await request.app[CHECKOUT].customers.get(request.match_info["id_or_email"])
    except (NotFoundError, CheckoutArgumentError):
        raise web.HTTPNotFound() from None
    return web.json_response({"id": customer.id, "email": customer.email, "name": customer.name})


def make_app() -> web.Application:
    """The application: two routes and the shared client's lifecycle."""
    app = web.Application()
    app.cleanup_ctx.append(checkout_client)
    app.add_routes(
        [
            web.post("/customers", create_customer),
            web.get("/customers/{id_or_email}", show_customer),
        ]
    )
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
