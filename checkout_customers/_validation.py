"""Checks arguments against the API's limits before anything is sent.

A violation raises `CheckoutArgumentError` naming the field, so a bad call never reaches the
network. The customer fields reach these checks through their declaration
(`_customer_fields`), which also builds the request bodies (`_request_bodies`); the migration
classifies its input rows with the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from . import _limits
from ._errors import CheckoutArgumentError
from ._models import MetadataValue, Phone

__all__ = [
    "validate_customer_id",
    "validate_email",
    "validate_identifier",
    "validate_instrument_id",
    "validate_instruments",
    "validate_metadata",
    "validate_phone",
    "validate_text",
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
    # ASCII text needs no Unicode check: one call fewer for the usual address.
    email = value if type(value) is str and value.isascii() else _require_str(value, field)
    if not email:
        raise _fail(field, "must not be empty")
    if len(email) > _limits.EMAIL_MAX_LENGTH:
        raise _fail(field, f"must be at most {_limits.EMAIL_MAX_LENGTH} characters")
    if _limits.EMAIL_PATTERN.fullmatch(email) is None:
        raise _fail(field, f"{email!r} is not a valid email address")
    return email


def validate_customer_id(value: object, field: str = "customer_id") -> str:
    """Return `value` if it has the shape of a customer id (`cus_` + 26 characters)."""
    if type(value) is str and _limits.CUSTOMER_ID_PATTERN.fullmatch(value) is not None:
        return value  # the common case, in one step: the pattern admits only ASCII
    customer_id = _require_str(value, field)
    if _limits.CUSTOMER_ID_PATTERN.fullmatch(customer_id) is None:
        raise _fail(field, f"{customer_id!r} is not a customer id (cus_ followed by 26 characters)")
    return customer_id


def validate_identifier(value: object, field: str = "id_or_email") -> str:
    """Return `value` if it is a customer id or an email address."""
    if type(value) is str and _limits.CUSTOMER_ID_PATTERN.fullmatch(value) is not None:
        return value  # the common case, in one step: the pattern admits only ASCII
    identifier = _require_str(value, field)
    if _limits.CUSTOMER_ID_PATTERN.fullmatch(identifier):
        return identifier
    if "@" not in identifier:
        raise _fail(
            field, f"{identifier!r} is neither a customer id (cus_...) nor an email address"
        )
    return validate_email(identifier, field)


def validate_text(value: object, field: str, max_length: int) -> str:
    """Return `value` if it is text of at most `max_length` characters."""
    if type(value) is str and len(value) <= max_length and value.isascii():
        return value  # the usual case, in one step (every request body checks its texts)
    text = _require_str(value, field)
    if len(text) > max_length:
        raise _fail(field, f"must be at most {max_length} characters")
    return text


# `_validate_name` and `_validate_phone`: the customer's limits, for other objects that carry a
# name or a phone (an instrument's account holder).
def _validate_name(value: object) -> str:
    return validate_text(value, "name", _limits.NAME_MAX_LENGTH)


def _validate_length(value: object, field: str, part: str, bounds: tuple[int, int]) -> str:
    low, high = bounds
    if type(value) is str and value.isascii() and low <= len(value) <= high:
        return value  # the usual case, without building the part's name
    text = _require_str(value, f"{field}.{part}")
    if not low <= len(text) <= high:
        raise _fail(f"{field}.{part}", f"must be {low} to {high} characters, got {len(text)}")
    return text


def validate_phone(
    value: object,
    field: str,
    country_code_length: tuple[int, int],
    number_length: tuple[int, int],
) -> dict[str, str]:
    """Return the API's spelling of a `Phone` (or a mapping of its two parts)."""
    country_code: object
    number: object
    if isinstance(value, Phone):
        country_code, number = value.country_code, value.number
    elif isinstance(value, Mapping):
        unknown = set(value) - {"country_code", "number"}
        if unknown:
            raise _fail(field, f"unknown keys {sorted(map(str, unknown))}")
        country_code, number = value.get("country_code"), value.get("number")
    else:
        raise _fail(field, f"must be a Phone, not {type(value).__name__}")
    return {
        "country_code": _validate_length(country_code, field, "country_code", country_code_length),
        "number": _validate_length(number, field, "number", number_length),
    }


def _validate_phone(value: object) -> dict[str, str]:
    return validate_phone(
        value, "phone", _limits.PHONE_COUNTRY_CODE_LENGTH, _limits.PHONE_NUMBER_LENGTH
    )


def _metadata_value_length(value: MetadataValue) -> int:
    if isinstance(value, bool):
        return len("true" if value else "false")
    return len(str(value))


def validate_metadata(
    value: object, field: str, max_pairs: int, key_max_length: int, value_max_length: int
) -> dict[str, MetadataValue]:
    """Return `value` as a dict if it is a mapping of scalars within these limits."""
    # `type(...) is dict` first: the ABC check of `Mapping` is slow for the usual dict.
    if type(value) is not dict and not isinstance(value, Mapping):
        raise _fail(field, f"must be a mapping, not {type(value).__name__}")
    if len(value) > max_pairs:
        raise _fail(field, f"at most {max_pairs} pairs allowed, got {len(value)}")
    result: dict[str, MetadataValue] = {}
    for key, item in value.items():
        if (
            type(key) is str
            and type(item) is str
            and 0 < len(key) <= key_max_length
            and len(item) <= value_max_length
            and key.isascii()
            and item.isascii()
        ):
            result[key] = item  # the usual pair, in one step
            continue
        if not isinstance(key, str) or not key:
            raise _fail(field, f"keys must be non-empty strings, got {key!r}")
        _require_unicode(key, field, subject="a key ")
        if len(key) > key_max_length:
            raise _fail(field, f"key {key[:20]!r}... is longer than {key_max_length} characters")
        if type(item) is str and len(item) <= value_max_length and item.isascii():
            result[key] = item  # the usual case, without building the item's name
            continue
        item_field = f"{field}.{key}"
        if not isinstance(item, (str, int, float, bool)):
            raise _fail(
                item_field, f"must be a string, number or boolean, not {type(item).__name__}"
            )
        if isinstance(item, str):
            _require_unicode(item, item_field)
        if isinstance(item, float) and not math.isfinite(item):
            raise _fail(item_field, "must be a finite number")
        if isinstance(item, int) and abs(item) >= 10**value_max_length:
            raise _fail(item_field, f"must be at most {value_max_length} characters")
        if _metadata_value_length(item) > value_max_length:
            raise _fail(item_field, f"must be at most {value_max_length} characters")
        result[key] = item
    return result


def validate_instrument_id(value: object, field: str) -> str:
    """Return `value` if it has the shape of an instrument id (`src_` + 26 characters)."""
    instrument_id = _require_str(value, field)
    if _limits.INSTRUMENT_ID_PATTERN.fullmatch(instrument_id) is None:
        raise _fail(
            field, f"{instrument_id!r} is not an instrument id (src_ followed by 26 characters)"
        )
    return instrument_id


def validate_instruments(value: object, field: str) -> list[str]:
    """Return `value` as a list if it is a list of instrument ids."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise _fail(field, "must be a list of instrument ids")
    return [validate_instrument_id(item, f"{field}[{index}]") for index, item in enumerate(value)]
