"""Migration benchmarks: rate-limit use, overhead, the official SDK, and memory.

    python benchmarks/bench_migration.py                    # every benchmark (about 5 minutes)
    python benchmarks/bench_migration.py --only rate        # or overhead, official, memory,
                                                            # faults, chaos
    python benchmarks/bench_migration.py --large-rows 20000 # a shorter memory run

Every figure is measured against `checkout-customers emulator` running in a child process,
over loopback:

- rate: the emulator limited to 100 writes/s and 100 reads/s per account (the API's
  defaults); `migrate` with its default client-side rates. Target: >= 90 creates/s, few 429s.
  Also with the client set above the account's limit, where AIMD has to find the limit.
- overhead: no limits; `migrate` (journal, lookups, pacing off) vs a raw aiohttp worker pool
  sending the same requests (GET by email, then POST) with the same concurrency, and vs the
  same pool through `AsyncClient`, to tell the core's share of the cost from the migration's.
  Target: the ratio of rows/s >= 0.8.
- official: the official `checkout-sdk` package doing the same lookup + create per row,
  sequentially and from 16 threads, vs `migrate`.
- memory: peak RSS of `checkout-customers migrate` (a child process) for 1k and for 100k rows.
  Target: within 20%.
- faults: the emulator at 100 writes/s + 100 reads/s with 150 ms latency, answering 500 to 5%
  of requests; `migrate` with default options (settle window 65 s). Target: >= 80 customers
  created per second over the first 30 s; total time close to N / rate + the settle window.
- chaos: 2,000 rows, same limits and latency, 5% 500 + 5% act-then-drop + 2% reset,
  `settle_seconds=10`. Target: under 70 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from _emulator_process import LAUNCH, SECRET_KEY, emulator_process
from _official_sdk import official_api

from checkout_customers import AsyncClient, NotFoundError, Timeout
from checkout_customers.migration import DEFAULT_SETTLE_SECONDS, RowResult, RowStatus, migrate

DEFAULT_TIMEOUT = Timeout()
CONCURRENCY = 64
SDK_TIMEOUT = aiohttp.ClientTimeout(
    total=DEFAULT_TIMEOUT.total,
    connect=DEFAULT_TIMEOUT.pool + DEFAULT_TIMEOUT.connect,
    sock_connect=DEFAULT_TIMEOUT.connect,
    sock_read=DEFAULT_TIMEOUT.read,
)


def rows(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "email": f"{prefix}{number}@example.com",
            "name": f"Bench {number}",
            "metadata": {"crm_id": number},
        }
        for number in range(count)
    ]


async def run_migrate(base_url: str, items: list[dict[str, Any]], **options: Any) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        async with AsyncClient(secret_key=SECRET_KEY, base_url=base_url) as cko:
            return await migrate(cko, items, journal=Path(folder, "journal.sqlite3"), **options)


# -- rate-limit utilisation ------------------------------------------------------------------


def bench_rate(count: int) -> None:
    print(f"\n== rate: emulator at 100 writes/s + 100 reads/s, {count} rows ==")
    with emulator_process("--write-rate", "100", "--read-rate", "100") as base_url:
        for label, rate in (("client at 100/s (default)", 100.0), ("client at 150/s", 150.0)):
            report = asyncio.run(
                run_migrate(
                    base_url, rows(f"rate{int(rate)}-", count), write_rate=rate, read_rate=rate
                )
            )
            creates_per_second = report.created / report.elapsed_seconds
            share = creates_per_second / 100
            print(
                f"{label:<28} {report.created} created in {report.elapsed_seconds:6.2f} s = "
                f"{creates_per_second:6.1f} creates/s ({share:.0%} of the limit), "
                f"{report.rate_limited} answered 429 "
                f"({report.rate_limited / max(1, report.creates_sent + report.lookups_sent):.1%})"
            )


# -- under faults: parking keeps the pace -----------------------------------------------------

FAULT_LIMITS = ("--write-rate", "100", "--read-rate", "100", "--latency-ms", "150")


async def timed_migrate(
    base_url: str, items: list[dict[str, Any]], **options: Any
) -> tuple[Any, list[float]]:
    """`migrate` with default options; also when each row ended `created` (s from the start)."""
    created: list[float] = []
    started = time.perf_counter()

    def progress(result: RowResult) -> None:
        if result.status is RowStatus.CREATED:
            created.append(time.perf_counter() - started)

    report = await run_migrate(base_url, items, progress=progress, **options)
    return report, created


def bench_faults(count: int) -> None:
    print(
        f"\n== faults: emulator at 100 writes/s + 100 reads/s, 150 ms latency, 5% answered 500; "
        f"{count} rows, default options =="
    )
    with emulator_process(*FAULT_LIMITS, "--fault-500", "0.05", "--seed", "9") as base_url:
        report, created = asyncio.run(timed_migrate(base_url, rows("fault-", count)))
    first = sum(1 for moment in created if moment <= 30.0)
    bound = count / 100 + DEFAULT_SETTLE_SECONDS
    print(
        f"created over the first 30 s   {first / 30:6.1f} customers/s   (target >= 80)\n"
        f"total                         {report.elapsed_seconds:6.1f} s for {report.created} "
        f"created, {report.failed} failed   (N / rate + settle window = {bound:.0f} s)\n"
        f"requests                      {report.creates_sent} creates, {report.lookups_sent} "
        f"lookups, {report.rate_limited} answered 429"
    )


def bench_chaos(count: int) -> None:
    print(
        f"\n== chaos: {count} rows, 100 + 100 /s, 150 ms latency, 5% 500 + 5% act-then-drop "
        "+ 2% reset, settle_seconds=10 =="
    )
    faults = ("--fault-500", "0.05", "--fault-drop", "0.05", "--fault-reset", "0.02")
    with emulator_process(*FAULT_LIMITS, *faults, "--seed", "11") as base_url:
        report, _ = asyncio.run(timed_migrate(base_url, rows("chaos-", count), settle_seconds=10))
    print(
        f"total                         {report.elapsed_seconds:6.1f} s   (target < 70 s; "
        f"N / rate + settle window = {count / 100 + 10:.0f} s)\n"
        f"rows                          {report.created} created, {report.existing} existing, "
        f"{report.failed} failed; {report.creates_sent} creates, {report.lookups_sent} lookups"
    )


# -- overhead vs a raw aiohttp pool ----------------------------------------------------------


async def raw_pool(base_url: str, items: list[dict[str, Any]]) -> float:
    """Rows/s of a bare aiohttp worker pool: GET by email (404), then POST, per row.

    It sets the same explicit timeouts as the SDK (a pool without them could hang forever on
    a stuck connection) and reads the new customer's id, as any real migration must.
    """
    headers = {"Authorization": f"Bearer {SECRET_KEY}"}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    work = iter(items)
    async with aiohttp.ClientSession(
        base_url, connector=connector, headers=headers, timeout=SDK_TIMEOUT
    ) as session:

        async def worker() -> None:
            for item in work:
                path = "/customers/" + quote(item["email"], safe="")
                async with session.get(path) as response:
                    await response.read()
                async with session.post("/customers", json=item) as response:
                    assert response.status == 201, response.status
                    assert (await response.json())["id"]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return len(items) / (time.perf_counter() - started)


async def client_pool(base_url: str, items: list[dict[str, Any]]) -> float:
    """Rows/s of the same worker pool through `AsyncClient` (no journal, no pacing)."""
    async with AsyncClient(secret_key=SECRET_KEY, base_url=base_url) as cko:
        work = iter(items)

        async def worker() -> None:
            for item in work:
                with contextlib.suppress(NotFoundError):
                    await cko.customers.get(item["email"], max_retries=0)
                await cko.customers.create(**item, max_retries=0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return len(items) / (time.perf_counter() - started)


def bench_overhead(count: int, rounds: int) -> float:
    print(
        f"\n== overhead: no rate limits, {count} rows, concurrency {CONCURRENCY}, "
        f"{rounds} interleaved rounds =="
    )
    raw: list[float] = []
    client: list[float] = []
    ours: list[float] = []
    with emulator_process() as base_url:
        asyncio.run(raw_pool(base_url, rows("warm-", 300)))
        for number in range(rounds):
            raw.append(asyncio.run(raw_pool(base_url, rows(f"raw{number}-", count))))
            client.append(asyncio.run(client_pool(base_url, rows(f"cli{number}-", count))))
            report = asyncio.run(
                run_migrate(
                    base_url,
                    rows(f"mig{number}-", count),
                    write_rate=None,
                    read_rate=None,
                    concurrency=CONCURRENCY,
                )
            )
            ours.append(report.rows / report.elapsed_seconds)
    for label, figures in (
        ("raw aiohttp pool", raw),
        ("AsyncClient pool", client),
        ("migrate (journal, lookups)", ours),
    ):
        rounds_text = ", ".join(f"{value:.0f}" for value in figures)
        print(
            f"{label:<27} {statistics.median(figures):8.1f} rows/s median, "
            f"{max(figures):.1f} best   (rounds: {rounds_text})"
        )

    # Each round runs the three back to back, so a ratio within one round cancels the drift of
    # a shared machine; many short rounds and the median of their ratios ignore the rounds
    # that met a burst of noise (short rounds also count the set-up of each contender more).
    def ratio(numerators: list[float], denominators: list[float]) -> float:
        return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))

    print(
        f"ratio migrate / raw         {ratio(ours, raw):8.2f}   (median per round; target >= 0.8)"
    )
    print(f"ratio AsyncClient / raw     {ratio(client, raw):8.2f}   (the core's share)")
    print(f"ratio migrate / AsyncClient {ratio(ours, client):8.2f}   (the migration's share)")
    return max(ours)


# -- the official SDK ------------------------------------------------------------------------


def official_rows_per_second(base_url: str, items: list[dict[str, Any]], threads: int) -> float:
    from checkout_sdk.customers.customers import CustomerRequest
    from checkout_sdk.exception import CheckoutApiException

    local = threading.local()

    def one(item: dict[str, Any]) -> None:
        api = getattr(local, "api", None)
        if api is None:
            api = local.api = official_api(base_url)
        try:
            api.customers.get(item["email"])
            return
        except CheckoutApiException:
            pass  # 404: not there yet
        request = CustomerRequest()
        request.email = item["email"]
        request.name = item["name"]
        request.metadata = item["metadata"]
        api.customers.create(request)

    started = time.perf_counter()
    if threads == 1:
        for item in items:
            one(item)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, items))
    return len(items) / (time.perf_counter() - started)


def bench_official(count: int) -> None:
    logging.disable(logging.ERROR)  # the official SDK logs every 404 of the look-ups
    print(f"\n== official checkout-sdk 4.8.1: lookup + create per row, {count} rows ==")
    with emulator_process() as base_url:
        sequential = official_rows_per_second(base_url, rows("sdk1-", count // 4), 1)
        threaded = official_rows_per_second(base_url, rows("sdk16-", count), 16)
        report = asyncio.run(
            run_migrate(base_url, rows("ours-", count), write_rate=None, read_rate=None)
        )
    ours = report.rows / report.elapsed_seconds
    print(f"checkout-sdk sequential     {sequential:8.1f} rows/s")
    print(f"checkout-sdk 16 threads     {threaded:8.1f} rows/s")
    print(
        f"migrate                     {ours:8.1f} rows/s "
        f"({ours / sequential:.1f}x sequential, {ours / threaded:.1f}x 16 threads)"
    )


# -- memory ----------------------------------------------------------------------------------


def peak_rss_mib(base_url: str, count: int, folder: Path) -> tuple[float, float]:
    source = folder / f"rows-{count}.csv"
    with source.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["email", "name", "metadata.crm_id"])
        for number in range(count):
            writer.writerow([f"mem{count}-{number}@example.com", f"Memory {number}", number])
    env = {**os.environ, "CKO_SECRET_KEY": SECRET_KEY, "CKO_BASE_URL": base_url}
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LAUNCH,
            "migrate",
            str(source),
            "--write-rate",
            "none",
            "--read-rate",
            "none",
            "--report",
            str(folder / f"report-{count}.jsonl"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"migrate of {count} rows exited {process.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started  # ru_maxrss is KiB on Linux


def bench_memory(small: int, large: int) -> None:
    print(f"\n== memory: peak RSS of `checkout-customers migrate`, {small} vs {large} rows ==")
    with emulator_process() as base_url, tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        small_rss, small_time = peak_rss_mib(base_url, small, folder)
        large_rss, large_time = peak_rss_mib(base_url, large, folder)
    print(f"{small:>7} rows   peak RSS {small_rss:7.1f} MiB   ({small_time:6.1f} s)")
    print(
        f"{large:>7} rows   peak RSS {large_rss:7.1f} MiB   ({large_time:6.1f} s, "
        f"{large / large_time:.0f} rows/s)"
    )
    print(f"growth             {large_rss / small_rss - 1:+7.1%}   (target within 20%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=("rate", "overhead", "official", "memory", "faults", "chaos")
    )
    parser.add_argument("--fault-rows", type=int, default=4000, help="rows for the fault run")
    parser.add_argument("--chaos-rows", type=int, default=2000, help="rows for the chaos run")
    parser.add_argument("--rows", type=int, default=3000, help="rows for the official SDK runs")
    parser.add_argument("--overhead-rows", type=int, default=1000, help="rows per overhead round")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved overhead rounds")
    parser.add_argument("--rate-rows", type=int, default=1500, help="rows for the rate runs")
    parser.add_argument("--small-rows", type=int, default=1000)
    parser.add_argument("--large-rows", type=int, default=100_000)
    args = parser.parse_args()
    if args.only in (None, "rate"):
        bench_rate(args.rate_rows)
    if args.only in (None, "overhead"):
        bench_overhead(args.overhead_rows, args.rounds)
    if args.only in (None, "official"):
        bench_official(args.rows)
    if args.only in (None, "memory"):
        bench_memory(args.small_rows, args.large_rows)
    if args.only in (None, "faults"):
        bench_faults(args.fault_rows)
    if args.only in (None, "chaos"):
        bench_chaos(args.chaos_rows)


if __name__ == "__main__":
    main()
