"""Answers decode to what `json.loads` gives, or fail as it fails, with or without orjson."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from checkout_customers import _json

TEXTS = [
    b'{"id": "cus_1", "metadata": {"n": 1, "f": 0.1, "ok": true, "none": null}}',
    '{"name": "Zoë"}'.encode("utf-16"),  # the stdlib reads UTF-16 and UTF-32 bytes too
    b'\xef\xbb\xbf{"bom": 1}',
    b'{"big": 123456789012345678901234567890}',  # orjson alone would read a float
    b'{"big": -9999999999999999999, "u64": 18446744073709551615, "i64": -9223372036854775808}',
    b'{"zero": -0, "one": 1.0, "tiny": 5e-324, "huge": 1e400, "precise": 0.30000000000000004}',
    b'{"x": NaN, "y": -Infinity}',
    b'{"lone": "\\ud800"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"bad": "\xff"}',
    b'{"encoded surrogate": "\xed\xa0\x80"}',  # UTF-8 bytes of a lone surrogate
    b"[\x00",
    b"{",
    b"[1]",
    b'{"unfinished": ',
    b"",
]


def outcome(decode: Any, payload: bytes) -> tuple[str, str]:
    try:
        value = decode(payload)
    except BaseException as exc:
        return "raises", type(exc).__name__
    if isinstance(value, dict) and any(
        isinstance(v, float) and math.isnan(v) for v in value.values()
    ):
        return "value", repr(value)
    return "value", json.dumps(value, ensure_ascii=True) if value is not None else "null"


@pytest.mark.parametrize("payload", TEXTS)
def test_decoding_gives_the_standard_librarys_result_or_error(payload: bytes) -> None:
    assert outcome(_json.loads, payload) == outcome(json.loads, payload)


@pytest.mark.parametrize("payload", TEXTS)
def test_the_core_decoder_gives_the_standard_librarys_result_or_error(payload: bytes) -> None:
    # Without orjson: `json.loads` of the text, skipping its encoding guess when it is UTF-8.
    assert outcome(_json._stdlib_loads, payload) == outcome(json.loads, payload)
