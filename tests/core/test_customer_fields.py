"""The customer fields are declared once (`_customer_fields`) and everything follows it.

The resource methods' keyword arguments and the `Customer` model are checked against the
declaration; every declared field makes the round trip through the emulator with both
clients; the messages and codes that the declaration now produces are pinned; and a
declaration with two more fields shows the request bodies, the CSV columns, the JSONL rows and
the emulator's checks all taking them up with no other edit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from checkout_customers import (
    CheckoutArgumentError,
    Customer,
    Phone,
)
from checkout_customers._customer_fields import CUSTOMER_FIELDS, CustomerField
from checkout_customers._customers import AsyncCustomers, AsyncCustomersWithRawResponse
from checkout_customers._field_kinds import PhoneNumber, Text
from checkout_customers._request_bodies import create_body, update_body
from checkout_customers._sync_client import Customers, CustomersWithRawResponse
from checkout_customers._types import NOT_GIVEN
from checkout_customers.emulator import (
    ERROR_CODES,
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_MASTERCARD_ID,
    TEST_CARD_VISA_ID,
    RunningEmulator,
)
from checkout_customers.emulator._validation import check_customer_fields, stored_fields
from checkout_customers.migration import MigrationInputError, read_csv
from checkout_customers.migration._csv_input import CsvSource
from checkout_customers.migration._rows import row_from_mapping

#: The per-call options every resource method takes besides the fields.
OPTIONS = ["timeout", "headers", "max_retries"]

CREATING = [
    AsyncCustomers.create,
    AsyncCustomers.get_or_create,
    AsyncCustomersWithRawResponse.create,
    Customers.create,
    Customers.get_or_create,
    CustomersWithRawResponse.create,
]
UPDATING = [
    AsyncCustomers.update,
    AsyncCustomersWithRawResponse.update,
    Customers.update,
    CustomersWithRawResponse.update,
]

#: A value for each declared field, and what `customers.get` gives back for it. A new field
#: needs its line here (the round-trip test says so).
CREATED: dict[str, tuple[Any, Callable[[Customer], Any], Any]] = {
    "email": ("fields@example.com", lambda c: c.email, "fields@example.com"),
    "name": ("Ada Lovelace", lambda c: c.name, "Ada Lovelace"),
    "phone": (Phone("+44", "2079460000"), lambda c: _phone(c.phone), ("+44", "2079460000")),
    "metadata": (
        {"tier": "gold", "visits": 3},
        lambda c: c.metadata,
        {"tier": "gold", "visits": 3},
    ),
    "default": (TEST_CARD_VISA_ID, lambda c: c.default, TEST_CARD_VISA_ID),
    "instruments": (
        [TEST_BANK_ACCOUNT_GB_ID],
        lambda c: {i.id for i in c.instruments},
        {TEST_CARD_VISA_ID, TEST_BANK_ACCOUNT_GB_ID},
    ),
}
UPDATED: dict[str, tuple[Any, Any]] = {
    "email": ("fields.updated@example.com", "fields.updated@example.com"),
    "name": ("Ada King", "Ada King"),
    "phone": (Phone("+1", "4155552671"), ("+1", "4155552671")),
    "metadata": ({"tier": "silver"}, {"tier": "silver"}),
    "default": (TEST_CARD_MASTERCARD_ID, TEST_CARD_MASTERCARD_ID),
    "instruments": (
        [TEST_CARD_MASTERCARD_ID],
        {TEST_CARD_VISA_ID, TEST_BANK_ACCOUNT_GB_ID, TEST_CARD_MASTERCARD_ID},
    ),
}


def _phone(phone: Phone | None) -> tuple[str | None, str | None] | None:
    return None if phone is None else (phone.country_code, phone.number)


def _keywords(method: Callable[..., Any]) -> list[inspect.Parameter]:
    parameters = inspect.signature(method).parameters.values()
    return [p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


@pytest.mark.parametrize("method", CREATING, ids=lambda m: m.__qualname__)
def test_creating_methods_take_exactly_the_declared_fields(method: Callable[..., Any]) -> None:
    keywords = _keywords(method)
    assert [p.name for p in keywords] == [*CUSTOMER_FIELDS.names, *OPTIONS]
    for field, parameter in zip(CUSTOMER_FIELDS, keywords, strict=False):
        if field.required:
            assert parameter.annotation == field.kind.annotation
            assert parameter.default is inspect.Parameter.empty
        else:
            assert parameter.annotation == f"{field.kind.annotation} | None"
            assert parameter.default is None


@pytest.mark.parametrize("method", UPDATING, ids=lambda m: m.__qualname__)
def test_update_methods_take_exactly_the_declared_fields(method: Callable[..., Any]) -> None:
    keywords = _keywords(method)
    assert [p.name for p in keywords] == [*CUSTOMER_FIELDS.names, *OPTIONS]
    for field, parameter in zip(CUSTOMER_FIELDS, keywords, strict=False):
        assert parameter.annotation == f"{field.kind.annotation} | NotGiven"
        assert parameter.default is NOT_GIVEN


def test_the_customer_model_has_every_declared_field() -> None:
    assert set(CUSTOMER_FIELDS.names) <= set(attrs.fields_dict(Customer))


async def test_every_declared_field_makes_the_round_trip(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    assert list(CREATED) == list(CUSTOMER_FIELDS.names)
    assert list(UPDATED) == list(CUSTOMER_FIELDS.names)
    customers = customers_client.customers
    created = await customers.create(**{name: value for name, (value, _, _) in CREATED.items()})
    [post] = [r for r in checkout_emulator.requests() if r.method == "POST"]
    assert set(post.json()) == set(CUSTOMER_FIELDS.names)
    customer = await customers.get(created.id)
    for name, (_, read, expected) in CREATED.items():
        assert read(customer) == expected, name

    await customers.update(created.id, **{name: value for name, (value, _) in UPDATED.items()})
    [patch] = [r for r in checkout_emulator.requests() if r.method == "PATCH"]
    assert set(patch.json()) == set(CUSTOMER_FIELDS.names)
    customer = await customers.get(created.id)
    for name, (_, expected) in UPDATED.items():
        assert CREATED[name][1](customer) == expected, name


async def test_an_update_without_fields_names_every_declared_field(customers_client: Any) -> None:
    with pytest.raises(CheckoutArgumentError) as raised:
        await customers_client.customers.update("cus_" + "a" * 26)
    assert str(raised.value) == (
        "update needs at least one of: email, name, phone, metadata, default, instruments"
    )


def test_the_emulator_error_codes_are_those_it_always_had() -> None:
    assert ERROR_CODES == (
        "request_body_malformed",
        "email_required",
        "email_invalid",
        "email_too_long",
        "name_invalid",
        "name_too_long",
        "phone_invalid",
        "phone_country_code_invalid",
        "phone_number_invalid",
        "metadata_invalid",
        "metadata_too_many_pairs",
        "metadata_key_invalid",
        "metadata_value_invalid",
        "metadata_value_too_long",
        "default_invalid",
        "default_not_found",
        "instruments_invalid",
        "instrument_not_found",
        "email_already_exists",
    )


def test_an_unknown_csv_column_lists_the_declared_columns(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("email,nickname\na@example.com,Ada\n", encoding="utf-8")
    with pytest.raises(MigrationInputError) as raised:
        read_csv(path)
    assert str(raised.value).endswith(
        "unknown CSV column 'nickname'; expected email, name, phone_country_code, "
        "phone_number, default, instruments, metadata.<key>"
    )


# -- one edit: a declaration with two more fields --------------------------------------------

EXTENDED = CUSTOMER_FIELDS.extended(
    CustomerField("nickname", Text(max_length=20)),
    CustomerField("work_phone", PhoneNumber(country_code_length=(1, 7), number_length=(6, 25))),
)


def _create_arguments(**given: object) -> dict[str, object]:
    return {name: given.get(name) for name in EXTENDED.names}


def test_an_added_field_is_validated_and_sent() -> None:
    body = create_body(
        _create_arguments(
            email="a@example.com",
            nickname="Ada",
            work_phone=Phone("+44", "2079460000"),
        ),
        EXTENDED,
    )
    assert body == {
        "email": "a@example.com",
        "nickname": "Ada",
        "work_phone": {"country_code": "+44", "number": "2079460000"},
    }
    with pytest.raises(CheckoutArgumentError) as raised:
        create_body(_create_arguments(email="a@example.com", nickname="N" * 21), EXTENDED)
    assert str(raised.value) == "nickname: must be at most 20 characters"
    assert raised.value.field == "nickname"
    with pytest.raises(CheckoutArgumentError, match=r"^work_phone\.number: must be 6 to 25"):
        create_body(
            _create_arguments(
                email="a@example.com", work_phone={"country_code": "+1", "number": "1"}
            ),
            EXTENDED,
        )

    unchanged = dict.fromkeys(EXTENDED.names, NOT_GIVEN)
    assert update_body({**unchanged, "nickname": "Ada"}, EXTENDED) == {"nickname": "Ada"}
    with pytest.raises(CheckoutArgumentError) as raised:
        update_body(unchanged, EXTENDED)
    assert str(raised.value).endswith("default, instruments, nickname, work_phone")


def test_an_added_field_has_its_csv_columns(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "email,nickname,work_phone_country_code,work_phone_number\n"
        "a@example.com,Ada,+44,2079460000\n"
        "b@example.com,Bea,+44,\n"
        "c@example.com," + "N" * 21 + ",,\n",
        encoding="utf-8",
    )
    first, second, third = CsvSource(path, EXTENDED)
    assert first.body == {
        "email": "a@example.com",
        "nickname": "Ada",
        "work_phone": {"country_code": "+44", "number": "2079460000"},
    }
    assert second.error == "work_phone: work_phone_number is missing"
    assert third.error == "nickname: must be at most 20 characters"
    with pytest.raises(MigrationInputError, match="unknown CSV column 'nickname'"):
        CsvSource(path)  # the shipped declaration: `nickname` is unknown
    path.write_text("email,nick\n", encoding="utf-8")
    with pytest.raises(MigrationInputError) as raised:
        CsvSource(path, EXTENDED)
    assert str(raised.value).endswith(
        "instruments, nickname, work_phone_country_code, work_phone_number, metadata.<key>"
    )

    assert row_from_mapping(1, {"email": "a@example.com", "nickname": "Ada"}, EXTENDED).valid
    assert row_from_mapping(1, {"email": "a@example.com", "nickname": "Ada"}).error == (
        "unknown field 'nickname'"
    )


def test_an_added_field_is_checked_and_kept_by_the_emulator() -> None:
    assert EXTENDED.error_codes()[-5:] == (
        "nickname_invalid",
        "nickname_too_long",
        "work_phone_invalid",
        "work_phone_country_code_invalid",
        "work_phone_number_invalid",
    )
    body = {"email": "a@example.com", "nickname": "N" * 21, "work_phone": {"number": "1"}}
    fields, codes = check_customer_fields(
        body, creating=True, known_instrument=lambda _: True, declared=EXTENDED
    )
    assert codes == ["nickname_too_long", "work_phone_number_invalid"]
    fields, codes = check_customer_fields(
        {"email": "a@example.com", "nickname": "Ada", "work_phone": {"number": "2079460000"}},
        creating=True,
        known_instrument=lambda _: True,
        declared=EXTENDED,
    )
    assert codes == []
    assert stored_fields(fields, EXTENDED) == {
        "email": "a@example.com",
        "nickname": "Ada",
        "work_phone": {"number": "2079460000"},
    }
    # The emulator as shipped ignores the field, as it ignores any unknown field.
    fields, codes = check_customer_fields(body, creating=True, known_instrument=lambda _: True)
    assert (fields, codes) == ({"email": "a@example.com"}, [])
