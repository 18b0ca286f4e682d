"""Client CPU per request: `AsyncClient` against a raw aiohttp pool doing the same requests.

    python benchmarks/bench_client.py [--requests N] [--rounds R] [--concurrency 1 16 64]
                                      [--operations get create update delete] [--no-layers]
                                      [--profile OPERATION]

What is measured is the client process's own CPU time (`time.process_time`) per request, not
throughput: on a machine whose cores the server shares, throughput says more about the server
than about the client. The server answers fixed bodies (`_fixed_server.py`) in a child process.
For each operation (`get` of a realistic customer, `create`, `update`, `delete`) and each
concurrency, every round runs N requests of each contender, in an order that flips every
round; the SDK/raw ratio is taken within a round and its median over the rounds is reported
with the middle half of the rounds' ratios (the noise). Target: SDK/raw <= 1.15.

The contenders `backend` and `transport` are the SDK cut at a layer (see `_contenders.py`);
with the steps timed in isolation, and those of `get` timed again inside the request path
(`_layers.py`), they make the table of where the microseconds over raw go. `--profile get`
runs the SDK alone under cProfile instead and prints the functions that cost the most.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from collections import defaultdict

if "--no-speedups" in sys.argv:  # before the SDK is imported: measure the core alone
    sys.modules["orjson"] = None  # type: ignore[assignment]

from _contenders import CONTENDERS, LAYERS, OPERATIONS, Contender, open_contender
from _fixed_server import fixed_server
from _layers import in_path_steps, isolated_steps
from _measure import Sample, load_average, run_requests, spread

TARGET = 1.15
Figures = dict[tuple[str, int], dict[str, list[Sample]]]


async def measure(
    base_url: str,
    names: tuple[str, ...],
    operations: list[str],
    concurrencies: list[int],
    requests: int,
    rounds: int,
) -> Figures:
    contenders = [await open_contender(name, base_url) for name in names]
    figures: Figures = {}
    try:
        for contender in contenders:  # warm: connections, caches, first-call imports
            for operation in operations:
                await run_requests(contender.operation(operation), 50, max(concurrencies))
        for operation in operations:
            for concurrency in concurrencies:
                samples: dict[str, list[Sample]] = defaultdict(list)
                for round_number in range(rounds):
                    order: list[Contender] = (
                        contenders if round_number % 2 == 0 else contenders[::-1]
                    )
                    for contender in order:
                        sample = await run_requests(
                            contender.operation(operation), requests, concurrency
                        )
                        samples[contender.name].append(sample)
                figures[operation, concurrency] = samples
                print(f"  measured {operation} at concurrency {concurrency}", file=sys.stderr)
    finally:
        for contender in contenders:
            await contender.aclose()
    return figures


def report(figures: Figures, names: tuple[str, ...]) -> bool:
    """Print the ratio table; True when every SDK/raw ratio meets the target."""
    print("\nClient CPU per request, µs (median [middle half] of the rounds), SDK/raw ratio:")
    print(
        f"{'operation':<10}{'conc':>5}{'raw µs':>18}{'SDK µs':>18}{'SDK/raw':>20}"
        f"{'target':>8}  {'':<8}{'raw/s wall':>11}{'SDK/s wall':>11}"
    )
    every_met = True
    for (operation, concurrency), samples in figures.items():
        raw, sdk = samples["raw"], samples["sdk"]
        ratio = spread([mine.cpu / base.cpu for mine, base in zip(sdk, raw, strict=True)])
        met = ratio.median <= TARGET
        every_met &= met
        raw_cpu = spread([one.cpu * 1e6 for one in raw])
        sdk_cpu = spread([one.cpu * 1e6 for one in sdk])
        raw_rate = 1 / spread([one.wall for one in raw]).median
        sdk_rate = 1 / spread([one.wall for one in sdk]).median
        print(
            f"{operation:<10}{concurrency:>5}{raw_cpu:>18.0f}{sdk_cpu:>18.0f}{ratio:>20.2f}"
            f"{'<= ' + format(TARGET, '.2f'):>8}  {'met' if met else 'NOT MET':<8}"
            f"{raw_rate:>11.0f}{sdk_rate:>11.0f}"
        )
    if any(layer in names for layer in LAYERS):
        print("\nWhere the µs over raw go, measured in the same rounds (median of per-round")
        print("differences, client CPU µs per request):")
        print(
            f"{'operation':<10}{'conc':>5}{'SDK-raw':>9}{'backend-raw':>13}"
            f"{'transport-backend':>19}{'unparsed-transport':>20}{'SDK-unparsed':>14}"
        )
        for (operation, concurrency), samples in figures.items():
            over = {
                pair: _difference(samples[pair[0]], samples[pair[1]])
                for pair in (
                    ("sdk", "raw"),
                    ("backend", "raw"),
                    ("transport", "backend"),
                    ("unparsed", "transport"),
                    ("sdk", "unparsed"),
                )
            }
            print(
                f"{operation:<10}{concurrency:>5}{over['sdk', 'raw']:>9.0f}"
                f"{over['backend', 'raw']:>13.0f}{over['transport', 'backend']:>19.0f}"
                f"{over['unparsed', 'transport']:>20.0f}{over['sdk', 'unparsed']:>14.0f}"
            )
        print("\nThe SDK without its result models (`customers.with_raw_response`, parsed only")
        print("on `.parse()`), against raw: the rest of the SDK's request path.")
        print(f"{'operation':<10}{'conc':>5}{'unparsed/raw':>20}{'target':>8}")
        for (operation, concurrency), samples in figures.items():
            unparsed = spread(
                [
                    mine.cpu / base.cpu
                    for mine, base in zip(samples["unparsed"], samples["raw"], strict=True)
                ]
            )
            verdict = "met" if unparsed.median <= TARGET else "NOT MET"
            print(
                f"{operation:<10}{concurrency:>5}{unparsed:>20.2f}"
                f"{'<= ' + format(TARGET, '.2f'):>8}  {verdict}"
            )
    return every_met


def _difference(mine: list[Sample], base: list[Sample]) -> float:
    """The median over rounds of the CPU µs per request `mine` took more than `base`."""
    return spread([(a.cpu - b.cpu) * 1e6 for a, b in zip(mine, base, strict=True)]).median


async def profile(base_url: str, operation: str, requests: int, concurrency: int) -> None:
    contender = await open_contender("sdk", base_url)
    try:
        one = contender.operation(operation)
        await run_requests(one, 100, concurrency)
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        await run_requests(one, requests, concurrency)
        profiler.disable()
    finally:
        await contender.aclose()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(120)
    print(text.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=400, help="per contender and round")
    parser.add_argument("--rounds", type=int, default=11, help="alternating rounds")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--operations", nargs="+", choices=OPERATIONS, default=list(OPERATIONS))
    parser.add_argument(
        "--no-layers", action="store_true", help="only raw and SDK (no per-layer table)"
    )
    parser.add_argument("--profile", choices=OPERATIONS, help="cProfile the SDK doing this")
    parser.add_argument(
        "--no-speedups", action="store_true", help="the SDK without orjson, even if installed"
    )
    args = parser.parse_args()

    with fixed_server() as base_url:
        if args.profile:
            asyncio.run(profile(base_url, args.profile, args.requests, args.concurrency[0]))
            return 0
        names = CONTENDERS if args.no_layers else CONTENDERS + LAYERS
        load_before = load_average()
        started = time.perf_counter()
        figures = asyncio.run(
            measure(base_url, names, args.operations, args.concurrency, args.requests, args.rounds)
        )
        elapsed = time.perf_counter() - started
        from checkout_customers._json import speedups

        print(
            f"speedups (orjson) {'on' if speedups() else 'off'}; "
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
            f"{load_before} before / {load_average()} after, {args.rounds} alternating rounds "
            f"of {args.requests} requests per contender, fixed-body server in a child process, "
            f"{elapsed:.0f} s"
        )
        every_met = report(figures, names)
        if not args.no_layers:
            print("\nSteps of the SDK's path timed in isolation (CPU µs per call, no network):")
            for name, micros in isolated_steps(base_url):
                print(f"  {name:<58}{micros:>7.1f}")
            print("\nSteps of `get` timed inside the request path (16 gets at a time, CPU µs):")
            for name, micros in asyncio.run(in_path_steps(base_url)):
                print(f"  {name:<58}{micros:>7.1f}")
    print(f"\nevery SDK/raw ratio <= {TARGET}: {'yes' if every_met else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
