"""The API's objects as frozen, slotted attrs classes.

Attribute names are the API's field names, so `customer.phone.country_code` and
`card.account_holder.billing_address.city` read like the JSON they come from. Every model parsed
from an answer also has `extra`: the fields the API sent that this version does not model, so
nothing the API sends is lost. Parsing lives in `_converter`; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

__all__ = [
    "AccountHolder",
    "AccountHolderIdentification",
    "Address",
    "ApiResult",
    "BankAccount",
    "BankAccountInstrument",
    "BankDetails",
    "CardInstrument",
    "CreatedCustomer",
    "Customer",
    "CustomerLink",
    "GetOrCreateResult",
    "Instrument",
    "InstrumentCustomer",
    "MetadataValue",
    "NetworkToken",
    "Phone",
    "UnknownInstrument",
    "UpdatedInstrument",
]

MetadataValue = str | int | float | bool
"""The scalar types a metadata value may have."""

NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def _extra() -> Any:
    # Shared and immutable, so no factory call per object: parsing stays as fast as before.
    # Requests never send `extra`; it is what an answer carried beyond the modelled fields.
    return attrs.field(default=NO_EXTRA, kw_only=True, hash=False, repr=False)


@attrs.frozen
class Phone:
    """A phone number: `country_code` like `"+1"` (1-7 characters), `number` 6-25 characters.

    A request needs both; an answer may lack either (the API's schema requires neither), and
    then it is `None`.
    """

    country_code: str | None = None
    number: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Address:
    """A postal address, as used in billing addresses and bank details."""

    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class AccountHolderIdentification:
    """An identity document of an account holder."""

    type: str | None = None
    number: str | None = None
    issuing_country: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class AccountHolder:
    """The person or company that holds a card or bank account."""

    type: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    tax_id: str | None = None
    date_of_birth: str | None = None
    country_of_birth: str | None = None
    residential_status: str | None = None
    billing_address: Address | None = None
    phone: Phone | None = None
    identification: AccountHolderIdentification | None = None
    email: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class BankDetails:
    """The bank that keeps a bank account."""

    name: str | None = None
    branch: str | None = None
    address: Address | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class NetworkToken:
    """The scheme network token that stands for a stored card (`nt_...`) and its `state`."""

    id: str | None = None
    state: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class CustomerLink:
    """The customer an instrument is linked to, as an instrument answer names it.

    `default` is True when the instrument is that customer's default one.
    """

    id: str | None = None
    email: str | None = None
    name: str | None = None
    default: bool | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class CardInstrument:
    """A card linked to a customer (`type` is always `"card"`).

    `name` is the cardholder's name, `scheme_local` a local co-branded scheme (such as
    `"cartes_bancaires"`), `regulated_indicator` whether the card is regulated debit, and
    `customer` the customer it is linked to; the API sends these on newer answers only.
    """

    id: str
    fingerprint: str | None = None
    expiry_month: int | None = None
    expiry_year: int | None = None
    scheme: str | None = None
    last4: str | None = None
    bin: str | None = None
    card_type: str | None = None
    card_category: str | None = None
    issuer: str | None = None
    issuer_country: str | None = None
    product_id: str | None = None
    product_type: str | None = None
    account_holder: AccountHolder | None = None
    card_wallet_type: str | None = None
    name: str | None = None
    scheme_local: str | None = None
    network_token: NetworkToken | None = None
    regulated_indicator: bool | None = None
    customer: CustomerLink | None = None
    type: Literal["card"] = attrs.field(default="card", init=False)
    #: The `Cko-Request-Id` of the answer, when `instruments.create` or `get` returned it.
    request_id: str | None = attrs.field(default=None, eq=False, kw_only=True)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class BankAccountInstrument:
    """A bank account linked to a customer (`type` is always `"bank_account"`).

    `customer` is the customer it is linked to, on the Instruments API's answers.
    """

    id: str
    fingerprint: str | None = None
    account_type: str | None = None
    account_number: str | None = None
    bank_code: str | None = None
    branch_code: str | None = None
    iban: str | None = None
    bban: str | None = None
    swift_bic: str | None = None
    currency: str | None = None
    country: str | None = None
    account_holder: AccountHolder | None = None
    bank: BankDetails | None = None
    customer: CustomerLink | None = None
    type: Literal["bank_account"] = attrs.field(default="bank_account", init=False)
    #: The `Cko-Request-Id` of the answer, when `instruments.create` or `get` returned it.
    request_id: str | None = attrs.field(default=None, eq=False, kw_only=True)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class UnknownInstrument:
    """An instrument of a type this SDK does not model (for example `"sepa"`).

    `type` is the API's type, `id` its id when it has one, and `data` every field as received,
    so nothing the API sent is lost.
    """

    type: str
    id: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    #: The `Cko-Request-Id` of the answer, when `instruments.create` or `get` returned it.
    request_id: str | None = attrs.field(default=None, eq=False, kw_only=True)

    @property
    def extra(self) -> Mapping[str, Any]:
        """Every field but `type` and `id`, read-only: what `extra` is on the other models."""
        return MappingProxyType({k: v for k, v in self.data.items() if k not in ("type", "id")})


Instrument = CardInstrument | BankAccountInstrument | UnknownInstrument
"""Any instrument in `Customer.instruments`; dispatch on `.type` or `isinstance`."""


@attrs.frozen
class InstrumentCustomer:
    """The customer to link an instrument to, in `instruments.create` and `update`.

        InstrumentCustomer(email="bruce@wayne.com", name="Bruce Wayne", default=True)
        InstrumentCustomer(id="cus_...", default=True)

    Give `id` (an existing customer) or `email` (an existing customer's, or a new one's: the
    API then creates the customer, with the instrument as its default). `name` and `phone`
    are set on a new customer only. `default=True` makes the instrument the customer's
    default. `update` takes `id` and `default` only.
    """

    id: str | None = None
    email: str | None = None
    name: str | None = None
    phone: Phone | None = None
    default: bool | None = None


@attrs.frozen
class BankAccount:
    """A bank account to store with `instruments.create(bank_account=...)`.

    `currency` (ISO 4217, such as `"GBP"`) and `country` (ISO 3166-1 alpha-2, such as `"GB"`)
    are required; which other fields a payout needs depends on them (see Checkout.com's
    bank payout formatting). `account_type` is `"savings"`, `"current"` or `"cash"` today,
    and not checked here, so a new type the API adds can be sent.
    """

    currency: str
    country: str
    account_type: str | None = None
    account_number: str | None = None
    bank_code: str | None = None
    branch_code: str | None = None
    iban: str | None = None
    bban: str | None = None
    swift_bic: str | None = None
    bank: BankDetails | None = None


@attrs.frozen
class UpdatedInstrument:
    """What `instruments.update` returns: the instrument's `type` and `fingerprint` (all the
    API answers), and the `request_id` of the call."""

    type: str
    fingerprint: str | None = None
    request_id: str | None = attrs.field(default=None, eq=False, kw_only=True)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Customer:
    """A customer as `customers.get` returns it.

    `request_id` is the `Cko-Request-Id` of the response that carried it. `extra` (on this and
    every nested model) holds the fields the answer carried that this version does not model,
    as received, in a read-only mapping; it is empty for fields the SDK knows.
    """

    id: str
    email: str
    name: str | None = None
    phone: Phone | None = None
    metadata: Mapping[str, MetadataValue] = attrs.field(factory=dict, hash=False)
    default: str | None = None
    instruments: tuple[Instrument, ...] = ()
    request_id: str | None = attrs.field(default=None, eq=False)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class CreatedCustomer:
    """What `customers.create` returns: the new customer's `id` and the `request_id`."""

    id: str
    request_id: str | None = None


@attrs.frozen
class GetOrCreateResult:
    """What `customers.get_or_create` returns.

    `id` is the customer's id; `created` is True when this call's create made it (or, after a
    create that got no answer, when the look-up that followed found it) and False when the
    customer already existed; `request_id` is that of the answer that told.
    """

    id: str
    created: bool
    request_id: str | None = None


@attrs.frozen
class ApiResult:
    """What `customers.update`, `customers.delete` and `instruments.delete` return: the
    `request_id` of the call."""

    request_id: str | None = None
