"""Fault injection: which misfortune, if any, meets a request, and how to inflict it.

A seeded `random.Random` draws one fault per `/customers` request, so a run with the same
seed and the same request order meets the same faults.
"""

from __future__ import annotations

import enum
import random
import socket
import struct

from aiohttp import web

from ._settings import EmulatorSettings

__all__ = ["Fault", "FaultPlan", "drop_connection", "reset_connection"]


class Fault(enum.Enum):
    NONE = "none"
    #: Answer 500 without acting.
    SERVER_ERROR = "500"
    #: Reset the connection (TCP RST) before acting.
    RESET_BEFORE_ACTING = "reset"
    #: Act, then close the connection without answering.
    DROP_AFTER_ACTING = "drop"
    #: Act, then answer only after `fault_slow_ms`.
    SLOW_AFTER_ACTING = "slow"
    #: Wait `fault_slow_ms`, then act and answer.
    SLOW_BEFORE_ACTING = "late"


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
