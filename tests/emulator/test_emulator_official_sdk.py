"""The official `checkout-sdk` (pinned 4.8.1) against the emulator: proof of the wire format,
for customers, and for its tokens and instruments clients.

The SDK is pointed at the emulator through a custom `Environment`; its legacy-domain switch
keeps it from prefixing the host with a merchant subdomain. Its key checks want
`sk_sbox_` / `pk_sbox_` + 27 base32 characters, so the emulator is given such keys.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from checkout_sdk.checkout_sdk import CheckoutSdk
from checkout_sdk.common.common import Phone
from checkout_sdk.common.enums import Country, Currency
from checkout_sdk.customers.customers import CustomerRequest
from checkout_sdk.environment import Environment
from checkout_sdk.exception import CheckoutApiException
from checkout_sdk.instruments.instruments import (
    CreateBankAccountInstrumentRequest,
    CreateCustomerInstrumentRequest,
    CreateTokenInstrumentRequest,
    UpdateCardInstrumentRequest,
)
from checkout_sdk.oauth_scopes import OAuthScopes
from checkout_sdk.tokens.tokens import CardTokenRequest

from checkout_customers.emulator import TEST_CARD_VISA_ID, RunningEmulator, emulator_thread

SDK_SECRET_KEY = "sk_sbox_" + "m" * 26 + "q"
SDK_PUBLIC_KEY = "pk_sbox_" + "n" * 26 + "q"
SDK_CLIENT_ID = "cli_officialsdk01"
SDK_CLIENT_SECRET = "official-sdk-secret"


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with emulator_thread(
        secret_keys=(SDK_SECRET_KEY,),
        public_keys=(SDK_PUBLIC_KEY,),
        oauth_clients={SDK_CLIENT_ID: SDK_CLIENT_SECRET},
    ) as running:
        yield running


def _environment(emulator: RunningEmulator) -> Environment:
    base = emulator.base_url + "/"
    return Environment(
        base_uri=base,
        authorization_uri=emulator.base_url + "/connect/token",
        files_uri=base,
        transfers_uri=base,
        balances_uri=base,
        forward_uri=base,
        identity_uri=base,
        is_sandbox=True,
    )


def _build(builder: Any) -> Any:
    """Build with the legacy-domain switch, silencing the SDK's own deprecation warnings."""
    with warnings.catch_warnings():  # use_legacy_domain() and the risk client are deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return builder.use_legacy_domain().build()


def _lifecycle(api: Any) -> None:
    request = CustomerRequest()
    request.email = "official.sdk@example.com"
    request.name = "Official SDK"
    phone = Phone()
    phone.country_code = "+1"
    phone.number = "415 555 2671"
    request.phone = phone
    request.metadata = {"coupon_code": "NY2018", "partner_id": 123989}
    request.default = TEST_CARD_VISA_ID
    request.instruments = [TEST_CARD_VISA_ID]

    created = api.customers.create(request)
    assert created.http_metadata.status_code == 201
    customer_id = created.id

    by_id = api.customers.get(customer_id)
    assert by_id.email == "official.sdk@example.com"
    assert by_id.metadata.coupon_code == "NY2018"
    assert by_id.metadata.partner_id == 123989
    assert by_id.instruments[0].last4 == "4242"
    assert api.customers.get("official.sdk@example.com").id == customer_id

    update = CustomerRequest()
    update.name = "Renamed by the SDK"
    assert api.customers.update(customer_id, update).http_metadata.status_code == 204
    assert api.customers.get(customer_id).name == "Renamed by the SDK"

    assert api.customers.delete(customer_id).http_metadata.status_code == 204
    with pytest.raises(CheckoutApiException) as raised:
        api.customers.get(customer_id)
    assert raised.value.http_metadata.status_code == 404


def test_the_official_sdk_runs_the_lifecycle_with_a_secret_key(emulator: RunningEmulator) -> None:
    builder = CheckoutSdk.builder().secret_key(SDK_SECRET_KEY).environment(_environment(emulator))
    api = _build(builder)

    _lifecycle(api)


def test_the_official_sdk_runs_the_lifecycle_with_oauth(emulator: RunningEmulator) -> None:
    builder = (
        CheckoutSdk.builder()
        .oauth()
        .client_credentials(SDK_CLIENT_ID, SDK_CLIENT_SECRET)
        .scopes([OAuthScopes.VAULT])
        .environment(_environment(emulator))
    )
    api = _build(builder)

    _lifecycle(api)


def _instruments_lifecycle(api: Any) -> None:
    """Tokenise a test card, store it for a new customer, read, update, delete it."""
    card = CardTokenRequest()
    card.number = "4543474002249996"
    card.expiry_month = 6
    card.expiry_year = datetime.date.today().year + 1
    card.cvv = "956"
    card.name = "Official SDK"
    token = api.tokens.request_card_token(card)
    assert token.http_metadata.status_code == 201
    assert (token.last4, token.bin, token.scheme) == ("9996", "454347", "VISA")

    request = CreateTokenInstrumentRequest()
    request.token = token.token
    customer = CreateCustomerInstrumentRequest()
    customer.email = "official.sdk.card@example.com"
    customer.name = "Official SDK"
    customer.default = True
    request.customer = customer
    created = api.instruments.create(request)
    assert created.http_metadata.status_code == 201
    assert created.type == "card"
    instrument_id = created.id

    got = api.instruments.get(instrument_id)
    assert (got.last4, got.customer.email, got.customer.default) == (
        "9996",
        "official.sdk.card@example.com",
        True,
    )
    owner = api.customers.get(created.customer.id)
    assert owner.default == instrument_id
    assert owner.instruments[0].id == instrument_id

    update = UpdateCardInstrumentRequest()
    update.expiry_year = datetime.date.today().year + 2
    update.name = "Renamed by the SDK"
    updated = api.instruments.update(instrument_id, update)
    assert updated.http_metadata.status_code == 200
    assert updated.fingerprint == created.fingerprint
    assert api.instruments.get(instrument_id).name == "Renamed by the SDK"

    assert api.instruments.delete(instrument_id).http_metadata.status_code == 204
    with pytest.raises(CheckoutApiException) as raised:
        api.instruments.get(instrument_id)
    assert raised.value.http_metadata.status_code == 404
    assert api.customers.get(created.customer.id).instruments == []


def test_the_official_sdk_tokenises_and_stores_a_card(emulator: RunningEmulator) -> None:
    builder = (
        CheckoutSdk.builder()
        .secret_key(SDK_SECRET_KEY)
        .public_key(SDK_PUBLIC_KEY)
        .environment(_environment(emulator))
    )
    api = _build(builder)

    _instruments_lifecycle(api)


def test_the_official_sdk_stores_a_bank_account_with_oauth(emulator: RunningEmulator) -> None:
    builder = (
        CheckoutSdk.builder()
        .oauth()
        .client_credentials(SDK_CLIENT_ID, SDK_CLIENT_SECRET)
        .scopes([OAuthScopes.VAULT_INSTRUMENTS])
        .environment(_environment(emulator))
    )
    api = _build(builder)
    request = CreateBankAccountInstrumentRequest()
    request.currency = Currency.GBP
    request.country = Country.GB
    request.iban = "GB33BUKB20201555555555"
    customer = CreateCustomerInstrumentRequest()
    customer.email = "official.sdk.bank@example.com"
    request.customer = customer

    created = api.instruments.create(request)

    assert created.http_metadata.status_code == 201
    got = api.instruments.get(created.id)
    assert (got.type, got.currency, got.country) == ("bank_account", "GBP", "GB")
    assert api.customers.get("official.sdk.bank@example.com").default == created.id
