"""Who may call: secret keys, OAuth client credentials, expiring tokens; 401 without a body."""

from __future__ import annotations

import json

import aiohttp
import pytest

from checkout_customers.emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SECRET_KEY,
    RunningEmulator,
    run_emulator,
)

from .conftest import Api, basic_auth


async def _token(
    http: aiohttp.ClientSession, emulator: RunningEmulator, **form: str
) -> tuple[int, dict[str, object]]:
    async with http.post(
        emulator.base_url + "/connect/token",
        data={"grant_type": "client_credentials", "scope": "vault", **form},
        headers=basic_auth(emulator.client_id, emulator.client_secret),
    ) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer sk_sbox_wrong_key_123", f"Basic {DEFAULT_SECRET_KEY}", "Bearer  "],
)
async def test_missing_or_wrong_credentials_are_401_without_body(
    emulator: RunningEmulator, http: aiohttp.ClientSession, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with http.post(
        emulator.base_url + "/customers", json={"email": "a@example.com"}, headers=headers
    ) as response:
        assert response.status == 401
        assert await response.read() == b""
        assert response.headers["Cko-Request-Id"]
    assert emulator.customers() == []


async def test_the_default_credentials_are_the_documented_ones(emulator: RunningEmulator) -> None:
    assert emulator.secret_key == DEFAULT_SECRET_KEY == "sk_sbox_emulator_local_key"
    assert (emulator.client_id, emulator.client_secret) == (
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
    )


async def test_every_configured_secret_key_is_accepted(http: aiohttp.ClientSession) -> None:
    async with run_emulator(secret_keys=("sk_sbox_first_key_1", "sk_sbox_second_key_2")) as emu:
        for key in emu.settings.secret_keys:
            assert await Api(http, emu.base_url, key).create(email="a@example.com")
        default_key = Api(http, emu.base_url, DEFAULT_SECRET_KEY)
        assert (await default_key.call("GET", "/customers/a%40example.com"))[0] == 401


async def test_oauth_client_credentials_give_a_bearer_token_that_works(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    status, token = await _token(http, emulator)

    assert status == 200
    assert set(token) == {"access_token", "token_type", "expires_in"}
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    api = Api(http, emulator.base_url, str(token["access_token"]))
    customer_id = await api.create(email="oauth@example.com")
    assert (await api.get(customer_id))[0] == 200


async def test_client_credentials_may_also_come_in_the_form(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        emulator.base_url + "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
        },
    ) as response:
        assert response.status == 200


async def test_wrong_client_secret_is_401_invalid_client(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        emulator.base_url + "/connect/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(emulator.client_id, "wrong"),
    ) as response:
        assert response.status == 401
        assert json.loads(await response.read()) == {"error": "invalid_client"}
        assert response.headers["Cko-Request-Id"]


async def test_other_grant_types_are_400(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    status, body = await _token(http, emulator, grant_type="password")

    assert (status, body) == (400, {"error": "unsupported_grant_type"})


async def test_an_expired_token_is_401(http: aiohttp.ClientSession) -> None:
    async with run_emulator(token_ttl_s=0) as emulator:
        status, token = await _token(http, emulator)
        assert (status, token["expires_in"]) == (200, 0)
        api = Api(http, emulator.base_url, str(token["access_token"]))

        status, headers, raw = await api.call("POST", "/customers", json={"email": "a@b.co"})

    assert (status, raw) == (401, b"")
    assert headers["Cko-Request-Id"]


async def test_the_admin_path_needs_credentials_too(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(emulator.base_url + "/_emulator/customers") as response:
        assert response.status == 401


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"grant_type=client_credentials&client_id=\xff\xfe"),
        ("application/x-www-form-urlencoded; charset=no-such-charset", b"grant_type=x"),
        ("application/x-www-form-urlencoded; charset=utf-16", b"\xff"),
    ],
)
async def test_a_token_form_that_is_not_text_is_400_invalid_request(
    emulator: RunningEmulator, http: aiohttp.ClientSession, content_type: str, body: bytes
) -> None:
    async with http.post(
        emulator.base_url + "/connect/token", data=body, headers={"Content-Type": content_type}
    ) as response:
        assert response.status == 400
        assert await response.json() == {"error": "invalid_request"}
