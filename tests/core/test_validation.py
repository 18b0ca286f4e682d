"""Every documented limit is checked before anything is sent."""

from __future__ import annotations

import pytest
from aioresponses import aioresponses

from checkout_customers import AsyncClient, CheckoutArgumentError, Phone

from .conftest import CUSTOMER_ID

INSTRUMENT_ID = "src_wmlfc3zyhqzehihu7giusaaawu"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "a" * 250 + "@x.com"}, "email"),
        ({"email": "bruce wayne@x.com"}, "email"),
        ({"email": 42}, "email"),
        ({"email": None}, "email"),
        ({"email": "b@w.com", "name": "n" * 256}, "name"),
        (
            {"email": "b@w.com", "phone": Phone(country_code="", number="4155552671")},
            "phone.country_code",
        ),
        (
            {"email": "b@w.com", "phone": Phone(country_code="+12345678", number="4155552671")},
            "phone.country_code",
        ),
        ({"email": "b@w.com", "phone": Phone(country_code="+1", number="12345")}, "phone.number"),
        ({"email": "b@w.com", "phone": Phone(country_code="+1", number="1" * 26)}, "phone.number"),
        ({"email": "b@w.com", "phone": "+1 415 555 2671"}, "phone"),
        ({"email": "b@w.com", "metadata": {f"k{i}": i for i in range(11)}}, "metadata"),
        ({"email": "b@w.com", "metadata": {"k" * 101: "v"}}, "metadata"),
        ({"email": "b@w.com", "metadata": {"coupon": "v" * 101}}, "metadata.coupon"),
        ({"email": "b@w.com", "metadata": {"nested": {"a": 1}}}, "metadata.nested"),
        ({"email": "b@w.com", "metadata": {"nan": float("nan")}}, "metadata.nan"),
        ({"email": "b@w.com", "metadata": {"huge": 10**5000}}, "metadata.huge"),
        ({"email": "\udcff@w.com"}, "email"),
        ({"email": "b@w.com", "name": "\ud800"}, "name"),
        ({"email": "b@w.com", "metadata": {"k": "\ud800"}}, "metadata.k"),
        ({"email": "b@w.com", "phone": Phone(number="4155552671")}, "phone.country_code"),
        ({"email": "b@w.com", "metadata": {1: "int key"}}, "metadata"),
        ({"email": "b@w.com", "metadata": {"": "empty key"}}, "metadata"),
        ({"email": "b@w.com", "metadata": {"k\ud800": "v"}}, "metadata"),
        ({"email": "b@w.com", "metadata": ["not", "a", "mapping"]}, "metadata"),
        ({"email": "b@w.com", "default": "card_1"}, "default"),
        ({"email": "b@w.com", "instruments": INSTRUMENT_ID}, "instruments"),
        ({"email": "b@w.com", "instruments": [INSTRUMENT_ID, "x"]}, "instruments[1]"),
    ],
)
async def test_create_rejects_invalid_arguments_without_sending(
    mocked: aioresponses, cko: AsyncClient, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(CheckoutArgumentError) as raised:
        await cko.customers.create(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert str(raised.value).startswith(field)
    assert mocked.requests == {}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.customers.get("../customers"), "id_or_email"),
        (lambda c: c.customers.get(".."), "id_or_email"),
        (lambda c: c.customers.get("cus_short"), "id_or_email"),
        (lambda c: c.customers.get(""), "id_or_email"),
        (lambda c: c.customers.update("bruce@wayne.com", name="x"), "customer_id"),
        (lambda c: c.customers.update(CUSTOMER_ID), None),
        (lambda c: c.customers.update(CUSTOMER_ID, name=None), "name"),
        (lambda c: c.customers.update(CUSTOMER_ID, email="nope"), "email"),
        (lambda c: c.customers.delete("../../admin"), "customer_id"),
        (lambda c: c.customers.get(CUSTOMER_ID, max_retries=-1), "max_retries"),
    ],
)
async def test_identifiers_and_update_fields_are_checked_before_sending(
    mocked: aioresponses, cko: AsyncClient, call: object, field: str | None
) -> None:
    with pytest.raises(CheckoutArgumentError) as raised:
        await call(cko)  # type: ignore[operator]
    assert raised.value.field == field
    assert mocked.requests == {}


async def test_values_at_the_limits_are_accepted(mocked: aioresponses, cko: AsyncClient) -> None:
    mocked.post("https://abcd1234.api.sandbox.checkout.com/customers", status=201,
                payload={"id": CUSTOMER_ID})  # fmt: skip
    created = await cko.customers.create(
        email="a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 59,
        name="n" * 255,
        phone=Phone(country_code="+123456", number="1" * 25),
        metadata={f"{i:0>100}": "v" * 100 for i in range(9)} | {"flag": True},
        default=INSTRUMENT_ID,
        instruments=[INSTRUMENT_ID],
    )
    assert created.id == CUSTOMER_ID
