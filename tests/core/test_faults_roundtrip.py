"""The clients against an emulator that misbehaves: retries where safe, never a second customer.

Faults are drawn by the emulator per `/customers` request from a seeded generator. Every test
runs through `AsyncClient` and through the sync `Client`.
"""

from __future__ import annotations

from typing import Any

import pytest

from checkout_customers import (
    AsyncClient,
    CheckoutConnectionError,
    CheckoutTimeoutError,
    ServerError,
)
from checkout_customers.emulator import RunningEmulator

EMAIL = "fault@wayne.com"


@pytest.mark.checkout_emulator(fault_drop_after_acting=1.0)
async def test_a_create_dropped_after_acting_raises_and_is_not_retried(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    with pytest.raises(CheckoutConnectionError, match="may have acted"):
        await customers_client.customers.create(email=EMAIL)
    assert checkout_emulator.count_customers_with_email(EMAIL) == 1


@pytest.mark.checkout_emulator(fault_500=1.0)
async def test_a_create_answered_500_is_not_retried(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    with pytest.raises(ServerError) as raised:
        await customers_client.customers.create(email=EMAIL)
    assert raised.value.request_id
    assert checkout_emulator.count_customers_with_email(EMAIL) == 0


@pytest.mark.checkout_emulator(fault_reset_before_acting=1.0)
async def test_a_reset_connection_raises_a_connection_error(
    customers_client: Any, checkout_emulator: RunningEmulator
) -> None:
    with pytest.raises(CheckoutConnectionError):
        await customers_client.customers.create(email=EMAIL)
    assert checkout_emulator.count_customers_with_email(EMAIL) == 0


@pytest.mark.checkout_emulator(fault_slow_after_acting=1.0, fault_slow_ms=2000)
async def test_a_create_answered_too_late_times_out_once(
    checkout_emulator: RunningEmulator,
) -> None:
    async with AsyncClient(
        secret_key=checkout_emulator.secret_key, base_url=checkout_emulator.base_url, timeout=0.3
    ) as client:
        with pytest.raises(CheckoutTimeoutError):
            await client.customers.create(email=EMAIL)
    assert checkout_emulator.count_customers_with_email(EMAIL) == 1


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param("500", marks=pytest.mark.checkout_emulator(fault_500=0.5, seed=3)),
        pytest.param(
            "reset", marks=pytest.mark.checkout_emulator(fault_reset_before_acting=0.5, seed=3)
        ),
        pytest.param(
            "drop", marks=pytest.mark.checkout_emulator(fault_drop_after_acting=0.5, seed=3)
        ),
    ],
)
async def test_idempotent_calls_retry_through_faults(
    checkout_emulator: RunningEmulator, fault: str
) -> None:
    async with AsyncClient(
        secret_key=checkout_emulator.secret_key,
        base_url=checkout_emulator.base_url,
        max_retries=20,
    ) as client:
        customer_id = await _create_through_faults(client, checkout_emulator)
        assert checkout_emulator.count_customers_with_email(EMAIL) == 1, fault
        for _ in range(10):
            assert (await client.customers.get(customer_id)).id == customer_id
        await client.customers.update(customer_id, name="Batman")
        assert (await client.customers.get(EMAIL)).name == "Batman"
        await client.customers.delete(customer_id)
    assert checkout_emulator.count_customers_with_email(EMAIL) == 0


async def _create_through_faults(client: AsyncClient, emulator: RunningEmulator) -> str:
    """Create once: after a failed create, look the email up before trying again."""
    for _ in range(20):
        try:
            return (await client.customers.create(email=EMAIL)).id
        except (ServerError, CheckoutConnectionError):
            if emulator.count_customers_with_email(EMAIL):
                return (await client.customers.get(EMAIL)).id
    raise AssertionError("no create got through twenty times")
