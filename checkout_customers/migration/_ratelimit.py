"""Client-side pacing: a token bucket per budget (reads, writes) that adapts to 429 answers.

Each `AdaptiveRateLimiter` hands out send times at `rate` per second (with a small burst) using
the generic cell rate algorithm: `acquire()` reserves the next free slot and sleeps until it.
On a 429 the rate is cut multiplicatively (at most once per `cooldown`, so one burst of 429s
counts once); every second without a 429 it grows back additively towards the ceiling (AIMD,
as TCP does). Reads and writes have separate limiters because the API counts them separately.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["AdaptiveRateLimiter"]

DECREASE_FACTOR = 0.7
INCREASE_SHARE_PER_SECOND = 0.05
COOLDOWN_SECONDS = 1.0
BURST_SECONDS = 0.1


class AdaptiveRateLimiter:
    """Paces requests to at most `ceiling` per second, lower after 429s; None never waits.

    writes = AdaptiveRateLimiter(100.0)
    await writes.acquire()          # before each request
    writes.rate_limited()           # when the API answered 429
    """

    def __init__(
        self,
        ceiling: float | None,
        *,
        floor: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ceiling is not None and not ceiling > 0:
            raise ValueError(f"a rate must be a positive number of requests/s, got {ceiling}")
        self.ceiling = ceiling
        self._floor = min(floor, ceiling) if ceiling is not None else floor
        self._clock = clock
        self.rate = ceiling
        self.rate_limited_count = 0
        self._next_slot = 0.0  # the theoretical arrival time of the next request
        now = clock()
        self._last_change = now
        self._last_decrease = now - COOLDOWN_SECONDS

    def __repr__(self) -> str:
        return f"<AdaptiveRateLimiter rate={self.rate} ceiling={self.ceiling}>"

    def reserve(self) -> float:
        """Reserve the next send slot; return how many seconds to wait for it."""
        rate = self.rate
        if rate is None:
            return 0.0
        now = self._clock()
        self._recover(now)
        interval = 1.0 / rate
        tolerance = max(0.0, BURST_SECONDS * rate - 1.0) * interval
        slot = max(self._next_slot, now - tolerance)
        self._next_slot = slot + interval
        return max(0.0, slot - now)

    async def acquire(self) -> None:
        """Wait until one more request may be sent."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    def rate_limited(self) -> None:
        """The API answered 429: slow down (at most once per cooldown) and drop any burst."""
        self.rate_limited_count += 1
        if self.rate is None or self.ceiling is None:
            return
        now = self._clock()
        self._next_slot = max(self._next_slot, now + 1.0 / self.rate)
        if now - self._last_decrease < COOLDOWN_SECONDS:
            return
        self.rate = max(self._floor, self.rate * DECREASE_FACTOR)
        self._last_decrease = self._last_change = now

    def _recover(self, now: float) -> None:
        assert self.rate is not None
        assert self.ceiling is not None
        if self.rate >= self.ceiling:
            self._last_change = now
            return
        elapsed = now - self._last_change
        if elapsed >= 1.0 and now - self._last_decrease >= COOLDOWN_SECONDS:
            step = self.ceiling * INCREASE_SHARE_PER_SECOND * int(elapsed)
            self.rate = min(self.ceiling, self.rate + step)
            self._last_change = now
