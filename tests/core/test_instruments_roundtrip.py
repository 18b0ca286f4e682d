"""The instruments resource end to end, over real sockets against the emulator (and, for
answers the emulator never gives, a small peer), through both clients."""

from __future__ import annotations

import datetime
import json
import urllib.request
from typing import Any

import pytest
from aiohttp import web

from checkout_customers import (
    AccountHolder,
    Address,
    ApiResult,
    BankAccount,
    BankAccountInstrument,
    CardInstrument,
    CheckoutArgumentError,
    CheckoutConnectionError,
    InstrumentCustomer,
    NotFoundError,
    Phone,
    RawResponse,
    ServerError,
    UnknownInstrument,
    UnprocessableEntityError,
    UpdatedInstrument,
)
from checkout_customers.emulator import TEST_CARD_VISA_ID, RunningEmulator

from ..peers import CLIENT_KINDS, open_client, serve

NEXT_YEAR = datetime.date.today().year + 1
INSTRUMENT_ID = "src_wmlfc3zyhqzehihu7giusaaawu"


def tokenise(emulator: RunningEmulator, number: str = "4543474002249996") -> str:
    """What a browser does with Checkout.com's Frames: card details for a `tok_...` token."""
    card = {"type": "card", "number": number, "expiry_month": 6, "expiry_year": NEXT_YEAR}
    request = urllib.request.Request(
        emulator.base_url + "/tokens",
        data=json.dumps(card).encode(),
        headers={
            "Authorization": f"Bearer {emulator.public_key}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request) as response:
        token: str = json.loads(response.read())["token"]
    return token


async def test_store_a_card_for_a_new_customer_then_read_update_and_delete_it(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    cko = customers_client
    card = await cko.instruments.create(
        token=tokenise(checkout_emulator),
        account_holder=AccountHolder(
            first_name="Bruce",
            last_name="Wayne",
            billing_address=Address(city="Gotham", country="US"),
            phone=Phone(country_code="+1", number="415 555 2671"),
        ),
        customer=InstrumentCustomer(email="bruce@wayne.com", name="Bruce Wayne"),
    )

    assert isinstance(card, CardInstrument)
    assert card.id.startswith("src_")
    assert (card.last4, card.bin, card.scheme, card.expiry_year) == (
        "9996",
        "454347",
        "VISA",
        NEXT_YEAR,
    )
    assert card.request_id
    assert card.customer is not None
    assert (card.customer.email, card.customer.name) == ("bruce@wayne.com", "Bruce Wayne")
    customer = await cko.customers.get("bruce@wayne.com")
    assert customer.id == card.customer.id
    assert customer.default == card.id
    assert [item.id for item in customer.instruments] == [card.id]

    got = await cko.instruments.get(card.id)
    assert isinstance(got, CardInstrument)
    assert got.customer is not None
    assert got.customer.default is True
    assert got.account_holder is not None
    assert got.account_holder.billing_address == Address(city="Gotham", country="US")
    assert got.request_id
    assert got.request_id != card.request_id

    updated = await cko.instruments.update(card.id, expiry_month=12, name="B. Wayne")
    assert updated == UpdatedInstrument(type="card", fingerprint=card.fingerprint)
    assert updated.request_id
    after = await cko.instruments.get(card.id)
    assert (after.expiry_month, after.expiry_year, after.name) == (12, NEXT_YEAR, "B. Wayne")

    deleted = await cko.instruments.delete(card.id)
    assert isinstance(deleted, ApiResult)
    assert deleted.request_id
    with pytest.raises(NotFoundError):
        await cko.instruments.get(card.id)
    assert (await cko.customers.get(customer.id)).instruments == ()


async def test_link_to_an_existing_customer_and_make_it_the_default(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    cko = customers_client
    created = await cko.customers.create(email="selina@kyle.com", default=TEST_CARD_VISA_ID)

    card = await cko.instruments.create(
        token=tokenise(checkout_emulator), customer=InstrumentCustomer(id=created.id)
    )
    assert (await cko.customers.get(created.id)).default == TEST_CARD_VISA_ID

    await cko.instruments.update(card.id, customer=InstrumentCustomer(default=True))

    customer = await cko.customers.get(created.id)
    assert customer.default == card.id
    assert [item.id for item in customer.instruments] == [TEST_CARD_VISA_ID, card.id]


async def test_store_a_bank_account_by_email(customers_client: Any) -> None:
    cko = customers_client
    account = await cko.instruments.create(
        bank_account=BankAccount(
            currency="GBP", country="GB", account_type="current", iban="GB33BUKB20201555555555"
        ),
        account_holder=AccountHolder(
            type="individual", first_name="Jane", date_of_birth="1986-01-01"
        ),
        customer=InstrumentCustomer(email="jane@example.com", default=True),
    )

    assert isinstance(account, BankAccountInstrument)
    assert account.iban == "GB33BUKB20201555555555"
    assert account.customer is not None
    assert account.customer.email == "jane@example.com"
    got = await cko.instruments.get(account.id)
    assert isinstance(got, BankAccountInstrument)
    assert (got.currency, got.country, got.account_type) == ("GBP", "GB", "current")
    assert got.account_holder is not None
    assert got.account_holder.date_of_birth == "1986-01-01"


async def test_a_used_token_is_an_unprocessable_entity(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    token = tokenise(checkout_emulator)
    await customers_client.instruments.create(token=token)

    with pytest.raises(UnprocessableEntityError) as refused:
        await customers_client.instruments.create(token=token)

    assert refused.value.error_codes == ("token_used",)
    assert refused.value.request_id


async def test_raw_responses_of_every_method(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    raw = customers_client.instruments.with_raw_response
    created = await raw.create(token=tokenise(checkout_emulator))
    assert isinstance(created, RawResponse)
    assert created.status == 201
    card = created.parse()
    assert isinstance(card, CardInstrument)
    assert card.request_id == created.request_id

    got = await raw.get(card.id)
    assert (got.status, got.headers["Cko-Version"], got.parse().id) == (200, "1.0.0", card.id)
    updated = await raw.update(card.id, expiry_year=NEXT_YEAR + 1)
    assert (updated.status, updated.parse().fingerprint) == (200, card.fingerprint)
    deleted = await raw.delete(card.id)
    assert (deleted.status, deleted.parse().request_id) == (204, deleted.request_id)


async def test_a_create_that_acted_unanswered_is_not_sent_again(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    checkout_emulator.fail_next("drop_after_acting", method="POST", path="/instruments")

    with pytest.raises(CheckoutConnectionError):
        await customers_client.instruments.create(
            token=tokenise(checkout_emulator), customer=InstrumentCustomer(email="a@example.com")
        )

    sent = [(r.method, r.path) for r in checkout_emulator.requests() if r.path == "/instruments"]
    assert sent == [("POST", "/instruments")]
    assert len(checkout_emulator.customers()[0]["instruments"]) == 1


async def test_a_create_refused_unread_is_retried_and_reads_are_retried(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    checkout_emulator.fail_next("429", method="POST", path="/instruments", retry_after=0)
    card = await customers_client.instruments.create(token=tokenise(checkout_emulator))
    checkout_emulator.fail_next("503", method="GET", path="/instruments/", retry_after=0)
    await customers_client.instruments.get(card.id)

    statuses = [(r.method, r.status) for r in checkout_emulator.requests() if r.path != "/tokens"]
    assert statuses == [("POST", 429), ("POST", 201), ("GET", 503), ("GET", 200)]


async def test_per_call_options_reach_the_request(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    checkout_emulator.fail_next("503", method="GET", path="/instruments/")

    with pytest.raises(ServerError):
        await customers_client.instruments.get(
            TEST_CARD_VISA_ID, max_retries=0, headers={"X-Trace": "abc"}, timeout=5
        )

    (request,) = checkout_emulator.requests()
    assert request.headers["X-Trace"] == "abc"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"token": "tok_x", "bank_account": BankAccount(currency="GBP", country="GB")}, None),
        ({}, None),
        ({"token": "card_4543474002249996"}, "token"),
        (
            {"token": "tok_" + "a" * 26, "customer": InstrumentCustomer(name="No id or email")},
            "customer",
        ),
        (
            {"token": "tok_" + "a" * 26, "customer": InstrumentCustomer(id="cus_short")},
            "customer.id",
        ),
        (
            {"token": "tok_" + "a" * 26, "customer": InstrumentCustomer(email="nope")},
            "customer.email",
        ),
        (
            {
                "token": "tok_" + "a" * 26,
                "customer": InstrumentCustomer(email="a@b.co", name="x" * 256),
            },
            "customer.name",
        ),
        (
            {"token": "tok_" + "a" * 26, "customer": {"email": "a@b.co", "default": "yes"}},
            "customer.default",
        ),
        (
            {"token": "tok_" + "a" * 26, "account_holder": AccountHolder(company_name="Acme")},
            "account_holder",
        ),
        (
            {
                "token": "tok_" + "a" * 26,
                "account_holder": AccountHolder(billing_address=Address(city="x" * 51)),
            },
            "account_holder.billing_address.city",
        ),
        (
            {
                "token": "tok_" + "a" * 26,
                "account_holder": AccountHolder(phone=Phone(country_code="+1", number="12")),
            },
            "account_holder.phone.number",
        ),
        ({"bank_account": BankAccount(currency="gbp", country="GB")}, "bank_account.currency"),
        ({"bank_account": {"currency": "GBP"}}, "bank_account.country"),
        ({"bank_account": {"currency": "GBP", "country": "GB", "sort_code": "1"}}, "bank_account"),
        (
            {
                "bank_account": BankAccount(currency="GBP", country="GB"),
                "account_holder": AccountHolder(date_of_birth="1986-02-30"),
            },
            "account_holder.date_of_birth",
        ),
    ],
)
async def test_bad_create_arguments_are_refused_before_sending(
    customers_client: Any,
    checkout_emulator: RunningEmulator,
    call: dict[str, Any],
    field: str | None,
) -> None:
    with pytest.raises(CheckoutArgumentError) as refused:
        await customers_client.instruments.create(**call)

    assert refused.value.field == field
    assert checkout_emulator.requests() == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({}, None),
        ({"expiry_month": 13}, "expiry_month"),
        ({"expiry_year": 25}, "expiry_year"),
        ({"expiry_year": True}, "expiry_year"),
        ({"name": None}, "name"),
        ({"customer": InstrumentCustomer(email="a@b.co")}, "customer"),
        ({"customer": InstrumentCustomer(id="cus_short")}, "customer.id"),
    ],
)
async def test_bad_update_arguments_are_refused_before_sending(
    customers_client: Any,
    checkout_emulator: RunningEmulator,
    call: dict[str, Any],
    field: str | None,
) -> None:
    with pytest.raises(CheckoutArgumentError) as refused:
        await customers_client.instruments.update(TEST_CARD_VISA_ID, **call)

    assert refused.value.field == field
    assert checkout_emulator.requests() == []


@pytest.mark.parametrize("method", ["get", "delete"])
@pytest.mark.parametrize(
    "instrument_id", ["cus_y3oqhf46pyzuxjbcn2giaqnb44", "src_../../customers", 7]
)
async def test_an_instrument_id_of_the_wrong_shape_is_refused(
    customers_client: Any, checkout_emulator: RunningEmulator, method: str, instrument_id: Any
) -> None:
    with pytest.raises(CheckoutArgumentError) as refused:
        await getattr(customers_client.instruments, method)(instrument_id)

    assert refused.value.field == "instrument_id"
    assert checkout_emulator.requests() == []


def _peer(answer: Any, status: int = 200) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response(answer, status=status, headers={"Cko-Request-Id": "req_1"})

    app = web.Application()
    app.router.add_route("*", "/instruments{tail:.*}", handle)
    return app


@pytest.fixture(params=CLIENT_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_an_unknown_type_and_unknown_fields_are_kept(kind: str) -> None:
    sepa = {"type": "sepa", "id": INSTRUMENT_ID, "mandate_id": "m_1", "customer": {"id": "cus_x"}}
    card = {
        "type": "card",
        "id": INSTRUMENT_ID,
        "last4": "4242",
        "card_type": "DEFERRED DEBIT",  # an open set: not a closed enum
        "brand_new_field": {"nested": True},
    }
    async with serve(_peer(sepa)) as base_url, open_client(kind, base_url) as cko:
        unknown = await cko.instruments.get(INSTRUMENT_ID)
    async with serve(_peer(card)) as base_url, open_client(kind, base_url) as cko:
        known = await cko.instruments.get(INSTRUMENT_ID)

    assert isinstance(unknown, UnknownInstrument)
    assert (unknown.type, unknown.id, unknown.request_id) == ("sepa", INSTRUMENT_ID, "req_1")
    assert unknown.data == sepa
    assert isinstance(known, CardInstrument)
    assert known.card_type == "DEFERRED DEBIT"
    assert known.extra == {"brand_new_field": {"nested": True}}


@pytest.mark.parametrize("answer", [[], {"id": INSTRUMENT_ID}, {"type": "card"}])
async def test_a_create_answer_without_an_instrument_says_it_may_exist(
    kind: str, answer: Any
) -> None:
    async with serve(_peer(answer, status=201)) as base_url, open_client(kind, base_url) as cko:
        with pytest.raises(CheckoutConnectionError) as unreadable:
            await cko.instruments.create(token="tok_" + "a" * 26)

    assert "req_1" in str(unreadable.value)


async def test_a_client_from_with_options_applies_them_to_instruments(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    checkout_emulator.fail_next("503", method="GET", path="/instruments/")
    impatient = customers_client.with_options(max_retries=0)

    with pytest.raises(ServerError):
        await impatient.instruments.get(TEST_CARD_VISA_ID)
    assert (await customers_client.instruments.get(TEST_CARD_VISA_ID)).last4 == "4242"
