"""The pytest plugin's fixtures, used the way a user's tests use them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from checkout_customers import (
    AsyncClient,
    CheckoutConnectionError,
    Client,
    UnprocessableEntityError,
)
from checkout_customers.emulator import (
    TEST_CARD_VISA_ID,
    EmulatorSettings,
    RunningEmulator,
    emulator_thread,
)


def _admin(emulator: RunningEmulator, method: str, path: str, body: object = None) -> Any:
    request = urllib.request.Request(
        emulator.base_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {emulator.secret_key}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _get(emulator: RunningEmulator, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        emulator.base_url + path, headers={"Authorization": f"Bearer {emulator.secret_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), response.headers
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code), exc.headers


def _post(emulator: RunningEmulator, email: str) -> int:
    request = urllib.request.Request(
        emulator.base_url + "/customers",
        method="POST",
        data=json.dumps({"email": email}).encode(),
        headers={
            "Authorization": f"Bearer {emulator.secret_key}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
        return status


def test_checkout_emulator_serves_a_sync_test(checkout_emulator: RunningEmulator) -> None:
    assert _post(checkout_emulator, "sync@example.com") == 201

    assert checkout_emulator.base_url.startswith("http://127.0.0.1:")
    assert checkout_emulator.count_customers_with_email("SYNC@example.com") == 1


async def test_checkout_emulator_serves_an_async_test_from_its_own_thread(
    checkout_emulator: RunningEmulator,
) -> None:
    async with AsyncClient(
        secret_key=checkout_emulator.secret_key, base_url=checkout_emulator.base_url
    ) as cko:
        created = await cko.customers.create(email="async@example.com", default=TEST_CARD_VISA_ID)
        customer = await cko.customers.get("async@example.com")

    assert customer.id == created.id
    assert customer.default == TEST_CARD_VISA_ID


@pytest.mark.checkout_emulator(write_rate=0.01)
def test_the_marker_sets_emulator_settings(checkout_emulator: RunningEmulator) -> None:
    assert checkout_emulator.settings.write_rate == 0.01
    assert [_post(checkout_emulator, f"{n}@example.com") for n in range(2)] == [201, 429]


class TestSettingsFixture:
    @pytest.fixture
    def checkout_emulator_settings(self) -> EmulatorSettings:
        return EmulatorSettings(secret_keys=("sk_sbox_my_own_test_key",))

    def test_overriding_the_settings_fixture_configures_the_emulator(
        self, checkout_emulator: RunningEmulator
    ) -> None:
        assert checkout_emulator.secret_key == "sk_sbox_my_own_test_key"
        assert _post(checkout_emulator, "own@example.com") == 201


async def test_checkout_async_client_is_ready_to_use(
    checkout_async_client: AsyncClient, checkout_emulator: RunningEmulator
) -> None:
    created = await checkout_async_client.customers.create(email="ready@example.com")
    await checkout_async_client.customers.update(created.id, name="Ready")

    assert checkout_emulator.customers()[0]["name"] == "Ready"


# A developer's shell often exports a company proxy; a SOCKS one the client cannot use at all.
UNUSABLE_PROXIES = [
    {"http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"},
    {"ALL_PROXY": "socks5://127.0.0.1:9"},
]


@pytest.fixture(params=UNUSABLE_PROXIES, ids=["http-proxy", "socks-all-proxy"])
def proxy_exported(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in request.param.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("proxy_exported")
class TestProxyVariablesOfTheShell:
    """The fixtures' clients talk to the emulator directly, whatever proxy the shell exports."""

    def test_checkout_client_ignores_them(
        self, checkout_client: Client, checkout_emulator: RunningEmulator
    ) -> None:
        checkout_client.customers.create(email="proxied@example.com")
        assert checkout_emulator.count_customers_with_email("proxied@example.com") == 1

    async def test_checkout_async_client_ignores_them(
        self, checkout_async_client: AsyncClient, checkout_emulator: RunningEmulator
    ) -> None:
        await checkout_async_client.customers.create(email="proxied@example.com")
        assert checkout_emulator.count_customers_with_email("proxied@example.com") == 1


def test_emulator_thread_stops_its_thread_on_exit() -> None:
    before = threading.active_count()
    with emulator_thread() as emulator:
        assert _post(emulator, "t@example.com") == 201
        assert threading.active_count() == before + 1

    assert threading.active_count() == before


def test_emulator_thread_raises_when_it_cannot_start(checkout_emulator: RunningEmulator) -> None:
    with pytest.raises(OSError, match="in use"), emulator_thread(port=checkout_emulator.port):
        pass


def test_checkout_client_is_a_ready_sync_client(
    checkout_client: Any, checkout_emulator: RunningEmulator
) -> None:
    created = checkout_client.customers.create(email="sync.client@example.com")
    customer = checkout_client.customers.get("Sync.Client@example.com")

    assert customer.id == created.id
    assert checkout_emulator.count_customers_with_email("sync.client@example.com") == 1


