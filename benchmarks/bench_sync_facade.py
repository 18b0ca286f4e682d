"""The cost of the sync facade: sequential `Client` calls against the same calls awaited.

    python benchmarks/bench_sync_facade.py [--requests N] [--rounds R]

The fixed-body server (`_fixed_server.py`) runs in a child process. Each round makes N
sequential `customers.get` of a realistic customer with each contender, in an order that flips
every round:

- `AsyncClient`: awaited on an event loop in this thread (the baseline);
- `Client`: the sync facade, called from this thread;
- `bare hop`: the floor of any loop-in-a-thread design: `AsyncClient.customers.get` sent to a
  loop in another thread with `asyncio.run_coroutine_threadsafe(...).result()`, nothing else;
- `no-op hop` (reported in µs): `run_coroutine_threadsafe` of a coroutine that does nothing.

Both the client process's CPU (`time.process_time`, every thread) and the wall time per call
are measured; the ratios to `AsyncClient` are taken within each round and their medians are
reported with the middle half of the rounds (the noise). Target: `Client` <= 1.15x.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from _emulator_process import SECRET_KEY
from _fixed_server import CUSTOMER_ID, fixed_server
from _measure import Sample, load_average, spread

from checkout_customers import AsyncClient, Client

TARGET = 1.15


def timed(calls: int, call: Callable[[], Any]) -> Sample:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        call()
    return Sample((time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls)


class LoopThread:
    """An event loop running in a daemon thread, as the facade's own is."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, awaitable: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(awaitable, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


async def _nothing() -> None:
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=300, help="calls per contender and round")
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds")
    options = parser.parse_args()
    calls = options.requests

    with fixed_server() as base_url:
        here = asyncio.new_event_loop()
        there = LoopThread()
        awaited = AsyncClient(secret_key=SECRET_KEY, base_url=base_url)
        hopped = there.run(_make_client(base_url))
        facade = Client(secret_key=SECRET_KEY, base_url=base_url)

        async def awaited_calls() -> Sample:
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(calls):
                await awaited.customers.get(CUSTOMER_ID)
            return Sample((time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls)

        def async_round() -> Sample:
            gc.collect()
            return here.run_until_complete(awaited_calls())

        contenders: dict[str, Callable[[], Sample]] = {
            "AsyncClient": async_round,
            "Client": lambda: timed(calls, lambda: facade.customers.get(CUSTOMER_ID)),
            "bare hop": lambda: timed(calls, lambda: there.run(hopped.customers.get(CUSTOMER_ID))),
            "no-op hop": lambda: timed(calls, lambda: there.run(_nothing())),
        }
        for run in contenders.values():  # warm: sessions, connections, loop thread
            run()
        load_before = load_average()
        samples: dict[str, list[Sample]] = {name: [] for name in contenders}
        order = list(contenders)
        for round_number in range(options.rounds):
            for name in order if round_number % 2 == 0 else order[::-1]:
                samples[name].append(contenders[name]())
        facade.close()
        there.run(hopped.aclose())
        there.close()
        here.run_until_complete(awaited.aclose())
        here.close()

    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load_before} "
        f"before / {load_average()} after; {options.rounds} alternating rounds of {calls} "
        "sequential customers.get, fixed-body server in a child process"
    )
    print(
        f"{'contender':<13}{'CPU µs/call':>20}{'wall µs/call':>20}"
        f"{'CPU ratio':>20}{'wall ratio':>20}"
    )
    baseline = samples["AsyncClient"]
    verdicts = []
    for name, figures in samples.items():
        cpu = spread([one.cpu * 1e6 for one in figures])
        wall = spread([one.wall * 1e6 for one in figures])
        if name == "no-op hop":
            print(f"{name:<13}{cpu:>20.0f}{wall:>20.0f}")
            continue
        cpu_ratio = spread([a.cpu / b.cpu for a, b in zip(figures, baseline, strict=True)])
        wall_ratio = spread([a.wall / b.wall for a, b in zip(figures, baseline, strict=True)])
        print(f"{name:<13}{cpu:>20.0f}{wall:>20.0f}{cpu_ratio:>20.2f}{wall_ratio:>20.2f}")
        if name == "Client":
            verdicts = [("CPU", cpu_ratio.median), ("wall", wall_ratio.median)]
    for what, ratio in verdicts:
        verdict = "met" if ratio <= TARGET else "NOT MET"
        print(f"Client/AsyncClient, {what}: {ratio:.2f}x, target <= {TARGET}x: {verdict}")
    return 0


async def _make_client(base_url: str) -> AsyncClient:
    return AsyncClient(secret_key=SECRET_KEY, base_url=base_url)


if __name__ == "__main__":
    sys.exit(main())
