"""The adaptive rate limiter, on a fake clock."""

from __future__ import annotations

import pytest

from checkout_customers.migration._ratelimit import AdaptiveRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_slots_are_spaced_at_the_rate_after_a_small_burst() -> None:
    clock = Clock()
    limiter = AdaptiveRateLimiter(100.0, clock=clock)
    waits = [limiter.reserve() for _ in range(30)]
    assert waits[:10] == [0.0] * 10  # a burst of a tenth of a second
    assert waits[29] == pytest.approx(0.2)  # then one slot every 10 ms
    clock.now += 10
    assert limiter.reserve() == 0.0


def test_a_429_cuts_the_rate_once_per_cooldown_then_it_recovers() -> None:
    clock = Clock()
    limiter = AdaptiveRateLimiter(100.0, clock=clock)
    limiter.rate_limited()
    limiter.rate_limited()  # the same burst of 429s
    assert limiter.rate == pytest.approx(70.0)
    clock.now += 1.0
    limiter.rate_limited()
    assert limiter.rate == pytest.approx(49.0)
    assert limiter.rate_limited_count == 3
    for _ in range(20):
        clock.now += 1.0
        limiter.reserve()
    assert limiter.rate == pytest.approx(100.0)


def test_the_rate_never_falls_below_the_floor() -> None:
    clock = Clock()
    limiter = AdaptiveRateLimiter(10.0, clock=clock, floor=2.0)
    for _ in range(20):
        clock.now += 1.0
        limiter.rate_limited()
    assert limiter.rate == pytest.approx(2.0)


def test_no_ceiling_never_waits() -> None:
    limiter = AdaptiveRateLimiter(None)
    assert all(limiter.reserve() == 0.0 for _ in range(1000))
    limiter.rate_limited()
    assert limiter.rate is None


def test_a_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        AdaptiveRateLimiter(0.0)
