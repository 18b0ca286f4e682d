"""`customers.get_or_create`: a look-up by email, a create only if none, and never a blind
second create. Through both clients, against the emulator and against peers that misbehave."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from checkout_customers import (
    CheckoutArgumentError,
    CheckoutConnectionError,
    ConflictError,
    GetOrCreateResult,
)
from checkout_customers.emulator import RunningEmulator

from ..peers import CLIENT_KINDS, open_client, serve

EMAIL = "bruce@wayne.com"
NEW_ID = "cus_y3oqhf46pyzuxjbcn2giaqnb44"


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_creates_once_then_finds_the_same_customer(
    kind: str, checkout_emulator: RunningEmulator
) -> None:
    async with open_client(
        kind, checkout_emulator.base_url, secret_key=checkout_emulator.secret_key
    ) as cko:
        first = await cko.customers.get_or_create(email=EMAIL, name="Bruce Wayne")
        second = await cko.customers.get_or_create(email=EMAIL, name="Someone Else")
        stored = await cko.customers.get(first.id)

    assert isinstance(first, GetOrCreateResult)
    assert first.created is True
    assert first.request_id
    assert second == GetOrCreateResult(id=first.id, created=False, request_id=second.request_id)
    assert second.request_id
    assert second.request_id != first.request_id
    assert stored.name == "Bruce Wayne"  # the second call changed nothing
    assert checkout_emulator.count_customers_with_email(EMAIL) == 1


class Peer:
    """A Customers API that stores creates, and can act on a create but drop the answer."""

    def __init__(self, *, create: str = "answer") -> None:
        self.create = create  # "answer" | "drop_after_acting" | "drop_before_acting" | "409"
        self.requests: list[str] = []
        self.customers: dict[str, str] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/customers/{identifier}", self.get)
        app.router.add_post("/customers", self.post)
        return app

    async def get(self, request: web.Request) -> web.StreamResponse:
        self.requests.append("GET")
        email = request.match_info["identifier"]
        number = len(self.requests)
        if email not in self.customers:
            return web.Response(status=404, headers={"Cko-Request-Id": f"req_{number}"})
        body = {"id": self.customers[email], "email": email}
        return web.json_response(body, headers={"Cko-Request-Id": f"req_{number}"})

    async def post(self, request: web.Request) -> web.StreamResponse:
        self.requests.append("POST")
        body: dict[str, Any] = await request.json()
        if self.create == "409":
            self.customers[body["email"]] = NEW_ID  # another caller got there first
            return web.json_response({"error_type": "conflict"}, status=409)
        if self.create != "drop_before_acting":
            self.customers[body["email"]] = NEW_ID
        if self.create.startswith("drop"):
            assert request.transport is not None
            request.transport.close()
        return web.json_response({"id": NEW_ID}, status=201, headers={"Cko-Request-Id": "req_c"})


async def test_a_create_that_acted_without_answering_is_found_not_repeated(kind: str) -> None:
    peer = Peer(create="drop_after_acting")
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        result = await cko.customers.get_or_create(email=EMAIL, name="Bruce")

    assert result == GetOrCreateResult(id=NEW_ID, created=True, request_id="req_3")
    assert peer.requests == ["GET", "POST", "GET"]


async def test_an_unanswered_create_with_nothing_found_raises_saying_the_outcome_is_unknown(
    kind: str,
) -> None:
    peer = Peer(create="drop_before_acting")
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(CheckoutConnectionError, match="unknown") as caught:
            await cko.customers.get_or_create(email=EMAIL, max_retries=3)

    assert "no definite answer" in str(caught.value)
    assert peer.requests.count("POST") == 1  # never a second create
    assert peer.customers == {}


async def test_a_conflict_on_create_is_answered_by_a_look_up(kind: str) -> None:
    peer = Peer(create="409")
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        result = await cko.customers.get_or_create(email=EMAIL)

    assert result == GetOrCreateResult(id=NEW_ID, created=False, request_id="req_3")
    assert peer.requests == ["GET", "POST", "GET"]


async def test_a_conflict_with_nothing_found_is_raised(kind: str) -> None:
    peer = Peer(create="409")

    async def forget(request: web.Request) -> web.StreamResponse:
        peer.customers.clear()
        return await peer.get(request)

    app = web.Application()
    app.router.add_get("/customers/{identifier}", forget)
    app.router.add_post("/customers", peer.post)
    async with serve(app) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(ConflictError):
            await cko.customers.get_or_create(email=EMAIL)


async def test_bad_input_is_refused_before_anything_is_sent(kind: str) -> None:
    peer = Peer()
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(CheckoutArgumentError, match="name"):
            await cko.customers.get_or_create(email=EMAIL, name="x" * 1000)
        with pytest.raises(CheckoutArgumentError, match="email"):
            await cko.customers.get_or_create(email="not an email")
    assert peer.requests == []
