"""Fields the SDK does not model are kept in each model's read-only `extra`, and sent back out
by `unstructure`; the newer card fields are modelled. Answers come from a peer on loopback."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiohttp import web

from checkout_customers import (
    BankAccountInstrument,
    CardInstrument,
    CheckoutConnectionError,
    CustomerLink,
    NetworkToken,
    UnknownInstrument,
)
from checkout_customers._converter import unstructure

from ..peers import CLIENT_KINDS, open_client, serve

CUSTOMER_ID = "cus_y3oqhf46pyzuxjbcn2giaqnb44"
ADDRESS = {"city": "Gotham", "country": "US", "plus_four": "1234"}
HOLDER = {
    "first_name": "Bruce",
    "billing_address": ADDRESS,
    "phone": {"country_code": "+1", "number": "4155552671", "verified": True},
    "identification": {"type": "passport", "number": "X1", "expires": "2031-01-01"},
    "middle_name": "Thomas",
}
CARD = {
    "type": "card",
    "id": "src_wmlfc3zyhqzehihu7giusaaawu",
    "fingerprint": "vnsdrvikkvre3dtrjjvlm5du4q",
    "expiry_month": 6,
    "expiry_year": 2031,
    "last4": "4242",
    "bin": "424242",
    "name": "Bruce Wayne",
    "scheme": "VISA",
    "scheme_local": "cartes_bancaires",
    "network_token": {"id": "nt_xgu3isllqfyu7ktpk5z2yxbwna", "state": "active", "since": 2024},
    "regulated_indicator": True,
    "customer": {
        "id": CUSTOMER_ID,
        "email": "bruce@wayne.com",
        "default": True,
        "segment": "vip",
    },
    "account_holder": HOLDER,
    "encrypted_card_number": "eyJhbGciOi...",
}
BANK = {
    "type": "bank_account",
    "id": "src_bnkfc3zyhqzehihu7giusaaawu",
    "iban": "GB33BUKB20201555555555",
    "bank": {"name": "Lloyds", "address": ADDRESS, "sort_code": "20-20-15"},
    "mandate": {"reference": "M1", "signed": ["2024-01-01"]},
}
SEPA = {"type": "sepa", "id": "src_sepafc3zyhqzehihu7giusaaaw", "mandate_id": "MD1"}
CUSTOMER = {
    "id": CUSTOMER_ID,
    "email": "bruce@wayne.com",
    "name": "Bruce Wayne",
    "phone": {"country_code": "+1", "number": "415 555 2671", "type": "mobile"},
    "metadata": {"coupon_code": "NY2018"},
    "default": CARD["id"],
    "instruments": [CARD, BANK, SEPA],
    "loyalty": {"tier": "gold", "points": 1200},
    "created_on": "2024-05-01T10:00:00Z",
}


def peer_answering(body: Any) -> web.Application:
    async def get(request: web.Request) -> web.StreamResponse:
        return web.json_response(body, headers={"Cko-Request-Id": "req_extra"})

    app = web.Application()
    app.router.add_get("/customers/{id}", get)
    return app


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_customer_round_trips_through_a_newer_api_losing_nothing(kind: str) -> None:
    async with serve(peer_answering(CUSTOMER)) as base_url, open_client(kind, base_url) as cko:
        customer = await cko.customers.get(CUSTOMER_ID)

    assert unstructure(customer) == CUSTOMER
    assert customer.request_id == "req_extra"
    assert customer.extra == {
        "loyalty": {"tier": "gold", "points": 1200},
        "created_on": "2024-05-01T10:00:00Z",
    }
    assert customer.phone is not None
    assert customer.phone.extra == {"type": "mobile"}


async def test_every_nested_model_keeps_what_it_does_not_know(kind: str) -> None:
    async with serve(peer_answering(CUSTOMER)) as base_url, open_client(kind, base_url) as cko:
        customer = await cko.customers.get(CUSTOMER_ID)

    card, bank, sepa = customer.instruments
    assert isinstance(card, CardInstrument)
    assert card.extra == {"encrypted_card_number": "eyJhbGciOi..."}
    holder = card.account_holder
    assert holder is not None
    assert holder.extra == {"middle_name": "Thomas"}
    assert holder.billing_address is not None
    assert holder.billing_address.extra == {"plus_four": "1234"}
    assert holder.phone is not None
    assert holder.phone.extra == {"verified": True}
    assert holder.identification is not None
    assert holder.identification.extra == {"expires": "2031-01-01"}
    assert isinstance(bank, BankAccountInstrument)
    assert bank.extra == {"mandate": {"reference": "M1", "signed": ["2024-01-01"]}}
    assert bank.bank is not None
    assert bank.bank.extra == {"sort_code": "20-20-15"}
    assert bank.bank.address is not None
    assert bank.bank.address.extra == {"plus_four": "1234"}
    assert isinstance(sepa, UnknownInstrument)
    assert sepa.extra == {"mandate_id": "MD1"}


async def test_the_newer_card_fields_are_modelled(kind: str) -> None:
    async with serve(peer_answering(CUSTOMER)) as base_url, open_client(kind, base_url) as cko:
        customer = await cko.customers.get(CUSTOMER_ID)

    card = customer.instruments[0]
    assert isinstance(card, CardInstrument)
    assert card.name == "Bruce Wayne"
    assert card.scheme_local == "cartes_bancaires"
    assert card.regulated_indicator is True
    assert card.network_token == NetworkToken(
        id="nt_xgu3isllqfyu7ktpk5z2yxbwna", state="active", extra={"since": 2024}
    )
    assert card.customer == CustomerLink(
        id=CUSTOMER_ID, email="bruce@wayne.com", default=True, extra={"segment": "vip"}
    )


async def test_extra_is_read_only_and_empty_for_a_known_shape(kind: str) -> None:
    known_only = {"id": CUSTOMER_ID, "email": "bruce@wayne.com", "name": "Bruce"}
    async with serve(peer_answering(known_only)) as base_url, open_client(kind, base_url) as cko:
        customer = await cko.customers.get(CUSTOMER_ID)

    assert customer.extra == {}
    with pytest.raises(TypeError):
        customer.extra["loyalty"] = "gold"  # type: ignore[index]
    async with serve(peer_answering(CUSTOMER)) as base_url, open_client(kind, base_url) as cko:
        customer = await cko.customers.get(CUSTOMER_ID)
    with pytest.raises(TypeError):
        customer.extra["loyalty"] = "gold"  # type: ignore[index]
    assert "loyalty" in customer.extra


async def test_a_nested_object_that_is_not_an_object_is_an_unreadable_answer(kind: str) -> None:
    broken = {**copy.deepcopy(CUSTOMER), "phone": "415 555 2671"}
    async with serve(peer_answering(broken)) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(CheckoutConnectionError, match="could not be read") as caught:
            await cko.customers.get(CUSTOMER_ID)
    assert "req_extra" in str(caught.value)


def test_a_modelled_field_wins_over_an_extra_of_the_same_name() -> None:
    link = CustomerLink(id=CUSTOMER_ID, extra={"id": "cus_other", "segment": "vip"})
    assert unstructure(link) == {"id": CUSTOMER_ID, "segment": "vip"}


async def test_the_answers_request_id_is_not_an_unknown_customer_field(kind: str) -> None:
    body = {**CUSTOMER, "request_id": "req_in_body"}
    async with serve(peer_answering(body)) as base_url, open_client(kind, base_url) as cko:
        customer = await cko.customers.get(CUSTOMER_ID)
    assert customer.request_id == "req_in_body"
    assert "request_id" not in customer.extra
