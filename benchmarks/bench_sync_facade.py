"""The cost of the sync facade: sequential calls through `Client` vs awaited on `AsyncClient`.

    python benchmarks/bench_sync_facade.py [--requests N] [--rounds R]

The emulator runs in a child process (its own core), unthrottled, on loopback. Each round does
the same bounded work with each client: N sequential `customers.get` of one customer by id, then
N/4 sequential `customers.create`. The rounds alternate the two clients so that drift in the
machine affects both alike. The figure is the best round's time per call (the least disturbed
by other processes, as `timeit` advises), with the median beside it, and the ratio
`Client / AsyncClient` of the best rounds (target: at most 1.3). The facade's own cost is two
thread hand-offs per call, so on a busy machine the median ratio is higher than the best.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time

from _emulator_process import SECRET_KEY, emulator_process

from checkout_customers import AsyncClient, Client

TARGET_RATIO = 1.3
_emails = itertools.count()


def email() -> str:
    return f"bench{next(_emails)}@example.com"


async def async_round(base_url: str, customer_id: str, requests: int) -> float:
    async with AsyncClient(secret_key=SECRET_KEY, base_url=base_url) as cko:
        await cko.customers.get(customer_id)  # warm: session and connection
        started = time.perf_counter()
        for _ in range(requests):
            await cko.customers.get(customer_id)
        for _ in range(requests // 4):
            await cko.customers.create(email=email())
        return (time.perf_counter() - started) / (requests + requests // 4)


def sync_round(base_url: str, customer_id: str, requests: int) -> float:
    with Client(secret_key=SECRET_KEY, base_url=base_url) as cko:
        cko.customers.get(customer_id)  # warm: loop thread, session and connection
        started = time.perf_counter()
        for _ in range(requests):
            cko.customers.get(customer_id)
        for _ in range(requests // 4):
            cko.customers.create(email=email())
        return (time.perf_counter() - started) / (requests + requests // 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=300, help="GETs per round (default 300)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per client (default 7)")
    options = parser.parse_args()
    with emulator_process() as base_url:
        with Client(secret_key=SECRET_KEY, base_url=base_url) as cko:
            customer_id = cko.customers.create(email=email()).id
        async_times, sync_times = [], []
        for _ in range(options.rounds):
            async_times.append(asyncio.run(async_round(base_url, customer_id, options.requests)))
            sync_times.append(sync_round(base_url, customer_id, options.requests))
    async_call, sync_call = min(async_times), min(sync_times)
    ratio = sync_call / async_call
    median_ratio = statistics.median(sync_times) / statistics.median(async_times)
    print(f"sync facade, {options.rounds} rounds of {options.requests} GETs + creates, sequential:")
    for name, best, times in (
        ("AsyncClient", async_call, async_times),
        ("Client", sync_call, sync_times),
    ):
        print(
            f"  {name:<12} {best * 1e6:6.0f} us/call (median {statistics.median(times) * 1e6:.0f})"
            f"  {1 / best:6.0f} calls/s"
        )
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(
        f"  ratio Client/AsyncClient {ratio:.2f}x, median {median_ratio:.2f}x "
        f"({verdict} the {TARGET_RATIO}x target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
