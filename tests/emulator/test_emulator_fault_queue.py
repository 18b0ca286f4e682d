"""Faults on demand: `GET|POST|DELETE /_emulator/faults` and `RunningEmulator.fail_next`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from checkout_customers.emulator import FAULT_KINDS, RunningEmulator, run_emulator

from .conftest import Api


async def _queue(api: Api, **fault: Any) -> dict[str, Any]:
    status, _, raw = await api.call("POST", "/_emulator/faults", json=fault)
    assert status == 201, raw
    queued: dict[str, Any] = json.loads(raw)
    return queued


@pytest.mark.parametrize("kind", ["500", "502", "503", "429"])
async def test_a_status_fault_answers_it_once_without_acting(
    api: Api, emulator: RunningEmulator, kind: str
) -> None:
    await _queue(api, kind=kind)

    failed = await api.call("POST", "/customers", json={"email": "a@b.co"})
    succeeded = await api.call("POST", "/customers", json={"email": "a@b.co"})

    assert (failed[0], failed[2]) == (int(kind), b"")
    assert "Retry-After" not in failed[1]
    assert succeeded[0] == 201
    assert emulator.count_customers_with_email("a@b.co") == 1
    assert [(entry.status, entry.fault) for entry in emulator.requests()] == [
        (int(kind), kind),
        (201, None),
    ]


@pytest.mark.parametrize(("kind", "seconds", "header"), [("429", 2, "2"), ("503", 0.2, "1")])
async def test_retry_after_goes_with_429_and_503_in_whole_seconds(
    api: Api, kind: str, seconds: float, header: str
) -> None:
    await _queue(api, kind=kind, retry_after=seconds)

    status, headers, _ = await api.call("GET", "/customers/a%40b.co")

    assert (status, headers["Retry-After"]) == (int(kind), header)


async def test_times_filters_and_order(api: Api, emulator: RunningEmulator) -> None:
    customer_id = await api.create(email="kept@b.co")
    await _queue(api, kind="503", method="get", path="/customers/cus_", times=2)
    await _queue(api, kind="502", email="KEPT@b.co")

    statuses = [
        (await api.call("GET", "/customers/other%40b.co"))[0],  # path does not match
        (await api.call("GET", f"/customers/{customer_id}"))[0],
        (await api.call("PATCH", f"/customers/{customer_id}", json={"name": "N"}))[0],  # no email
        (await api.call("GET", f"/customers/{customer_id}"))[0],
        (await api.call("GET", f"/customers/{customer_id}"))[0],
        (await api.call("POST", "/customers", json={"email": "kept@B.co"}))[0],
        (await api.call("GET", "/customers/kept%40b.co"))[0],
    ]

    assert statuses == [404, 503, 204, 503, 200, 502, 200]
    assert emulator.faults() == []


async def test_get_lists_what_is_left_and_delete_clears(api: Api) -> None:
    first = await _queue(api, kind="reset", method="DELETE", times=3)
    second = await _queue(api, kind="503", retry_after=1)

    _, _, raw = await api.call("GET", "/_emulator/faults")
    listed = json.loads(raw)["faults"]

    assert first == {
        "id": first["id"],
        "kind": "reset",
        "method": "DELETE",
        "path": None,
        "email": None,
        "times": 3,
        "retry_after": None,
    }
    assert listed == [first, second]
    assert (await api.call("DELETE", "/_emulator/faults"))[0] == 204
    _, _, raw = await api.call("GET", "/_emulator/faults")
    assert json.loads(raw) == {"faults": []}
    assert (await api.call("GET", "/customers/a%40b.co"))[0] == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "418"}, "kind must be one of '500', '502', '503', '429', 'reset'"),
        ({"method": "GET"}, "kind is required"),
        ({"kind": "500", "times": 0}, "times must be a whole number of at least 1"),
        ({"kind": "500", "times": True}, "times must be"),
        ({"kind": "500", "times": 1.5}, "times must be"),
        ({"kind": "500", "path": "customers"}, "path must be a path prefix starting with '/'"),
        ({"kind": "500", "method": "GET /"}, "method must be an HTTP method"),
        ({"kind": "500", "email": 7}, "email must be a non-empty string"),
        ({"kind": "503", "retry_after": -1}, "retry_after must be a non-negative number"),
        ({"kind": "reset", "retry_after": 1}, "retry_after applies only to the kinds '429'"),
        ({"kind": "500", "colour": "red"}, "unknown field(s) 'colour'"),
        (["500"], "the body must be a JSON object"),
    ],
)
async def test_a_bad_fault_is_400_with_a_clear_message(
    api: Api, body: object, message: str
) -> None:
    status, _, raw = await api.call("POST", "/_emulator/faults", json=body)

    assert status == 400
    assert message in json.loads(raw)["error"]
    assert (await api.call("GET", "/_emulator/faults"))[2] == b'{"faults": []}'


async def test_a_body_that_is_not_json_is_400(api: Api) -> None:
    status, _, raw = await api.call("POST", "/_emulator/faults", data=b"kind=500")

    assert status == 400
    assert "must be JSON" in json.loads(raw)["error"]


async def test_the_admin_faults_path_needs_credentials(
    emulator: RunningEmulator, http: aiohttp.ClientSession
) -> None:
    for method in ("GET", "POST", "DELETE"):
        async with http.request(
            method, emulator.base_url + "/_emulator/faults", json={"kind": "500"}
        ) as response:
            assert response.status == 401
    assert emulator.faults() == []


async def test_reset_fails_the_request_before_acting(api: Api, emulator: RunningEmulator) -> None:
    await _queue(api, kind="reset", method="POST")

    with pytest.raises(aiohttp.ClientConnectionError):
        await api.call("POST", "/customers", json={"email": "a@b.co"})

    assert emulator.customers() == []
    assert [(entry.status, entry.fault) for entry in emulator.requests()] == [(None, "reset")]


async def test_drop_after_acting_stores_but_never_answers(
    api: Api, emulator: RunningEmulator
) -> None:
    await _queue(api, kind="drop_after_acting", email="a@b.co")

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("POST", "/customers", json={"email": "a@b.co"})

    assert emulator.count_customers_with_email("a@b.co") == 1
    (entry,) = emulator.requests()
    assert (entry.status, entry.fault, entry.json()) == (
        None,
        "drop_after_acting",
        {"email": "a@b.co"},
    )


async def test_slow_after_acting_and_act_late(http: aiohttp.ClientSession) -> None:
    # Margins of a second: on a busy machine the emulator (on this loop) may be slow to start.
    async with run_emulator(fault_slow_ms=1500) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        emulator.fail_next("slow_after_acting", email="slow@b.co")
        emulator.fail_next("act_late", email="late@b.co")
        short = aiohttp.ClientTimeout(total=0.5)

        with pytest.raises(asyncio.TimeoutError):  # not the builtin before 3.11
            await api.call("POST", "/customers", json={"email": "slow@b.co"}, timeout=short)
        assert emulator.count_customers_with_email("slow@b.co") == 1
        with pytest.raises(asyncio.TimeoutError):  # not the builtin before 3.11
            await api.call("POST", "/customers", json={"email": "late@b.co"}, timeout=short)
        assert emulator.count_customers_with_email("late@b.co") == 0  # not yet
        await asyncio.sleep(1.5)
        assert emulator.count_customers_with_email("late@b.co") == 1

        assert [entry.fault for entry in emulator.requests()] == ["slow_after_acting", "act_late"]


async def test_a_queued_fault_comes_before_the_rate_limit_and_the_shares(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(write_rate=0.01, fault_500=1.0) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        emulator.fail_next("502")

        assert (await api.call("POST", "/customers", json={"email": "a@b.co"}))[0] == 502
        assert (await api.call("POST", "/customers", json={"email": "a@b.co"}))[0] == 500


def test_fail_next_checks_its_arguments_like_the_admin_path() -> None:
    from checkout_customers.emulator import emulator_thread

    with emulator_thread() as emulator:
        with pytest.raises(ValueError, match="kind must be one of"):
            emulator.fail_next("teapot")
        with pytest.raises(ValueError, match="times must be"):
            emulator.fail_next("500", times=0)
        queued = emulator.fail_next("429", method="post", times=2, retry_after=3)

        assert (queued.kind.value, queued.method, queued.times) == ("429", "POST", 2)
        assert emulator.faults() == [queued]
        emulator.clear_faults()
        assert emulator.faults() == []


def test_every_kind_is_listed() -> None:
    assert FAULT_KINDS == (
        "500",
        "502",
        "503",
        "429",
        "reset",
        "drop_after_acting",
        "slow_after_acting",
        "act_late",
    )


async def test_a_queued_429_uses_the_retry_after_setting_and_a_503_does_not(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(retry_after=5) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        emulator.fail_next("429")
        emulator.fail_next("503")
        emulator.fail_next("429", retry_after=1)

        answers = [(await api.call("GET", "/customers/a%40b.co"))[:2] for _ in range(3)]

    assert [(status, headers.get("Retry-After")) for status, headers in answers] == [
        (429, "5"),
        (503, None),
        (429, "1"),
    ]
