"""`prepare_create`: a create request validated and encoded once, sent as is by the migration."""

from __future__ import annotations

import json

import pytest

from checkout_customers import AsyncClient, CheckoutArgumentError, Phone
from checkout_customers.emulator import run_emulator
from checkout_customers.migration import prepare_create


def test_a_prepared_create_holds_the_validated_body_and_its_email() -> None:
    prepared = prepare_create(
        {"email": "bruce@wayne.com", "name": "Bruce Wayne", "phone": Phone("+1", "4155552671")}
    )
    assert prepared.email == "bruce@wayne.com"
    assert json.loads(prepared.json) == {
        "email": "bruce@wayne.com",
        "name": "Bruce Wayne",
        "phone": {"country_code": "+1", "number": "4155552671"},
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "bruce@wayne.com", "nickname": "Batman"}, "nickname"),
        ({"name": "Bruce Wayne"}, "email"),
        ({"email": "not an email"}, "email"),
        ({"email": "bruce@wayne.com", "name": "x" * 256}, "name"),
    ],
)
def test_a_request_create_would_refuse_is_refused_naming_the_field(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(CheckoutArgumentError) as raised:
        prepare_create(fields)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


async def test_a_prepared_create_is_sent_as_is_and_found_by_email() -> None:
    async with (
        run_emulator() as emulator,
        AsyncClient(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko,
    ):
        prepared = prepare_create({"email": "selina@kyle.example", "name": "Selina Kyle"})
        created = await cko.customers.create_prepared(prepared, max_retries=0)
        found = await cko.customers.find("selina@kyle.example")
        missing = await cko.customers.find("nobody@kyle.example")
    assert found is not None
    assert (found.id, found.name) == (created.id, "Selina Kyle")
    assert missing is None
