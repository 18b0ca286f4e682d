"""Faults, rate limits and the request journal apply to instruments and tokens as to customers."""

from __future__ import annotations

import datetime
import json
from typing import Any

import aiohttp
import pytest

from checkout_customers.emulator import RunningEmulator, run_emulator

from .conftest import Api

NEXT_YEAR = datetime.date.today().year + 1
CARD = {
    "type": "card",
    "number": "4543474002249996",
    "expiry_month": 6,
    "expiry_year": NEXT_YEAR,
    "cvv": "956",
}
SLOW = 0.01  # requests/s: a bucket of one token, refilled after 100 s


def _apis(http: aiohttp.ClientSession, emulator: RunningEmulator) -> tuple[Api, Api]:
    return (
        Api(http, emulator.base_url, emulator.secret_key),
        Api(http, emulator.base_url, emulator.public_key),
    )


async def _token(public: Api) -> str:
    status, _, raw = await public.call("POST", "/tokens", json=CARD)
    assert status == 201, raw
    token: str = json.loads(raw)["token"]
    return token


async def test_a_queued_fault_meets_instrument_requests_by_path_and_customer_email(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    api, public = _apis(http, emulator)
    emulator.fail_next("503", path="/tokens", retry_after=1)
    emulator.fail_next("drop_after_acting", method="POST", email="BRUCE@wayne.com")

    refused = await public.call("POST", "/tokens", json=CARD)
    token = await _token(public)
    with pytest.raises(aiohttp.ClientError):
        await api.call(
            "POST",
            "/instruments",
            json={"type": "token", "token": token, "customer": {"email": "bruce@wayne.com"}},
        )

    assert (refused[0], refused[1]["Retry-After"]) == (503, "1")
    # The dropped create acted: the customer and its card exist.
    (customer,) = emulator.customers()
    assert customer["email"] == "bruce@wayne.com"
    assert len(customer["instruments"]) == 1
    assert [(entry.path, entry.status, entry.fault) for entry in emulator.requests()] == [
        ("/tokens", 503, "503"),
        ("/tokens", 201, None),
        ("/instruments", None, "drop_after_acting"),
    ]


async def test_start_time_shares_apply_to_instruments_and_tokens(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(fault_500=1.0) as emulator:
        api, public = _apis(http, emulator)
        tokens = await public.call("POST", "/tokens", json=CARD)
        instruments = await api.call("GET", "/instruments/src_" + "a" * 26)

    assert (tokens[0], instruments[0]) == (500, 500)


async def test_rate_limits_count_instruments_and_tokens(http: aiohttp.ClientSession) -> None:
    async with run_emulator(read_rate=SLOW, write_rate=SLOW, retry_after=3) as emulator:
        api, public = _apis(http, emulator)
        token = await _token(public)  # the public key's own write bucket
        second_token = await public.call("POST", "/tokens", json=CARD)
        stored = await api.call("POST", "/instruments", json={"type": "token", "token": token})
        second_write = await api.call("DELETE", "/instruments/src_" + "a" * 26)
        instrument_id = json.loads(stored[2])["id"]
        first_read = await api.call("GET", f"/instruments/{instrument_id}")
        second_read = await api.call("GET", f"/instruments/{instrument_id}")

    assert (second_token[0], second_token[1]["Retry-After"]) == (429, "3")
    assert stored[0] == 201
    assert second_write[0] == 429
    assert (first_read[0], second_read[0]) == (200, 429)


async def test_the_journal_keeps_token_requests_without_the_card_number_or_cvv(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    _, public = _apis(http, emulator)
    await _token(public)
    await public.call(
        "POST",
        "/tokens",
        data=b"4543474002249996 956",
        headers={"Content-Type": "application/json"},
    )

    kept, malformed = emulator.requests()
    recorded: dict[str, Any] = kept.json()
    assert recorded == {**CARD, "number": "[redacted]", "cvv": "[redacted]"}
    assert malformed.body == "[redacted]"
    assert (malformed.status, kept.status) == (422, 201)
    assert "Authorization" not in kept.headers
