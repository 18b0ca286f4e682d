"""`POST /tokens`: card tokens for a public key, Luhn-checked, unexpired, single use, expiring."""

from __future__ import annotations

import asyncio
import datetime
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from checkout_customers.emulator import (
    DEFAULT_PUBLIC_KEY,
    INSTRUMENT_ERROR_CODES,
    RunningEmulator,
    emulator_thread,
    run_emulator,
)

from .conftest import Api

TOKEN = re.compile(r"tok_[a-z2-7]{26}")
NEXT_YEAR = datetime.date.today().year + 1
CARD = {"type": "card", "number": "4543474002249996", "expiry_month": 6, "expiry_year": NEXT_YEAR}


@pytest.fixture
def public_api(emulator: RunningEmulator, http: aiohttp.ClientSession) -> Api:
    return Api(http, emulator.base_url, emulator.public_key)


async def _tokenise(public_api: Api, **card: Any) -> tuple[int, Any]:
    status, _, raw = await public_api.call("POST", "/tokens", json={**CARD, **card})
    return status, json.loads(raw) if raw else None


async def _store(api: Api, token: str) -> tuple[int, Any]:
    status, _, raw = await api.call("POST", "/instruments", json={"type": "token", "token": token})
    return status, json.loads(raw) if raw else None


async def test_a_test_card_becomes_a_token_with_its_public_details_only(public_api: Api) -> None:
    status, headers, raw = await public_api.call(
        "POST",
        "/tokens",
        json={**CARD, "cvv": "956", "name": "Bruce Wayne", "billing_address": {"country": "US"}},
    )

    assert status == 201
    assert headers["Cko-Request-Id"]
    body = json.loads(raw)
    assert TOKEN.fullmatch(body["token"])
    assert {key: body[key] for key in ("type", "last4", "bin", "scheme", "name")} == {
        "type": "card",
        "last4": "9996",
        "bin": "454347",
        "scheme": "VISA",
        "name": "Bruce Wayne",
    }
    assert (body["expiry_month"], body["expiry_year"]) == (6, NEXT_YEAR)
    assert body["billing_address"] == {"country": "US"}
    expires_on = datetime.datetime.fromisoformat(body["expires_on"].replace("Z", "+00:00"))
    remaining = expires_on - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=14) < remaining <= datetime.timedelta(minutes=15)
    assert "4543474002249996" not in raw.decode()
    assert "956" not in raw.decode()


async def test_the_default_public_key_is_documented_and_only_keys_of_its_kind_tokenise(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    assert emulator.public_key == DEFAULT_PUBLIC_KEY
    for key in (emulator.secret_key, "pk_sbox_not_this_one", ""):
        status, _, raw = await Api(http, emulator.base_url, key).call("POST", "/tokens", json=CARD)
        assert (status, raw) == (401, b"")
    # ...and a public key opens nothing else.
    public = Api(http, emulator.base_url, emulator.public_key)
    assert (await public.call("POST", "/instruments", json={"type": "token"}))[0] == 401
    assert (await public.call("GET", "/customers/a%40b.co"))[0] == 401


async def test_every_public_key_given_is_accepted(http: aiohttp.ClientSession) -> None:
    async with run_emulator(public_keys=("pk_sbox_one", "pk_sbox_two")) as emulator:
        for key in ("pk_sbox_one", "pk_sbox_two"):
            status, _ = await _tokenise(Api(http, emulator.base_url, key))
            assert status == 201


@pytest.mark.parametrize(
    ("card", "codes"),
    [
        ({"number": "4543474002249997"}, ["card_number_invalid"]),  # fails the Luhn check
        ({"number": "4543 4740 0224 9996"}, ["card_number_invalid"]),
        ({"number": 4543474002249996}, ["card_number_invalid"]),
        ({"number": None}, ["card_number_required"]),
        ({"expiry_month": 13}, ["card_expiry_month_invalid"]),
        ({"expiry_month": None}, ["card_expiry_month_required"]),
        ({"expiry_year": 25}, ["card_expiry_year_invalid"]),
        ({"expiry_year": True}, ["card_expiry_year_invalid"]),
        ({"expiry_year": 2020}, ["card_expired"]),
        ({"cvv": "9561"}, ["cvv_invalid"]),  # 3 digits but for Amex
        ({"number": "378282246310005", "cvv": "123"}, ["cvv_invalid"]),
        ({"billing_address": {"city": "x" * 51}}, ["billing_address_invalid"]),
        ({"phone": {"number": "12"}}, ["phone_invalid"]),
        ({"type": "googlepay"}, ["type_invalid"]),
        ({"type": None}, ["type_required"]),
    ],
)
async def test_bad_card_details_are_422_naming_the_field(
    public_api: Api, card: dict[str, Any], codes: list[str]
) -> None:
    status, body = await _tokenise(public_api, **card)

    assert status == 422
    assert body["error_type"] == "request_invalid"
    assert body["error_codes"] == codes
    assert set(codes) <= set(INSTRUMENT_ERROR_CODES)


async def test_last_month_is_expired_and_this_month_is_not(public_api: Api) -> None:
    today = datetime.date.today()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)

    this_month = await _tokenise(public_api, expiry_month=today.month, expiry_year=today.year)
    expired = await _tokenise(
        public_api, expiry_month=last_month.month, expiry_year=last_month.year
    )

    assert this_month[0] == 201
    assert (expired[0], expired[1]["error_codes"]) == (422, ["card_expired"])


