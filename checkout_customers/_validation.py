"""Checks arguments against the API's limits before anything is sent.

A violation raises `CheckoutArgumentError` naming the field, so a bad call never reaches the
network. The customer fields' checks are reached through their declaration
(`_customer_fields`), which also builds the request bodies; the migration classifies its input
rows with the same code.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import _limits
from ._errors import CheckoutArgumentError

__all__ = [
    "fail",
    "require_str",
    "require_unicode",
    "validate_customer_id",
    "validate_email",
    "validate_identifier",
    "validate_instrument_id",
    "validate_instruments",
]


def fail(field: str, problem: str) -> CheckoutArgumentError:
    """The error for a bad argument `field`: its message starts with the field's name."""
    return CheckoutArgumentError(f"{field}: {problem}", field=field)


def require_str(value: object, field: str) -> str:
    """Return `value` if it is text that can be sent (UTF-8 encodable)."""
    if not isinstance(value, str):
        raise fail(field, f"must be a string, not {type(value).__name__}")
    require_unicode(value, field)
    return value


def require_unicode(value: str, field: str, *, subject: str = "") -> None:
    """Raise unless `value` can be encoded as UTF-8."""
    # A lone surrogate (from a JSON `\udXXX` escape, say) cannot be sent as UTF-8.
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise fail(field, f"{subject}is not valid Unicode (a lone surrogate)") from None


def validate_email(value: object, field: str = "email") -> str:
    """Return `value` if it is a plausible email address of at most 255 characters."""
    email = require_str(value, field)
    if not email:
        raise fail(field, "must not be empty")
    if len(email) > _limits.EMAIL_MAX_LENGTH:
        raise fail(field, f"must be at most {_limits.EMAIL_MAX_LENGTH} characters")
    if _limits.EMAIL_PATTERN.fullmatch(email) is None:
        raise fail(field, f"{email!r} is not a valid email address")
    return email


def validate_customer_id(value: object, field: str = "customer_id") -> str:
    """Return `value` if it has the shape of a customer id (`cus_` + 26 characters)."""
    customer_id = require_str(value, field)
    if _limits.CUSTOMER_ID_PATTERN.fullmatch(customer_id) is None:
        raise fail(field, f"{customer_id!r} is not a customer id (cus_ followed by 26 characters)")
    return customer_id


def validate_identifier(value: object, field: str = "id_or_email") -> str:
    """Return `value` if it is a customer id or an email address."""
    identifier = require_str(value, field)
    if _limits.CUSTOMER_ID_PATTERN.fullmatch(identifier):
        return identifier
    if "@" not in identifier:
        raise fail(field, f"{identifier!r} is neither a customer id (cus_...) nor an email address")
    return validate_email(identifier, field)


def validate_instrument_id(value: object, field: str) -> str:
    """Return `value` if it has the shape of an instrument id (`src_` + 26 characters)."""
    instrument_id = require_str(value, field)
    if _limits.INSTRUMENT_ID_PATTERN.fullmatch(instrument_id) is None:
        raise fail(
            field, f"{instrument_id!r} is not an instrument id (src_ followed by 26 characters)"
        )
    return instrument_id


def validate_instruments(value: object, field: str) -> list[str]:
    """Return `value` as a list if it is a list of instrument ids."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise fail(field, "must be a list of instrument ids")
    return [validate_instrument_id(item, f"{field}[{index}]") for index, item in enumerate(value)]
