"""The API's documented request limits, shared by the client's validation and the emulator.

Source: `shared/reference/README.md` (the official API reference).
"""

from __future__ import annotations

import re

__all__ = [
    "CUSTOMER_ID_PATTERN",
    "EMAIL_MAX_LENGTH",
    "EMAIL_PATTERN",
    "INSTRUMENT_ID_PATTERN",
    "METADATA_KEY_MAX_LENGTH",
    "METADATA_MAX_PAIRS",
    "METADATA_VALUE_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "PHONE_COUNTRY_CODE_LENGTH",
    "PHONE_NUMBER_LENGTH",
]

EMAIL_MAX_LENGTH = 255
NAME_MAX_LENGTH = 255
PHONE_COUNTRY_CODE_LENGTH = (1, 7)
PHONE_NUMBER_LENGTH = (6, 25)
METADATA_MAX_PAIRS = 10
METADATA_KEY_MAX_LENGTH = 100
METADATA_VALUE_MAX_LENGTH = 100

# `cus_` + 26 characters of lowercase base32, as every id the API issues; the spec's own
# pattern (`^(cus)_(\w{26})$`) is looser, and we accept what it accepts.
CUSTOMER_ID_PATTERN = re.compile(r"cus_\w{26}", re.ASCII)
# No pattern is documented for instrument ids; every example is `src_` + 26 characters.
INSTRUMENT_ID_PATTERN = re.compile(r"src_\w{26}", re.ASCII)
# A pragmatic address check: one `@`, no white space or control characters, a dotted domain.
# Characters such as `/ ? # % +` are legal in the local part and must survive the round trip.
EMAIL_PATTERN = re.compile(
    r"[^\s@\x00-\x1f\x7f]{1,64}@(?:[^\s@.\x00-\x1f\x7f]{1,63}\.)+[^\s@.\x00-\x1f\x7f]{2,63}"
)
