"""Card tokenisation for `POST /tokens`: checking card details and what a token remembers.

A token remembers what the API shows of a card (scheme, `last4`, `bin`, expiry, issuer
details, name, billing address, phone) and a fingerprint derived from the number; never the
number itself nor the CVV, which are checked and forgotten. Known test numbers (the ones
Checkout.com's documentation lists) get their issuer details; any other number passing the
Luhn check is accepted with only its scheme, guessed from its leading digits.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from ._request_checks import ADDRESS, PHONE_NUMBER

__all__ = [
    "TEST_CARD_NUMBERS",
    "card_fingerprint",
    "check_card_token_request",
    "luhn_valid",
    "new_card_token",
    "token_response",
]

#: The test numbers Checkout.com documents, with the issuer details the emulator gives them.
TEST_CARD_NUMBERS: Mapping[str, Mapping[str, str]] = {
    "4543474002249996": {
        "scheme": "VISA",
        "card_type": "Credit",
        "card_category": "Consumer",
        "issuer": "GOTHAM STATE BANK",
        "issuer_country": "US",
        "product_id": "F",
        "product_type": "CLASSIC",
    },
    "4242424242424242": {
        "scheme": "VISA",
        "card_type": "Credit",
        "card_category": "Consumer",
        "issuer": "GOTHAM STATE BANK",
        "issuer_country": "US",
        "product_id": "F",
        "product_type": "CLASSIC",
    },
    "4544249167673670": {
        "scheme": "VISA",
        "card_type": "Credit",
        "card_category": "Consumer",
        "issuer": "GOTHAM STATE BANK",
        "issuer_country": "GB",
        "product_id": "F",
        "product_type": "CLASSIC",
    },
    "4658584090000001": {
        "scheme": "VISA",
        "card_type": "Debit",
        "card_category": "Consumer",
        "issuer": "GOTHAM STATE BANK",
        "issuer_country": "GB",
        "product_id": "F",
        "product_type": "CLASSIC",
    },
    "5436031030606378": {
        "scheme": "MASTERCARD",
        "card_type": "Debit",
        "card_category": "Consumer",
        "issuer": "BARCLAYS BANK PLC",
        "issuer_country": "GB",
        "product_id": "MDS",
        "product_type": "DEBIT MASTERCARD",
    },
    "378282246310005": {
        "scheme": "AMEX",
        "card_type": "Charge",
        "card_category": "Commercial",
        "issuer": "AMERICAN EXPRESS",
        "issuer_country": "US",
        "product_id": "AXC",
        "product_type": "CORPORATE",
    },
}

_NUMBER_LENGTHS = range(12, 20)
_OPTIONAL_CARD_FIELDS = ("name", "billing_address", "phone")


def luhn_valid(number: str) -> bool:
    """Whether a string of digits passes the Luhn check every card number passes."""
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _scheme(number: str) -> str | None:
    """The scheme a number's leading digits name (the schemes' published ranges), if any."""
    two, four = int(number[:2]), int(number[:4])
    if number.startswith("4"):
        return "VISA"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "MASTERCARD"
    if two in (34, 37):
        return "AMEX"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "DISCOVER"
    if 3528 <= four <= 3589:
        return "JCB"
    if two in (36, 38) or 300 <= int(number[:3]) <= 305:
        return "DINERS"
    return None


def card_fingerprint(number: str) -> str:
    """The same 26 characters (the spec's `[a-z0-9]{26}`) for the same number, whoever
    stores it, as the API's fingerprint identifies a card across customers."""
    digest = hashlib.sha256(b"checkout-customers-emulator card " + number.encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:26]


def new_card_token() -> str:
    """A fresh token: `tok_` followed by 26 lowercase base32 characters."""
    return "tok_" + base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()[:26]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_card_token_request(
    body: dict[str, Any], today: datetime.date
) -> tuple[dict[str, Any], list[str]]:
    """Check a `POST /tokens` body; returns (what the token remembers, the error codes).

    The codes are the emulator's own (the API publishes none for tokens), named after the
    API's published payment codes where one exists (`card_number_invalid`, `card_expired`).
    """
    kind = body.get("type")
    if kind is None:
        return {}, ["type_required"]
    if kind != "card":  # wallet tokens need the wallets' keys: not emulated
        return {}, ["type_invalid"]
    codes: list[str] = []
    number, month, year = body.get("number"), body.get("expiry_month"), body.get("expiry_year")
    if number is None:
        codes.append("card_number_required")
    elif not (
        isinstance(number, str)
        and number.isascii()
        and number.isdigit()
        and len(number) in _NUMBER_LENGTHS
        and luhn_valid(number)
    ):
        codes.append("card_number_invalid")
    if month is None:
        codes.append("card_expiry_month_required")
    elif not (_is_int(month) and 1 <= month <= 12):
        codes.append("card_expiry_month_invalid")
    if year is None:
        codes.append("card_expiry_year_required")
    elif not (_is_int(year) and 1000 <= year <= 9999):
        codes.append("card_expiry_year_invalid")
    if not codes and (year, month) < (today.year, today.month):
        codes.append("card_expired")
    details: Mapping[str, str] = {}
    if isinstance(number, str) and "card_number_invalid" not in codes and number:
        details = TEST_CARD_NUMBERS.get(number) or _scheme_only(number)
    name, cvv = body.get("name"), body.get("cvv")
    if name is not None and not isinstance(name, str):
        codes.append("name_invalid")
    if cvv is not None:
        digits = 4 if details.get("scheme") == "AMEX" else 3
        if not (isinstance(cvv, str) and cvv.isascii() and cvv.isdigit() and len(cvv) == digits):
            codes.append("cvv_invalid")
    for field, check in (("billing_address", ADDRESS), ("phone", PHONE_NUMBER)):
        if body.get(field) is not None and not check(body[field]):
            codes.append(f"{field}_invalid")
    if codes:
        return {}, codes
    assert isinstance(number, str)
    card: dict[str, Any] = {
        "expiry_month": month,
        "expiry_year": year,
        **details,
        "last4": number[-4:],
        "bin": number[:6],
        "fingerprint": card_fingerprint(number),
    }
    card.update({field: body[field] for field in _OPTIONAL_CARD_FIELDS if body.get(field)})
    return card, []


def _scheme_only(number: str) -> Mapping[str, str]:
    scheme = _scheme(number)
    return {} if scheme is None else {"scheme": scheme}


def token_response(token: str, expires_at: float, card: Mapping[str, Any]) -> dict[str, Any]:
    """The 201 body of `POST /tokens` (the spec's `CardTokenResponse`)."""
    expires_on = datetime.datetime.fromtimestamp(expires_at, tz=datetime.timezone.utc)
    body = {
        "type": "card",
        "token": token,
        "expires_on": expires_on.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    body.update({key: value for key, value in card.items() if key != "fingerprint"})
    return body
