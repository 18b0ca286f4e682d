"""The fast parse of customer answers gives what the converter gives, or leaves it to it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given

from checkout_customers import CardInstrument, Customer, UnknownInstrument
from checkout_customers._converter import (
    _structure_customer_fields,
    structure_customer,
    unstructure,
)
from checkout_customers._fast_structure import fast_customer

from ..strategies import customers

BODY: dict[str, Any] = {
    "id": "cus_y3oqhf46pyzuxjbcn2giaqnb44",
    "email": "bruce@wayne.com",
    "name": "Bruce Wayne",
    "phone": {"country_code": "+1", "number": "4155552671"},
    "metadata": {"coupon": "NY2018", "partner_id": 123989, "vip": True, "ratio": 0.5},
    "instruments": [
        {
            "type": "card",
            "id": "src_wmlfc3zyhqzehihu7giusaaawu",
            "expiry_month": 6,
            "expiry_year": 2031,
            "last4": "4242",
            "regulated_indicator": False,
            "account_holder": {
                "first_name": "Bruce",
                "billing_address": {"city": "Gotham", "country": "US"},
                "phone": {"country_code": "+1", "number": "4155552671"},
            },
            "customer": {"id": "cus_y3oqhf46pyzuxjbcn2giaqnb44", "default": True},
        },
        {"type": "bank_account", "id": "src_bank", "iban": "GB33", "bank": {"name": "B"}},
        {"type": "sepa", "id": "src_sepa", "mandate": {"reference": "M1"}},
    ],
    "loyalty_tier": "gold",
    "request_id": "req_in_body",  # the answer's, not an unknown field of the customer
}


def by_converter(data: dict[str, Any], request_id: str | None) -> Customer:
    customer: Customer = _structure_customer_fields(data, Customer)
    object.__setattr__(customer, "request_id", request_id)
    return customer


def same(fast: Customer | None, slow: Customer) -> None:
    assert fast is not None
    assert fast == slow
    assert fast.request_id == slow.request_id
    assert repr(fast) == repr(slow)
    assert unstructure(fast) == unstructure(slow)
    assert hash(fast.phone) == hash(slow.phone)


@given(customers)
def test_every_model_the_converter_writes_is_read_back_the_same(customer: Customer) -> None:
    data = unstructure(customer)
    same(fast_customer(data, "req_1"), by_converter(data, "req_1"))


def test_a_realistic_answer_is_read_fast_with_its_unknown_fields() -> None:
    fast = fast_customer(copy.deepcopy(BODY), "req_1")
    same(fast, by_converter(copy.deepcopy(BODY), "req_1"))
    assert fast is not None
    assert fast.extra == {"loyalty_tier": "gold"}
    assert isinstance(fast.instruments[0], CardInstrument)
    assert fast.instruments[0].type == "card"
    assert isinstance(fast.instruments[2], UnknownInstrument)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), None),
        (("email",), 7),
        (("name",), 1),
        (("phone",), ["+1"]),
        (("phone", "number"), 4155552671),
        (("metadata",), ["a"]),
        (("metadata", "coupon"), {"nested": 1}),
        (("metadata", "coupon"), None),
        (("instruments",), {"type": "card"}),
    ],
)
def test_an_answer_of_another_shape_is_left_to_the_converter(
    path: tuple[str, ...], value: Any
) -> None:
    body = copy.deepcopy(BODY)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert fast_customer(body, None) is None
    with pytest.raises(TypeError):
        structure_customer(body, None)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("expiry_month", "6"),
        ("expiry_month", True),
        ("regulated_indicator", 0),
        ("last4", 4242),
        ("account_holder", "Bruce"),
        ("id", None),
    ],
)
def test_an_instrument_of_another_shape_alone_is_left_to_the_converter(
    key: str, value: Any
) -> None:
    body = copy.deepcopy(BODY)
    body["instruments"][0][key] = value
    fast = fast_customer(body, "req_1")
    same(fast, by_converter(copy.deepcopy(body), "req_1"))
    assert fast is not None
    assert isinstance(fast.instruments[0], UnknownInstrument)
    assert fast.instruments[0].data == body["instruments"][0]
