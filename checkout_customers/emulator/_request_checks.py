"""The instruments spec's request schemas, declared once as small checks.

Each check is a callable answering whether a JSON value fits: `obj({...})` for an object
whose known properties must fit their checks (unknown ones are ignored, as the spec allows),
`text(max_length=...)`, `integer(...)`, `one_of(...)`. Inside an object a property sent as
`null` does not fit (the spec marks none nullable); the top-level fields follow the
emulator's convention that `null` counts as not sent. Limits are the spec's
(`shared/reference/checkout-instruments-openapi.yaml`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping

from .. import _limits

__all__ = [
    "ACCOUNT_HOLDER",
    "ADDRESS",
    "BANK_DETAILS",
    "CARD_ACCOUNT_HOLDER",
    "CREATE_CUSTOMER",
    "PHONE_NUMBER",
    "UPDATE_CUSTOMER",
    "Check",
    "boolean",
    "country_code",
    "currency_code",
    "integer",
    "obj",
    "one_of",
    "text",
]

Check = Callable[[object], bool]


def text(*, min_length: int = 0, max_length: int | None = None) -> Check:
    """A string of `min_length` to `max_length` characters."""

    def check(value: object) -> bool:
        return (
            isinstance(value, str)
            and len(value) >= min_length
            and (max_length is None or len(value) <= max_length)
        )

    return check


def integer(*, minimum: int | None = None, maximum: int | None = None) -> Check:
    """A JSON integer (not a boolean) within the bounds given."""

    def check(value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and (minimum is None or value >= minimum)
            and (maximum is None or value <= maximum)
        )

    return check


def boolean(value: object) -> bool:
    """A JSON boolean."""
    return isinstance(value, bool)


def one_of(*allowed: str) -> Check:
    """One of the spec's enumerated strings."""
    return lambda value: isinstance(value, str) and value in allowed


def obj(properties: Mapping[str, Check]) -> Check:
    """A JSON object whose known properties each fit their check."""

    def check(value: object) -> bool:
        if not isinstance(value, dict):
            return False
        return all(name not in value or fits(value[name]) for name, fits in properties.items())

    return check


def country_code(value: object) -> bool:
    """Two upper-case letters (ISO 3166-1 alpha-2 in shape)."""
    return isinstance(value, str) and len(value) == 2 and value.isascii() and value.isupper()


def currency_code(value: object) -> bool:
    """Three upper-case letters (ISO 4217 in shape)."""
    return isinstance(value, str) and len(value) == 3 and value.isascii() and value.isupper()


def email(value: object) -> bool:
    """An email address of at most 255 characters, checked as customers' emails are."""
    return (
        isinstance(value, str)
        and len(value) <= _limits.EMAIL_MAX_LENGTH
        and _limits.EMAIL_PATTERN.fullmatch(value) is not None
    )


def date(value: object) -> bool:
    """A `YYYY-MM-DD` calendar date."""
    if not (isinstance(value, str) and len(value) == 10 and value.isascii()):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def customer_id(value: object) -> bool:
    """The spec's `^(cus)_(\\w{26})$`."""
    return isinstance(value, str) and _limits.CUSTOMER_ID_PATTERN.fullmatch(value) is not None


_ANY_TEXT = text()

ADDRESS = obj(
    {
        "address_line1": text(max_length=200),
        "address_line2": text(max_length=200),
        "city": text(max_length=50),
        "state": _ANY_TEXT,
        "zip": text(max_length=50),
        "country": text(min_length=2, max_length=2),
    }
)
PHONE_NUMBER = obj(
    {
        "country_code": text(
            min_length=_limits.PHONE_COUNTRY_CODE_LENGTH[0],
            max_length=_limits.PHONE_COUNTRY_CODE_LENGTH[1],
        ),
        "number": text(
            min_length=_limits.PHONE_NUMBER_LENGTH[0], max_length=_limits.PHONE_NUMBER_LENGTH[1]
        ),
    }
)
#: A card's account holder (`StoreAccountHolderTokenRequest`, `UpdateCardAccountHolder`).
CARD_ACCOUNT_HOLDER = obj(
    {
        "first_name": _ANY_TEXT,
        "last_name": _ANY_TEXT,
        "billing_address": ADDRESS,
        "phone": PHONE_NUMBER,
    }
)
#: A bank account's holder (`AccountHolder`).
ACCOUNT_HOLDER = obj(
    {
        "type": one_of("individual", "corporate", "government"),
        "first_name": _ANY_TEXT,
        "last_name": _ANY_TEXT,
        "company_name": _ANY_TEXT,
        "tax_id": _ANY_TEXT,
        "date_of_birth": date,
        "country_of_birth": _ANY_TEXT,
        "residential_status": one_of("resident", "non_resident"),
        "billing_address": ADDRESS,
        "phone": PHONE_NUMBER,
        "identification": obj(
            {
                "type": one_of(
                    "passport", "driving_licence", "national_id", "company_registration", "tax_id"
                ),
                "number": _ANY_TEXT,
                "issuing_country": _ANY_TEXT,
            }
        ),
        "email": email,
    }
)
BANK_DETAILS = obj({"name": _ANY_TEXT, "branch": _ANY_TEXT, "address": ADDRESS})
#: `customer` on create (`StoreCustomerInstrumentRequest`).
CREATE_CUSTOMER = obj(
    {
        "id": customer_id,
        "email": email,
        "name": text(max_length=_limits.NAME_MAX_LENGTH),
        "phone": PHONE_NUMBER,
        "default": boolean,
    }
)
#: `customer` on update (`UpdateCustomerRequest`).
UPDATE_CUSTOMER = obj({"id": customer_id, "default": boolean})
