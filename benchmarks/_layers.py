"""The steps of the SDK's request path timed in isolation, in CPU microseconds per call.

Each step is called in a tight loop (no network) and timed with `time.process_time`; the figure
is the median of several repeats. The steps are the pieces the SDK adds on top of a raw aiohttp
request, so their sum, set beside the measured SDK-minus-raw figure, says where the difference
goes and what is left for the backend and the event loop.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from _contenders import UPDATE
from _emulator_process import SECRET_KEY
from _fixed_server import CUSTOMER, CUSTOMER_ID

__all__ = ["in_path_steps", "isolated_steps"]


def _cpu_per_call(step: Callable[[], Any], calls: int, repeats: int) -> float:
    figures = []
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(calls):
            step()
        figures.append((time.process_time() - started) / calls)
    return statistics.median(figures) * 1e6


def isolated_steps(
    base_url: str, *, calls: int = 3000, repeats: int = 7
) -> list[tuple[str, float]]:
    """(step, CPU µs per call) for each step of the SDK's path that a raw client does not take."""
    from multidict import CIMultiDict, CIMultiDictProxy

    from checkout_customers import AsyncClient
    from checkout_customers._backend import BackendAnswer
    from checkout_customers._converter import structure_customer
    from checkout_customers._customer_fields import CUSTOMER_FIELDS
    from checkout_customers._customers import _segment
    from checkout_customers._request_bodies import create_body, update_body
    from checkout_customers._transport import _decode, json_text
    from checkout_customers._types import NOT_GIVEN
    from checkout_customers._validation import validate_customer_id, validate_identifier

    cko = AsyncClient(secret_key=SECRET_KEY, base_url=base_url)
    transport = cko._transport
    base = transport.base_url
    payload = json.dumps(CUSTOMER).encode()
    decoded = json.loads(payload)
    headers = CIMultiDictProxy(
        CIMultiDict({"Content-Type": "application/json", "Cko-Request-Id": "req_fixed"})
    )
    answer = BackendAnswer(200, headers, payload)
    path = f"/customers/{CUSTOMER_ID}"
    # The resource passes every declared field (its `locals()`): None / NOT_GIVEN when left out.
    names = CUSTOMER_FIELDS.names
    no_fields = dict.fromkeys(names)
    not_given = dict.fromkeys(names, NOT_GIVEN)
    created = {"email": "bruce@wayne.com", "name": "Bruce Wayne"}

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("get: validate the identifier", lambda: validate_identifier(CUSTOMER_ID)),
        ("get: percent-encode the path segment", lambda: _segment(CUSTOMER_ID)),
        (
            "URL: base URL + path (yarl)",
            lambda: base.with_path(base.raw_path.rstrip("/") + path, encoded=True),
        ),
        (
            "transport.request() until its coroutine (no await)",
            lambda: transport.request("GET", path).close(),
        ),
        (
            "create: validate + JSON text of the body",
            lambda: json_text(create_body({**no_fields, **created})),
        ),
        (
            "update: validate id + body + JSON text",
            lambda: (
                validate_customer_id(CUSTOMER_ID),
                json_text(update_body({**not_given, **UPDATE})),
            ),
        ),
        ("get answer: json.loads of the customer (raw does it too)", lambda: json.loads(payload)),
        (
            "get answer: _decode (json.loads + request id + Response)",
            lambda: _decode(answer, "GET", path, writes=False, elapsed=0.0),
        ),
        ("get answer: structure the customer (models)", lambda: structure_customer(decoded, "r")),
    ]
    return [(name, _cpu_per_call(step, calls, repeats)) for name, step in steps]


async def in_path_steps(
    base_url: str, *, requests: int = 3000, concurrency: int = 16
) -> list[tuple[str, float]]:
    """(step, CPU µs per call) of the steps of `customers.get` timed inside the request path.

    A step costs more there than in a tight loop: the network code run between two calls
    leaves the caches cold. Each step is wrapped with `time.process_time` while real `get`s run
    at `concurrency`; the clock's own cost is measured and taken off.
    """
    from _contenders import open_contender
    from _measure import run_requests

    import checkout_customers._customers as customers_module

    clock_cost = _cpu_per_call(time.process_time, 20000, 5) / 1e6
    spent = {"structure the customer (models)": 0.0, "drop the Customer it returns": 0.0}
    parse = customers_module._parse_customer

    def timed_parse(response: Any) -> Any:
        started = time.process_time()
        customer = parse(response)
        spent["structure the customer (models)"] += time.process_time() - started - clock_cost
        return customer

    contender = await open_contender("sdk", base_url)
    one = contender.operation("get")

    async def get_and_drop(index: int) -> None:
        customer = await one(index)
        started = time.process_time()
        del customer
        spent["drop the Customer it returns"] += time.process_time() - started - clock_cost

    customers_module._parse_customer = timed_parse
    try:
        await run_requests(get_and_drop, 300, concurrency)  # warm
        for name in spent:
            spent[name] = 0.0
        await run_requests(get_and_drop, requests, concurrency)
    finally:
        customers_module._parse_customer = parse
        await contender.aclose()
    return [(f"get answer: {name}", total / requests * 1e6) for name, total in spent.items()]
