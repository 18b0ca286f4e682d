"""Fixtures shared by every test package.

`customers_client` runs a behaviour test twice: once with `AsyncClient`, once with the sync
`Client` (each blocking call run in a worker thread, so the same `await` test code drives it).
Both talk to a real emulator over loopback sockets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from checkout_customers import AsyncClient, Client
from checkout_customers.emulator import RunningEmulator, emulator_thread

from .sync_adapter import adapt


@pytest.fixture
def live_emulator() -> Iterator[RunningEmulator]:
    with emulator_thread() as emulator:
        yield emulator


@pytest.fixture(params=["async", "sync"])
async def customers_client(
    request: pytest.FixtureRequest, live_emulator: RunningEmulator
) -> AsyncIterator[Any]:
    """An object with `.customers` whose methods are awaited, for either client."""
    options = {"secret_key": live_emulator.secret_key, "base_url": live_emulator.base_url}
    if request.param == "async":
        async with AsyncClient(**options) as client:
            yield client
    else:
        with Client(**options) as client:
            yield adapt(client)
