"""Transport behaviour that needs a real HTTP peer: a tiny aiohttp server or a raw socket."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from checkout_customers import (
    AsyncClient,
    CheckoutApiError,
    CheckoutArgumentError,
    CheckoutConnectionError,
    NotFoundError,
    UnprocessableEntityError,
)

from .conftest import CUSTOMER_ID, SECRET_KEY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_a_delete_whose_unanswered_first_attempt_acted_succeeds(
    serve: Callable[[web.Application], Awaitable[str]],
) -> None:
    deletes: list[str] = []

    async def delete(request: web.Request) -> web.StreamResponse:
        deletes.append(request.match_info["id"])
        if len(deletes) == 1:  # acts, then the connection drops before the answer
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=204)
        return web.Response(status=404, headers={"Cko-Request-Id": "r_gone"})

    app = web.Application()
    app.router.add_delete("/customers/{id}", delete)
    base_url = await serve(app)
    async with AsyncClient(secret_key=SECRET_KEY, base_url=base_url, max_retries=1) as client:
        result = await client.customers.delete(CUSTOMER_ID)
    assert result.request_id == "r_gone"
    assert deletes == [CUSTOMER_ID, CUSTOMER_ID]  # our retry, not a hidden second attempt


async def test_a_caller_owned_session_keeps_our_headers_and_error_mapping(
    serve: Callable[[web.Application], Awaitable[str]],
) -> None:
    seen: list[dict[str, str]] = []

    async def get(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        return web.Response(status=404, headers={"Cko-Request-Id": "r_missing"})

    app = web.Application()
    app.router.add_get("/customers/{id}", get)
    base_url = await serve(app)
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        AsyncClient(secret_key=SECRET_KEY, base_url=base_url, session=session) as client,
    ):
        with pytest.raises(NotFoundError) as raised:
            await client.customers.get(CUSTOMER_ID)
    assert raised.value.request_id == "r_missing"
    assert len(seen) == 1  # a 404 is an answer, not a failure to retry
    assert seen[0]["User-Agent"].startswith("checkout-customers/")
    assert seen[0]["Accept"] == "application/json"


async def test_a_base_url_path_keeps_its_percent_encoding(
    serve: Callable[[web.Application], Awaitable[str]],
) -> None:
    paths: list[str] = []

    async def anything(request: web.Request) -> web.StreamResponse:
        paths.append(request.raw_path)
        return web.json_response({"id": CUSTOMER_ID, "email": "b@w.com"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    base_url = await serve(app)
    async with AsyncClient(secret_key=SECRET_KEY, base_url=base_url + "/tenant%2Fa/") as client:
        await client.customers.get("b@w.com")
    assert paths == ["/tenant%2Fa/customers/b%40w.com"]


async def test_an_unreadable_answer_leaks_neither_the_key_nor_the_email() -> None:
    async def garbage(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: not-a-number\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with AsyncClient(
            secret_key=SECRET_KEY, base_url=f"http://127.0.0.1:{port}", max_retries=0
        ) as client:
            with pytest.raises(CheckoutConnectionError) as raised:
                await client.customers.get("bruce@wayne.com")
    finally:
        server.close()
        await server.wait_closed()
    chain: list[BaseException] = []
    error: BaseException | None = raised.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    for link in chain:
        assert SECRET_KEY not in repr(link)
        assert SECRET_KEY not in str(link)
        assert "wayne" not in str(link)


def test_errors_survive_pickling() -> None:
    api_error = UnprocessableEntityError(
        "The request was refused as invalid",
        status=422,
        request_id="r1",
        error_type="request_invalid",
        error_codes=("email_invalid",),
        body={"request_id": "r1"},
    )
    copy = pickle.loads(pickle.dumps(api_error))
    assert type(copy) is UnprocessableEntityError
    assert (copy.status, copy.request_id, copy.error_codes, copy.body, str(copy)) == (
        422,
        "r1",
        ("email_invalid",),
        {"request_id": "r1"},
        str(api_error),
    )
    argument_error = pickle.loads(pickle.dumps(CheckoutArgumentError("name: bad", field="name")))
    assert argument_error.field == "name"
    assert str(argument_error) == "name: bad"
    assert isinstance(pickle.loads(pickle.dumps(NotFoundError("x", status=404))), CheckoutApiError)
