"""The Instruments API and card tokens: what `POST/GET/PATCH/DELETE /instruments` and
`POST /tokens` do to the store, and what they answer.

The handlers here take a parsed body and return an `Answer`; `_app.py` wraps them in
authentication, faults and rate limits as it does the customers endpoints. Linking follows
the API's documentation: a `customer.email` no customer has creates one (with the
instrument as its default), an existing `id` or `email` links to that customer. What the API
leaves undocumented is a setting (`EmulatorSettings.instrument_customer_required`,
`unknown_customer_status`, `customer_id_email_conflict`), described in `docs/emulator.md`.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import time
from typing import Any

import attrs

from .. import _limits
from ._instruments import new_customer_id, new_instrument_id
from ._request_checks import (
    ACCOUNT_HOLDER,
    BANK_DETAILS,
    CARD_ACCOUNT_HOLDER,
    CREATE_CUSTOMER,
    UPDATE_CUSTOMER,
    Check,
    country_code,
    currency_code,
    integer,
    one_of,
    text,
)
from ._settings import EmulatorSettings
from ._store import Record, Store
from ._tokens import check_card_token_request, new_card_token, token_response

__all__ = ["INSTRUMENT_ERROR_CODES", "Answer", "InstrumentsApi", "link", "unlink"]

#: The 422 codes of the instruments and tokens endpoints (the emulator's own).
INSTRUMENT_ERROR_CODES = (
    "type_required",
    "type_invalid",
    "token_required",
    "token_invalid",
    "token_expired",
    "token_used",
    "currency_required",
    "currency_invalid",
    "country_required",
    "country_invalid",
    "account_type_invalid",
    "account_number_invalid",
    "bank_code_invalid",
    "branch_code_invalid",
    "iban_invalid",
    "bban_invalid",
    "swift_bic_invalid",
    "account_holder_invalid",
    "bank_invalid",
    "expiry_month_invalid",
    "expiry_year_invalid",
    "name_invalid",
    "customer_invalid",
    "customer_required",
    "customer_not_found",
    "customer_email_mismatch",
    "card_number_required",
    "card_number_invalid",
    "card_expiry_month_required",
    "card_expiry_month_invalid",
    "card_expiry_year_required",
    "card_expiry_year_invalid",
    "card_expired",
    "cvv_invalid",
    "billing_address_invalid",
    "phone_invalid",
)

_ANY_TEXT = text()
#: The bank account fields of create and update, with their checks.
_BANK_FIELDS: dict[str, Check] = {
    "account_type": one_of("savings", "current", "cash"),
    "account_number": _ANY_TEXT,
    "bank_code": _ANY_TEXT,
    "branch_code": _ANY_TEXT,
    "iban": _ANY_TEXT,
    "bban": _ANY_TEXT,
    "swift_bic": _ANY_TEXT,
    "currency": currency_code,
    "country": country_code,
    "account_holder": ACCOUNT_HOLDER,
    "bank": BANK_DETAILS,
}
_CARD_UPDATE_FIELDS: dict[str, Check] = {
    "expiry_month": integer(minimum=1, maximum=12),
    "expiry_year": integer(minimum=1000, maximum=9999),
    "name": _ANY_TEXT,
    "account_holder": CARD_ACCOUNT_HOLDER,
}
#: What the create answer shows of each type (`StoreTokenInstrumentResponse`,
#: `StoreBankAccountInstrumentResponse`), besides `type`, `id` and `customer`.
_CREATED_FIELDS = {
    "card": (
        "fingerprint",
        "expiry_month",
        "expiry_year",
        "scheme",
        "last4",
        "bin",
        "card_type",
        "card_category",
        "issuer",
        "issuer_country",
        "product_id",
        "product_type",
    ),
    "bank_account": (
        "fingerprint",
        "bank",
        "swift_bic",
        "account_number",
        "bank_code",
        "iban",
    ),
}


@attrs.frozen
class Answer:
    """What to answer: a status, and a JSON body or 422 error codes (neither: no body)."""

    status: int
    body: dict[str, Any] | None = None
    codes: tuple[str, ...] = ()


def _invalid(*codes: str) -> Answer:
    return Answer(422, codes=codes)


def _sent(body: dict[str, Any], names: Any) -> dict[str, Any]:
    """The fields of `body` among `names` that were sent (`null` counts as not sent)."""
    return {name: body[name] for name in names if body.get(name) is not None}


def _check(fields: dict[str, Any], checks: dict[str, Check]) -> list[str]:
    return [f"{name}_invalid" for name, value in fields.items() if not checks[name](value)]


def link(record: Record, instrument_id: str, *, make_default: bool) -> None:
    """Link an instrument to a customer record; a customer with instruments always has a
    default (the first linked unless told otherwise), as the customers endpoints keep it."""
    linked = list(record.get("instruments") or [])
    if instrument_id not in linked:
        linked.append(instrument_id)
    record["instruments"] = linked
    if make_default or record.get("default") not in linked:
        record["default"] = instrument_id


def unlink(record: Record, instrument_id: str) -> None:
    """Unlink an instrument; when it was the default, the first one left takes its place."""
    linked = [item for item in record.get("instruments") or [] if item != instrument_id]
    record["instruments"] = linked
    if record.get("default") not in linked:
        if linked:
            record["default"] = linked[0]
        else:
            record.pop("default", None)


class InstrumentsApi:
    """The instruments and tokens endpoints over one store."""

    def __init__(self, settings: EmulatorSettings, store: Store) -> None:
        self.settings = settings
        self.store = store

    # -- tokens ------------------------------------------------------------------------------

    def create_token(self, body: dict[str, Any]) -> Answer:
        now = time.time()
        today = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).date()
        card, codes = check_card_token_request(body, today)
        if codes:
            return _invalid(*codes)
        token = new_card_token()
        expires_at = now + self.settings.card_token_ttl_s
        self.store.add_card_token(token, expires_at, card)
        return Answer(201, token_response(token, expires_at, card))

    # -- instruments -------------------------------------------------------------------------

    def create(self, body: dict[str, Any]) -> Answer:
        kind = body.get("type")
        if kind is None:
            return _invalid("type_required")
        if kind not in ("token", "bank_account"):
            return _invalid("type_invalid")
        codes: list[str] = []
        if kind == "token":
            token = body.get("token")
            if token is None:
                codes.append("token_required")
            elif not isinstance(token, str):
                codes.append("token_invalid")
            fields = _sent(body, ("account_holder",))
            codes += _check(fields, {"account_holder": CARD_ACCOUNT_HOLDER})
        else:
            fields = _sent(body, _BANK_FIELDS)
            codes += [f"{name}_required" for name in ("currency", "country") if name not in fields]
            codes += _check(fields, _BANK_FIELDS)
        customer = body.get("customer")
        if customer is not None and not CREATE_CUSTOMER(customer):
            codes.append("customer_invalid")
        if codes:
            return _invalid(*codes)
        target = self._customer_to_link(customer)
        if isinstance(target, Answer):
            return target
        if kind == "token":
            card = self.store.use_card_token(body["token"], time.time())
            if isinstance(card, str):
                return _invalid(card)
            instrument = _card_instrument(card, fields.get("account_holder"))
        else:
            instrument = {"type": "bank_account", "id": new_instrument_id(), **fields}
            instrument["fingerprint"] = _bank_fingerprint(fields)
        return self._store_new(instrument, customer or {}, target)

    def _customer_to_link(self, customer: dict[str, Any] | None) -> Record | str | Answer | None:
        """The customer to link: a stored record, an email to create one for, None for no
        customer, or the answer refusing the request."""
        customer_id = None if customer is None else customer.get("id")
        email = None if customer is None else customer.get("email")
        if customer_id is None and email is None:
            required = self.settings.instrument_customer_required
            return _invalid("customer_required") if required else None
        if customer_id is not None:
            record = self.store.customer_by_id(customer_id)
            if record is None:
                return self._unknown_customer()
            if (
                email is not None
                and self.store.email_key_of(email) != self.store.email_key_of(record["email"])
                and self.settings.customer_id_email_conflict == "reject"
            ):
                return _invalid("customer_email_mismatch")
            return record
        assert isinstance(email, str)
        return self.store.customer_by_email(email) or email

    def _unknown_customer(self) -> Answer:
        if self.settings.unknown_customer_status == 404:
            return Answer(404)
        return _invalid("customer_not_found")

    def _store_new(
        self, instrument: Record, customer: dict[str, Any], target: Record | str | None
    ) -> Answer:
        new_customer: Record | None = None
        changed: list[Record] = []
        owner: Record | None = None
        if isinstance(target, str):  # a new email: a new customer, with this as its default
            new_customer = {"id": new_customer_id(), "email": target}
            if customer.get("name") is not None:
                new_customer["name"] = customer["name"]
            if customer.get("phone") is not None:
                new_customer["phone"] = {
                    part: customer["phone"][part]
                    for part in ("country_code", "number")
                    if part in customer["phone"]
                }
            link(new_customer, instrument["id"], make_default=True)
            owner = new_customer
        elif target is not None:
            link(target, instrument["id"], make_default=customer.get("default") is True)
            changed.append(target)
            owner = target
        unique = self.settings.reject_duplicate_emails is not None
        if not self.store.save(
            instruments=[instrument],
            customers=changed,
            new_customer=new_customer,
            unique_email=unique,
        ):
            if self.settings.reject_duplicate_emails == 422:
                return _invalid("email_already_exists")
            return Answer(409)
        created = {"type": instrument["type"], "id": instrument["id"]}
        created.update(_sent(instrument, _CREATED_FIELDS[instrument["type"]]))
        if owner is not None:
            created["customer"] = _customer_summary(owner)
        return Answer(201, created)

    def get(self, instrument_id: str) -> Answer:
        instrument = self.find(instrument_id)
        if instrument is None:
            return Answer(404)
        owners = self.store.customers_linking(instrument_id)
        if owners:
            summary = _customer_summary(owners[0])
            summary["default"] = owners[0].get("default") == instrument_id
            instrument["customer"] = summary
        return Answer(200, instrument)

    def update(self, instrument_id: str, body: dict[str, Any]) -> Answer:
        instrument = self.find(instrument_id)
        if instrument is None:
            return Answer(404)
        checks = _CARD_UPDATE_FIELDS if instrument["type"] == "card" else _BANK_FIELDS
        fields = _sent(body, checks)
        codes = []
        if body.get("type") is not None and not one_of("card", "bank_account")(body["type"]):
            codes.append("type_invalid")
        codes += _check(fields, checks)
        customer = body.get("customer")
        if customer is not None and not UPDATE_CUSTOMER(customer):
            codes.append("customer_invalid")
        if codes:
            return _invalid(*codes)
        customer = customer or {}
        owners = self.store.customers_linking(instrument_id)
        changed: list[Record] = []
        if customer.get("id") is not None and customer["id"] not in [o["id"] for o in owners]:
            target = self.store.customer_by_id(customer["id"])
            if target is None:
                return self._unknown_customer()
            for owner in owners:  # an instrument belongs to one customer: it moves
                unlink(owner, instrument_id)
            changed = [*owners, target]
            link(target, instrument_id, make_default=customer.get("default") is True)
        elif customer.get("default") is True:
            named = customer.get("id")
            for owner in owners:
                if named is None or owner["id"] == named:
                    link(owner, instrument_id, make_default=True)
                    changed.append(owner)
        instrument.update(fields)  # an account holder is replaced as a whole
        self.store.save(instruments=[instrument], customers=changed)
        return Answer(200, {"type": instrument["type"], "fingerprint": instrument["fingerprint"]})

    def delete(self, instrument_id: str) -> Answer:
        if self.find(instrument_id) is None:
            return Answer(404)
        owners = self.store.customers_linking(instrument_id)
        for owner in owners:
            unlink(owner, instrument_id)
        self.store.save(customers=owners, deleted_instrument=instrument_id)
        return Answer(204)

    def find(self, instrument_id: str) -> Record | None:
        if _limits.INSTRUMENT_ID_PATTERN.fullmatch(instrument_id) is None:
            return None
        return self.store.instrument(instrument_id)


def _customer_summary(record: Record) -> dict[str, Any]:
    summary = {"id": record["id"], "email": record["email"]}
    if record.get("name") is not None:
        summary["name"] = record["name"]
    return summary


def _card_instrument(card: Record, account_holder: dict[str, Any] | None) -> Record:
    """A card instrument from what its token remembers; the token's billing address and
    phone become the account holder's unless one is given."""
    instrument: Record = {"type": "card", "id": new_instrument_id()}
    instrument.update(
        {key: value for key, value in card.items() if key not in ("billing_address", "phone")}
    )
    if account_holder is None:
        account_holder = {key: card[key] for key in ("billing_address", "phone") if key in card}
    if account_holder:
        instrument["account_holder"] = account_holder
    return instrument


def _bank_fingerprint(fields: dict[str, Any]) -> str:
    """The same 26 characters for the same account, whoever stores it."""
    key = "|".join(
        str(fields.get(name, ""))
        for name in ("country", "currency", "iban", "account_number", "bank_code", "branch_code")
    )
    digest = hashlib.sha256(b"checkout-customers-emulator bank " + key.encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:26]
