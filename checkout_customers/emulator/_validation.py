"""Request checks: a request body in, the emulator's 422 error codes out.

The real API publishes no list of customer error codes, so these are the emulator's own (see
`docs/emulator.md`): one code per problem, naming the field. The limits are the API's
documented ones, shared with the client in `checkout_customers._limits`.

Conventions, documented because the reference is silent: unknown top-level fields are ignored;
a field sent as `null` counts as not sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from .. import _limits

__all__ = [
    "CREATE_FIELDS",
    "ERROR_CODES",
    "MalformedBody",
    "check_customer_fields",
    "check_instrument",
    "parse_json_object",
]

#: Every code the emulator can answer in a 422 `error_codes` list.
ERROR_CODES = (
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

CREATE_FIELDS = ("email", "name", "phone", "metadata", "default", "instruments")


class MalformedBody(ValueError):
    """The body is not a JSON object."""


def _reject_constant(name: str) -> object:
    raise MalformedBody(f"{name} is not JSON")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a request body that must be a JSON object; raises `MalformedBody`."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # also numbers past int's digit limit
        raise MalformedBody(str(exc)) from None
    if not isinstance(value, dict):
        raise MalformedBody("the body must be a JSON object")
    # A `\udXXX` escape can decode to a lone surrogate, which is no text at all.
    if b"\\ud" in raw.lower():
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedBody("the body holds an escaped lone surrogate") from None
    return value


def _check_email(value: object) -> list[str]:
    if not isinstance(value, str) or not value:
        return ["email_invalid"]
    if len(value) > _limits.EMAIL_MAX_LENGTH:
        return ["email_too_long"]
    if _limits.EMAIL_PATTERN.fullmatch(value) is None:
        return ["email_invalid"]
    return []


def _check_name(value: object) -> list[str]:
    if not isinstance(value, str):
        return ["name_invalid"]
    return ["name_too_long"] if len(value) > _limits.NAME_MAX_LENGTH else []


def _within(value: object, bounds: tuple[int, int]) -> bool:
    low, high = bounds
    return isinstance(value, str) and low <= len(value) <= high


def _check_phone(value: object) -> list[str]:
    """Both parts are optional, as in the spec's `PhoneNumber`; a part sent must fit."""
    if not isinstance(value, dict):
        return ["phone_invalid"]
    codes = []
    if "country_code" in value and not _within(
        value["country_code"], _limits.PHONE_COUNTRY_CODE_LENGTH
    ):
        codes.append("phone_country_code_invalid")
    if "number" in value and not _within(value["number"], _limits.PHONE_NUMBER_LENGTH):
        codes.append("phone_number_invalid")
    return codes


def _scalar_length(value: object) -> int | None:
    """Length of a metadata value as text, or None when it is not a scalar."""
    if isinstance(value, bool):
        return len("true" if value else "false")
    if isinstance(value, str):
        return len(value)
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, float) and math.isfinite(value):
        return len(json.dumps(value))
    return None


def _check_metadata(value: object) -> list[str]:
    if not isinstance(value, dict):
        return ["metadata_invalid"]
    codes = []
    if len(value) > _limits.METADATA_MAX_PAIRS:
        codes.append("metadata_too_many_pairs")
    for key, item in value.items():
        if not key or len(key) > _limits.METADATA_KEY_MAX_LENGTH:
            codes.append("metadata_key_invalid")
        length = _scalar_length(item)
        if length is None:
            codes.append("metadata_value_invalid")
        elif length > _limits.METADATA_VALUE_MAX_LENGTH:
            codes.append("metadata_value_too_long")
    return codes


def _is_instrument_id(value: object) -> bool:
    return isinstance(value, str) and _limits.INSTRUMENT_ID_PATTERN.fullmatch(value) is not None


def _check_default(value: object, known: Callable[[str], bool]) -> list[str]:
    if not _is_instrument_id(value):
        return ["default_invalid"]
    assert isinstance(value, str)
    return [] if known(value) else ["default_not_found"]


def _check_instruments(value: object, known: Callable[[str], bool]) -> list[str]:
    if not isinstance(value, list) or not all(_is_instrument_id(item) for item in value):
        return ["instruments_invalid"]
    return [] if all(known(item) for item in value) else ["instrument_not_found"]


def check_customer_fields(
    body: dict[str, Any], *, creating: bool, known_instrument: Callable[[str], bool]
) -> tuple[dict[str, Any], list[str]]:
    """Check a create or update body; returns (the fields sent, the error codes).

    The fields are the known ones with a non-null value; the codes are in field order,
    without repeats, and empty when the body is acceptable.
    """
    fields = {name: body[name] for name in CREATE_FIELDS if body.get(name) is not None}
    codes: list[str] = []
    if creating and "email" not in fields:
        codes.append("email_required")
    checks: dict[str, Callable[[Any], list[str]]] = {
        "email": _check_email,
        "name": _check_name,
        "phone": _check_phone,
        "metadata": _check_metadata,
        "default": lambda value: _check_default(value, known_instrument),
        "instruments": lambda value: _check_instruments(value, known_instrument),
    }
    for name, value in fields.items():
        codes.extend(code for code in checks[name](value) if code not in codes)
    return fields, codes


def check_instrument(body: dict[str, Any]) -> list[str]:
    """Check an instrument sent to the admin path `POST /_emulator/instruments`."""
    kind = body.get("type")
    if kind not in ("card", "bank_account"):
        return ["instrument_type_invalid"]
    codes = []
    if "id" in body and not _is_instrument_id(body["id"]):
        codes.append("instrument_id_invalid")
    if kind == "card":
        month, year = body.get("expiry_month"), body.get("expiry_year")
        if not (isinstance(month, int) and not isinstance(month, bool) and 1 <= month <= 12):
            codes.append("expiry_month_invalid")
        if not (isinstance(year, int) and not isinstance(year, bool) and 1000 <= year <= 9999):
            codes.append("expiry_year_invalid")
        last4 = body.get("last4")
        if not (isinstance(last4, str) and len(last4) == 4 and last4.isdigit()):
            codes.append("last4_invalid")
        if not isinstance(body.get("bin"), str):
            codes.append("bin_invalid")
    else:
        if not isinstance(body.get("currency"), str):
            codes.append("currency_invalid")
        if not isinstance(body.get("country"), str):
            codes.append("country_invalid")
    return codes
