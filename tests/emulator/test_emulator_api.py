"""The four customers endpoints: statuses, bodies and headers as the reference describes."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import AsyncIterator

import aiohttp
import pytest

from checkout_customers.emulator import (
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_MASTERCARD_ID,
    TEST_CARD_VISA_ID,
    EmulatorSettings,
    RunningEmulator,
    run_emulator,
)

from .conftest import Api

CUSTOMER_ID = re.compile(r"cus_[a-z2-7]{26}")
UNKNOWN_ID = "cus_" + "a" * 26


async def test_create_answers_201_with_only_a_customer_id(api: Api) -> None:
    status, headers, raw = await api.call("POST", "/customers", json={"email": "a@example.com"})

    assert status == 201
    assert headers["Content-Type"].startswith("application/json")
    body = json.loads(raw)
    assert list(body) == ["id"]
    assert CUSTOMER_ID.fullmatch(body["id"])
    assert headers["Cko-Request-Id"]


async def test_full_lifecycle_create_get_by_id_and_email_update_delete(
    api: Api, emulator: RunningEmulator
) -> None:
    customer_id = await api.create(
        email="Bruce@Wayne.com",
        name="Bruce Wayne",
        phone={"country_code": "+1", "number": "415 555 2671"},
        metadata={"coupon_code": "NY2018", "partner_id": 123989, "vip": True},
    )

    status, by_id = await api.get(customer_id)
    assert status == 200
    assert by_id == {
        "id": customer_id,
        "email": "Bruce@Wayne.com",
        "name": "Bruce Wayne",
        "phone": {"country_code": "+1", "number": "415 555 2671"},
        "metadata": {"coupon_code": "NY2018", "partner_id": 123989, "vip": True},
        "instruments": [],
    }
    assert await api.get("bruce%40wayne.com") == (200, by_id)

    status, headers, raw = await api.call(
        "PATCH", f"/customers/{customer_id}", json={"name": "Batman", "metadata": {"a": "b"}}
    )
    assert (status, raw) == (204, b"")
    assert headers["Cko-Request-Id"]
    _, updated = await api.get(customer_id)
    assert updated["name"] == "Batman"
    assert updated["metadata"] == {"a": "b"}  # replaced as a whole
    assert updated["phone"] == by_id["phone"]  # not sent, not changed

    status, _, raw = await api.call("DELETE", f"/customers/{customer_id}")
    assert (status, raw) == (204, b"")
    assert await api.get(customer_id) == (404, None)
    assert emulator.customers() == []


async def test_get_by_email_percent_decodes_the_segment_exactly_once(api: Api) -> None:
    email = "o'hara/100%+tag?x#y@example.com"
    customer_id = await api.create(email=email)

    status, customer = await api.get(urllib.parse.quote(email, safe=""))
    assert (status, customer["id"]) == (200, customer_id)
    # Encoded twice, the segment decodes once to a different (unknown) address.
    twice = urllib.parse.quote(urllib.parse.quote(email, safe=""), safe="")
    assert await api.get(twice) == (404, None)
    # Not encoded at all, the `/` makes two segments: no customer is found by luck.
    assert await api.get(urllib.parse.quote(email, safe="/")) == (404, None)


async def test_get_by_email_ignores_case_and_returns_the_oldest_duplicate(
    api: Api, emulator: RunningEmulator
) -> None:
    first = await api.create(email="dup@example.com", name="first")
    await api.create(email="DUP@example.com", name="second")

    status, customer = await api.get("Dup@Example.com")

    assert (status, customer["id"]) == (200, first)
    assert emulator.count_customers_with_email("dUp@example.COM") == 2


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_customer_is_404_without_body(api: Api, method: str) -> None:
    body = {"name": "x"} if method == "PATCH" else None
    status, headers, raw = await api.call(method, f"/customers/{UNKNOWN_ID}", json=body)

    assert (status, raw) == (404, b"")
    assert headers["Cko-Request-Id"]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_update_and_delete_do_not_take_an_email(api: Api, method: str) -> None:
    await api.create(email="only-by-id@example.com")
    body = {"name": "x"} if method == "PATCH" else None

    status, _, _ = await api.call(method, "/customers/only-by-id%40example.com", json=body)

    assert status == 404


async def test_instruments_on_create_are_saved_only_with_a_default(api: Api) -> None:
    without_default = await api.create(email="a@example.com", instruments=[TEST_CARD_VISA_ID])
    with_default = await api.create(
        email="b@example.com",
        default=TEST_BANK_ACCOUNT_GB_ID,
        instruments=[TEST_CARD_VISA_ID],
    )

    _, bare = await api.get(without_default)
    assert "default" not in bare
    assert bare["instruments"] == []
    _, linked = await api.get(with_default)
    assert linked["default"] == TEST_BANK_ACCOUNT_GB_ID
    assert [i["id"] for i in linked["instruments"]] == [TEST_CARD_VISA_ID, TEST_BANK_ACCOUNT_GB_ID]
    card, bank_account = linked["instruments"]
    assert card["type"] == "card"
    assert {"fingerprint", "expiry_month", "expiry_year", "last4", "bin", "scheme"} <= set(card)
    assert bank_account["type"] == "bank_account"
    assert {"fingerprint", "currency", "country", "iban", "swift_bic"} <= set(bank_account)


async def test_update_links_instruments_and_sets_the_default(api: Api) -> None:
    customer_id = await api.create(email="a@example.com")

    await api.call(
        "PATCH", f"/customers/{customer_id}", json={"instruments": [TEST_CARD_MASTERCARD_ID]}
    )
    _, customer = await api.get(customer_id)
    assert customer["default"] == TEST_CARD_MASTERCARD_ID
    await api.call("PATCH", f"/customers/{customer_id}", json={"default": TEST_CARD_VISA_ID})
    _, customer = await api.get(customer_id)

    assert customer["default"] == TEST_CARD_VISA_ID
    assert [i["id"] for i in customer["instruments"]] == [
        TEST_CARD_MASTERCARD_ID,
        TEST_CARD_VISA_ID,
    ]


async def test_delete_unlinks_the_instruments_which_stay_usable(api: Api) -> None:
    first = await api.create(email="a@example.com", default=TEST_CARD_VISA_ID)
    await api.call("DELETE", f"/customers/{first}")

    second = await api.create(email="b@example.com", default=TEST_CARD_VISA_ID)

    _, customer = await api.get(second)
    assert customer["default"] == TEST_CARD_VISA_ID


async def test_retrieve_answers_carry_cko_version_as_the_spec_declares(api: Api) -> None:
    customer_id = await api.create(email="versioned@example.com")

    for identifier in (customer_id, "versioned%40example.com", "missing%40example.com"):
        _, headers, _ = await api.call("GET", f"/customers/{identifier}")
        assert headers["Cko-Version"] == "1.0.0"


async def test_every_response_has_a_unique_request_id(api: Api) -> None:
    customer_id = await api.create(email="a@example.com")
    calls = [
        ("GET", f"/customers/{customer_id}", None),
        ("GET", f"/customers/{UNKNOWN_ID}", None),
        ("POST", "/customers", {"email": "not-an-email"}),
        ("PATCH", f"/customers/{customer_id}", {"name": "n"}),
        ("GET", "/no/such/path", None),
        ("PUT", "/customers", None),
    ]
    request_ids = []
    for method, path, body in calls:
        _, headers, _ = await api.call(method, path, json=body)
        request_ids.append(headers["Cko-Request-Id"])
    _, headers, _ = await api.call(
        "GET", f"/customers/{customer_id}", headers={"Authorization": ""}
    )
    request_ids.append(headers["Cko-Request-Id"])

    assert len(set(request_ids)) == len(request_ids)


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({}, ["email_required"]),
        ({"email": "not-an-email"}, ["email_invalid"]),
        ({"email": 42}, ["email_invalid"]),
        ({"email": "a" * 250 + "@example.com"}, ["email_too_long"]),
        ({"email": "a@example.com", "name": "n" * 256}, ["name_too_long"]),
        ({"email": "a@example.com", "name": ["x"]}, ["name_invalid"]),
        ({"email": "a@example.com", "phone": "+1 415"}, ["phone_invalid"]),
        (
            {"email": "a@example.com", "phone": {"country_code": "", "number": "12345"}},
            ["phone_country_code_invalid", "phone_number_invalid"],
        ),
        (
            {"email": "a@example.com", "phone": {"country_code": "+12345678", "number": "1" * 26}},
            ["phone_country_code_invalid", "phone_number_invalid"],
        ),
        ({"email": "a@example.com", "metadata": []}, ["metadata_invalid"]),
        (
            {"email": "a@example.com", "metadata": {f"k{i}": i for i in range(11)}},
            ["metadata_too_many_pairs"],
        ),
        ({"email": "a@example.com", "metadata": {"k" * 101: 1}}, ["metadata_key_invalid"]),
        ({"email": "a@example.com", "metadata": {"k": {"nested": 1}}}, ["metadata_value_invalid"]),
        ({"email": "a@example.com", "metadata": {"k": "v" * 101}}, ["metadata_value_too_long"]),
        ({"email": "a@example.com", "default": "card_1"}, ["default_invalid"]),
        ({"email": "a@example.com", "default": "src_" + "z" * 26}, ["default_not_found"]),
        ({"email": "a@example.com", "instruments": "src_x"}, ["instruments_invalid"]),
        (
            {"email": "a@example.com", "instruments": ["src_" + "z" * 26]},
            ["instrument_not_found"],
        ),
        (
            {"email": "bad", "name": 1, "metadata": 1},
            ["email_invalid", "name_invalid", "metadata_invalid"],
        ),
    ],
)
async def test_create_refuses_what_the_api_refuses_with_422_codes(
    api: Api, emulator: RunningEmulator, body: dict[str, object], codes: list[str]
) -> None:
    status, headers, raw = await api.call("POST", "/customers", json=body)

    assert status == 422
    error = json.loads(raw)
    assert error == {
        "request_id": headers["Cko-Request-Id"],
        "error_type": "request_invalid",
        "error_codes": codes,
    }
    assert emulator.customers() == []


async def test_update_validates_fields_and_leaves_the_customer_unchanged(api: Api) -> None:
    customer_id = await api.create(email="a@example.com", name="Alfred")

    status, _, raw = await api.call(
        "PATCH", f"/customers/{customer_id}", json={"name": "n" * 256, "email": "nope"}
    )

    assert status == 422
    assert json.loads(raw)["error_codes"] == ["email_invalid", "name_too_long"]
    _, customer = await api.get(customer_id)
    assert customer["name"] == "Alfred"


async def test_unknown_fields_are_ignored_and_null_counts_as_not_sent(api: Api) -> None:
    customer_id = await api.create(email="a@example.com", name=None, surprise={"x": 1})

    _, customer = await api.get(customer_id)

    assert customer == {"id": customer_id, "email": "a@example.com", "instruments": []}


async def test_duplicate_emails_are_allowed_by_default(api: Api, emulator: RunningEmulator) -> None:
    await api.create(email="twice@example.com")
    await api.create(email="twice@example.com")

    assert emulator.count_customers_with_email("twice@example.com") == 2


@pytest.mark.parametrize("setting", [True, 409])
async def test_duplicate_emails_get_409_when_rejected(
    http: aiohttp.ClientSession, setting: bool | int
) -> None:
    async with run_emulator(reject_duplicate_emails=setting) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        first = await api.create(email="once@example.com")
        other = await api.create(email="other@example.com")

        created_again = await api.call("POST", "/customers", json={"email": "ONCE@example.com"})
        renamed = await api.call("PATCH", f"/customers/{other}", json={"email": "once@example.com"})
        same = await api.call("PATCH", f"/customers/{first}", json={"email": "Once@example.com"})

    assert created_again[0] == 409
    assert created_again[2] == b""
    assert renamed[0] == 409
    assert same[0] == 204


async def test_duplicate_emails_get_422_email_already_exists_when_asked(
    http: aiohttp.ClientSession,
) -> None:
    async with run_emulator(reject_duplicate_emails=422) as emulator:
        api = Api(http, emulator.base_url, emulator.secret_key)
        await api.create(email="once@example.com")
        other = await api.create(email="other@example.com")

        created_again = await api.call("POST", "/customers", json={"email": "ONCE@example.com"})
        renamed = await api.call("PATCH", f"/customers/{other}", json={"email": "once@example.com"})

        assert emulator.count_customers_with_email("once@example.com") == 1
        assert emulator.customers()[1]["email"] == "other@example.com"
    for status, headers, raw in (created_again, renamed):
        assert status == 422
        assert json.loads(raw) == {
            "request_id": headers["Cko-Request-Id"],
            "error_type": "request_invalid",
            "error_codes": ["email_already_exists"],
        }


@pytest.mark.parametrize("setting", [404, "x", 200])
def test_reject_duplicate_emails_takes_only_409_or_422(setting: object) -> None:
    with pytest.raises(ValueError, match="reject_duplicate_emails must be 409, 422"):
        EmulatorSettings(reject_duplicate_emails=setting)


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({"Content-Type": "application/json"}, b'{"email": '),
        ({"Content-Type": "application/json"}, b'["a@example.com"]'),
        ({"Content-Type": "application/json"}, b"\xff\xfe"),
        ({"Content-Type": "application/json"}, b'{"email": "a@example.com", "n": NaN}'),
        ({"Content-Type": "application/json"}, b""),
        ({"Content-Type": "application/json"}, b'{"email": "\\udcff@example.com"}'),
        (
            {"Content-Type": "application/json"},
            b'{"email": "a@example.com", "n": 1' + b"1" * 5000 + b"}",
        ),
    ],
)
async def test_malformed_json_is_422_request_body_malformed(
    api: Api, headers: dict[str, str], data: bytes
) -> None:
    status, _, raw = await api.call("POST", "/customers", data=data, headers=headers)

    assert status == 422
    assert json.loads(raw)["error_codes"] == ["request_body_malformed"]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}],
)
async def test_a_missing_or_non_json_body_is_422_as_the_spec_documents(
    api: Api, method: str, headers: dict[str, str]
) -> None:
    path = "/customers" if method == "POST" else "/customers/" + await api.create(email="a@b.co")
    data = b"email=a@example.com" if headers else None

    status, response_headers, raw = await api.call(method, path, data=data, headers=headers)

    assert status == 422  # the spec documents no 415
    assert json.loads(raw)["error_codes"] == ["request_body_malformed"]
    assert response_headers["Cko-Request-Id"]


async def test_a_body_over_the_cap_is_413_and_the_server_keeps_serving(
    api: Api, emulator: RunningEmulator
) -> None:
    huge = b'{"email": "a@example.com", "name": "' + b"x" * emulator.settings.max_body_bytes + b'"}'

    status, _, raw = await api.call(
        "POST", "/customers", data=huge, headers={"Content-Type": "application/json"}
    )

    assert (status, raw) == (413, b"")
    assert await api.create(email="after@example.com")


async def test_a_chunked_body_over_the_cap_is_413(api: Api, emulator: RunningEmulator) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "name": "'
        for _ in range(emulator.settings.max_body_bytes // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    status, _, _ = await api.call(
        "POST", "/customers", data=chunks(), headers={"Content-Type": "application/json"}
    )

    assert status == 413


async def test_unknown_paths_are_404_and_wrong_methods_405_without_body(api: Api) -> None:
    assert (await api.call("GET", "/payments"))[::2] == (404, b"")
    status, headers, raw = await api.call("PUT", "/customers")
    assert (status, raw) == (405, b"")
    assert headers["Allow"] == "POST"
    assert (await api.call("POST", f"/customers/{UNKNOWN_ID}"))[0] == 405
