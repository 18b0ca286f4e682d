"""State: SQLite persistence across restarts, the admin path, and introspection."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from checkout_customers.emulator import (
    TEST_CARD_VISA_ID,
    TEST_INSTRUMENTS,
    RunningEmulator,
    run_emulator,
)

from .conftest import Api


async def test_sqlite_state_survives_a_restart(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    db_path = str(tmp_path / "emulator.sqlite3")
    async with run_emulator(db_path=db_path) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        customer_id = await api.create(email="kept@example.com", default=TEST_CARD_VISA_ID)
        instrument_id = emulator.add_instrument(
            {"type": "bank_account", "currency": "USD", "country": "US"}
        )
        await api.call("PATCH", f"/customers/{customer_id}", json={"instruments": [instrument_id]})
        before = emulator.customers()

    async with run_emulator(db_path=db_path) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        status, customer = await api.get("kept%40example.com")

        assert status == 200
        assert [customer] == before == emulator.customers()
        assert [i["id"] for i in customer["instruments"]] == [TEST_CARD_VISA_ID, instrument_id]

    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


async def test_memory_state_starts_empty_each_time(http: aiohttp.ClientSession) -> None:
    async with run_emulator() as emulator:
        await Api(http, emulator.base_url, emulator.secret_key).create(email="a@example.com")
    async with run_emulator() as emulator:
        assert emulator.customers() == []


async def test_admin_path_adds_instruments_lists_and_resets(
    api: Api, emulator: RunningEmulator
) -> None:
    card = {
        "type": "card",
        "expiry_month": 1,
        "expiry_year": 2032,
        "last4": "1111",
        "bin": "411111",
        "scheme": "VISA",
    }
    status, _, raw = await api.call("POST", "/_emulator/instruments", json=card)
    assert status == 201
    instrument_id = json.loads(raw)["id"]
    customer_id = await api.create(email="a@example.com", default=instrument_id)

    _, _, raw = await api.call("GET", "/_emulator/instruments")
    instruments = json.loads(raw)["instruments"]
    assert len(instruments) == len(TEST_INSTRUMENTS) + 1
    _, _, raw = await api.call("GET", "/_emulator/customers")
    assert [c["id"] for c in json.loads(raw)["customers"]] == [customer_id]

    assert (await api.call("POST", "/_emulator/reset"))[0] == 204
    assert emulator.customers() == []
    _, _, raw = await api.call("GET", "/_emulator/instruments")
    assert len(json.loads(raw)["instruments"]) == len(TEST_INSTRUMENTS)


@pytest.mark.parametrize(
    ("instrument", "codes"),
    [
        ({"type": "sepa"}, ["instrument_type_invalid"]),
        (
            {"type": "card", "id": "card_1", "expiry_month": 13, "last4": "12", "bin": "4"},
            [
                "instrument_id_invalid",
                "expiry_month_invalid",
                "expiry_year_invalid",
                "last4_invalid",
            ],
        ),
        ({"type": "bank_account"}, ["currency_invalid", "country_invalid"]),
    ],
)
async def test_admin_path_refuses_incomplete_instruments(
    api: Api, instrument: dict[str, object], codes: list[str]
) -> None:
    status, _, raw = await api.call("POST", "/_emulator/instruments", json=instrument)

    assert status == 422
    assert json.loads(raw)["error_codes"] == codes


async def test_an_added_instrument_id_cannot_be_taken_twice(emulator: RunningEmulator) -> None:
    with pytest.raises(ValueError, match="already taken"):
        emulator.add_instrument(dict(TEST_INSTRUMENTS[0]))
