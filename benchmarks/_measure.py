"""How the client benchmarks measure: client CPU per request, alternating rounds, medians.

A *round* runs N requests of one contender at concurrency C and reads the process's own CPU
clock (`time.process_time`, every thread of this process, nothing of the server's) around it.
Contenders take turns within a round, in an order that flips every round, so that drift in a
shared machine hits them alike; a ratio is taken within each round and the median over rounds
is reported, with the spread of the middle half as the noise.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

__all__ = ["Sample", "Spread", "load_average", "run_requests", "spread"]

One = Callable[[int], Awaitable[Any]]


@attrs.frozen
class Sample:
    """One contender's round: CPU and wall seconds per request."""

    cpu: float
    wall: float


async def run_requests(one: One, total: int, concurrency: int) -> Sample:
    """Run `one(0..total-1)` with `concurrency` workers; the client's CPU and wall per request."""
    gc.collect()  # the previous contender's garbage is not this one's cost
    indexes = iter(range(total))

    async def worker() -> None:
        for index in indexes:
            await one(index)

    cpu, wall = time.process_time(), time.perf_counter()
    if concurrency == 1:
        await worker()
    else:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Sample(
        cpu=(time.process_time() - cpu) / total, wall=(time.perf_counter() - wall) / total
    )


@attrs.frozen
class Spread:
    """The median of some figures and the bounds of their middle half."""

    median: float
    low: float
    high: float

    def __format__(self, spec: str) -> str:
        # `spec` is a width and a precision, e.g. ">20.2f": the precision applies to each
        # figure, the width to the whole text.
        width, dot, precision = spec.partition(".")
        figure = f".{precision}" if dot else ""
        text = f"{self.median:{figure}} [{self.low:{figure}}-{self.high:{figure}}]"
        return f"{text:{width}}"


def spread(values: Sequence[float]) -> Spread:
    """Median and inter-quartile range (of one value: that value thrice)."""
    if len(values) < 2:
        return Spread(values[0], values[0], values[0])
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(statistics.median(values), low, high)


def load_average() -> str:
    """The 1-minute load average, to say how busy the shared machine was."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover - not on this platform
        return "n/a"
