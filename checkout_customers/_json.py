"""Decoding answers' JSON: orjson when it is installed (the `speedups` extra), else the stdlib.

orjson decodes a customer about three times as fast as `json.loads`. It refuses some texts the
standard library accepts (UTF-16 or a byte-order mark, `NaN`, lone surrogates, nesting past
1,024 levels), and says so differently; every text it refuses is decoded again by `json.loads`.
It reads an integer beyond 64 bits as a float, so a text with a run of 19 digits (a number
that may not fit, or a digit string, which is harmless) goes to `json.loads` at once. So the
result, or the error, is always the standard library's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["loads", "speedups"]

# Chosen on the first answer rather than at import: `import checkout_customers` then costs the
# same with the extra or without it (benchmarks/bench_import.py).
_decode: Callable[[bytes], Any] | None = None


def loads(payload: bytes) -> Any:
    """What `json.loads(payload)` returns or raises, found faster when orjson can."""
    return (_decode or _choose())(payload)


def speedups() -> bool:
    """Whether answers are decoded with orjson (the `speedups` extra is installed)."""
    return (_decode or _choose()) is not _stdlib_loads


def _stdlib_loads(payload: bytes) -> Any:
    """`json.loads(payload)`, without its encoding guess when the text is plainly UTF-8.

    `json.loads` of bytes guesses the encoding in Python code on every call. By its rules a
    text opening with `{` or `[` and a second byte that is not NUL is UTF-8, which it decodes
    with `surrogatepass`; so that is done here at once, and any other text takes its path.
    """
    if payload[:1] in _OPENERS and payload[1:2] != b"\x00":
        return json.loads(payload.decode("utf-8", "surrogatepass"))
    return json.loads(payload)


_OPENERS = (b"{", b"[")


def _choose() -> Callable[[bytes], Any]:
    global _decode
    try:
        import orjson
    except ImportError:  # the core needs nothing beyond the standard library
        _decode = _stdlib_loads
        return _decode
    orjson_loads = orjson.loads
    orjson_error = orjson.JSONDecodeError
    # Digits to "9", every other byte to " ": then a run of 19 digits is a substring search,
    # both in C (a regular expression takes longer than decoding).
    digits = bytes(0x39 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
    nineteen_digits = b"9" * 19

    def decode(payload: bytes) -> Any:
        if nineteen_digits in payload.translate(digits):
            return json.loads(payload)
        try:
            return orjson_loads(payload)
        except orjson_error:
            return json.loads(payload)

    _decode = decode
    return decode
