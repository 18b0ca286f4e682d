"""The models and their one converter."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given

from checkout_customers import (
    BankAccountInstrument,
    CardInstrument,
    Customer,
    Phone,
    UnknownInstrument,
)
from checkout_customers._converter import structure_customer, unstructure

from ..strategies import customers

CARD = {
    "type": "card",
    "id": "src_wmlfc3zyhqzehihu7giusaaawu",
    "fingerprint": "vnsdrvikkvre3dtrjjvlm5du4q",
    "expiry_month": 6,
    "expiry_year": 2025,
    "scheme": "VISA",
    "last4": "4242",
    "bin": "424242",
    "card_type": "Credit",
    "account_holder": {
        "first_name": "Bruce",
        "billing_address": {"city": "Gotham", "country": "US"},
        "brand_new_field": {"anything": True},
    },
}


@given(customers)
def test_structure_of_unstructure_is_identity(customer: Customer) -> None:
    assert structure_customer(unstructure(customer), customer.request_id) == customer


def test_api_field_names_reach_nested_attributes() -> None:
    customer = structure_customer(
        {"id": "cus_y3oqhf46pyzuxjbcn2giaqnb44", "email": "b@w.com", "instruments": [CARD]},
        "req_1",
    )
    card = customer.instruments[0]
    assert isinstance(card, CardInstrument)
    assert card.last4 == "4242"
    assert card.expiry_month == 6
    assert card.account_holder is not None
    assert card.account_holder.billing_address is not None
    assert card.account_holder.billing_address.city == "Gotham"
    assert customer.request_id == "req_1"


def test_unknown_fields_and_types_never_fail_parsing() -> None:
    body: dict[str, Any] = {
        "id": "cus_y3oqhf46pyzuxjbcn2giaqnb44",
        "email": "b@w.com",
        "loyalty_tier": "gold",
        "instruments": [
            {"type": "sepa", "id": "src_sepa", "mandate": {"reference": "M1"}},
            {"type": "bank_account", "id": "src_bank", "iban": "GB33BUKB20201555555555"},
            {"type": "card", "expiry_month": "not a month"},  # known type, broken shape
        ],
    }
    customer = structure_customer(body, None)
    sepa, bank, broken = customer.instruments
    assert sepa == UnknownInstrument(type="sepa", id="src_sepa", data=body["instruments"][0])
    assert isinstance(bank, BankAccountInstrument)
    assert bank.iban == "GB33BUKB20201555555555"
    assert isinstance(broken, UnknownInstrument)
    assert broken.data == body["instruments"][2]


def test_absent_optional_fields_are_none_or_empty() -> None:
    customer = structure_customer({"id": "cus_x", "email": "b@w.com", "metadata": None}, None)
    assert customer.name is None
    assert customer.phone is None
    assert customer.metadata == {}
    assert customer.instruments == ()
    assert customer.default is None


def test_a_phone_missing_a_part_is_kept_with_none() -> None:
    customer = structure_customer(
        {"id": "cus_x", "email": "b@w.com", "phone": {"number": "4155552671"}}, None
    )
    assert customer.phone == Phone(country_code=None, number="4155552671")


def test_models_are_frozen_and_slotted() -> None:
    customer = Customer(id="cus_x", email="b@w.com")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        customer.name = "x"  # type: ignore[misc]
    assert not hasattr(customer, "__dict__")
