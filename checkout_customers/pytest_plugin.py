"""Pytest fixtures running the Customers API emulator, registered through `pytest11`.

    def test_signup(checkout_client):                  # a sync Client on a fresh emulator
        created = checkout_client.customers.create(email="bruce@wayne.com")

    def test_migration(checkout_emulator):             # the RunningEmulator itself
        run_my_code(base_url=checkout_emulator.base_url, secret_key=checkout_emulator.secret_key)
        assert checkout_emulator.count_customers_with_email("bruce@wayne.com") == 1

    @pytest.mark.checkout_emulator(write_rate=5, fault_drop_after_acting=0.2, seed=1)
    def test_survives_faults(checkout_emulator): ...

    @pytest.mark.checkout_emulator(write_rate=1, retry_after=2, reject_duplicate_emails=422)
    def test_controls(checkout_client, checkout_emulator):
        checkout_emulator.fail_next("503", method="GET", times=2)   # exact faults, on demand
        ...
        assert [r.status for r in checkout_emulator.requests()] == [...]   # what was sent

Each test gets its own emulator on a free loopback port, served on a thread of its own, so it
works for sync tests and for async tests on any event loop. Settings come from the
`checkout_emulator_settings` fixture (override it in a conftest) and then from the
`checkout_emulator` marker's keyword arguments (any `EmulatorSettings` field: `retry_after`,
`reject_duplicate_emails`, `journal_size`, ...). `checkout_async_client` (an `AsyncClient`) is
defined only when pytest-asyncio is installed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from checkout_customers import AsyncClient, Client
    from checkout_customers.emulator import EmulatorSettings, RunningEmulator

__all__ = [
    "checkout_client",
    "checkout_emulator",
    "checkout_emulator_settings",
]

_MARKER = "checkout_emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**settings): EmulatorSettings fields for this test's checkout_emulator "
        "(e.g. write_rate=5, retry_after=1, reject_duplicate_emails=422)",
    )


@pytest.fixture
def checkout_emulator_settings() -> EmulatorSettings:
    """The settings of `checkout_emulator`; override this fixture to change them."""
    from checkout_customers.emulator import EmulatorSettings

    return EmulatorSettings()


@pytest.fixture
def checkout_emulator(
    request: pytest.FixtureRequest, checkout_emulator_settings: EmulatorSettings
) -> Iterator[RunningEmulator]:
    """A fresh emulator on a free loopback port, running on its own thread."""
    from checkout_customers.emulator import emulator_thread

    overrides: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(_MARKER))):
        overrides.update(marker.kwargs)
    with emulator_thread(checkout_emulator_settings, **overrides) as emulator:
        yield emulator


def _emulator_arguments(emulator: RunningEmulator) -> dict[str, Any]:
    """The client arguments for the test's emulator, whatever the developer's shell exports.

    The emulator is on loopback in this process: a proxy variable (a company's HTTP_PROXY, a
    SOCKS ALL_PROXY) could only stand between them and fail every test.
    """
    return {"secret_key": emulator.secret_key, "base_url": emulator.base_url, "trust_env": False}


@pytest.fixture
def checkout_client(checkout_emulator: RunningEmulator) -> Iterator[Client]:
    """A sync `checkout_customers.Client` talking to `checkout_emulator`."""
    from checkout_customers import Client

    with Client(**_emulator_arguments(checkout_emulator)) as client:
        yield client


try:
    import pytest_asyncio
except ImportError:  # pytest-asyncio is optional: no async client fixture without it
    _HAVE_PYTEST_ASYNCIO = False
else:
    _HAVE_PYTEST_ASYNCIO = True

if _HAVE_PYTEST_ASYNCIO:
    __all__ += ["checkout_async_client"]

    @pytest_asyncio.fixture
    async def checkout_async_client(
        checkout_emulator: RunningEmulator,
    ) -> AsyncIterator[AsyncClient]:
        """An `AsyncClient` talking to `checkout_emulator`, on the test's event loop."""
        from checkout_customers import AsyncClient

        async with AsyncClient(**_emulator_arguments(checkout_emulator)) as client:
            yield client
