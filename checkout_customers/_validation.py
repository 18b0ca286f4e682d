"""Checks every argument against the API's limits and builds request bodies.

Everything here runs before a request is sent: a violation raises `CheckoutArgumentError`
naming the field, so a bad call never reaches the network. The migration reuses these
functions to classify input rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from . import _limits
from ._errors import CheckoutArgumentError
from ._models import MetadataValue, Phone
from ._types import NotGiven

__all__ = [
    "create_body",
    "update_body",
    "validate_customer_id",
    "validate_email",
    "validate_identifier",
]


def _fail(field: str, problem: str) -> CheckoutArgumentError:
    return CheckoutArgumentError(f"{field}: {problem}", field=field)


def _require_str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _fail(field, f"must be a string, not {type(value).__name__}")
    _require_unicode(value, field)
    return value


def _require_unicode(value: str, field: str, *, subject: str = "") -> None:
    # A lone surrogate (from a JSON `\udXXX` escape, say) cannot be sent as UTF-8.
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(field, f"{subject}is not valid Unicode (a lone surrogate)") from None


def validate_email(value: object, field: str = "email") -> str:
    """Return `value` if it is a plausible email address of at most 255 characters."""
    email = _require_str(value, field)
    if not email:
        raise _fail(field, "must not be empty")
    if len(email) > _limits.EMAIL_MAX_LENGTH:
        raise _fail(field, f"must be at most {_limits.EMAIL_MAX_LENGTH} characters")
    if _limits.EMAIL_PATTERN.fullmatch(email) is None:
        raise _fail(field, f"{email!r} is not a valid email address")
    return email


def validate_customer_id(value: object, field: str = "customer_id") -> str:
    """Return `value` if it has the shape of a customer id (`cus_` + 26 characters)."""
    customer_id = _require_str(value, field)
    if _limits.CUSTOMER_ID_PATTERN.fullmatch(customer_id) is None:
        raise _fail(field, f"{customer_id!r} is not a customer id (cus_ followed by 26 characters)")
    return customer_id


def validate_identifier(value: object, field: str = "id_or_email") -> str:
    """Return `value` if it is a customer id or an email address."""
    identifier = _require_str(value, field)
    if _limits.CUSTOMER_ID_PATTERN.fullmatch(identifier):
        return identifier
    if "@" not in identifier:
        raise _fail(
            field, f"{identifier!r} is neither a customer id (cus_...) nor an email address"
        )
    return validate_email(identifier, field)


def _validate_name(value: object) -> str:
    name = _require_str(value, "name")
    if len(name) > _limits.NAME_MAX_LENGTH:
        raise _fail("name", f"must be at most {_limits.NAME_MAX_LENGTH} characters")
    return name


def _validate_length(value: object, field: str, bounds: tuple[int, int]) -> str:
    text = _require_str(value, field)
    low, high = bounds
    if not low <= len(text) <= high:
        raise _fail(field, f"must be {low} to {high} characters, got {len(text)}")
    return text


def _validate_phone(value: object) -> dict[str, str]:
    country_code: object
    number: object
    if isinstance(value, Phone):
        country_code, number = value.country_code, value.number
    elif isinstance(value, Mapping):
        unknown = set(value) - {"country_code", "number"}
        if unknown:
            raise _fail("phone", f"unknown keys {sorted(map(str, unknown))}")
        country_code, number = value.get("country_code"), value.get("number")
    else:
        raise _fail("phone", f"must be a Phone, not {type(value).__name__}")
    return {
        "country_code": _validate_length(
            country_code, "phone.country_code", _limits.PHONE_COUNTRY_CODE_LENGTH
        ),
        "number": _validate_length(number, "phone.number", _limits.PHONE_NUMBER_LENGTH),
    }


def _metadata_value_length(value: MetadataValue) -> int:
    if isinstance(value, bool):
        return len("true" if value else "false")
    return len(str(value))


def _validate_metadata(value: object) -> dict[str, MetadataValue]:
    if not isinstance(value, Mapping):
        raise _fail("metadata", f"must be a mapping, not {type(value).__name__}")
    if len(value) > _limits.METADATA_MAX_PAIRS:
        raise _fail(
            "metadata", f"at most {_limits.METADATA_MAX_PAIRS} pairs allowed, got {len(value)}"
        )
    result: dict[str, MetadataValue] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise _fail("metadata", f"keys must be non-empty strings, got {key!r}")
        _require_unicode(key, "metadata", subject="a key ")
        if len(key) > _limits.METADATA_KEY_MAX_LENGTH:
            raise _fail(
                "metadata",
                f"key {key[:20]!r}... is longer than {_limits.METADATA_KEY_MAX_LENGTH} characters",
            )
        field = f"metadata.{key}"
        if not isinstance(item, (str, int, float, bool)):
            raise _fail(field, f"must be a string, number or boolean, not {type(item).__name__}")
        if isinstance(item, str):
            _require_unicode(item, field)
        if isinstance(item, float) and not math.isfinite(item):
            raise _fail(field, "must be a finite number")
        if isinstance(item, int) and abs(item) >= 10**_limits.METADATA_VALUE_MAX_LENGTH:
            raise _fail(field, f"must be at most {_limits.METADATA_VALUE_MAX_LENGTH} characters")
        if _metadata_value_length(item) > _limits.METADATA_VALUE_MAX_LENGTH:
            raise _fail(field, f"must be at most {_limits.METADATA_VALUE_MAX_LENGTH} characters")
        result[key] = item
    return result


def _validate_instrument_id(value: object, field: str) -> str:
    instrument_id = _require_str(value, field)
    if _limits.INSTRUMENT_ID_PATTERN.fullmatch(instrument_id) is None:
        raise _fail(
            field, f"{instrument_id!r} is not an instrument id (src_ followed by 26 characters)"
        )
    return instrument_id


def _validate_instruments(value: object) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise _fail("instruments", "must be a list of instrument ids")
    return [
        _validate_instrument_id(item, f"instruments[{index}]") for index, item in enumerate(value)
    ]


_VALIDATORS: Mapping[str, Any] = {
    "email": validate_email,
    "name": _validate_name,
    "phone": _validate_phone,
    "metadata": _validate_metadata,
    "default": lambda value: _validate_instrument_id(value, "default"),
    "instruments": _validate_instruments,
}


def create_body(
    *,
    email: object,
    name: object = None,
    phone: object = None,
    metadata: object = None,
    default: object = None,
    instruments: object = None,
) -> dict[str, Any]:
    """Validate the arguments of `customers.create` and return the JSON body to send."""
    given = {
        "email": email,
        "name": name,
        "phone": phone,
        "metadata": metadata,
        "default": default,
        "instruments": instruments,
    }
    if email is None:
        raise _fail("email", "is required")
    return {field: _VALIDATORS[field](value) for field, value in given.items() if value is not None}


def update_body(fields: Mapping[str, object]) -> dict[str, Any]:
    """Validate the arguments of `customers.update`; fields left `NOT_GIVEN` are not sent."""
    body: dict[str, Any] = {}
    for field, value in fields.items():
        if isinstance(value, NotGiven):
            continue
        if value is None:
            raise _fail(field, "None is not a value; leave the argument out to keep it unchanged")
        body[field] = _VALIDATORS[field](value)
    if not body:
        raise CheckoutArgumentError(
            "update needs at least one of: " + ", ".join(_VALIDATORS), field=None
        )
    return body
