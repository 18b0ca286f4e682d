"""Transport edge cases a real server can't easily produce, through the public client."""

from __future__ import annotations

import asyncio
import logging
import platform
import re

import aiohttp
import pytest
from aioresponses import CallbackResult, aioresponses

import checkout_customers
from checkout_customers import (
    AsyncClient,
    AuthenticationError,
    CheckoutApiError,
    CheckoutConnectionError,
    CheckoutTimeoutError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
    _retry,
)

from .conftest import BASE_URL, CUSTOMER_ID, SECRET_KEY

CUSTOMER_URL = f"{BASE_URL}/customers/{CUSTOMER_ID}"
CREATE_URL = f"{BASE_URL}/customers"
CUSTOMER_BODY = {"id": CUSTOMER_ID, "email": "bruce@wayne.com", "instruments": []}


def calls(mocked: aioresponses, method: str, url: str) -> int:
    from yarl import URL

    return len(mocked.requests.get((method, URL(url)), []))


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (418, CheckoutApiError),
    ],
)
async def test_every_error_status_raises_its_class_with_the_request_id(
    cko: AsyncClient, mocked: aioresponses, status: int, error_class: type[CheckoutApiError]
) -> None:
    mocked.get(CUSTOMER_URL, status=status, headers={"Cko-Request-Id": "req_header"}, repeat=True)
    with pytest.raises(error_class) as raised:
        await cko.customers.get(CUSTOMER_ID, max_retries=0)
    assert type(raised.value) is error_class
    assert raised.value.status == status
    assert raised.value.request_id == "req_header"
    assert raised.value.body is None
    assert raised.value.error_codes == ()


