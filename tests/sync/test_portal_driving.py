"""A lone caller of the sync `Client` runs its call on its own thread; overlapping calls, calls
that cannot safely run there, and `close()` during such a call still behave as on a loop thread.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from checkout_customers import Client
from checkout_customers.emulator import RunningEmulator, emulator_thread


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "checkout-customers-loop"]


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[RunningEmulator]:
    with emulator_thread(latency_ms=400) as running:
        yield running


@pytest.fixture
def slow_client(slow_emulator: RunningEmulator) -> Iterator[tuple[Client, str]]:
    with Client(secret_key=slow_emulator.secret_key, base_url=slow_emulator.base_url) as cko:
        yield cko, cko.customers.create(email="slow@wayne.com").id


def in_thread(target: object) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(target())  # type: ignore[operator]
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_call_made_while_another_thread_drives_the_loop_hands_it_to_a_loop_thread(
    slow_client: tuple[Client, str],
) -> None:
    client, customer_id = slow_client
    assert loop_threads() == []
    driver, first = in_thread(lambda: client.customers.get(customer_id).id)
    time.sleep(0.1)  # the first call is waiting for its answer, on its own thread
    assert loop_threads() == []
    other, second = in_thread(lambda: client.customers.get(customer_id).id)
    for thread in (driver, other):
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert first == [customer_id]
    assert second == [customer_id]
    assert len(loop_threads()) == 1  # from now on the loop thread runs every call
    assert client.customers.get(customer_id).id == customer_id


def test_close_during_a_call_on_the_callers_thread_ends_it_with_runtime_error(
    slow_client: tuple[Client, str],
) -> None:
    client, customer_id = slow_client
    driver, outcome = in_thread(lambda: client.customers.get(customer_id))
    time.sleep(0.1)
    client.close()
    driver.join(timeout=10)
    assert not driver.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], RuntimeError)
    assert "closed while the call was running" in str(outcome[0])
    assert loop_threads() == []
    with pytest.raises(RuntimeError, match="closed"):
        client.customers.get(customer_id)


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")
def test_the_main_thread_with_a_python_signal_handler_calls_through_the_loop_thread(
    emulator: RunningEmulator,
) -> None:
    # A handler run inside the loop could raise in the middle of aiohttp's callbacks.
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: None)
    try:
        with Client(secret_key=emulator.secret_key, base_url=emulator.base_url) as client:
            client.customers.create(email="signals@wayne.com")
            assert len(loop_threads()) == 1
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert loop_threads() == []


# The window between a driven call's task being made and its first step is too short to hit
# through `Client`, so the two ways `close()` and Ctrl-C can cancel it are checked on the
# helpers themselves: the loop must stop (no hang), and must not stop its next run early.
@pytest.mark.parametrize("started", [False, True])
def test_cancelling_a_driven_call_stops_its_run_and_not_the_next(started: bool) -> None:
    from checkout_customers._portal import _cancel_driven, _then_stop

    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(_then_stop(lambda _: asyncio.sleep(10), None))
        if started:
            loop.call_soon(_cancel_driven, task)  # after the task's first step
        else:
            _cancel_driven(task)
        loop.call_later(5, loop.stop)  # a hang fails the test instead of blocking it
        loop.run_forever()
        assert task.cancelled()
        assert loop.run_until_complete(asyncio.sleep(0.01, result="next")) == "next"
    finally:
        loop.close()
