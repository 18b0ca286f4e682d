"""Per-account read and write buckets answering 429.

Rates are tiny (one token per 100 s) so that no refill can happen during a test, however slow
the machine: the second request in a bucket is always refused.
"""

from __future__ import annotations

import aiohttp

from checkout_customers.emulator import run_emulator

from .conftest import Api, basic_auth

SLOW = 0.01  # requests/s: a bucket of one token, refilled after 100 s


async def test_reads_and_writes_have_separate_buckets(http: aiohttp.ClientSession) -> None:
    async with run_emulator(read_rate=SLOW, write_rate=SLOW) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        customer_id = await api.create(email="a@example.com")

        second_write = await api.call("POST", "/customers", json={"email": "b@example.com"})
        first_read = await api.call("GET", f"/customers/{customer_id}")
        second_read = await api.call("GET", f"/customers/{customer_id}")
        a_delete = await api.call("DELETE", f"/customers/{customer_id}")

        assert second_write[0] == 429
        assert second_write[2] == b""
        assert second_write[1]["Cko-Request-Id"]
        assert first_read[0] == 200
        assert second_read[0] == 429
        assert a_delete[0] == 429
        assert emulator.count_customers_with_email("b@example.com") == 0


async def test_each_account_has_its_own_buckets(http: aiohttp.ClientSession) -> None:
    keys = ("sk_sbox_account_one_1", "sk_sbox_account_two_2")
    async with run_emulator(secret_keys=keys, write_rate=SLOW) as emulator:
        one, two = (Api(http, emulator.base_url, key) for key in keys)
        await one.create(email="one@example.com")
        assert (await one.call("POST", "/customers", json={"email": "x@example.com"}))[0] == 429

        await two.create(email="two@example.com")

        async with http.post(
            emulator.base_url + "/connect/token",
            data={"grant_type": "client_credentials", "scope": "vault"},
            headers=basic_auth(emulator.client_id, emulator.client_secret),
        ) as response:
            token = (await response.json())["access_token"]
        oauth = Api(http, emulator.base_url, token)
        await oauth.create(email="three@example.com")
        assert (await oauth.call("POST", "/customers", json={"email": "x@example.com"}))[0] == 429


async def test_without_rates_there_is_no_limit(api: Api) -> None:
    for index in range(150):
        await api.create(email=f"n{index}@example.com")


async def test_429s_carry_retry_after_when_set(http: aiohttp.ClientSession) -> None:
    async with run_emulator(read_rate=SLOW, retry_after=2.5) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        await api.call("GET", "/customers/a%40b.co")

        status, headers, raw = await api.call("GET", "/customers/a%40b.co")

    assert (status, headers["Retry-After"], raw) == (429, "3", b"")


async def test_429s_carry_no_retry_after_by_default(http: aiohttp.ClientSession) -> None:
    async with run_emulator(read_rate=SLOW) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        await api.call("GET", "/customers/a%40b.co")

        status, headers, _ = await api.call("GET", "/customers/a%40b.co")

    assert status == 429
    assert "Retry-After" not in headers
