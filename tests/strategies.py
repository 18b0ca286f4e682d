"""Hypothesis strategies for the models, shared by every test module that needs them."""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import strategies as st

from checkout_customers import (
    AccountHolder,
    AccountHolderIdentification,
    Address,
    BankAccountInstrument,
    BankDetails,
    CardInstrument,
    Customer,
    CustomerLink,
    NetworkToken,
    Phone,
    UnknownInstrument,
)

text = st.text(max_size=30)
optional_text = st.none() | text
ids = st.from_regex(r"[a-z2-7]{26}", fullmatch=True)
json_scalars = st.none() | st.booleans() | st.integers() | text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
# Fields a newer API might send: names no model has, so they land in `extra`.
extras = st.dictionaries(st.sampled_from(["new_a", "new_b", "loyalty"]), json_values,
                         max_size=2).map(MappingProxyType)  # fmt: skip

phones = st.builds(Phone, country_code=st.text(min_size=1, max_size=7),
                   number=st.text(min_size=6, max_size=25), extra=extras)  # fmt: skip
addresses = st.builds(Address, *(optional_text for _ in range(6)), extra=extras)
identifications = st.builds(AccountHolderIdentification, optional_text, optional_text,
                            optional_text, extra=extras)  # fmt: skip
account_holders = st.builds(
    AccountHolder,
    *(optional_text for _ in range(8)),
    billing_address=st.none() | addresses,
    phone=st.none() | phones,
    identification=st.none() | identifications,
    email=optional_text,
    extra=extras,
)
CARD_TEXT_FIELDS = (
    "fingerprint", "scheme", "last4", "bin", "card_type", "card_category", "issuer",
    "issuer_country", "product_id", "product_type", "card_wallet_type", "name", "scheme_local",
)  # fmt: skip
BANK_TEXT_FIELDS = (
    "fingerprint", "account_type", "account_number", "bank_code", "branch_code", "iban",
    "bban", "swift_bic", "currency", "country",
)  # fmt: skip
cards = st.builds(
    CardInstrument,
    id=ids.map("src_".__add__),
    expiry_month=st.none() | st.integers(1, 12),
    expiry_year=st.none() | st.integers(2000, 2100),
    account_holder=st.none() | account_holders,
    network_token=st.none() | st.builds(NetworkToken, optional_text, optional_text, extra=extras),
    regulated_indicator=st.none() | st.booleans(),
    customer=st.none()
    | st.builds(
        CustomerLink,
        optional_text,
        optional_text,
        optional_text,
        st.none() | st.booleans(),
        extra=extras,
    ),
    extra=extras,
    **dict.fromkeys(CARD_TEXT_FIELDS, optional_text),
)
bank_accounts = st.builds(
    BankAccountInstrument,
    id=ids.map("src_".__add__),
    account_holder=st.none() | account_holders,
    bank=st.none()
    | st.builds(BankDetails, optional_text, optional_text, st.none() | addresses, extra=extras),
    extra=extras,
    **dict.fromkeys(BANK_TEXT_FIELDS, optional_text),
)
unknown_instruments = st.builds(
    lambda kind, instrument_id, extra: UnknownInstrument(
        type=kind,
        id=instrument_id,
        data={**extra, "type": kind, **({"id": instrument_id} if instrument_id else {})},
    ),
    st.sampled_from(["sepa", "ach", "klarna"]),
    st.none() | ids.map("src_".__add__),
    st.dictionaries(st.sampled_from(["x", "y", "z"]), json_scalars, max_size=3),
)
metadata_values = st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=100)
customers = st.builds(
    Customer,
    id=ids.map("cus_".__add__),
    email=st.emails(),
    name=optional_text,
    phone=st.none() | phones,
    metadata=st.dictionaries(st.text(min_size=1, max_size=100), metadata_values, max_size=10),
    default=st.none() | ids.map("src_".__add__),
    instruments=st.lists(cards | bank_accounts | unknown_instruments, max_size=4).map(tuple),
    extra=extras,
)
