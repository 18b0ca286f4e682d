"""Request checks: a request body in, the emulator's 422 error codes out.

The real API publishes no list of customer error codes, so these are the emulator's own (see
`docs/emulator.md`): one code per problem, naming the field. The limits are the API's
documented ones, declared once with the client's checks in
`checkout_customers._customer_fields`.

Conventions, documented because the reference is silent: unknown top-level fields are ignored;
a field sent as `null` counts as not sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .. import _limits
from .._customer_fields import CUSTOMER_FIELDS, CustomerFields

__all__ = [
    "CREATE_FIELDS",
    "ERROR_CODES",
    "MalformedBody",
    "check_customer_fields",
    "check_instrument",
    "parse_json_object",
    "stored_fields",
]

#: Every code the emulator can answer in a 422 `error_codes` list: the customer fields' codes
#: come from their declaration (`checkout_customers._customer_fields`).
ERROR_CODES = (
    "request_body_malformed",
    *CUSTOMER_FIELDS.error_codes(),
    "email_already_exists",
)

#: The fields a create or update body may carry.
CREATE_FIELDS = CUSTOMER_FIELDS.names


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


def _is_instrument_id(value: object) -> bool:
    return isinstance(value, str) and _limits.INSTRUMENT_ID_PATTERN.fullmatch(value) is not None


def check_customer_fields(
    body: dict[str, Any],
    *,
    creating: bool,
    known_instrument: Callable[[str], bool],
    declared: CustomerFields = CUSTOMER_FIELDS,
) -> tuple[dict[str, Any], list[str]]:
    """Check a create or update body; returns (the fields sent, the error codes).

    The fields are the declared ones with a non-null value; the codes are in field order,
    without repeats, and empty when the body is acceptable.
    """
    fields = {name: body[name] for name in declared.names if body.get(name) is not None}
    codes: list[str] = []
    if creating:
        codes.extend(f"{name}_required" for name in declared.required if name not in fields)
    for field in declared:
        if field.name in fields:
            checked = field.kind.check(fields[field.name], field.name, known_instrument)
            codes.extend(code for code in checked if code not in codes)
    return fields, codes


def stored_fields(
    fields: dict[str, Any], declared: CustomerFields = CUSTOMER_FIELDS
) -> dict[str, Any]:
    """What a customer record keeps of checked fields, but `default` and `instruments`.

    Those two link instruments, by the API's rules, which the caller applies.
    """
    return {
        field.name: field.kind.stored(fields[field.name])
        for field in declared
        if field.name in fields and not field.kind.links_instruments
    }


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
