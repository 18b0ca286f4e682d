"""When to retry, and how long to wait before the next attempt.

The rules, in one place:

- GET, PATCH and DELETE are idempotent: retry 408, 429, 5xx and connection failures.
- `POST /customers` is not idempotent on this API (no idempotency key for customers), so it is
  retried only when the request provably never reached the server: the connection could not be
  opened, or the API answered 429 (it refused to act). Anything else raises, so a retry can never
  create a second customer.
- Waits are exponential with full jitter; a `Retry-After` header (seconds or an HTTP date) is
  honoured, capped at `MAX_RETRY_AFTER_SECONDS`.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_MAX_SECONDS",
    "MAX_RETRY_AFTER_SECONDS",
    "retry_delay",
    "should_retry_status",
]

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 60.0

_RETRYABLE_STATUSES = frozenset({408, 429})


def should_retry_status(status: int, *, idempotent: bool) -> bool:
    """True when an answer with `status` may be retried for this kind of request."""
    if status == 429:
        return True  # the API refused to act, whatever the method
    if not idempotent:
        return False
    return status in _RETRYABLE_STATUSES or status >= 500


def _parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def retry_delay(retry_number: int, headers: Mapping[str, str] | None = None) -> float:
    """Seconds to wait before retry number `retry_number` (0 for the first retry)."""
    try:
        retry_after = _parse_retry_after(headers)
    except (TypeError, ValueError, OverflowError):
        retry_after = None
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER_SECONDS)
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * (2**retry_number))
    return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
