"""A strange answer is never taken for a success: redirects, unreadable, huge or inflating bodies.

Each test reruns a failure measured against a hostile peer on loopback (issue 11), through both
clients.
"""

from __future__ import annotations

import asyncio
import socket
import tracemalloc
from typing import Any

import pytest
from aiohttp import web

from checkout_customers import (
    CheckoutApiError,
    CheckoutConnectionError,
)

from .conftest import CUSTOMER_ID
from .peers import CLIENT_KINDS, app_server, client, gzip_of_zeros

pytestmark = pytest.mark.parametrize("kind", CLIENT_KINDS)


def _answering(status: int, body: bytes, **headers: str) -> tuple[web.Application, list[str]]:
    """An application answering every request alike, and the list of requests it got."""
    hits: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        hits.append(f"{request.method} {request.path}")
        return web.Response(status=status, body=body, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app, hits


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_answered_to_a_write_raises_and_is_not_followed(
    kind: str, status: int
) -> None:
    target, target_hits = _answering(204, b"")
    async with app_server(target) as elsewhere:
        location = f"{elsewhere}/customers/{CUSTOMER_ID}"
        app, hits = _answering(status, b"", Location=location, **{"Cko-Request-Id": "r_moved"})
        async with app_server(app) as base_url, client(kind, base_url) as api:
            for call in (
                lambda: api.customers.delete(CUSTOMER_ID),
                lambda: api.customers.update(CUSTOMER_ID, name="Batman"),
                lambda: api.customers.get(CUSTOMER_ID),
            ):
                with pytest.raises(CheckoutApiError) as raised:
                    await call()
                assert raised.value.status == status
                assert raised.value.request_id == "r_moved"
                assert location in str(raised.value)
                assert "redirect" in str(raised.value)
    assert hits == [
        f"DELETE /customers/{CUSTOMER_ID}",
        f"PATCH /customers/{CUSTOMER_ID}",
        f"GET /customers/{CUSTOMER_ID}",
    ]  # one attempt each, no retry
    assert target_hits == []  # never followed


async def test_json_nested_100000_deep_could_not_be_read(kind: str) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    app, hits = _answering(
        200, body, **{"Content-Type": "application/json", "Cko-Request-Id": "r_deep"}
    )
    async with app_server(app) as base_url, client(kind, base_url) as api:
        with pytest.raises(CheckoutConnectionError, match="could not be read") as raised:
            await api.customers.get(CUSTOMER_ID)
    assert "r_deep" in str(raised.value)
    assert "nested too deeply" in str(raised.value)
    assert len(hits) == 1  # an answer that came but cannot be read is not asked for again


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": null, "email": null}',
        b'{"id": 123, "email": "bruce@wayne.com"}',
        b'{"id": "cus_y3oqhf46pyzuxjbcn2giaqnb44", "email": ["bruce@wayne.com"]}',
        b'{"id": "cus_y3oqhf46pyzuxjbcn2giaqnb44", "email": "b@w.co", "metadata": {"a": {}}}',
        b'{"id": "cus_y3oqhf46pyzuxjbcn2giaqnb44", "email": "b@w.co", "instruments": {}}',
        b'["not", "an", "object"]',
        b"<html>Sign in to the hotel wifi</html>",
        b"\xff\xfe not text",
    ],
    ids=[
        "nulls",
        "number-id",
        "list-email",
        "nested-metadata",
        "object-instruments",
        "list",
        "html",
        "bytes",
    ],
)
async def test_a_customer_of_the_wrong_shape_could_not_be_read(kind: str, body: bytes) -> None:
    app, _ = _answering(
        200, body, **{"Content-Type": "application/json", "Cko-Request-Id": "r_odd"}
    )
    async with app_server(app) as base_url, client(kind, base_url) as api:
        with pytest.raises(CheckoutConnectionError, match="could not be read") as raised:
            await api.customers.get(CUSTOMER_ID)
    assert "r_odd" in str(raised.value)
    assert "None" not in str(raised.value)


