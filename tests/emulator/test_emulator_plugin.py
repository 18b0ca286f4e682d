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

from checkout_customers import AsyncClient
from checkout_customers.emulator import (
    TEST_CARD_VISA_ID,
    EmulatorSettings,
    RunningEmulator,
    emulator_thread,
)


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
