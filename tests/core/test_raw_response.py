"""`client.customers.with_raw_response`: status, headers (Cko-Version), request id, timing, and
`parse()` giving what the plain method gives. Both clients, against a peer on loopback."""

from __future__ import annotations

import datetime

import pytest
from aiohttp import web

from checkout_customers import (
    ApiResult,
    CheckoutConnectionError,
    CreatedCustomer,
    Customer,
    NotFoundError,
    RawResponse,
)
from checkout_customers.emulator import RunningEmulator

from ..peers import (
    CKO_VERSION,
    CLIENT_KINDS,
    CUSTOMER_ID,
    RecordingPeer,
    open_client,
    serve,
)


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_raw_get_carries_status_headers_request_id_and_timing(kind: str) -> None:
    peer = RecordingPeer(delay=0.05)
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        raw = await cko.customers.with_raw_response.get(CUSTOMER_ID)
        plain = await cko.customers.get(CUSTOMER_ID)

    assert isinstance(raw, RawResponse)
    assert raw.status == 200
    assert raw.headers["Cko-Version"] == CKO_VERSION
    assert raw.headers["cko-version"] == CKO_VERSION  # case-insensitive
    assert raw.request_id == "req_1"
    assert isinstance(raw.elapsed, datetime.timedelta)
    assert raw.elapsed >= datetime.timedelta(seconds=0.05)
    customer = raw.parse()
    assert isinstance(customer, Customer)
    assert customer == plain
    assert customer.request_id == "req_1"
    assert raw.parse() is customer  # parsed once


async def test_raw_create_update_and_delete_parse_to_what_the_plain_methods_return(
    kind: str,
) -> None:
    peer = RecordingPeer()
    async with serve(peer.app()) as base_url, open_client(kind, base_url) as cko:
        raws = cko.customers.with_raw_response
        created = await raws.create(email="bruce@wayne.com", name="Bruce")
        updated = await raws.update(CUSTOMER_ID, name="Batman")
        deleted = await raws.delete(CUSTOMER_ID)

    assert (created.status, updated.status, deleted.status) == (201, 200, 204)
    assert created.parse() == CreatedCustomer(id=CUSTOMER_ID, request_id="req_1")
    assert updated.parse() == ApiResult(request_id="req_2")
    assert deleted.parse() == ApiResult(request_id="req_3")
    for raw in (created, updated, deleted):
        assert raw.headers.get("Cko-Version") == CKO_VERSION
    assert [request.method for request in peer.requests] == ["POST", "PATCH", "DELETE"]


async def test_an_error_status_raises_as_the_plain_method_does(kind: str) -> None:
    app = web.Application()

    async def missing(request: web.Request) -> web.StreamResponse:
        return web.json_response({}, status=404, headers={"Cko-Request-Id": "req_gone"})

    app.router.add_get("/customers/{identifier}", missing)
    async with serve(app) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(NotFoundError) as caught:
            await cko.customers.with_raw_response.get(CUSTOMER_ID)
    assert caught.value.request_id == "req_gone"


async def test_an_unreadable_customer_fails_at_parse_not_before(kind: str) -> None:
    app = web.Application()

    async def odd(request: web.Request) -> web.StreamResponse:
        body = {"id": None, "email": "bruce@wayne.com"}
        return web.json_response(body, headers={"Cko-Request-Id": "req_odd", "Cko-Version": "2"})

    app.router.add_get("/customers/{identifier}", odd)
    async with serve(app) as base_url, open_client(kind, base_url) as cko:
        raw = await cko.customers.with_raw_response.get(CUSTOMER_ID)
    assert raw.headers["Cko-Version"] == "2"  # what came back is still there to see
    with pytest.raises(CheckoutConnectionError, match="could not be read"):
        raw.parse()


async def test_a_raw_answer_from_the_emulator_carries_its_request_id_header(
    kind: str, checkout_emulator: RunningEmulator
) -> None:
    options = {"secret_key": checkout_emulator.secret_key}
    async with open_client(kind, checkout_emulator.base_url, **options) as cko:
        created = await cko.customers.with_raw_response.create(email="bruce@wayne.com")
        fetched = await cko.customers.with_raw_response.get("bruce@wayne.com")

    assert created.status == 201
    assert created.request_id == created.headers["Cko-Request-Id"]
    assert fetched.status == 200
    assert fetched.request_id == fetched.headers["cko-request-id"]
    assert fetched.headers["Cko-Version"]  # the spec declares it on GET answers
    assert fetched.parse().id == created.parse().id
