"""Fault injection: which misfortune, if any, meets a request, and how to inflict it.

Two sources, asked in this order for each `/customers` request:

- `FaultQueue`: faults a test asked for (`POST /_emulator/faults`, `RunningEmulator.fail_next`),
  each meeting the next requests that match its method, path prefix and email;
- `FaultPlan`: the start-time shares, drawn from a seeded `random.Random`, so a run with the
  same seed and the same request order meets the same faults.
"""

from __future__ import annotations

import enum
import itertools
import math
import random
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

from ._settings import EmulatorSettings

__all__ = [
    "FAULT_KINDS",
    "Fault",
    "FaultPlan",
    "FaultQueue",
    "QueuedFault",
    "drop_connection",
    "reset_connection",
    "retry_after_header",
]


class Fault(enum.Enum):
    """A misfortune; the value is the `kind` that names it on the admin path."""

    NONE = "none"
    #: Answer 500 without acting.
    SERVER_ERROR = "500"
    #: Answer 502 without acting (a gateway that lost its upstream).
    BAD_GATEWAY = "502"
    #: Answer 503 without acting.
    UNAVAILABLE = "503"
    #: Answer 429 without acting.
    RATE_LIMITED = "429"
    #: Reset the connection (TCP RST) before acting.
    RESET_BEFORE_ACTING = "reset"
    #: Act, then close the connection without answering.
    DROP_AFTER_ACTING = "drop_after_acting"
    #: Act, then answer only after `fault_slow_ms`.
    SLOW_AFTER_ACTING = "slow_after_acting"
    #: Wait `fault_slow_ms`, then act and answer.
    SLOW_BEFORE_ACTING = "act_late"

    @property
    def status(self) -> int | None:
        """The status answered without acting, for the faults that are a bare status."""
        return int(self.value) if self.value.isdigit() else None


#: The kinds `POST /_emulator/faults` accepts, in the order the docs list them.
FAULT_KINDS = tuple(fault.value for fault in Fault if fault is not Fault.NONE)
#: The kinds that may carry a `Retry-After` header.
_RETRY_AFTER_KINDS = frozenset({Fault.RATE_LIMITED, Fault.UNAVAILABLE})
_FAULT_FIELDS = frozenset({"kind", "method", "path", "email", "times", "retry_after"})


def retry_after_header(seconds: float) -> str:
    """`Retry-After` in delay-seconds, which RFC 9110 makes a whole number: rounded up."""
    return str(math.ceil(seconds))


