"""A Starlette (or FastAPI) app that shares one `AsyncClient` through its lifespan.

    pip install starlette uvicorn
    export CKO_SECRET_KEY=sk_sbox_... CKO_PREFIX=abcd1234   # or CKO_BASE_URL of an emulator
    uvicorn examples.starlette_app:app

The lifespan opens the client when the server starts and closes it when it stops; handlers
reach it through `request.state`. FastAPI takes the same `lifespan=` function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from checkout_customers import AsyncClient, CheckoutArgumentError, NotFoundError


class State(TypedDict):
    checkout: AsyncClient


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[State]:
    async with AsyncClient() as client:  # credentials from the CKO_* variables
        yield {"checkout": client}


async def create_customer(request: Request) -> JSONResponse:
    body = await request.json()
    if not isinstance(body, dict):
        return JSONResponse({"error": "expected a JSON object"}, status_code=400)
    checkout: AsyncClient = request.state.checkout
    try:
        created = await checkout.customers.create(email=body.get("email"), name=body.get("name"))
    except CheckoutArgumentError as error:  # bad input: nothing was sent
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse({"id": created.id}, status_code=201)


async def show_customer(request: Request) -> JSONResponse:
    checkout: AsyncClient = request.state.checkout
    try:
        customer = await checkout.customers.get(request.path_params["id_or_email"])
    except (NotFoundError, CheckoutArgumentError):
        return JSONResponse({"error": "not found"}, status_code=404)
    return JSONResponse({"id": customer.id, "email": customer.email, "name": customer.name})


app = Starlette(
    routes=[
        Route("/customers", create_customer, methods=["POST"]),
        Route("/customers/{id_or_email}", show_customer),
    ],
    lifespan=lifespan,
)
