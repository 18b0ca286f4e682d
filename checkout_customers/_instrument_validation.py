"""Checks the arguments of `client.instruments` against the Instruments API's limits and builds
the request bodies.

As for customers, everything here runs before a request is sent and a violation raises
`CheckoutArgumentError` naming the field. The limits are the official spec's
(`shared/reference/checkout-instruments-openapi.yaml`): token and id patterns, address and
phone lengths, two- and three-letter country and currency codes. Enumerations the API may
grow (account types, account holder types) are not checked, so a value it adds can be sent.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

import attrs

from . import _limits
from ._errors import CheckoutArgumentError
from ._models import (
    AccountHolder,
    AccountHolderIdentification,
    Address,
    BankAccount,
    BankDetails,
    InstrumentCustomer,
)
from ._types import NotGiven
from ._validation import (
    _fail,
    _require_str,
    _validate_name,
    _validate_phone,
    validate_customer_id,
    validate_email,
)

__all__ = ["create_instrument_body", "update_instrument_body", "validate_instrument_id"]

# The spec's token pattern (upstream's, with the stray spaces around `|` removed).
_TOKEN_PATTERN = re.compile(r"tok_\w{26}|card_tok_\w{12}", re.ASCII)
_ADDRESS_LIMITS = {
    "address_line1": 200,
    "address_line2": 200,
    "city": 50,
    "state": None,
    "zip": 50,
}
#: What a card's account holder may carry (`StoreAccountHolderTokenRequest`).
_CARD_HOLDER_FIELDS = ("first_name", "last_name", "billing_address", "phone")
_BANK_TEXT_FIELDS = (
    "account_type",
    "account_number",
    "bank_code",
    "branch_code",
    "iban",
    "bban",
    "swift_bic",
)


def validate_instrument_id(value: object, field: str = "instrument_id") -> str:
    """Return `value` if it has the shape of an instrument id (`src_` + 26 characters)."""
    instrument_id = _require_str(value, field)
    if _limits.INSTRUMENT_ID_PATTERN.fullmatch(instrument_id) is None:
        raise _fail(
            field, f"{instrument_id!r} is not an instrument id (src_ followed by 26 characters)"
        )
    return instrument_id


def _fields(value: object, model: type[Any], field: str) -> dict[str, Any]:
    """The fields set on a model instance, or the keys of a mapping (which must be known)."""
    names = {attribute.name for attribute in attrs.fields(model)} - {"extra"}
    if isinstance(value, model):
        return {name: getattr(value, name) for name in names if getattr(value, name) is not None}
    if isinstance(value, Mapping):
        unknown = set(value) - names
        if unknown:
            raise _fail(field, f"unknown keys {sorted(map(str, unknown))}")
        return {name: item for name, item in value.items() if item is not None}
    raise _fail(field, f"must be a {model.__name__}, not {type(value).__name__}")


def _text(value: object, field: str, max_length: int | None = None) -> str:
    text = _require_str(value, field)
    if max_length is not None and len(text) > max_length:
        raise _fail(field, f"must be at most {max_length} characters")
    return text


def _code(value: object, field: str, length: int, what: str) -> str:
    code = _require_str(value, field)
    if not (len(code) == length and code.isascii() and code.isalpha() and code.isupper()):
        raise _fail(field, f"{code!r} is not {what} ({length} upper-case letters)")
    return code


def _address(value: object, field: str) -> dict[str, str]:
    given = _fields(value, Address, field)
    body = {
        name: _text(given[name], f"{field}.{name}", limit)
        for name, limit in _ADDRESS_LIMITS.items()
        if name in given
    }
    if "country" in given:
        body["country"] = _code(given["country"], f"{field}.country", 2, "a country code")
    return body


def _phone(value: object, field: str) -> dict[str, str]:
    try:
        return _validate_phone(value)
    except CheckoutArgumentError as exc:
        inner = exc.field or "phone"
        message = str(exc).replace("phone", field, 1)
        raise CheckoutArgumentError(message, field=inner.replace("phone", field, 1)) from None


def _account_holder(value: object, *, card: bool) -> dict[str, Any]:
    field = "account_holder"
    given = _fields(value, AccountHolder, field)
    if card:
        refused = sorted(set(given) - set(_CARD_HOLDER_FIELDS))
        if refused:
            raise _fail(field, f"a card's account holder takes no {', '.join(refused)}")
    body: dict[str, Any] = {}
    for name, item in given.items():
        path = f"{field}.{name}"
        if name == "billing_address":
            body[name] = _address(item, path)
        elif name == "phone":
            body[name] = _phone(item, path)
        elif name == "email":
            body[name] = validate_email(item, path)
        elif name == "date_of_birth":
            body[name] = _date(item, path)
        elif name == "country_of_birth":
            body[name] = _code(item, path, 2, "a country code")
        elif name == "identification":
            body[name] = _identification(item, path)
        else:
            body[name] = _text(item, path)
    return body


def _date(value: object, field: str) -> str:
    text = _require_str(value, field)
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise _fail(field, f"{text!r} is not a date in YYYY-MM-DD form") from None
    if len(text) != 10:
        raise _fail(field, f"{text!r} is not a date in YYYY-MM-DD form")
    return text


def _identification(value: object, field: str) -> dict[str, str]:
    given = _fields(value, AccountHolderIdentification, field)
    body = {name: _text(item, f"{field}.{name}") for name, item in given.items()}
    if "issuing_country" in body:
        body["issuing_country"] = _code(
            body["issuing_country"], f"{field}.issuing_country", 2, "a country code"
        )
    return body


def _bank_details(value: object, field: str) -> dict[str, Any]:
    given = _fields(value, BankDetails, field)
    body: dict[str, Any] = {}
    for name, item in given.items():
        path = f"{field}.{name}"
        body[name] = _address(item, path) if name == "address" else _text(item, path)
    return body


def _bank_account(value: object) -> dict[str, Any]:
    field = "bank_account"
    given = _fields(value, BankAccount, field)
    for required in ("currency", "country"):
        if required not in given:
            raise _fail(f"{field}.{required}", "is required")
    body: dict[str, Any] = {
        "currency": _code(given["currency"], f"{field}.currency", 3, "a currency code"),
        "country": _code(given["country"], f"{field}.country", 2, "a country code"),
    }
    for name in _BANK_TEXT_FIELDS:
        if name in given:
            body[name] = _text(given[name], f"{field}.{name}")
    if "bank" in given:
        body["bank"] = _bank_details(given["bank"], f"{field}.bank")
    return body


def _customer(value: object, *, updating: bool) -> dict[str, Any]:
    field = "customer"
    given = _fields(value, InstrumentCustomer, field)
    if updating:
        refused = sorted(set(given) - {"id", "default"})
        if refused:
            raise _fail(field, f"an update links by id only; it takes no {', '.join(refused)}")
    elif "id" not in given and "email" not in given:
        raise _fail(field, "give the id or the email of the customer to link")
    body: dict[str, Any] = {}
    if "id" in given:
        body["id"] = validate_customer_id(given["id"], "customer.id")
    if "email" in given:
        body["email"] = validate_email(given["email"], "customer.email")
    if "name" in given:
        try:
            body["name"] = _validate_name(given["name"])
        except CheckoutArgumentError as exc:
            raise CheckoutArgumentError(f"customer.{exc}", field="customer.name") from None
    if "phone" in given:
        body["phone"] = _phone(given["phone"], "customer.phone")
    if "default" in given:
        if not isinstance(given["default"], bool):
            raise _fail("customer.default", "must be True or False")
        body["default"] = given["default"]
    return body


def create_instrument_body(
    *, token: object, bank_account: object, account_holder: object, customer: object
) -> dict[str, Any]:
    """Validate the arguments of `instruments.create` and return the JSON body to send."""
    if (token is None) == (bank_account is None):
        raise CheckoutArgumentError(
            "create needs exactly one of token= (a card token, tok_...) and bank_account=",
            field=None,
        )
    body: dict[str, Any]
    if token is not None:
        text = _require_str(token, "token")
        if _TOKEN_PATTERN.fullmatch(text) is None:
            raise _fail("token", "is not a card token (tok_ followed by 26 characters)")
        body = {"type": "token", "token": text}
    else:
        body = {"type": "bank_account", **_bank_account(bank_account)}
    if account_holder is not None:
        body["account_holder"] = _account_holder(account_holder, card=token is not None)
    if customer is not None:
        body["customer"] = _customer(customer, updating=False)
    return body


def _expiry(value: object, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(field, f"must be an integer, not {type(value).__name__}")
    if not low <= value <= high:
        raise _fail(field, f"must be {low} to {high}, got {value}")
    return value


def update_instrument_body(fields: Mapping[str, object]) -> dict[str, Any]:
    """Validate the arguments of `instruments.update`; fields left `NOT_GIVEN` are not sent."""
    body: dict[str, Any] = {}
    for field, value in fields.items():
        if isinstance(value, NotGiven):
            continue
        if value is None:
            raise _fail(field, "None is not a value; leave the argument out to keep it unchanged")
        if field == "expiry_month":
            body[field] = _expiry(value, field, 1, 12)
        elif field == "expiry_year":
            body[field] = _expiry(value, field, 1000, 9999)
        elif field == "name":
            body[field] = _text(value, field)
        elif field == "account_holder":
            body[field] = _account_holder(value, card=True)
        else:
            body[field] = _customer(value, updating=True)
    if not body:
        raise CheckoutArgumentError(
            "update needs at least one of: " + ", ".join(fields), field=None
        )
    return body
