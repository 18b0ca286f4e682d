"""A hostile server's answers end in a `CheckoutError` that names the problem and keeps the id.

Gaps found by probing both clients against raw peers on loopback: an answer that came but could
not be read kept its `Cko-Request-Id` only in the message text; a status beyond 599 was taken
for a server error (and retried); a number too long for Python was "not JSON"; an OAuth
token answer with a control character or an endless `expires_in` escaped as a bare
`ValueError` / `OverflowError`. And thousands of error codes made an error's text (a log
line) megabytes long.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from checkout_customers import (
    AsyncClient,
    CheckoutApiError,
    CheckoutConnectionError,
    CheckoutTimeoutError,
    ServerError,
)
from checkout_customers.migration import migrate

from .conftest import CUSTOMER_ID
from .peers import CLIENT_KINDS, client, raw_server, read_head

REQUEST_ID = "r_hostile"
CUSTOMER = b'{"id": "%s", "email": "bruce@wayne.com"}' % CUSTOMER_ID.encode()
CLIENT_ID = "cli_abcd1234efgh5678"
CLIENT_SECRET = "very-secret-client-secret"


def answer(status: int, body: bytes, *extra: str, length: int | None = None) -> bytes:
    """An HTTP/1.1 answer carrying the request id; `length` overrides the Content-Length."""
    lines = [
        f"HTTP/1.1 {status} Whatever",
        "Content-Type: application/json",
        f"Cko-Request-Id: {REQUEST_ID}",
        f"Content-Length: {len(body) if length is None else length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The next request's head, its body read past."""
    head = await read_head(reader)
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def answering(
    raw: bytes, *, then: str = "keep", requests: list[bytes] | None = None
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A peer answering every request with `raw`, then closing ("close") or going silent."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request(reader)
            if requests is not None:
                requests.append(head.split(b"\r\n")[0])
            writer.write(raw)
            await writer.drain()
            if then == "close":
                return
            if then == "silent":
                await reader.read()  # until the client hangs up
                return

    return handle


UNREADABLE = {
    "not-json": (answer(200, b"<html>captive portal</html>"), "keep"),
    "over-the-cap": (answer(200, b"{}", length=5 << 20), "keep"),
    "cut-short": (answer(200, CUSTOMER, length=len(CUSTOMER) + 40), "close"),
    "body-too-slow": (answer(200, b"", length=len(CUSTOMER)), "silent"),
    "wrong-shape": (answer(200, b'{"id": 5, "email": ["bruce@wayne.com"]}'), "keep"),
    "create-without-id": (answer(201, b'{"id": null}'), "keep"),
    "instrument-null": (answer(200, b"null"), "keep"),
}


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("case", list(UNREADABLE))
async def test_an_answer_that_could_not_be_read_carries_its_request_id(
    kind: str, case: str
) -> None:
    raw, then = UNREADABLE[case]
    peer = answering(raw, then=then)
    async with (
        raw_server(peer) as base_url,
        client(kind, base_url, max_retries=0, timeout=1) as api,
    ):
        if case == "create-without-id":
            call = api.customers.create(email="bruce@wayne.com")
        elif case == "instrument-null":
            call = api.instruments.get("src_wmlfc3zyhqzehihu7giusaaawu")
        else:
            call = api.customers.get(CUSTOMER_ID)
        with pytest.raises(CheckoutConnectionError) as raised:
            await call
    assert raised.value.request_id == REQUEST_ID
    assert REQUEST_ID in str(raised.value)
    if case == "body-too-slow":
        assert isinstance(raised.value, CheckoutTimeoutError)
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (type(copy), str(copy), copy.request_id) == (
        type(raised.value),
        str(raised.value),
        REQUEST_ID,
    )


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_no_answer_at_all_has_no_request_id(kind: str) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with raw_server(hang_up) as base_url, client(kind, base_url, max_retries=0) as api:
        with pytest.raises(CheckoutConnectionError, match="without an answer") as raised:
            await api.customers.get(CUSTOMER_ID)
    assert raised.value.request_id is None


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_number_too_long_for_python_is_named_as_such(kind: str) -> None:
    body = b'{"id": "%s", "email": "b@w.co", "metadata": {"n": %s}}' % (
        CUSTOMER_ID.encode(),
        b"7" * 5000,  # past int-string conversion's 4,300 digits
    )
    peer = answering(answer(200, body))
    async with raw_server(peer) as base_url, client(kind, base_url, max_retries=0) as api:
        with pytest.raises(CheckoutConnectionError, match="could not be read") as raised:
            await api.customers.get(CUSTOMER_ID)
    assert "more digits than Python reads" in str(raised.value)
    assert "not JSON" not in str(raised.value)
    assert raised.value.request_id == REQUEST_ID


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("status", [600, 999])
async def test_a_status_beyond_599_is_no_server_error_and_is_not_retried(
    kind: str, status: int
) -> None:
    requests: list[bytes] = []
    peer = answering(answer(status, b"{}"), requests=requests)
    async with raw_server(peer) as base_url, client(kind, base_url, max_retries=2) as api:
        with pytest.raises(CheckoutApiError) as raised:
            await api.customers.get(CUSTOMER_ID)
    assert not isinstance(raised.value, ServerError)
    assert raised.value.status == status
    assert raised.value.request_id == REQUEST_ID
    assert "Unexpected status" in str(raised.value)
    assert len(requests) == 1


TOKEN_ANSWERS = {
    "line-break": b'{"access_token": "tok_s3cr3t\\r\\nX-Injected: 1", "expires_in": 3600}',
    "nul": b'{"access_token": "tok_s3cr3t\\u0000", "expires_in": 3600}',
    "not-ascii": b'{"access_token": "tok_s3cr3t\\u00e9", "expires_in": 3600}',
    "blank": b'{"access_token": " ", "expires_in": 3600}',
    "endless-integer": b'{"access_token": "tok_s3cr3t", "expires_in": 1%s}' % (b"0" * 400),
    "infinite": b'{"access_token": "tok_s3cr3t", "expires_in": 1e999}',
}


@pytest.mark.parametrize("kind", CLIENT_KINDS)
@pytest.mark.parametrize("case", list(TOKEN_ANSWERS))
async def test_an_unusable_oauth_token_answer_is_a_connection_error(kind: str, case: str) -> None:
    requests: list[bytes] = []

    async def token_endpoint(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            requests.append((await read_request(reader)).split(b"\r\n")[0])
            writer.write(answer(200, TOKEN_ANSWERS[case]))
            await writer.drain()

    options: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "secret_key": None,
        "max_retries": 0,
    }
    async with raw_server(token_endpoint) as base_url, client(kind, base_url, **options) as api:
        with pytest.raises(CheckoutConnectionError, match="OAuth token") as raised:
            await api.customers.get(CUSTOMER_ID)
    assert raised.value.request_id == REQUEST_ID
    assert "s3cr3t" not in str(raised.value)
    assert requests == [b"POST /connect/token HTTP/1.1"]  # the token was never sent


async def test_a_migration_reports_the_request_id_of_an_unreadable_answer(tmp_path: Path) -> None:
    async def api(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request(reader)
            if b"reachability-check" in head:  # the run's start-up probe: no such customer
                writer.write(answer(404, b""))
            else:
                writer.write(answer(200, b"<html>captive portal</html>"))
            await writer.drain()

    report = tmp_path / "report.jsonl"
    async with (
        raw_server(api) as base_url,
        AsyncClient(secret_key="sk_sbox_test", base_url=base_url) as cko,
    ):
        result = await migrate(
            cko,
            [{"email": "bruce@wayne.com"}],
            journal=tmp_path / "journal.sqlite3",
            report=report,
            max_attempts=1,
        )
    assert result.failed == 1
    assert f'"request_id": "{REQUEST_ID}"' in report.read_text()


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_an_error_text_shows_a_bounded_part_of_the_codes_the_server_sent(kind: str) -> None:
    codes = [f"code_{number}_" + "x" * 200 for number in range(5000)]
    body = json.dumps({"error_type": "t" * 5000, "error_codes": codes}).encode()
    peer = answering(answer(422, body))
    async with raw_server(peer) as base_url, client(kind, base_url, max_retries=0) as api:
        with pytest.raises(CheckoutApiError) as raised:
            await api.customers.create(email="bruce@wayne.com")
    error = raised.value
    assert error.error_codes == tuple(codes)  # the attribute keeps every code, whole
    assert error.error_type == "t" * 5000
    for text in (str(error), repr(error)):
        assert len(text) < 4000, len(text)
        assert "code_0_" in text
        assert "code_19_" in text
        assert "code_20_" not in text
        assert "(5000 codes)" in text
        assert "(207 characters)" in text
        assert "(5000 characters)" in text
    assert f"request_id={REQUEST_ID}" in str(error)