class FaultPlan:
    """Draws the fault for each request from the shares in the settings."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self._random = random.Random(settings.seed)  # noqa: S311 - not for security
        self._enabled = settings.fault_total > 0
        self._thresholds: list[tuple[float, Fault]] = []
        total = 0.0
        for share, fault in (
            (settings.fault_500, Fault.SERVER_ERROR),
            (settings.fault_reset_before_acting, Fault.RESET_BEFORE_ACTING),
            (settings.fault_drop_after_acting, Fault.DROP_AFTER_ACTING),
            (settings.fault_slow_after_acting, Fault.SLOW_AFTER_ACTING),
            (settings.fault_slow_before_acting, Fault.SLOW_BEFORE_ACTING),
        ):
            total += share
            self._thresholds.append((total, fault))

    def draw(self) -> Fault:
        if not self._enabled:
            return Fault.NONE
        roll = self._random.random()
        for threshold, fault in self._thresholds:
            if roll < threshold:
                return fault
        return Fault.NONE


def _check_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _check_method(value: object) -> str | None:
    method = _check_text("method", value)
    if method is not None and not (method.isascii() and method.isalpha()):
        raise ValueError(f"method must be an HTTP method such as 'POST', got {value!r}")
    return None if method is None else method.upper()


def _check_path(value: object) -> str | None:
    path = _check_text("path", value)
    if path is not None and not path.startswith("/"):
        raise ValueError(f"path must be a path prefix starting with '/', got {value!r}")
    return path


def _check_times(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"times must be a whole number of at least 1, got {value!r}")
    return value


def _check_retry_after(kind: Fault, value: object) -> float | None:
    if value is None:
        return None
    if kind not in _RETRY_AFTER_KINDS:
        raise ValueError(
            f"retry_after applies only to the kinds '429' and '503', not {kind.value!r}"
        )
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"retry_after must be a non-negative number of seconds, got {value!r}")
    return float(value)


@attrs.define(kw_only=True)
class QueuedFault:
    """A fault waiting for its next `times` matching requests; None in a filter matches all."""

    id: int
    kind: Fault
    method: str | None = None
    path: str | None = None
    email: str | None = None
    times: int = 1
    retry_after: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "method": self.method,
            "path": self.path,
            "email": self.email,
            "times": self.times,
            "retry_after": self.retry_after,
        }


class FaultQueue:
    """Faults queued by tests, oldest first; safe to use from any thread.

    A request meets the oldest queued fault it matches, which then has one use fewer and
    leaves the queue after its last.
    """

    def __init__(self, email_key: Callable[[str], str] = str.lower) -> None:
        self._email_key = email_key
        self._lock = threading.Lock()
        self._faults: list[QueuedFault] = []
        self._ids = itertools.count(1)

    def __bool__(self) -> bool:
        return bool(self._faults)  # a read without the lock: a hint on the hot path

    def add(
        self,
        kind: object,
        *,
        method: object = None,
        path: object = None,
        email: object = None,
        times: object = 1,
        retry_after: object = None,
    ) -> QueuedFault:
        """Queue a fault; raises `ValueError` naming the first bad argument."""
        try:
            fault = Fault(kind)
        except ValueError:
            fault = Fault.NONE
        if fault is Fault.NONE:
            choices = ", ".join(repr(name) for name in FAULT_KINDS)
            raise ValueError(f"kind must be one of {choices}, got {kind!r}")
        queued = QueuedFault(
            id=0,
            kind=fault,
            method=_check_method(method),
            path=_check_path(path),
            email=_check_text("email", email),
            times=_check_times(times),
            retry_after=_check_retry_after(fault, retry_after),
        )
        with self._lock:
            queued.id = next(self._ids)
            self._faults.append(queued)
        return attrs.evolve(queued)

    def add_json(self, body: object) -> QueuedFault:
        """Queue the fault a `POST /_emulator/faults` body describes; raises `ValueError`."""
        if not isinstance(body, Mapping):
            raise ValueError('the body must be a JSON object such as {"kind": "503"}')
        unknown = sorted(set(body) - _FAULT_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown field(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(_FAULT_FIELDS))}"
            )
        if "kind" not in body:
            raise ValueError("kind is required")
        fields = {name: body[name] for name in _FAULT_FIELDS - {"kind"} if name in body}
        fields.setdefault("times", 1)
        return self.add(body["kind"], **fields)

    def take(self, method: str, path: str, email: str | None) -> QueuedFault | None:
        """The fault this request meets (one use of it), or None.

        `email` is the request's email (in its body or its path), already in the form emails
        are compared in; a fault naming an email matches only requests carrying that email.
        """
        with self._lock:
            for index, queued in enumerate(self._faults):
                if (
                    (queued.method is None or queued.method == method)
                    and (queued.path is None or path.startswith(queued.path))
                    and (queued.email is None or self._email_key(queued.email) == email)
                ):
                    queued.times -= 1
                    if queued.times == 0:
                        del self._faults[index]
                    return attrs.evolve(queued, times=1)
        return None

    def needs_email(self) -> bool:
        """Whether any queued fault filters on the email (so a request's must be found)."""
        with self._lock:
            return any(queued.email is not None for queued in self._faults)

    def list(self) -> list[QueuedFault]:
        with self._lock:
            return [attrs.evolve(queued) for queued in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


def drop_connection(request: web.BaseRequest) -> None:
    """Close the connection cleanly (FIN) without an answer: the client sees a disconnect."""
    transport = request.transport
    if transport is not None:
        transport.close()


def reset_connection(request: web.BaseRequest) -> None:
    """Abort the connection with a TCP reset: the client sees "connection reset by peer"."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
