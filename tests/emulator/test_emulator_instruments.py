"""`POST/GET/PATCH/DELETE /instruments`: storing, linking to customers, updating, deleting."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import aiohttp
import pytest

from checkout_customers.emulator import (
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_VISA_ID,
    RunningEmulator,
    run_emulator,
)

from .conftest import Api

INSTRUMENT_ID = re.compile(r"src_[a-z2-7]{26}")
CUSTOMER_ID = re.compile(r"cus_[a-z2-7]{26}")
UNKNOWN_CUSTOMER = "cus_" + "a" * 26
UNKNOWN_INSTRUMENT = "src_" + "a" * 26
NEXT_YEAR = datetime.date.today().year + 1
BANK = {
    "type": "bank_account",
    "currency": "GBP",
    "country": "GB",
    "iban": "GB33BUKB20201555555555",
}


class Instruments:
    """Raw calls to the instruments and tokens endpoints of one emulator."""

    def __init__(self, http: aiohttp.ClientSession, emulator: RunningEmulator) -> None:
        self.api = Api(http, emulator.base_url, emulator.secret_key)
        self.public = Api(http, emulator.base_url, emulator.public_key)

    async def token(self, number: str = "4543474002249996", **card: Any) -> str:
        body = {"type": "card", "number": number, "expiry_month": 6, "expiry_year": NEXT_YEAR}
        status, _, raw = await self.public.call("POST", "/tokens", json={**body, **card})
        assert status == 201, raw
        token: str = json.loads(raw)["token"]
        return token

    async def create(self, **body: Any) -> tuple[int, Any]:
        status, _, raw = await self.api.call("POST", "/instruments", json=body)
        return status, json.loads(raw) if raw else None

    async def store_card(self, **body: Any) -> dict[str, Any]:
        status, created = await self.create(type="token", token=await self.token(), **body)
        assert status == 201, created
        result: dict[str, Any] = created
        return result

    async def get(self, instrument_id: str) -> tuple[int, Any]:
        status, _, raw = await self.api.call("GET", f"/instruments/{instrument_id}")
        return status, json.loads(raw) if raw else None

    async def update(self, instrument_id: str, **body: Any) -> tuple[int, Any]:
        status, _, raw = await self.api.call("PATCH", f"/instruments/{instrument_id}", json=body)
        return status, json.loads(raw) if raw else None

    async def delete(self, instrument_id: str) -> int:
        status, _, _ = await self.api.call("DELETE", f"/instruments/{instrument_id}")
        return status


@pytest.fixture
def instruments(emulator: RunningEmulator, http: aiohttp.ClientSession) -> Instruments:
    return Instruments(http, emulator)


async def test_a_new_email_creates_a_customer_with_the_card_as_its_default(
    instruments: Instruments, api: Api, emulator: RunningEmulator
) -> None:
    phone = {"country_code": "+1", "number": "415 555 2671"}

    created = await instruments.store_card(
        customer={"email": "bruce@wayne.com", "name": "Bruce Wayne", "phone": phone}
    )

    assert INSTRUMENT_ID.fullmatch(created["id"])
    assert created["type"] == "card"  # a token is stored as the card it stands for
    assert (created["last4"], created["bin"], created["scheme"]) == ("9996", "454347", "VISA")
    assert CUSTOMER_ID.fullmatch(created["customer"]["id"])
    assert created["customer"] == {
        "id": created["customer"]["id"],
        "email": "bruce@wayne.com",
        "name": "Bruce Wayne",
    }
    status, customer = await api.get(created["customer"]["id"])
    assert status == 200
    assert customer["phone"] == phone
    assert customer["default"] == created["id"]
    assert [item["id"] for item in customer["instruments"]] == [created["id"]]
    assert customer["instruments"][0]["fingerprint"] == created["fingerprint"]
    assert emulator.count_customers_with_email("bruce@wayne.com") == 1


async def test_an_existing_email_or_id_links_to_that_customer(
    instruments: Instruments, api: Api
) -> None:
    customer_id = await api.create(email="bruce@wayne.com", name="Bruce", default=TEST_CARD_VISA_ID)

    by_email = await instruments.store_card(
        customer={"email": "BRUCE@wayne.com", "name": "Not used: only new customers get it"}
    )
    by_id = await instruments.store_card(customer={"id": customer_id})

    assert by_email["customer"] == {"id": customer_id, "email": "bruce@wayne.com", "name": "Bruce"}
    assert by_id["customer"]["id"] == customer_id
    _, customer = await api.get(customer_id)
    assert customer["name"] == "Bruce"
    assert customer["default"] == TEST_CARD_VISA_ID  # linking alone keeps the default
    assert [item["id"] for item in customer["instruments"]] == [
        TEST_CARD_VISA_ID,
        by_email["id"],
        by_id["id"],
    ]


async def test_default_true_makes_the_new_instrument_the_default(
    instruments: Instruments, api: Api
) -> None:
    customer_id = await api.create(email="a@example.com", default=TEST_CARD_VISA_ID)

    created = await instruments.store_card(customer={"id": customer_id, "default": True})

    _, customer = await api.get(customer_id)
    assert customer["default"] == created["id"]
    _, got = await instruments.get(created["id"])
    assert got["customer"]["default"] is True
    _, visa = await instruments.get(TEST_CARD_VISA_ID)
    assert visa["customer"] == {"id": customer_id, "email": "a@example.com", "default": False}


async def test_a_bank_account_is_stored_and_linked(instruments: Instruments, api: Api) -> None:
    status, created = await instruments.create(
        **BANK,
        account_holder={"type": "individual", "first_name": "Jane", "last_name": "Doe"},
        customer={"email": "jane@example.com"},
    )

    assert status == 201
    assert created["type"] == "bank_account"
    assert created["iban"] == BANK["iban"]
    status, got = await instruments.get(created["id"])
    assert status == 200
    assert (got["currency"], got["country"]) == ("GBP", "GB")
    assert got["account_holder"]["first_name"] == "Jane"
    _, customer = await api.get("jane%40example.com")
    assert customer["default"] == created["id"]


async def test_the_same_card_has_the_same_fingerprint_for_every_customer(
    instruments: Instruments,
) -> None:
    first = await instruments.store_card(customer={"email": "a@example.com"})
    second = await instruments.store_card(customer={"email": "b@example.com"})

    assert first["id"] != second["id"]
    assert first["fingerprint"] == second["fingerprint"]


async def test_without_a_customer_the_instrument_is_stored_unlinked(
    instruments: Instruments, emulator: RunningEmulator
) -> None:
    created = await instruments.store_card()

    assert "customer" not in created
    status, got = await instruments.get(created["id"])
    assert status == 200
    assert "customer" not in got
    assert emulator.customers() == []


async def test_the_customer_can_be_required(http: aiohttp.ClientSession) -> None:
    async with run_emulator(instrument_customer_required=True) as emulator:
        instruments = Instruments(http, emulator)
        status, body = await instruments.create(type="token", token=await instruments.token())

    assert (status, body["error_codes"]) == (422, ["customer_required"])


@pytest.mark.parametrize(
    ("setting", "answer"), [(422, (422, ["customer_not_found"])), (404, (404, None))]
)
async def test_an_unknown_customer_id_gets_the_status_of_the_setting(
    http: aiohttp.ClientSession, setting: int, answer: tuple[int, Any]
) -> None:
    async with run_emulator(unknown_customer_status=setting) as emulator:
        instruments = Instruments(http, emulator)
        token = await instruments.token()
        status, body = await instruments.create(
            type="token", token=token, customer={"id": UNKNOWN_CUSTOMER}
        )
        card = await instruments.store_card()
        update = await instruments.update(card["id"], customer={"id": UNKNOWN_CUSTOMER})
        assert emulator.customers() == []

    errors = None if body is None else body["error_codes"]
    assert (status, errors) == answer
    assert (update[0], None if update[1] is None else update[1]["error_codes"]) == answer


async def test_an_id_and_the_email_of_another_customer_are_refused_by_default(
    instruments: Instruments, api: Api
) -> None:
    bruce = await api.create(email="bruce@wayne.com")
    await api.create(email="selina@kyle.com")

    status, body = await instruments.create(
        type="token",
        token=await instruments.token(),
        customer={"id": bruce, "email": "selina@kyle.com"},
    )
    same_customer = await instruments.store_card(customer={"id": bruce, "email": "Bruce@Wayne.com"})

    assert (status, body["error_codes"]) == (422, ["customer_email_mismatch"])
    assert same_customer["customer"]["id"] == bruce


async def test_the_id_can_win_over_the_email(http: aiohttp.ClientSession) -> None:
    async with run_emulator(customer_id_email_conflict="id") as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        instruments = Instruments(http, emulator)
        bruce = await api.create(email="bruce@wayne.com")

        created = await instruments.store_card(customer={"id": bruce, "email": "new@example.com"})

        assert created["customer"]["id"] == bruce
        assert emulator.count_customers_with_email("new@example.com") == 0


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({}, ["type_required"]),
        ({"type": "card"}, ["type_invalid"]),
        ({"type": "token"}, ["token_required"]),
        ({"type": "bank_account"}, ["currency_required", "country_required"]),
        (
            {**BANK, "currency": "gbp", "account_type": "cheque"},
            ["account_type_invalid", "currency_invalid"],
        ),
        ({**BANK, "account_holder": {"date_of_birth": "1986-02-30"}}, ["account_holder_invalid"]),
        ({**BANK, "bank": {"address": {"country": "GBR"}}}, ["bank_invalid"]),
        ({**BANK, "customer": {"id": "cus_short"}}, ["customer_invalid"]),
        ({**BANK, "customer": {"email": "not-an-email"}}, ["customer_invalid"]),
        ({**BANK, "customer": {"email": "a@b.co", "default": "yes"}}, ["customer_invalid"]),
        ({**BANK, "customer": {"email": "a@b.co", "name": None}}, ["customer_invalid"]),
        (
            {
                "type": "token",
                "token": "tok_" + "a" * 26,
                "account_holder": {"phone": {"number": "1"}},
            },
            ["account_holder_invalid"],
        ),
    ],
)
async def test_bad_bodies_are_422_naming_the_field(
    instruments: Instruments, emulator: RunningEmulator, body: dict[str, Any], codes: list[str]
) -> None:
    status, answer = await instruments.create(**body)

    assert status == 422
    assert answer["error_codes"] == codes
    assert emulator.customers() == []


async def test_get_answers_the_card_with_its_customer(instruments: Instruments) -> None:
    created = await instruments.store_card(
        account_holder={"first_name": "Bruce", "last_name": "Wayne"},
        customer={"email": "bruce@wayne.com", "name": "Bruce"},
    )

    status, got = await instruments.get(created["id"])

    assert status == 200
    assert {key: got[key] for key in created if key != "customer"} == {
        key: value for key, value in created.items() if key != "customer"
    }
    assert got["account_holder"] == {"first_name": "Bruce", "last_name": "Wayne"}
    assert got["customer"] == {**created["customer"], "default": True}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("instrument_id", [UNKNOWN_INSTRUMENT, "not-an-id", "src_a%2Fb"])
async def test_an_unknown_instrument_is_404_without_body(
    instruments: Instruments, method: str, instrument_id: str
) -> None:
    body = {"name": "x"} if method == "PATCH" else None
    status, headers, raw = await instruments.api.call(
        method, f"/instruments/{instrument_id}", json=body
    )

    assert (status, raw) == (404, b"")
    assert headers["Cko-Request-Id"]


async def test_update_changes_only_the_fields_sent(instruments: Instruments, api: Api) -> None:
    created = await instruments.store_card(
        account_holder={"first_name": "Bruce", "last_name": "Wayne"},
        customer={"email": "bruce@wayne.com"},
    )

    status, answer = await instruments.update(
        created["id"], expiry_month=12, name="B. Wayne", account_holder={"first_name": "Batman"}
    )

    assert (status, answer) == (200, {"type": "card", "fingerprint": created["fingerprint"]})
    _, got = await instruments.get(created["id"])
    assert (got["expiry_month"], got["expiry_year"], got["name"]) == (12, NEXT_YEAR, "B. Wayne")
    assert got["account_holder"] == {"first_name": "Batman"}  # replaced as a whole
    _, customer = await api.get("bruce%40wayne.com")
    assert customer["instruments"][0]["expiry_month"] == 12


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({"expiry_month": 13}, ["expiry_month_invalid"]),
        ({"expiry_year": "2030"}, ["expiry_year_invalid"]),
        ({"name": 7}, ["name_invalid"]),
        ({"type": "sepa"}, ["type_invalid"]),
        ({"customer": {"id": UNKNOWN_CUSTOMER, "default": 1}}, ["customer_invalid"]),
    ],
)
async def test_bad_updates_are_422_and_change_nothing(
    instruments: Instruments, body: dict[str, Any], codes: list[str]
) -> None:
    created = await instruments.store_card()

    status, answer = await instruments.update(created["id"], **body)

    assert (status, answer["error_codes"]) == (422, codes)
    assert (await instruments.get(created["id"]))[1]["expiry_month"] == 6


async def test_update_makes_an_instrument_the_default(instruments: Instruments, api: Api) -> None:
    first = await instruments.store_card(customer={"email": "bruce@wayne.com"})
    second = await instruments.store_card(customer={"email": "bruce@wayne.com"})
    customer_id = first["customer"]["id"]
    assert (await api.get(customer_id))[1]["default"] == first["id"]

    status, _ = await instruments.update(second["id"], customer={"default": True})

    assert status == 200
    assert (await api.get(customer_id))[1]["default"] == second["id"]


async def test_update_moves_an_instrument_to_another_customer(
    instruments: Instruments, api: Api
) -> None:
    card = await instruments.store_card(customer={"email": "bruce@wayne.com"})
    selina = await api.create(email="selina@kyle.com")

    status, _ = await instruments.update(card["id"], customer={"id": selina, "default": True})

    assert status == 200
    _, bruce = await api.get(card["customer"]["id"])
    assert (bruce["instruments"], "default" in bruce) == ([], False)
    _, moved = await api.get(selina)
    assert (moved["default"], [item["id"] for item in moved["instruments"]]) == (
        card["id"],
        [card["id"]],
    )


async def test_a_bank_account_updates_its_own_fields(instruments: Instruments) -> None:
    _, created = await instruments.create(**BANK)

    status, answer = await instruments.update(
        created["id"], account_type="savings", bank={"name": "Barclays"}, expiry_month=3
    )

    assert (status, answer["type"]) == (200, "bank_account")
    _, got = await instruments.get(created["id"])
    assert (got["account_type"], got["bank"]) == ("savings", {"name": "Barclays"})
    assert "expiry_month" not in got  # a card field means nothing to a bank account


async def test_deleting_the_default_moves_the_default_to_the_next(
    instruments: Instruments, api: Api
) -> None:
    first = await instruments.store_card(customer={"email": "bruce@wayne.com"})
    second = await instruments.store_card(customer={"email": "bruce@wayne.com"})

    assert await instruments.delete(first["id"]) == 204

    assert await instruments.get(first["id"]) == (404, None)
    _, customer = await api.get(first["customer"]["id"])
    assert customer["default"] == second["id"]
    assert [item["id"] for item in customer["instruments"]] == [second["id"]]
    assert await instruments.delete(second["id"]) == 204
    _, bare = await api.get(first["customer"]["id"])
    assert (bare["instruments"], "default" in bare) == ([], False)


async def test_deleting_a_customer_deletes_its_stored_instruments_only(
    instruments: Instruments, api: Api
) -> None:
    card = await instruments.store_card(customer={"email": "bruce@wayne.com"})
    customer_id = card["customer"]["id"]
    status, _, _ = await api.call(
        "PATCH", f"/customers/{customer_id}", json={"instruments": [TEST_BANK_ACCOUNT_GB_ID]}
    )
    assert status == 204
    shared = await instruments.store_card(customer={"email": "selina@kyle.com"})
    await api.call("PATCH", f"/customers/{customer_id}", json={"instruments": [shared["id"]]})

    status, _, _ = await api.call("DELETE", f"/customers/{customer_id}")

    assert status == 204
    assert (await instruments.get(card["id"]))[0] == 404
    assert (await instruments.get(TEST_BANK_ACCOUNT_GB_ID))[0] == 200  # built in: stays
    assert (await instruments.get(shared["id"]))[0] == 200  # another customer's: stays


async def test_reset_restores_the_built_in_instruments(
    instruments: Instruments, emulator: RunningEmulator
) -> None:
    await instruments.update(TEST_CARD_VISA_ID, expiry_year=2099)
    assert await instruments.delete(TEST_BANK_ACCOUNT_GB_ID) == 204

    emulator.reset()

    assert (await instruments.get(TEST_CARD_VISA_ID))[1]["expiry_year"] == 2030
    assert (await instruments.get(TEST_BANK_ACCOUNT_GB_ID))[0] == 200


async def test_a_duplicate_email_rule_applies_to_customers_made_by_instruments(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(reject_duplicate_emails=422) as emulator:
        instruments = Instruments(http, emulator)
        first = await instruments.store_card(customer={"email": "bruce@wayne.com"})
        second = await instruments.store_card(customer={"email": "Bruce@Wayne.com"})

        assert first["customer"]["id"] == second["customer"]["id"]  # linked, not created
        assert emulator.count_customers_with_email("bruce@wayne.com") == 1
