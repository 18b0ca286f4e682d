"""Fixtures for the emulator's tests: an emulator on the test's loop and a raw HTTP session.

The emulator is exercised over real loopback sockets with plain aiohttp, so that these tests
check the wire format itself rather than what our own client makes of it.
"""

from __future__ import annotations

import base64
import json as json_module
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from checkout_customers.emulator import RunningEmulator, run_emulator


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with run_emulator() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def auth(emulator: RunningEmulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emulator.secret_key}"}


class Api:
    """Raw calls to one emulator with one credential; each returns (status, headers, body)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str) -> None:
        self.session = session
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, *, json: Any = None, **kwargs: Any
    ) -> tuple[int, Any, bytes]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        async with self.session.request(
            method, self.base_url + path, json=json, headers=headers, **kwargs
        ) as response:
            return response.status, response.headers, await response.read()

    async def create(self, **body: Any) -> str:
        status, _, raw = await self.call("POST", "/customers", json=body)
        assert status == 201, raw
        customer_id: str = json_module.loads(raw)["id"]
        return customer_id

    async def get(self, identifier: str) -> tuple[int, Any]:
        status, _, raw = await self.call("GET", f"/customers/{identifier}")
        return status, (json_module.loads(raw) if raw else None)


@pytest.fixture
def api(emulator: RunningEmulator, http: aiohttp.ClientSession) -> Api:
    return Api(http, emulator.base_url, emulator.secret_key)


def basic_auth(client_id: str, client_secret: str) -> dict[str, str]:
    """An HTTP Basic `Authorization` header (aiohttp's BasicAuth is deprecated)."""
    encoded = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
    return {"Authorization": f"Basic {encoded}"}
