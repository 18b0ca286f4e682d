"""The payment instruments every emulator knows from the start.

They are stored in the API's own response shapes (`card` and `bank_account`), with ids that
never change, so that examples and tests can link them to customers:

    await cko.customers.create(email="a@example.com", default=TEST_CARD_VISA_ID)

The card numbers behind them are the card schemes' published test numbers; the bank accounts
use the IBAN registry's example numbers. None of them can move real money.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "INSTRUMENT_TYPES",
    "TEST_BANK_ACCOUNT_FR_ID",
    "TEST_BANK_ACCOUNT_GB_ID",
    "TEST_CARD_AMEX_ID",
    "TEST_CARD_DISCOVER_ID",
    "TEST_CARD_MASTERCARD_ID",
    "TEST_CARD_VISA_ID",
    "TEST_INSTRUMENTS",
    "new_customer_id",
    "new_fingerprint",
    "new_instrument_id",
]

#: The instrument types the emulator can store, as the API's `type` discriminator spells them.
INSTRUMENT_TYPES = ("card", "bank_account")

#: A built-in Visa card every emulator knows: link it to a customer by this id.
TEST_CARD_VISA_ID = "src_aqeal33lxk6ty2625w7smxekaq"
#: A built-in Mastercard card every emulator knows.
TEST_CARD_MASTERCARD_ID = "src_mnjyrmq446hrgoe4wyg7abuwcm"
#: A built-in American Express card every emulator knows.
TEST_CARD_AMEX_ID = "src_mcrhxsvw3m3ftenwwojdurkrnp"
#: A built-in Discover card every emulator knows.
TEST_CARD_DISCOVER_ID = "src_5ihrsq4s4qzhuxwobgku6bb27s"
#: A built-in UK bank account every emulator knows.
TEST_BANK_ACCOUNT_GB_ID = "src_q7kihflyxz3tazcjcd2yx4tr6x"
#: A built-in French bank account every emulator knows.
TEST_BANK_ACCOUNT_FR_ID = "src_vet5dw3twbapw5l4snuiiqfy7t"

_LONDON = {
    "address_line1": "90 Tottenham Court Road",
    "city": "London",
    "zip": "W1T 4TJ",
    "country": "GB",
}
_NEW_YORK = {
    "address_line1": "1007 Mountain Drive",
    "city": "New York",
    "state": "NY",
    "zip": "10001",
    "country": "US",
}
_PARIS = {
    "address_line1": "14 Rue de Rivoli",
    "city": "Paris",
    "zip": "75004",
    "country": "FR",
}


def _card(**fields: Any) -> dict[str, Any]:
    return {"type": "card", **fields}


def _bank_account(**fields: Any) -> dict[str, Any]:
    return {"type": "bank_account", **fields}


_INSTRUMENTS: tuple[dict[str, Any], ...] = (
    _card(
        id=TEST_CARD_VISA_ID,
        fingerprint="gumgmpdjfxdnqiqi6w6eik5vje",
        expiry_month=6,
        expiry_year=2030,
        scheme="VISA",
        last4="4242",
        bin="424242",
        card_type="Credit",
        card_category="Consumer",
        issuer="GOTHAM STATE BANK",
        issuer_country="US",
        product_id="F",
        product_type="CLASSIC",
        account_holder={
            "first_name": "Bruce",
            "last_name": "Wayne",
            "billing_address": _NEW_YORK,
            "phone": {"country_code": "+1", "number": "415 555 2671"},
        },
    ),
    _card(
        id=TEST_CARD_MASTERCARD_ID,
        fingerprint="rgv32nunm44upq2gq5asco45k5",
        expiry_month=12,
        expiry_year=2031,
        scheme="MASTERCARD",
        last4="6378",
        bin="543603",
        card_type="Debit",
        card_category="Consumer",
        issuer="BARCLAYS BANK PLC",
        issuer_country="GB",
        product_id="MDS",
        product_type="DEBIT MASTERCARD",
        account_holder={"first_name": "Jane", "last_name": "Doe", "billing_address": _LONDON},
    ),
    _card(
        id=TEST_CARD_AMEX_ID,
        fingerprint="sczbpdd3eljgl7fwvrc5eoqan6",
        expiry_month=3,
        expiry_year=2029,
        scheme="AMEX",
        last4="0005",
        bin="378282",
        card_type="Charge",
        card_category="Commercial",
        issuer="AMERICAN EXPRESS",
        issuer_country="US",
        product_id="AXC",
        product_type="CORPORATE",
        account_holder={"first_name": "Lucius", "last_name": "Fox", "billing_address": _NEW_YORK},
    ),
    _card(
        id=TEST_CARD_DISCOVER_ID,
        fingerprint="jk4ftgtfi4nnrc7t4fi4ypo5ww",
        expiry_month=9,
        expiry_year=2028,
        scheme="DISCOVER",
        last4="1117",
        bin="601111",
        card_type="Prepaid",
        card_category="Consumer",
        issuer="DISCOVER BANK",
        issuer_country="US",
        account_holder={"first_name": "Selina", "last_name": "Kyle"},
    ),
    _bank_account(
        id=TEST_BANK_ACCOUNT_GB_ID,
        fingerprint="x4hplfwl47yz2q3cgwklxz3hlk",
        account_type="current",
        account_number="55555555",
        bank_code="202015",
        iban="GB33BUKB20201555555555",
        bban="BUKB20201555555555",
        swift_bic="BUKBGB22",
        currency="GBP",
        country="GB",
        account_holder={
            "type": "individual",
            "first_name": "Jane",
            "last_name": "Doe",
            "billing_address": _LONDON,
        },
        bank={"name": "Barclays Bank", "branch": "Tottenham Court Road", "address": _LONDON},
    ),
    _bank_account(
        id=TEST_BANK_ACCOUNT_FR_ID,
        fingerprint="kisbdqgge2fle5nhh6c2plm547",
        account_type="savings",
        account_number="0500013M026",
        bank_code="20041",
        branch_code="01005",
        iban="FR1420041010050500013M02606",
        bban="20041010050500013M02606",
        swift_bic="PSSTFRPPPAR",
        currency="EUR",
        country="FR",
        account_holder={
            "type": "corporate",
            "company_name": "Wayne Enterprises France",
            "billing_address": _PARIS,
        },
        bank={"name": "La Banque Postale", "branch": "Paris Louvre", "address": _PARIS},
    ),
)

#: The built-in instruments, each a read-only mapping in the API's response shape.
TEST_INSTRUMENTS: tuple[Mapping[str, Any], ...] = tuple(
    MappingProxyType(instrument) for instrument in _INSTRUMENTS
)


def _base32(length: int) -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()[:length]


def new_instrument_id() -> str:
    """A fresh instrument id: `src_` followed by 26 lowercase base32 characters."""
    return "src_" + _base32(26)


def new_customer_id() -> str:
    """A fresh customer id: `cus_` followed by 26 lowercase base32 characters."""
    return "cus_" + _base32(26)


def new_fingerprint() -> str:
    """A fresh fingerprint in the API's pattern (26 of `[a-z0-9]`)."""
    return _base32(26)
