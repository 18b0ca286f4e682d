"""Fixtures shared by every test package.

`customers_client` runs a behaviour test twice: once with `AsyncClient`, once with the sync
`Client` (each blocking call run in a worker thread, so the same `await` test code drives it).
Both talk to a real emulator over loopback sockets: the `checkout_emulator` fixture that the
package's own pytest plugin gives every user.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from checkout_customers import AsyncClient, Client
from checkout_customers.emulator import RunningEmulator

from .sync_adapter import adapt


@pytest.fixture(params=["async", "sync"])
async def customers_client(
    request: pytest.FixtureRequest, checkout_emulator: RunningEmulator
) -> AsyncIterator[Any]:
    """An object with `.customers` whose methods are awaited, for either client."""
    options = {
        "secret_key": checkout_emulator.secret_key,
        "base_url": checkout_emulator.base_url,
    }
    if request.param == "async":
        async with AsyncClient(**options) as client:
            yield client
    else:
        with Client(**options) as client:
            yield adapt(client)
