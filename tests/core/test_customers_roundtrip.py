"""The customers resource end to end, over real sockets against the emulator.

Every test runs through `AsyncClient` and through the sync `Client` (see `customers_client`).
"""

from __future__ import annotations

from typing import Any

import pytest

from checkout_customers import (
    AsyncClient,
    AuthenticationError,
    BankAccountInstrument,
    CardInstrument,
    NotFoundError,
    Phone,
    RateLimitError,
    UnprocessableEntityError,
)
from checkout_customers.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_VISA_ID,
    RunningEmulator,
    run_emulator,
)


async def test_create_get_update_delete_round_trip(customers_client: Any) -> None:
    customers = customers_client.customers
    created = await customers.create(
        email="bruce@wayne.com",
        name="Bruce Wayne",
        phone=Phone(country_code="+1", number="415 555 2671"),
        metadata={"coupon_code": "NY2018", "partner_id": 123989},
    )
    assert created.id.startswith("cus_")
    assert created.request_id

    by_id = await customers.get(created.id)
    by_email = await customers.get("bruce@wayne.com")
    assert by_id == by_email
    assert by_id.name == "Bruce Wayne"
    assert by_id.phone == Phone(country_code="+1", number="415 555 2671")
    assert by_id.metadata == {"coupon_code": "NY2018", "partner_id": 123989}
    assert by_id.instruments == ()
    assert by_id.default is None
    assert by_id.request_id
    assert by_id.request_id != by_email.request_id

    updated = await customers.update(created.id, name="Batman")
    assert updated.request_id
    after_update = await customers.get(created.id)
    assert after_update.name == "Batman"
    assert after_update.phone == by_id.phone  # fields not passed are not sent
    assert after_update.metadata == by_id.metadata

    deleted = await customers.delete(created.id)
    assert deleted.request_id
    with pytest.raises(NotFoundError) as raised:
        await customers.get(created.id)
    assert raised.value.body is None
    assert raised.value.request_id  # from the Cko-Request-Id header of a body-less 404


@pytest.mark.parametrize(
    "email",
    ["a/b@x.com", "what?@x.com", "hash#tag@x.com", "100%@x.com", "plus+tag@x.com", "../x@x.com"],
)
async def test_get_by_email_percent_encodes_the_address(customers_client: Any, email: str) -> None:
    created = await customers_client.customers.create(email=email)
    fetched = await customers_client.customers.get(email)
    assert fetched.id == created.id
    assert fetched.email == email


async def test_metadata_update_replaces_the_whole_mapping(customers_client: Any) -> None:
    customers = customers_client.customers
    created = await customers.create(email="m@x.com", metadata={"a": "1", "b": True})
    await customers.update(created.id, metadata={"c": 3.5})
    assert (await customers.get(created.id)).metadata == {"c": 3.5}


async def test_linked_instruments_come_back_as_their_models(customers_client: Any) -> None:
    customers = customers_client.customers
    created = await customers.create(
        email="card@x.com",
        default=TEST_CARD_VISA_ID,
        instruments=[TEST_CARD_VISA_ID, TEST_BANK_ACCOUNT_GB_ID],
    )
    customer = await customers.get(created.id)
    assert customer.default == TEST_CARD_VISA_ID
    by_type = {type(instrument): instrument for instrument in customer.instruments}
    card = by_type[CardInstrument]
    bank = by_type[BankAccountInstrument]
    assert isinstance(card, CardInstrument)
    assert card.id == TEST_CARD_VISA_ID
    assert card.last4
    assert len(card.last4) == 4
    assert isinstance(bank, BankAccountInstrument)
    assert bank.id == TEST_BANK_ACCOUNT_GB_ID


async def test_the_api_refusing_a_request_raises_422_with_codes(customers_client: Any) -> None:
    with pytest.raises(UnprocessableEntityError) as raised:
        await customers_client.customers.create(
            email="x@x.com", default="src_" + "a" * 26, instruments=["src_" + "a" * 26]
        )
    assert raised.value.error_type == "request_invalid"
    assert raised.value.error_codes
    assert raised.value.request_id


async def test_missing_customer_update_and_delete_raise_not_found(customers_client: Any) -> None:
    missing = "cus_" + "a" * 26
    with pytest.raises(NotFoundError):
        await customers_client.customers.update(missing, name="x")
    with pytest.raises(NotFoundError):
        await customers_client.customers.delete(missing)


async def test_wrong_secret_key_raises_authentication_error(
    checkout_emulator: RunningEmulator,
) -> None:
    async with AsyncClient(
        secret_key="sk_sbox_not_the_right_key", base_url=checkout_emulator.base_url
    ) as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.customers.get("bruce@wayne.com")
    assert raised.value.status == 401
    assert raised.value.request_id


async def test_oauth_client_credentials_against_the_emulator(
    checkout_emulator: RunningEmulator,
) -> None:
    async with AsyncClient(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        base_url=checkout_emulator.base_url,
    ) as client:
        created = await client.customers.create(email="oauth@x.com")
        assert (await client.customers.get(created.id)).email == "oauth@x.com"


async def test_rate_limited_calls_back_off_and_succeed() -> None:
    async with (
        run_emulator(read_rate=20.0) as emulator,
        AsyncClient(
            secret_key=emulator.secret_key, base_url=emulator.base_url, max_retries=10
        ) as client,
    ):
        created = await client.customers.create(email="busy@x.com")
        for _ in range(30):  # beyond the bucket: some answers are 429, all calls succeed
            assert (await client.customers.get(created.id)).id == created.id
        refused = []
        for _ in range(30):  # without retries, the same burst meets the limit
            try:
                await client.customers.get(created.id, max_retries=0)
            except RateLimitError as error:
                refused.append(error)
        assert refused
        assert all(error.status == 429 and error.request_id for error in refused)
