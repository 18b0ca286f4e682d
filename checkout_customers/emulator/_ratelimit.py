"""Per-account token buckets: one for reads (GET), one for writes (POST, PATCH, DELETE).

Each bucket holds at most one second of requests (at least one token) and refills
continuously, which is how the API's "100 requests/s" limits behave seen from a client.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["RateLimiter", "TokenBucket"]


class TokenBucket:
    """`rate` tokens per second, holding at most `capacity`; starts full."""

    __slots__ = ("_capacity", "_clock", "_rate", "_tokens", "_updated")

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._updated = clock()

    def take(self) -> bool:
        """Take one token if there is one."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class RateLimiter:
    """The buckets of every account, created on first use; a None rate never limits."""

    def __init__(self, read_rate: float | None, write_rate: float | None) -> None:
        self._rates = {"read": read_rate, "write": write_rate}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def allow(self, account: str, kind: str) -> bool:
        """Whether `account` may make one more request of `kind` ("read" or "write") now."""
        rate = self._rates[kind]
        if rate is None:
            return True
        bucket = self._buckets.get((account, kind))
        if bucket is None:
            bucket = self._buckets[account, kind] = TokenBucket(rate, max(1.0, rate))
        return bucket.take()
