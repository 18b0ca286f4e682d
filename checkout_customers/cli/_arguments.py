"""What every subcommand shares: exit statuses and `argparse` value types.

Each type raises `argparse.ArgumentTypeError`, which argparse turns into a usage error naming
the option (exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import math

__all__ = [
    "EXIT_FAILURES",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "non_negative_number",
    "port_number",
    "positive_integer",
    "positive_number",
    "rate_or_none",
    "share",
]

EXIT_OK = 0
EXIT_FAILURES = 1  # the command ran, but some of its work failed
EXIT_USAGE = 2  # usage or configuration error, before any request
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_number(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text}")
    return value


def share(text: str) -> float:
    """A fraction of requests, from 0 to 1."""
    value = non_negative_number(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1, got {text}")
    return value


def rate_or_none(text: str) -> float | None:
    """Requests per second, or `none` (also `unlimited`) for no cap."""
    if text.lower() in ("none", "unlimited", "inf"):
        return None
    return positive_number(text)


def positive_integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def port_number(text: str) -> int:
    """A TCP port, 0 meaning any free one."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0 to 65535, got {port}")
    return port
