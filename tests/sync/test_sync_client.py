"""The sync `Client` against the emulator: same results and errors, threads, loops, shutdown."""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from checkout_customers import (
    AsyncClient,
    CheckoutArgumentError,
    CheckoutError,
    Client,
    NotFoundError,
    Phone,
)
from checkout_customers._customers import AsyncCustomers
from checkout_customers._sync_client import Customers
from checkout_customers.emulator import RunningEmulator
from tests.sync_adapter import adapt


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "checkout-customers-loop"]


def test_create_get_update_delete_round_trip(client: Client) -> None:
    created = client.customers.create(
        email="bruce@wayne.com",
        name="Bruce Wayne",
        phone=Phone(country_code="+1", number="415 555 2671"),
    )
    assert client.customers.get("bruce@wayne.com").id == created.id
    assert client.customers.update(created.id, name="Batman").request_id
    assert client.customers.get(created.id).name == "Batman"
    client.customers.delete(created.id)
    with pytest.raises(NotFoundError) as caught:
        client.customers.get(created.id)
    assert caught.value.status == 404


def test_raises_the_async_clients_exception_classes(client: Client) -> None:
    with pytest.raises(CheckoutArgumentError) as caught:
        client.customers.create(email="not an email")
    assert caught.value.field == "email"


def test_bad_arguments_fail_at_construction_without_starting_a_thread() -> None:
    with pytest.raises(CheckoutArgumentError, match="secret_key"):
        Client(secret_key="nope", base_url="http://127.0.0.1:1")
    assert loop_threads() == []


def test_takes_the_async_clients_keyword_arguments_but_session() -> None:
    async_parameters = dict(inspect.signature(AsyncClient).parameters)
    del async_parameters["session"]
    assert inspect.signature(Client).parameters == async_parameters


def test_every_async_method_has_a_twin_with_the_same_signature() -> None:
    for name, method in inspect.getmembers(AsyncCustomers, inspect.iscoroutinefunction):
        if not name.startswith("_"):
            assert inspect.signature(getattr(Customers, name)) == inspect.signature(method)
            assert getattr(Customers, name).__doc__ == method.__doc__


def test_calls_that_do_not_overlap_run_on_the_callers_thread_and_close_leaves_no_thread(
    emulator: RunningEmulator,
) -> None:
    by_name = emulator.base_url.replace("127.0.0.1", "localhost")  # resolver threads run too
    client = Client(secret_key=emulator.secret_key, base_url=by_name)
    created = client.customers.create(email="lazy@wayne.com")
    assert client.customers.get(created.id).email == "lazy@wayne.com"
    assert loop_threads() == []
    client.close()
    client.close()
    assert loop_threads() == []
    assert not [t for t in threading.enumerate() if t.name.startswith("checkout-customers-r")]


def test_the_loop_thread_starts_when_a_call_cannot_run_on_its_thread_and_close_stops_it(
    emulator: RunningEmulator,
) -> None:
    by_name = emulator.base_url.replace("127.0.0.1", "localhost")
    client = Client(secret_key=emulator.secret_key, base_url=by_name)
    created = client.customers.create(email="lazy@wayne.com")

    async def inside_a_loop() -> str:
        return client.customers.get(created.id).email

    assert asyncio.run(inside_a_loop()) == "lazy@wayne.com"
    assert len(loop_threads()) == 1
    assert client.customers.get(created.id).email == "lazy@wayne.com"  # now on that thread
    client.close()
    assert loop_threads() == []
    assert not [t for t in threading.enumerate() if t.name.startswith("checkout-customers-r")]


def test_leaving_with_closes_the_session_and_connector(emulator: RunningEmulator) -> None:
    with Client(secret_key=emulator.secret_key, base_url=emulator.base_url) as client:
        client.customers.create(email="with@wayne.com")
        session = client._portal.client._transport._session
        assert session is not None
    assert session.closed
    assert session.connector is None or session.connector.closed
    assert loop_threads() == []


def test_a_closed_client_refuses_calls(client: Client) -> None:
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.customers.get("bruce@wayne.com")


def test_a_forgotten_client_stops_its_thread_when_collected(emulator: RunningEmulator) -> None:
    client = Client(secret_key=emulator.secret_key, base_url=emulator.base_url)
    client.customers.create(email="forgotten@wayne.com")
    del client
    gc.collect()
    assert loop_threads() == []


def test_works_when_called_inside_a_running_event_loop(client: Client) -> None:
    async def handler() -> str:
        created = client.customers.create(email="loop@wayne.com")
        return client.customers.get(created.id).email

    assert asyncio.run(handler()) == "loop@wayne.com"


def test_eight_threads_share_one_client(client: Client) -> None:
    def work(number: int) -> str:
        created = client.customers.create(email=f"thread{number}@wayne.com")
        client.customers.update(created.id, name=f"Thread {number}")
        return client.customers.get(created.id).name or ""

    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(work, range(32)))
    assert names == [f"Thread {number}" for number in range(32)]
    assert len(loop_threads()) == 1


def test_calling_from_its_own_loop_thread_is_a_clear_error(client: Client) -> None:
    async def nested(cko: AsyncClient) -> object:
        return client.customers.get("bruce@wayne.com")

    with pytest.raises(RuntimeError, match="its own event-loop thread"):
        client._portal.call(nested)
    assert client.customers.create(email="after@wayne.com").id  # the loop still works


async def test_adapt_runs_the_sync_client_like_an_async_one(client: Client) -> None:
    api = adapt(client)
    created = await api.customers.create(email="adapted@wayne.com")
    assert (await api.customers.get(created.id)).email == "adapted@wayne.com"
    with pytest.raises(NotFoundError):
        await api.customers.get("cus_y3oqhf46pyzuxjbcn2giaqnb44")
    assert api.base_url == client.base_url
    await api.aclose()


def test_a_resource_keeps_its_client_alive(emulator: RunningEmulator) -> None:
    customers = Client(secret_key=emulator.secret_key, base_url=emulator.base_url).customers
    gc.collect()
    created = customers.create(email="resource@wayne.com")
    assert customers.get(created.id).email == "resource@wayne.com"
    del customers
    gc.collect()
    assert loop_threads() == []


def test_closing_while_other_threads_call_ends_their_calls_without_hanging(
    emulator: RunningEmulator,
) -> None:
    client = Client(secret_key=emulator.secret_key, base_url=emulator.base_url)
    created = client.customers.create(email="racing@wayne.com")
    outcomes: list[BaseException] = []

    def keep_calling() -> None:
        try:
            while True:
                client.customers.get(created.id)
        except BaseException as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=keep_calling) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    client.close()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    assert len(outcomes) == 4
    assert all(isinstance(exc, (RuntimeError, CheckoutError)) for exc in outcomes), outcomes
    assert loop_threads() == []
