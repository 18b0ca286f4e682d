"""Client overhead: customers.get and customers.create against baselines, in one run.

    python benchmarks/bench_client.py [--requests N] [--concurrency C]

The emulator runs in a child process (its own core), unthrottled. Each contender does the same
bounded work over loopback: N GETs of one customer by id, then N creates. Figures are medians
over interleaved rounds, in operations per second, and the median of each round's ratio to raw
aiohttp (the ceiling: no validation, no models).

Contenders:
- raw aiohttp: one ClientSession, C concurrent workers, `json.loads` of the body;
- AsyncClient: `await cko.customers.get(...)`, C concurrent workers;
- checkout-sdk (the official package, requests-based): sequential, and with C threads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from _emulator_process import SECRET_KEY, emulator_process
from _official_sdk import official_api

from checkout_customers import AsyncClient


async def timed_async(total: int, concurrency: int, one: Callable[[int], Awaitable[Any]]) -> float:
    indexes = iter(range(total))

    async def worker() -> None:
        for index in indexes:
            await one(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


def timed_threads(total: int, threads: int, one: Callable[[int], Any]) -> float:
    started = time.perf_counter()
    if threads == 1:
        for index in range(total):
            one(index)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(total)))
    return total / (time.perf_counter() - started)


async def raw_aiohttp(base_url: str, total: int, concurrency: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{base_url}/customers", json={"email": "seed@x.com"}) as r:
            customer_id = (await r.json())["id"]

        async def get(_: int) -> None:
            async with session.get(f"{base_url}/customers/{customer_id}") as response:
                await response.json()

        async def create(index: int) -> None:
            body = {"email": f"raw{index}@x.com", "name": "Raw"}
            async with session.post(f"{base_url}/customers", json=body) as response:
                await response.json()

        return {
            "get": await timed_async(total, concurrency, get),
            "create": await timed_async(total, concurrency, create),
        }


async def async_client(base_url: str, total: int, concurrency: int) -> dict[str, float]:
    async with AsyncClient(secret_key=SECRET_KEY, base_url=base_url) as cko:
        customer_id = (await cko.customers.create(email="seed@x.com")).id
        return {
            "get": await timed_async(total, concurrency, lambda _: cko.customers.get(customer_id)),
            "create": await timed_async(
                total,
                concurrency,
                lambda index: cko.customers.create(email=f"sdk{index}@x.com", name="SDK"),
            ),
        }


def official_sdk(base_url: str, total: int, threads: int) -> dict[str, float]:
    from checkout_sdk.customers.customers import CustomerRequest

    api = official_api(base_url)
    seed = CustomerRequest()
    seed.email = "seed@x.com"
    customer_id = api.customers.create(seed).id

    def create(index: int) -> None:
        request = CustomerRequest()
        request.email = f"official{threads}-{index}@x.com"
        request.name = "Official"
        api.customers.create(request)

    return {
        "get": timed_threads(total, threads, lambda _: api.customers.get(customer_id)),
        "create": timed_threads(total, threads, create),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds")
    args = parser.parse_args()
    total, concurrency = args.requests, args.concurrency

    contenders: dict[str, Callable[[str], dict[str, float]]] = {
        "raw aiohttp": lambda url: asyncio.run(raw_aiohttp(url, total, concurrency)),
        "AsyncClient": lambda url: asyncio.run(async_client(url, total, concurrency)),
        "checkout-sdk, 1 thread": lambda url: official_sdk(url, total // 4, 1),
        f"checkout-sdk, {concurrency} threads": lambda url: official_sdk(url, total, concurrency),
    }
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    with emulator_process() as base_url:
        # Rounds alternate the contenders, and ratios are taken within a round, so that drift
        # in a shared machine affects all alike; medians ignore the rounds hit by a burst.
        for _ in range(args.rounds):
            for name, run in contenders.items():
                rounds[name].append(run(base_url))

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {total} requests per "
        f"operation, concurrency {concurrency}, medians of {args.rounds} interleaved rounds, "
        "emulator in a child process"
    )
    baseline = rounds["raw aiohttp"]
    print(f"{'contender':<26}{'get/s':>9}{'ratio':>8}{'create/s':>10}{'ratio':>8}")
    for name, figures in rounds.items():
        rate = {op: statistics.median(one[op] for one in figures) for op in ("get", "create")}
        ratio = {
            op: statistics.median(
                mine[op] / raw[op] for mine, raw in zip(figures, baseline, strict=True)
            )
            for op in ("get", "create")
        }
        print(
            f"{name:<26}{rate['get']:>9.0f}{ratio['get']:>8.2f}"
            f"{rate['create']:>10.0f}{ratio['create']:>8.2f}"
        )


if __name__ == "__main__":
    main()
