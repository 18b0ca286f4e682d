"""The emulator's public names, its settings' checks and its built-in test instruments."""

from __future__ import annotations

import re
from typing import Any

import pytest

import checkout_customers.emulator as emulator_package
from checkout_customers.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET_KEY,
    TEST_INSTRUMENTS,
    EmulatorSettings,
)

INSTRUMENT_ID = re.compile(r"src_[a-z2-7]{26}")
FINGERPRINT = re.compile(r"[a-z0-9]{26}")


def test_exported_names_are_sorted_and_importable() -> None:
    exported = emulator_package.__all__

    assert exported == [
        "DEFAULT_CARD_TOKEN_TTL_S",
        "DEFAULT_CLIENT_ID",
        "DEFAULT_CLIENT_SECRET",
        "DEFAULT_JOURNAL_SIZE",
        "DEFAULT_PUBLIC_KEY",
        "DEFAULT_SECRET_KEY",
        "ERROR_CODES",
        "FAULT_KINDS",
        "INSTRUMENT_ERROR_CODES",
        "TEST_BANK_ACCOUNT_FR_ID",
        "TEST_BANK_ACCOUNT_GB_ID",
        "TEST_CARD_AMEX_ID",
        "TEST_CARD_DISCOVER_ID",
        "TEST_CARD_MASTERCARD_ID",
        "TEST_CARD_NUMBERS",
        "TEST_CARD_VISA_ID",
        "TEST_INSTRUMENTS",
        "EmulatorSettings",
        "QueuedFault",
        "RecordedRequest",
        "RunningEmulator",
        "emulator_thread",
        "run_emulator",
    ]
    assert all(hasattr(emulator_package, name) for name in exported)
    for name in ("QueuedFault", "RecordedRequest", "RunningEmulator", "EmulatorSettings"):
        assert getattr(emulator_package, name).__doc__


def test_default_credentials_have_the_shapes_of_real_ones() -> None:
    assert re.fullmatch(r"sk_[A-Za-z0-9_-]{8,}", DEFAULT_SECRET_KEY)
    assert re.fullmatch(r"pk_sbox_[A-Za-z0-9_-]{8,}", DEFAULT_PUBLIC_KEY)
    assert re.fullmatch(r"cli_[a-z0-9]{8,}", DEFAULT_CLIENT_ID)


def test_test_instruments_are_cards_of_four_schemes_and_two_bank_accounts() -> None:
    cards = [i for i in TEST_INSTRUMENTS if i["type"] == "card"]
    bank_accounts = [i for i in TEST_INSTRUMENTS if i["type"] == "bank_account"]

    assert len({card["scheme"] for card in cards}) >= 4
    assert len(bank_accounts) >= 2
    ids = [instrument["id"] for instrument in TEST_INSTRUMENTS]
    assert len(set(ids)) == len(ids)
    assert all(INSTRUMENT_ID.fullmatch(i) for i in ids)
    assert all(FINGERPRINT.fullmatch(i["fingerprint"]) for i in TEST_INSTRUMENTS)
    for card in cards:
        assert {"expiry_month", "expiry_year", "last4", "bin"} <= set(card)
    for bank_account in bank_accounts:
        assert {"currency", "country"} <= set(bank_account)


def test_the_instrument_id_constants_name_test_instruments() -> None:
    ids = {instrument["id"] for instrument in TEST_INSTRUMENTS}
    constants = [name for name in emulator_package.__all__ if name.endswith("_ID")]

    assert {getattr(emulator_package, name) for name in constants if "TEST_" in name} == ids


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"read_rate": 0}, "read_rate"),
        ({"write_rate": float("nan")}, "write_rate"),
        ({"fault_500": 1.5}, "fault_500"),
        ({"fault_500": 0.6, "fault_drop_after_acting": 0.5}, "add up to"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"secret_keys": ("has space",)}, "secret_keys"),
        ({"secret_keys": (), "oauth_clients": {}}, "at least one"),
        ({"port": 70000}, "port"),
        ({"retry_after": -1}, "retry_after"),
        ({"journal_size": -1}, "journal_size"),
        ({"reject_duplicate_emails": 400}, "reject_duplicate_emails"),
    ],
)
def test_settings_refuse_out_of_range_values(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorSettings(**fields)


def test_settings_are_frozen_values() -> None:
    settings = EmulatorSettings(oauth_clients={"cli_abcdefgh": "s"})

    assert settings == EmulatorSettings(oauth_clients={"cli_abcdefgh": "s"})
    with pytest.raises(TypeError):
        settings.oauth_clients["cli_other"] = "x"  # type: ignore[index]