async def test_422_body_fills_error_type_codes_and_request_id(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    body = {
        "request_id": "req_body",
        "error_type": "request_invalid",
        "error_codes": ["email_invalid", "phone_number_invalid"],
    }
    mocked.post(CREATE_URL, status=422, payload=body, headers={"Cko-Request-Id": "req_header"})
    with pytest.raises(UnprocessableEntityError) as raised:
        await cko.customers.create(email="bruce@wayne.com")
    error = raised.value
    assert error.request_id == "req_body"
    assert error.error_type == "request_invalid"
    assert error.error_codes == ("email_invalid", "phone_number_invalid")
    assert error.body == body
    assert "422" in str(error)
    assert "email_invalid,phone_number_invalid" in str(error)
    assert "req_body" in str(error)


async def test_non_json_error_body_is_kept_as_text(cko: AsyncClient, mocked: aioresponses) -> None:
    mocked.get(CUSTOMER_URL, status=502, body="Bad gateway", content_type="text/plain")
    with pytest.raises(ServerError) as raised:
        await cko.customers.get(CUSTOMER_ID, max_retries=0)
    assert raised.value.body == "Bad gateway"


async def test_get_retries_5xx_then_succeeds(cko: AsyncClient, mocked: aioresponses) -> None:
    mocked.get(CUSTOMER_URL, status=503)
    mocked.get(CUSTOMER_URL, status=500)
    mocked.get(CUSTOMER_URL, status=200, payload=CUSTOMER_BODY, headers={"Cko-Request-Id": "r3"})
    customer = await cko.customers.get(CUSTOMER_ID)
    assert customer.id == CUSTOMER_ID
    assert customer.request_id == "r3"
    assert calls(mocked, "GET", CUSTOMER_URL) == 3


async def test_retries_stop_after_max_retries(cko: AsyncClient, mocked: aioresponses) -> None:
    mocked.get(CUSTOMER_URL, status=500, repeat=True)
    with pytest.raises(ServerError):
        await cko.customers.get(CUSTOMER_ID)
    assert calls(mocked, "GET", CUSTOMER_URL) == 3  # the first attempt and the default 2 retries


async def test_per_call_max_retries_overrides_the_client(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(CUSTOMER_URL, status=500, repeat=True)
    with pytest.raises(ServerError):
        await cko.customers.get(CUSTOMER_ID, max_retries=4)
    assert calls(mocked, "GET", CUSTOMER_URL) == 5


async def test_retry_after_seconds_is_honoured(
    cko: AsyncClient, mocked: aioresponses, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("checkout_customers._transport.asyncio.sleep", record_sleep)
    mocked.get(CUSTOMER_URL, status=429, headers={"Retry-After": "2"})
    mocked.get(CUSTOMER_URL, status=200, payload=CUSTOMER_BODY)
    await cko.customers.get(CUSTOMER_ID)
    assert slept == [2.0]


def test_retry_after_is_capped_and_http_dates_are_understood() -> None:
    assert _retry.retry_delay(0, {"Retry-After": "100000"}) == _retry.MAX_RETRY_AFTER_SECONDS
    assert _retry.retry_delay(0, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert _retry.retry_delay(0, {"Retry-After": "soon"}) <= _retry.BACKOFF_BASE_SECONDS


def test_backoff_is_exponential_with_full_jitter() -> None:
    delays = [_retry.retry_delay(5) for _ in range(200)]
    ceiling = min(_retry.BACKOFF_MAX_SECONDS, _retry.BACKOFF_BASE_SECONDS * 32)
    assert all(0 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 100  # jittered, not a fixed wait


async def test_create_is_retried_after_429(cko: AsyncClient, mocked: aioresponses) -> None:
    mocked.post(CREATE_URL, status=429, headers={"Retry-After": "0"})
    mocked.post(CREATE_URL, status=201, payload={"id": CUSTOMER_ID})
    created = await cko.customers.create(email="bruce@wayne.com")
    assert created.id == CUSTOMER_ID
    assert calls(mocked, "POST", CREATE_URL) == 2


async def test_create_is_retried_when_connecting_timed_out(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, exception=aiohttp.ConnectionTimeoutError())
    mocked.post(CREATE_URL, status=201, payload={"id": CUSTOMER_ID})
    created = await cko.customers.create(email="bruce@wayne.com")
    assert created.id == CUSTOMER_ID
    assert calls(mocked, "POST", CREATE_URL) == 2


async def test_create_is_retried_when_the_connection_was_refused(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    refused = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None),
        OSError(111, "Connection refused"),
    )
    mocked.post(CREATE_URL, exception=refused)
    mocked.post(CREATE_URL, status=201, payload={"id": CUSTOMER_ID})
    created = await cko.customers.create(email="bruce@wayne.com")
    assert created.id == CUSTOMER_ID


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 500},
        {"status": 503},
        {"exception": aiohttp.ServerDisconnectedError()},
        {"exception": aiohttp.SocketTimeoutError()},
        {"exception": TimeoutError()},
        {"exception": aiohttp.ClientOSError(104, "Connection reset by peer")},
    ],
    ids=["500", "503", "disconnected", "read-timeout", "total-timeout", "reset"],
)
async def test_create_is_never_retried_when_the_api_may_have_acted(
    cko: AsyncClient, mocked: aioresponses, failure: dict[str, object]
) -> None:
    mocked.post(CREATE_URL, **failure)
    mocked.post(CREATE_URL, status=201, payload={"id": "cus_second_customer_would_be_made"})
    with pytest.raises((ServerError, CheckoutConnectionError)):
        await cko.customers.create(email="bruce@wayne.com")
    assert calls(mocked, "POST", CREATE_URL) == 1


async def test_timeouts_raise_checkout_timeout_error(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(CUSTOMER_URL, exception=aiohttp.SocketTimeoutError(), repeat=True)
    with pytest.raises(CheckoutTimeoutError, match="timed out waiting for the answer") as raised:
        await cko.customers.get(CUSTOMER_ID)
    assert "may have acted" not in str(raised.value)  # a read cannot have acted
    assert calls(mocked, "GET", CUSTOMER_URL) == 3
    mocked.patch(CUSTOMER_URL, exception=aiohttp.SocketTimeoutError(), repeat=True)
    with pytest.raises(CheckoutTimeoutError, match="may have acted"):
        await cko.customers.update(CUSTOMER_ID, name="Batman")


async def test_patch_and_delete_are_retried_after_a_dropped_connection(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    mocked.patch(CUSTOMER_URL, exception=aiohttp.ServerDisconnectedError())
    mocked.patch(CUSTOMER_URL, status=204, headers={"Cko-Request-Id": "r_patch"})
    result = await cko.customers.update(CUSTOMER_ID, name="Batman")
    assert result.request_id == "r_patch"


async def test_delete_whose_retry_finds_nothing_after_an_unanswered_attempt_succeeded(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    mocked.delete(CUSTOMER_URL, exception=aiohttp.ServerDisconnectedError())
    mocked.delete(CUSTOMER_URL, status=404, headers={"Cko-Request-Id": "r_404"})
    result = await cko.customers.delete(CUSTOMER_ID)
    assert result.request_id == "r_404"


async def test_delete_of_a_missing_customer_still_raises_not_found(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    mocked.delete(CUSTOMER_URL, status=404)
    with pytest.raises(NotFoundError):
        await cko.customers.delete(CUSTOMER_ID)


async def test_tls_errors_are_not_retried(cko: AsyncClient, mocked: aioresponses) -> None:
    import ssl

    error = aiohttp.ClientConnectorCertificateError(
        aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None),
        ssl.SSLCertVerificationError("certificate verify failed"),
    )
    mocked.get(CUSTOMER_URL, exception=error, repeat=True)
    with pytest.raises(CheckoutConnectionError, match="certificate"):
        await cko.customers.get(CUSTOMER_ID)
    assert calls(mocked, "GET", CUSTOMER_URL) == 1


async def test_secret_key_is_sent_as_bearer_and_never_logged(
    cko: AsyncClient, mocked: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    seen: dict[str, str] = {}

    def capture(url: object, **kwargs: object) -> CallbackResult:
        seen.update(kwargs["headers"])  # type: ignore[arg-type]
        return CallbackResult(status=200, payload=CUSTOMER_BODY, headers={"Cko-Request-Id": "r1"})

    mocked.get(re.compile(r".*/customers/bruce.*"), callback=capture)
    with caplog.at_level(logging.DEBUG, logger="checkout_customers"):
        await cko.customers.get("bruce@wayne.com")
    assert seen["Authorization"] == f"Bearer {SECRET_KEY}"
    assert seen["User-Agent"].startswith("checkout-customers/")
    assert "r1" in caplog.text
    assert "GET /customers/{email} -> 200" in caplog.text
    assert SECRET_KEY not in caplog.text
    assert "bruce@wayne.com" not in caplog.text


async def test_unparseable_success_body_is_a_connection_error_not_a_traceback(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    mocked.get(CUSTOMER_URL, status=200, payload={"unexpected": True})
    with pytest.raises(CheckoutConnectionError, match="could not be read"):
        await cko.customers.get(CUSTOMER_ID)
    mocked.post(CREATE_URL, status=201, payload={})
    with pytest.raises(CheckoutConnectionError, match="look it up by email"):
        await cko.customers.create(email="bruce@wayne.com")


async def test_caller_owned_session_is_used_and_left_open(mocked: aioresponses) -> None:
    mocked.get(CUSTOMER_URL, status=200, payload=CUSTOMER_BODY)
    async with aiohttp.ClientSession() as session:
        async with AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234", session=session) as client:
            customer = await client.customers.get(CUSTOMER_ID)
        assert customer.email == "bruce@wayne.com"
        assert not session.closed


async def test_closed_client_refuses_new_requests(mocked: aioresponses) -> None:
    client = AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234")
    await client.aclose()
    await client.aclose()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        await client.customers.get(CUSTOMER_ID)


def test_a_client_refuses_an_event_loop_other_than_its_first(mocked: aioresponses) -> None:
    mocked.get(CUSTOMER_URL, status=200, payload=CUSTOMER_BODY, repeat=True)
    client = AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234")
    first_loop, other_loop = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        first_loop.run_until_complete(client.customers.get(CUSTOMER_ID))
        with pytest.raises(RuntimeError, match="one client per event loop"):
            other_loop.run_until_complete(client.customers.get(CUSTOMER_ID))
        first_loop.run_until_complete(client.aclose())
    finally:
        first_loop.close()
        other_loop.close()


async def test_user_agent_names_package_python_and_aiohttp(
    cko: AsyncClient, mocked: aioresponses
) -> None:
    seen: dict[str, str] = {}

    def capture(url: object, **kwargs: object) -> CallbackResult:
        seen.update(kwargs["headers"])  # type: ignore[arg-type]
        return CallbackResult(status=200, payload=CUSTOMER_BODY)

    mocked.get(CUSTOMER_URL, callback=capture)
    await cko.customers.get(CUSTOMER_ID)
    agent = seen["User-Agent"]
    assert agent.startswith(f"checkout-customers/{checkout_customers.__version__} ")
    assert f"Python/{platform.python_version()}" in agent
    assert f"aiohttp/{aiohttp.__version__}" in agent
