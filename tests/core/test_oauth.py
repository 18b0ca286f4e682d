"""OAuth client credentials: one token request, cached, refreshed when refused or expiring."""

from __future__ import annotations

import asyncio
import base64
import re

import pytest
from aioresponses import CallbackResult, aioresponses

from checkout_customers import AsyncClient, AuthenticationError

from .conftest import BASE_URL, CUSTOMER_ID, TOKEN_URL

CLIENT_ID = "cli_abcd1234efgh5678"
CLIENT_SECRET = "very-secret-client-secret"
CUSTOMER_URL = f"{BASE_URL}/customers/{CUSTOMER_ID}"
CUSTOMER_BODY = {"id": CUSTOMER_ID, "email": "bruce@wayne.com"}


class TokenServer:
    """Issues numbered tokens and records what each token request carried."""

    def __init__(self, expires_in: float = 3600) -> None:
        self.issued = 0
        self.expires_in = expires_in
        self.requests: list[dict[str, object]] = []

    async def respond(self, url: object, **kwargs: object) -> CallbackResult:
        await asyncio.sleep(0.01)  # let concurrent callers pile up behind the first request
        self.requests.append(kwargs)
        self.issued += 1
        return CallbackResult(
            status=200,
            payload={
                "access_token": f"token-{self.issued}",
                "token_type": "Bearer",
                "expires_in": self.expires_in,
            },
        )


def auth_headers(mocked: aioresponses) -> list[str]:
    return [
        call.kwargs["headers"]["Authorization"]
        for (method, url), calls in mocked.requests.items()
        if url.path.startswith("/customers")
        for call in calls
    ]


@pytest.fixture
def oauth_client() -> AsyncClient:
    return AsyncClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


async def test_token_is_fetched_once_for_many_concurrent_calls(
    oauth_client: AsyncClient, mocked: aioresponses
) -> None:
    tokens = TokenServer()
    mocked.post(TOKEN_URL, callback=tokens.respond, repeat=True)
    mocked.get(CUSTOMER_URL, payload=CUSTOMER_BODY, repeat=True)
    async with oauth_client:
        await asyncio.gather(*(oauth_client.customers.get(CUSTOMER_ID) for _ in range(20)))
        await oauth_client.customers.get(CUSTOMER_ID)
    assert tokens.issued == 1
    assert set(auth_headers(mocked)) == {"Bearer token-1"}


async def test_token_request_uses_basic_auth_and_the_vault_scope(
    oauth_client: AsyncClient, mocked: aioresponses
) -> None:
    tokens = TokenServer()
    mocked.post(TOKEN_URL, callback=tokens.respond)
    mocked.get(CUSTOMER_URL, payload=CUSTOMER_BODY)
    async with oauth_client:
        await oauth_client.customers.get(CUSTOMER_ID)
    sent = tokens.requests[0]
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert sent["headers"]["Authorization"] == f"Basic {expected}"  # type: ignore[index]
    assert sent["data"] == "grant_type=client_credentials&scope=vault"


async def test_token_nearly_expired_is_refreshed_before_use(mocked: aioresponses) -> None:
    tokens = TokenServer(expires_in=0.05)  # stale once the sleep below has passed
    mocked.post(TOKEN_URL, callback=tokens.respond, repeat=True)
    mocked.get(CUSTOMER_URL, payload=CUSTOMER_BODY, repeat=True)
    async with AsyncClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as client:
        await client.customers.get(CUSTOMER_ID)
        await asyncio.sleep(0.06)
        await client.customers.get(CUSTOMER_ID)
    assert tokens.issued == 2
    assert auth_headers(mocked) == ["Bearer token-1", "Bearer token-2"]


async def test_a_refused_token_is_refreshed_once_and_the_call_retried(
    oauth_client: AsyncClient, mocked: aioresponses
) -> None:
    tokens = TokenServer()
    mocked.post(TOKEN_URL, callback=tokens.respond, repeat=True)
    mocked.post(f"{BASE_URL}/customers", status=401)
    mocked.post(f"{BASE_URL}/customers", status=201, payload={"id": CUSTOMER_ID})
    async with oauth_client:
        created = await oauth_client.customers.create(email="bruce@wayne.com")
    assert created.id == CUSTOMER_ID
    assert tokens.issued == 2
    assert auth_headers(mocked) == ["Bearer token-1", "Bearer token-2"]


async def test_a_second_401_after_refresh_raises(
    oauth_client: AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(TOKEN_URL, callback=TokenServer().respond, repeat=True)
    mocked.get(CUSTOMER_URL, status=401, headers={"Cko-Request-Id": "r401"}, repeat=True)
    async with oauth_client:
        with pytest.raises(AuthenticationError) as raised:
            await oauth_client.customers.get(CUSTOMER_ID)
    assert raised.value.request_id == "r401"
    assert len(auth_headers(mocked)) == 2


async def test_refused_client_credentials_raise_authentication_error_without_the_secret(
    oauth_client: AsyncClient, mocked: aioresponses
) -> None:
    mocked.post(TOKEN_URL, status=401)
    async with oauth_client:
        with pytest.raises(AuthenticationError, match="client_id/client_secret") as raised:
            await oauth_client.customers.get(CUSTOMER_ID)
    assert CLIENT_SECRET not in str(raised.value)
    assert CLIENT_SECRET not in repr(raised.value)


async def test_base_url_moves_the_token_endpoint_too(mocked: aioresponses) -> None:
    tokens = TokenServer()
    mocked.post("http://127.0.0.1:8080/connect/token", callback=tokens.respond)
    mocked.get(re.compile(r"http://127\.0\.0\.1:8080/customers/.*"), payload=CUSTOMER_BODY)
    async with AsyncClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url="http://127.0.0.1:8080/"
    ) as client:
        await client.customers.get(CUSTOMER_ID)
    assert tokens.issued == 1


async def test_the_client_repr_shows_no_secret(oauth_client: AsyncClient) -> None:
    assert CLIENT_SECRET not in repr(oauth_client)
    assert CLIENT_ID in repr(oauth_client)
    await oauth_client.aclose()
