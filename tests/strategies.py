"""Hypothesis strategies for the models, shared by every test module that needs them."""

from __future__ import annotations

from hypothesis import strategies as st

from checkout_customers import (
    AccountHolder,
    AccountHolderIdentification,
    Address,
    BankAccountInstrument,
    BankDetails,
    CardInstrument,
    Customer,
    Phone,
    UnknownInstrument,
)

text = st.text(max_size=30)
optional_text = st.none() | text
ids = st.from_regex(r"[a-z2-7]{26}", fullmatch=True)

phones = st.builds(Phone, country_code=st.text(min_size=1, max_size=7),
                   number=st.text(min_size=6, max_size=25))  # fmt: skip
addresses = st.builds(Address, *(optional_text for _ in range(6)))
identifications = st.builds(AccountHolderIdentification, optional_text, optional_text,
                            optional_text)  # fmt: skip
account_holders = st.builds(
    AccountHolder,
    *(optional_text for _ in range(8)),
    billing_address=st.none() | addresses,
    phone=st.none() | phones,
    identification=st.none() | identifications,
    email=optional_text,
)
CARD_TEXT_FIELDS = (
    "fingerprint", "scheme", "last4", "bin", "card_type", "card_category", "issuer",
    "issuer_country", "product_id", "product_type", "card_wallet_type",
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
    **dict.fromkeys(CARD_TEXT_FIELDS, optional_text),
)
bank_accounts = st.builds(
    BankAccountInstrument,
    id=ids.map("src_".__add__),
    account_holder=st.none() | account_holders,
    bank=st.none() | st.builds(BankDetails, optional_text, optional_text, st.none() | addresses),
    **dict.fromkeys(BANK_TEXT_FIELDS, optional_text),
)
json_scalars = st.none() | st.booleans() | st.integers() | text
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
)