async def test_an_amex_card_takes_a_four_digit_cvv_and_any_luhn_number_tokenises(
    public_api: Api,
) -> None:
    amex = await _tokenise(public_api, number="378282246310005", cvv="1000")
    other = await _tokenise(public_api, number="5555555555554444")

    assert (amex[0], amex[1]["scheme"], amex[1]["card_type"]) == (201, "AMEX", "Charge")
    assert (other[0], other[1]["scheme"], other[1]["last4"]) == (201, "MASTERCARD", "4444")
    assert "issuer" not in other[1]  # only the documented test cards have issuer details


async def test_a_token_is_single_use(api: Api, public_api: Api) -> None:
    _, token = await _tokenise(public_api)

    first = await _store(api, token["token"])
    second = await _store(api, token["token"])

    assert first[0] == 201
    assert (second[0], second[1]["error_codes"]) == (422, ["token_used"])


async def test_a_token_refused_for_another_reason_is_not_used_up(api: Api, public_api: Api) -> None:
    _, token = await _tokenise(public_api)
    unknown_customer = {"id": "cus_" + "a" * 26}

    refused = await api.call(
        "POST",
        "/instruments",
        json={"type": "token", "token": token["token"], "customer": unknown_customer},
    )
    stored = await _store(api, token["token"])

    assert refused[0] == 422
    assert stored[0] == 201


async def test_an_unknown_token_is_token_invalid(api: Api) -> None:
    for token in ("tok_" + "a" * 26, "not a token", 7):
        status, body = await _store(api, token)  # type: ignore[arg-type]
        assert (status, body["error_codes"]) == (422, ["token_invalid"])


async def test_a_token_expires_after_the_setting(http: aiohttp.ClientSession) -> None:
    async with run_emulator(card_token_ttl_s=0.2) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        public_api = Api(http, emulator.base_url, emulator.public_key)
        _, fresh = await _tokenise(public_api)
        _, stale = await _tokenise(public_api)

        assert (await _store(api, fresh["token"]))[0] == 201
        await asyncio.sleep(0.3)
        status, body = await _store(api, stale["token"])

    assert (status, body["error_codes"]) == (422, ["token_expired"])


def test_the_number_and_cvv_are_never_kept(tmp_path: Path) -> None:
    db_path = tmp_path / "state.sqlite3"
    with emulator_thread(db_path=str(db_path)) as emulator:
        request = urllib.request.Request(
            emulator.base_url + "/tokens",
            data=json.dumps({**CARD, "cvv": "956"}).encode(),
            headers={
                "Authorization": f"Bearer {emulator.public_key}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request) as response:
            assert response.status == 201

    stored = b"".join(path.read_bytes() for path in tmp_path.glob("state.sqlite3*"))
    assert b"454347" in stored  # the file holds the token (its bin)...
    assert b"4543474002249996" not in stored  # ...but neither the number
    assert b'"cvv"' not in stored  # nor the cvv


async def test_a_token_is_single_use_across_emulators_sharing_a_file(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    db_path = str(tmp_path / "shared.sqlite3")
    async with run_emulator(db_path=db_path) as first, run_emulator(db_path=db_path) as second:
        _, token = await _tokenise(Api(http, first.base_url, first.public_key))
        stored = await _store(Api(http, second.base_url, second.secret_key), token["token"])
        again = await _store(Api(http, first.base_url, first.secret_key), token["token"])

    assert stored[0] == 201
    assert (again[0], again[1]["error_codes"]) == (422, ["token_used"])