async def test_a_created_customer_without_a_text_id_could_not_be_read(kind: str) -> None:
    for body in (b'{"id": null}', b'{"id": 123}'):
        app, _ = _answering(
            201, body, **{"Content-Type": "application/json", "Cko-Request-Id": "r_c"}
        )
        async with app_server(app) as base_url, client(kind, base_url) as api:
            with pytest.raises(CheckoutConnectionError, match="could not be read") as raised:
                await api.customers.create(email="bruce@wayne.com")
        assert "r_c" in str(raised.value)
        assert "look it up by email" in str(raised.value)


async def _streamed_zeros(request: web.Request, total: int, sent: list[int]) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "application/json", "Cko-Request-Id": "r_big"}
    )
    await response.prepare(request)
    chunk = b" " * (1 << 20)  # JSON white space: a valid start of a body
    try:
        while sent[0] < total:
            await response.write(chunk)
            sent[0] += len(chunk)
    except ConnectionError:
        pass
    return response


async def test_a_body_over_the_cap_is_refused_while_streaming(kind: str) -> None:
    sent = [0]

    async def stream(request: web.Request) -> web.StreamResponse:
        return await _streamed_zeros(request, 200 << 20, sent)

    app = web.Application()
    app.router.add_get("/customers/{id}", stream)
    async with (
        app_server(app) as base_url,
        client(kind, base_url, max_response_bytes=1 << 20) as api,
    ):
        with pytest.raises(CheckoutConnectionError, match="could not be read") as raised:
            await api.customers.get(CUSTOMER_ID)
        await asyncio.sleep(0.1)
    assert "max_response_bytes" in str(raised.value)
    assert "r_big" in str(raised.value)
    assert sent[0] < 64 << 20  # the client stopped reading long before 200 MB


async def test_a_declared_length_over_the_cap_is_refused_before_reading(kind: str) -> None:
    body = b"{" + b" " * (5 << 20) + b"}"  # over the default 4 MiB cap
    app, hits = _answering(
        200, body, **{"Content-Type": "application/json", "Cko-Request-Id": "r_len"}
    )
    async with app_server(app) as base_url, client(kind, base_url) as api:
        with pytest.raises(CheckoutConnectionError, match="max_response_bytes") as raised:
            await api.customers.get(CUSTOMER_ID)
    assert "r_len" in str(raised.value)
    assert hits == [f"GET /customers/{CUSTOMER_ID}"]  # not retried


async def test_a_gzip_bomb_is_refused_without_inflating_in_memory(kind: str) -> None:
    bomb = gzip_of_zeros(1 << 30)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 2 << 20
    app, _ = _answering(
        200,
        bomb,
        **{
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Cko-Request-Id": "r_gz",
        },
    )
    async with app_server(app) as base_url, client(kind, base_url) as api:
        tracemalloc.start()
        try:
            with pytest.raises(CheckoutConnectionError, match="max_response_bytes") as raised:
                await api.customers.get(CUSTOMER_ID)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "r_gz" in str(raised.value)
    assert peak < 64 << 20  # bytes held at once, far below the 1 GiB it inflates to


async def test_a_gzipped_answer_within_the_cap_is_read(kind: str) -> None:
    import gzip
    import json

    customer: dict[str, Any] = {"id": CUSTOMER_ID, "email": "bruce@wayne.com", "name": "B" * 200}
    body = gzip.compress(json.dumps(customer).encode())
    app, _ = _answering(
        200, body, **{"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    async with app_server(app) as base_url, client(kind, base_url) as api:
        found = await api.customers.get(CUSTOMER_ID)
    assert found.name == "B" * 200


async def test_a_refused_connection_says_so_in_the_operating_systems_words(kind: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client(kind, f"http://127.0.0.1:{port}", max_retries=0) as api:
        with pytest.raises(CheckoutConnectionError) as raised:
            await api.customers.get(CUSTOMER_ID)
    # asyncio's own text ("Connect call failed ('127.0.0.1', port)") tells an operator nothing.
    assert "could not connect to 127.0.0.1 (Connection refused)" in str(raised.value)
