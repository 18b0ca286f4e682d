"""Riding out outages: a circuit breaker that pauses every request while the API looks down.

A run must not grind its rows into `failed` against an API that is unreachable or answers 5xx
to everything, nor hammer it meanwhile. The breaker counts failures (no answer, or a 5xx) in a
row across all requests; any other answer (2xx, 404, 409, 429, ...) resets the count. After
`threshold` failures in a row it opens: no request is sent, except one probe at a time after
a growing pause (`FIRST_PROBE_SECONDS`, doubled up to `MAX_PROBE_SECONDS`). The first answer
closes it again. Failures seen while it is open are the outage's, not the row's: they do not
count against a row's attempts.

    breaker = CircuitBreaker(on_change=print)
    if not breaker.closed:
        await breaker.admit(stopping)     # waits for the breaker to close or for its turn to probe
    ... send ...
    breaker.answered()  or  outage = breaker.failed("connection refused")

`check_reachable` is the one request a run sends before anything else: an API that cannot be
reached at all stops the run at once with `ApiUnreachableError`, before any row is touched.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import anyio

from .._client import AsyncClient
from .._errors import CheckoutConnectionError, RateLimitError, ServerError

__all__ = ["ApiUnreachableError", "CircuitBreaker", "Stopped", "check_reachable"]

#: Failures in a row that open the breaker. At a 5% fault rate, eight in a row happen once in
#: 2.6e10 requests; an outage opens it within a few requests of the 64 in flight.
DEFAULT_THRESHOLD = 8
FIRST_PROBE_SECONDS = 0.5
MAX_PROBE_SECONDS = 8.0
_POLL_SECONDS = 0.1

#: What the reachability check looks up: a reserved domain (RFC 2606) that holds no customer.
PROBE_EMAIL = "reachability-check@example.invalid"
#: Attempts of the reachability check, and how long they may take together.
PROBE_ATTEMPTS = 3
PROBE_SECONDS = 15.0


class ApiUnreachableError(CheckoutConnectionError):
    """The API could not be reached when the run started; nothing was sent for any row."""


class Stopped(Exception):
    """The run was asked to stop while waiting for the API to come back."""


class CircuitBreaker:
    """Opens after `threshold` failures in a row, probes, closes on the first answer.

    `on_change` is told a sentence when the breaker opens ("API unreachable (cause)") and None
    when it closes.
    """

    def __init__(
        self,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        on_change: Callable[[str | None], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.closed = True
        self.threshold = threshold
        self.cause: str | None = None
        self.outages = 0
        self._on_change = on_change
        self._clock = clock
        self._failures = 0
        self._pause = FIRST_PROBE_SECONDS
        self._next_probe = 0.0
        self._probing = False
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"open ({self.cause})"
        return f"<CircuitBreaker {state}>"

    def answered(self) -> None:
        """A request got an answer that is not a 5xx: the API is there."""
        self._failures = 0
        if not self.closed:
            self.closed = True
            self._probing = False
            self.cause = None
            self._pause = FIRST_PROBE_SECONDS
            self._wake()
            if self._on_change is not None:
                self._on_change(None)

    def failed(self, cause: str) -> bool:
        """A request got no answer or a 5xx; True when that is blamed on an outage."""
        if self.closed:
            self._failures += 1
            if self._failures < self.threshold:
                return False
            self.closed = False
            self.outages += 1
            self._pause = FIRST_PROBE_SECONDS
        elif self._probing:
            self._pause = min(MAX_PROBE_SECONDS, self._pause * 2)
        else:
            return True  # sent before the breaker opened, failed since: the same outage
        self._probing = False
        self._next_probe = self._clock() + self._pause
        self.cause = cause
        self._wake()
        if self._on_change is not None:
            self._on_change(f"API unreachable ({cause}), probing")
        return True

    async def admit(self, stopping: Callable[[], bool]) -> None:
        """Return once a request may be sent: the breaker closed, or it is this one's turn to
        probe. Raises `Stopped` when `stopping()` turns true meanwhile."""
        while not self.closed:
            if stopping():
                raise Stopped
            if not self._probing:
                wait = self._next_probe - self._clock()
                if wait <= 0:
                    self._probing = True
                    return
            else:
                wait = _POLL_SECONDS
            self._changed.clear()
            with anyio.move_on_after(min(max(wait, 0.0), _POLL_SECONDS)):
                await self._changed.wait()

    def _wake(self) -> None:
        self._changed.set()


def describe_failure(exc: BaseException) -> str:
    """A short cause for the progress line: the API's status, or the connection's trouble
    (the operating system's words for it when there are any: "Connection refused")."""
    if isinstance(exc, ServerError):
        return f"answers {exc.status}"
    text = str(exc)
    system = _system_error(exc)
    if system is not None and system.lower() not in text.lower():
        text = f"{text} ({system})"
    return text if len(text) <= 160 else text[:157] + "..."


def _system_error(exc: BaseException) -> str | None:
    """The strerror of the first OSError with an errno among the causes of `exc`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return None  # its errno is OpenSSL's, not the system's; the text says it all
        if isinstance(current, OSError) and isinstance(current.errno, int) and current.errno > 0:
            return os.strerror(current.errno)
        nested = getattr(current, "os_error", None)  # aiohttp's ClientConnectorError
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return None


async def check_reachable(client: AsyncClient) -> None:
    """Look up an address that has no customer, to learn that the API answers at all.

    Any answer but a 5xx will do (a refused credential raises `AuthenticationError` here, before
    any row is touched). Raises `ApiUnreachableError` naming the host and the cause when the
    API cannot be reached, or answers 5xx to every attempt, within `PROBE_SECONDS`.
    """
    host = urlsplit(client.base_url).hostname or client.base_url
    cause = "no answer"
    with anyio.move_on_after(PROBE_SECONDS):
        for attempt in range(PROBE_ATTEMPTS):
            try:
                await client.customers.find(PROBE_EMAIL, max_retries=0)
            except RateLimitError:
                return  # the API answers; the run's pacing deals with its limits
            except (CheckoutConnectionError, ServerError) as exc:
                cause = describe_failure(exc)
                if attempt + 1 < PROBE_ATTEMPTS:
                    await anyio.sleep(FIRST_PROBE_SECONDS * 2**attempt)
                continue
            return
    if cause == "no answer":
        cause = f"no answer within {PROBE_SECONDS:g} s"
    raise ApiUnreachableError(f"cannot reach the API at {host}: {cause}")
