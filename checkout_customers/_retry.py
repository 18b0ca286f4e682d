"""When to retry, and how long to wait before the next attempt.

The rules, in one place:

- GET, PATCH and DELETE are idempotent: retry 408, 429, 5xx and connection failures.
- `POST /customers` is not idempotent on this API (no idempotency key for customers), so it is
  retried only when the request provably never reached the server: the connection could not be
  opened, or the API answered 429 (it refused to act). Anything else raises, so a retry can never
  create a second customer.
- Whatever the method, a TLS failure, a proxy refusing the tunnel and an answer over the size
  cap are never retried (trying again cannot help), and neither is any other non-2xx status.
- A 401 is retried once, even for a create (the API did not act), when the credential can be
  renewed (an OAuth token).
- A DELETE answered 404 after an earlier attempt of the same call may have acted is done.
- Waits are exponential with full jitter; a `Retry-After` header (seconds or an HTTP date) is
  honoured, capped at `MAX_RETRY_AFTER_SECONDS`.
- The call's deadline (`Timeout.deadline`) is never passed: a retry whose wait would end past
  it is not made, and the last error is raised at once.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

from ._backend import FailureKind

__all__ = [
    "BACKOFF_BASE_SECONDS",
    "BACKOFF_MAX_SECONDS",
    "MAX_RETRY_AFTER_SECONDS",
    "done_when_missing",
    "fits_deadline",
    "may_have_acted",
    "retry_delay",
    "should_refresh_credentials",
    "should_retry_failure",
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
    return status in _RETRYABLE_STATUSES or 500 <= status < 600


_NEVER_RETRIED = frozenset({FailureKind.TLS, FailureKind.PROXY, FailureKind.TOO_LARGE})


def should_retry_failure(kind: FailureKind, *, idempotent: bool) -> bool:
    """True when an attempt that failed this way may be tried again."""
    if kind in _NEVER_RETRIED:
        return False
    return idempotent or not kind.sent


def should_refresh_credentials(status: int, *, refreshed: bool) -> bool:
    """True when a fresh credential is worth one more attempt (401, once per call)."""
    return status == 401 and not refreshed


def may_have_acted(status: int) -> bool:
    """True when an answer with `status` leaves open whether the API acted (5xx)."""
    return status >= 500


def done_when_missing(method: str, status: int, *, unanswered_before: bool) -> bool:
    """True when a 404 means this call's own earlier attempt already did the work."""
    return status == 404 and method == "DELETE" and unanswered_before


def fits_deadline(delay: float, remaining: float) -> bool:
    """True when waiting `delay` seconds still leaves time for another attempt."""
    return delay < remaining


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
