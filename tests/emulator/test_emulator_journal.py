"""The request journal: `GET|DELETE /_emulator/requests` and `RunningEmulator.requests()`."""

from __future__ import annotations

import json
import time

import aiohttp

from checkout_customers.emulator import RecordedRequest, RunningEmulator, run_emulator

from .conftest import Api, basic_auth


async def _journal(api: Api, query: str = "") -> list[dict[str, object]]:
    status, _, raw = await api.call("GET", "/_emulator/requests" + query)
    assert status == 200, raw
    requests: list[dict[str, object]] = json.loads(raw)["requests"]
    return requests


async def test_the_journal_lists_what_was_received_and_answered_oldest_first(
    api: Api, emulator: RunningEmulator
) -> None:
    before = time.time()
    _, created_headers, raw = await api.call(
        "POST", "/customers", json={"email": "a@b.co"}, headers={"X-Trace": "t1"}
    )
    customer_id = json.loads(raw)["id"]
    # `path` is kept as sent: still percent-encoded (aiohttp's client sends `@` as it is).
    _, got_headers, _ = await api.call("GET", "/customers/A%2Fb@b.co", params={"expand": "x"})

    create, get = await _journal(api)

    assert create["seq"] == 1
    assert create["method"] == "POST"
    assert (create["path"], create["query"]) == ("/customers", "")
    assert json.loads(str(create["body"])) == {"email": "a@b.co"}
    assert create["status"] == 201
    assert create["request_id"] == created_headers["Cko-Request-Id"]
    assert create["fault"] is None
    assert before <= create["time"] <= get["time"] <= time.time()  # type: ignore[operator]
    headers = create["headers"]
    assert isinstance(headers, dict)
    assert headers["X-Trace"] == "t1"
    assert headers["Content-Type"] == "application/json"
    assert (get["seq"], get["method"], get["path"]) == (2, "GET", "/customers/A%2Fb@b.co")
    assert (get["query"], get["body"], get["status"]) == ("expand=x", None, 404)
    assert get["request_id"] == got_headers["Cko-Request-Id"]
    assert emulator.customers()[0]["id"] == customer_id


async def test_no_credential_is_ever_kept(
    api: Api, emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    await api.call("GET", "/customers/a%40b.co")
    async with http.post(
        emulator.base_url + "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
        },
    ) as response:
        assert response.status == 200
    async with http.post(
        emulator.base_url + "/connect/token",
        data={"grant_type": "client_credentials"},
        headers=basic_auth(emulator.client_id, emulator.client_secret),
    ) as response:
        assert response.status == 200

    _, _, raw = await api.call("GET", "/_emulator/requests")

    for secret in (emulator.secret_key, emulator.client_secret, "Authorization"):
        assert secret not in raw.decode()
    token_form = (await _journal(api))[1]["body"]
    assert token_form == (
        f"grant_type=client_credentials&client_id={emulator.client_id}&client_secret=%5Bredacted%5D"
    )


async def test_since_pages_and_delete_clears_without_reusing_numbers(api: Api) -> None:
    for index in range(5):
        await api.call("GET", f"/customers/n{index}%40b.co")

    assert [entry["seq"] for entry in await _journal(api, "?since=3")] == [4, 5]
    assert await _journal(api, "?since=5") == []
    assert (await api.call("DELETE", "/_emulator/requests"))[0] == 204
    assert await _journal(api) == []

    await api.call("GET", "/customers/later%40b.co")
    assert [entry["seq"] for entry in await _journal(api)] == [6]


async def test_a_bad_since_is_400_naming_it(api: Api) -> None:
    for since in ("-1", "x", "1.5"):
        status, _, raw = await api.call("GET", "/_emulator/requests", params={"since": since})

        assert status == 400
        assert "since must be a whole number" in json.loads(raw)["error"]


async def test_admin_requests_are_not_journaled_and_need_credentials(
    api: Api, emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    await api.call("GET", "/_emulator/customers")
    await api.call("GET", "/_emulator/faults")
    await api.call("GET", "/_emulator/requests")
    async with http.get(emulator.base_url + "/_emulator/requests") as response:
        assert response.status == 401
    async with http.delete(emulator.base_url + "/_emulator/requests") as response:
        assert response.status == 401

    assert await _journal(api) == []


async def test_the_journal_keeps_the_latest_journal_size_requests(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(journal_size=3) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        for index in range(7):
            await api.call("GET", f"/customers/n{index}%40b.co")

        assert [entry["seq"] for entry in await _journal(api)] == [5, 6, 7]
        assert [recorded.seq for recorded in emulator.requests()] == [5, 6, 7]


async def test_journal_size_0_keeps_nothing(http: aiohttp.ClientSession) -> None:
    async with run_emulator(journal_size=0) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        await api.create(email="a@b.co")

        assert await _journal(api) == []
        assert emulator.requests() == []


async def test_requests_returns_the_same_as_objects(api: Api, emulator: RunningEmulator) -> None:
    await api.create(email="obj@example.com", name="Obj")
    await api.call("DELETE", "/customers/cus_" + "a" * 26)

    recorded = emulator.requests()

    assert recorded == [RecordedRequest.from_json(entry) for entry in await _journal(api)]
    create, delete = recorded
    assert create.json() == {"email": "obj@example.com", "name": "Obj"}
    assert (delete.method, delete.status, delete.body) == ("DELETE", 404, None)
    assert [entry.seq for entry in emulator.requests(since=1)] == [2]
    emulator.clear_requests()
    assert emulator.requests() == []


async def test_refused_requests_are_journaled_with_their_status(
    api: Api, emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(emulator.base_url + "/customers/a%40b.co") as response:
        assert response.status == 401
    await api.call("POST", "/customers", data=b"{", headers={"Content-Type": "application/json"})
    huge = b"x" * (emulator.settings.max_body_bytes + 1)
    await api.call("POST", "/customers", data=huge, headers={"Content-Type": "application/json"})

    assert [(entry.status, entry.body) for entry in emulator.requests()] == [
        (401, None),
        (422, "{"),
        (413, None),
    ]
