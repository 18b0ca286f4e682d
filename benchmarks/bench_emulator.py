"""Requests per second of the emulator, measured over loopback with raw aiohttp.

    python benchmarks/bench_emulator.py [--requests N] [--concurrency C]

Starts `checkout-customers emulator` in a child process (or, with `--in-process`, on the load
generator's own event loop, the conservative case where both share one core), warms up, then
times a bounded mix over loopback: create N customers, get each by id, get each by email,
update each. Prints one figure per phase and the overall rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from _emulator_process import SECRET_KEY, emulator_process

from checkout_customers.emulator import run_emulator


async def _timed(
    label: str, total: int, concurrency: int, one: Callable[[int], Awaitable[None]]
) -> float:
    queue = iter(range(total))

    async def worker() -> None:
        for index in queue:
            await one(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    rate = total / elapsed
    print(f"{label:<16} {total:>7} requests in {elapsed:6.2f} s = {rate:8.0f} requests/s")
    return rate


@contextlib.asynccontextmanager
async def _emulator_in_child(db_path: str | None) -> AsyncIterator[str]:
    with emulator_process(*(["--db", db_path] if db_path else [])) as base_url:
        yield base_url


@contextlib.asynccontextmanager
async def _emulator_in_process(db_path: str | None) -> AsyncIterator[str]:
    async with run_emulator(db_path=db_path, secret_keys=(SECRET_KEY,)) as emulator:
        yield emulator.base_url


async def bench(total: int, concurrency: int, db_path: str | None, in_process: bool) -> None:
    where = "this process (shares the load generator's core)" if in_process else "a child process"
    print(f"emulator in {where}; {concurrency} concurrent; state: {db_path or 'memory'}")
    serve = _emulator_in_process if in_process else _emulator_in_child
    async with (
        serve(db_path) as base_url,
        aiohttp.ClientSession(
            base_url=base_url,
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            connector=aiohttp.TCPConnector(limit=concurrency),
        ) as http,
    ):
        ids: dict[int, str] = {}

        async def create(index: int) -> None:
            body = {"email": f"bench{index}@example.com", "name": "Bench", "metadata": {"n": index}}
            async with http.post("/customers", json=body) as response:
                assert response.status == 201
                ids[index] = (await response.json())["id"]

        async def get_by_id(index: int) -> None:
            async with http.get(f"/customers/{ids[index]}") as response:
                assert response.status == 200
                await response.read()

        async def get_by_email(index: int) -> None:
            async with http.get(f"/customers/bench{index}%40example.com") as response:
                assert response.status == 200
                await response.read()

        async def update(index: int) -> None:
            async with http.patch(f"/customers/{ids[index]}", json={"name": "B"}) as response:
                assert response.status == 204

        await _timed("warm-up", min(200, total), concurrency, create)
        ids.clear()
        async with http.post("/_emulator/reset") as response:
            assert response.status == 204
        started = time.perf_counter()
        for label, one in (
            ("create", create),
            ("get by id", get_by_id),
            ("get by email", get_by_email),
            ("update", update),
        ):
            await _timed(label, total, concurrency, one)
        overall = 4 * total / (time.perf_counter() - started)
        print(f"{'overall':<16} {4 * total:>7} requests             = {overall:8.0f} requests/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--db", help="benchmark the SQLite store at this path")
    parser.add_argument(
        "--in-process", action="store_true", help="serve on the load generator's own event loop"
    )
    args = parser.parse_args()
    asyncio.run(bench(args.requests, args.concurrency, args.db, args.in_process))


if __name__ == "__main__":
    main()