_WITHOUT_PYTEST_ASYNCIO = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "pytest_asyncio" or name.startswith("pytest_asyncio."):
            raise ModuleNotFoundError(name)
        return None

sys.meta_path.insert(0, Block())
import checkout_customers.pytest_plugin as plugin
assert "pytest_asyncio" not in sys.modules
assert not hasattr(plugin, "checkout_async_client")
assert hasattr(plugin, "checkout_emulator")
"""


def test_the_plugin_imports_without_pytest_asyncio() -> None:
    subprocess.run([sys.executable, "-c", _WITHOUT_PYTEST_ASYNCIO], check=True, timeout=60)


# -- the controls users' own tests need, through the plugin's fixtures -------------------------


def signup(cko: Client, email: str) -> str:
    """A user's code under test: create the customer; after a lost answer, look it up."""
    try:
        return cko.customers.create(email=email).id
    except CheckoutConnectionError:  # the create may have happened: never create twice
        return cko.customers.get(email).id


def test_a_user_scripts_a_dropped_create_and_two_503s_and_reads_what_the_client_did(
    checkout_client: Client, checkout_emulator: RunningEmulator
) -> None:
    checkout_emulator.fail_next("drop_after_acting", method="POST", email="bruce@wayne.com")
    checkout_emulator.fail_next("503", method="GET", path="/customers/", times=2, retry_after=0)

    customer_id = signup(checkout_client, "bruce@wayne.com")

    sent = [(r.method, r.path, r.status, r.fault) for r in checkout_emulator.requests()]
    assert sent == [
        ("POST", "/customers", None, "drop_after_acting"),
        ("GET", "/customers/bruce%40wayne.com", 503, "503"),
        ("GET", "/customers/bruce%40wayne.com", 503, "503"),
        ("GET", "/customers/bruce%40wayne.com", 200, None),
    ]
    assert checkout_emulator.requests()[0].json() == {"email": "bruce@wayne.com"}
    assert checkout_emulator.customers()[0]["id"] == customer_id
    assert checkout_emulator.count_customers_with_email("bruce@wayne.com") == 1
    assert checkout_emulator.faults() == []


def test_the_journal_through_the_plugin_over_http(
    checkout_client: Client, checkout_emulator: RunningEmulator
) -> None:
    checkout_client.customers.create(email="journal@example.com", name="J")

    listed = _admin(checkout_emulator, "GET", "/_emulator/requests")["requests"]

    assert [(entry["method"], entry["status"]) for entry in listed] == [("POST", 201)]
    assert "Authorization" not in listed[0]["headers"]
    _admin(checkout_emulator, "DELETE", "/_emulator/requests")
    assert checkout_emulator.requests() == []


def test_faults_through_the_plugin_over_http(checkout_emulator: RunningEmulator) -> None:
    queued = _admin(
        checkout_emulator, "POST", "/_emulator/faults", {"kind": "429", "retry_after": 9}
    )

    assert _admin(checkout_emulator, "GET", "/_emulator/faults") == {"faults": [queued]}
    status, headers = _get(checkout_emulator, "/customers/a%40b.co")
    assert (status, headers["Retry-After"]) == (429, "9")
    assert _get(checkout_emulator, "/customers/a%40b.co")[0] == 404
    _admin(checkout_emulator, "POST", "/_emulator/faults", {"kind": "500"})
    _admin(checkout_emulator, "DELETE", "/_emulator/faults")
    assert _get(checkout_emulator, "/customers/a%40b.co")[0] == 404


@pytest.mark.checkout_emulator(read_rate=0.01, retry_after=4)
def test_the_marker_sets_retry_after_on_rate_limits(checkout_emulator: RunningEmulator) -> None:
    assert _get(checkout_emulator, "/customers/a%40b.co")[0] == 404
    status, headers = _get(checkout_emulator, "/customers/a%40b.co")

    assert (status, headers["Retry-After"]) == (429, "4")


@pytest.mark.checkout_emulator(reject_duplicate_emails=422)
def test_the_marker_rejects_duplicate_emails_with_422(checkout_client: Client) -> None:
    checkout_client.customers.create(email="once@example.com")

    with pytest.raises(UnprocessableEntityError) as refused:
        checkout_client.customers.create(email="Once@example.com")

    assert refused.value.error_codes == ("email_already_exists",)


@pytest.mark.checkout_emulator(reject_duplicate_emails=True)
def test_the_marker_keeps_true_meaning_409(checkout_emulator: RunningEmulator) -> None:
    assert [_post(checkout_emulator, "twice@example.com") for _ in range(2)] == [201, 409]


@pytest.mark.checkout_emulator(journal_size=2)
def test_the_marker_sets_the_journal_size(checkout_emulator: RunningEmulator) -> None:
    for index in range(3):
        _post(checkout_emulator, f"n{index}@example.com")

    assert [entry.seq for entry in checkout_emulator.requests()] == [2, 3]
