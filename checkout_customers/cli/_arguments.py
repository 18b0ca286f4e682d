"""What every subcommand shares: exit statuses, `argparse` value types, configuration messages.

Each type raises `argparse.ArgumentTypeError`, which argparse turns into a usage error naming
the option (exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import math
import re

from .._errors import CheckoutArgumentError

__all__ = [
    "CREDENTIAL_VARIABLES_HELP",
    "EXIT_FAILURES",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "configuration_error",
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

CREDENTIAL_VARIABLES_HELP = (
    "Credentials come from the environment: CKO_SECRET_KEY (or CKO_CLIENT_ID and "
    "CKO_CLIENT_SECRET), CKO_PREFIX (the account's base-URL prefix), CKO_ENVIRONMENT "
    "(sandbox or production; default sandbox), or CKO_BASE_URL instead of the last two "
    "(an emulator, a proxy)."
)

# The client's keyword arguments and the variables a command-line user sets instead.
_VARIABLES = {
    "secret_key": "CKO_SECRET_KEY",
    "client_id": "CKO_CLIENT_ID",
    "client_secret": "CKO_CLIENT_SECRET",
    "environment": "CKO_ENVIRONMENT",
    "prefix": "CKO_PREFIX",
    "base_url": "CKO_BASE_URL",
}
_NAMES = "|".join(_VARIABLES)
# Where a keyword is meant as one: `prefix: ...` first, `prefix=`, `set prefix`. The same word
# in plain prose ("the account's prefix") stays.
_KEYWORD = re.compile(
    rf"^(?P<lead>{_NAMES})(?=:)|\b(?P<arg>{_NAMES})=|(?<=set )(?P<set>{_NAMES})\b"
)
_NO_ACCOUNT_HINT = (
    "no account? run `checkout-customers emulator` and set CKO_BASE_URL to the address it "
    "prints and CKO_SECRET_KEY=sk_sbox_emulator_local_key"
)


def configuration_error(exc: CheckoutArgumentError, *, emulator_option: bool) -> str:
    """The client's configuration error in command-line terms: variables, not keywords.

    The client speaks to Python callers (`secret_key=`); a command-line user sets `CKO_*`
    variables or passes `--emulator` (where the command has it, `emulator_option`).
    """
    message = str(exc)
    missing = True
    if message.startswith("no credential"):
        message = (
            "no credential: set CKO_SECRET_KEY (or CKO_CLIENT_ID and CKO_CLIENT_SECRET), "
            "and CKO_PREFIX to your account's base-URL prefix"
        )
    elif exc.field == "prefix" and "required" in message:
        message = (
            "no account address: set CKO_PREFIX to your account's base-URL prefix (or CKO_BASE_URL)"
        )
    elif exc.field in ("client_id", "client_secret") and "required with" in message:
        message = "OAuth needs both CKO_CLIENT_ID and CKO_CLIENT_SECRET; set the missing one"
    else:
        missing = False
        message = _KEYWORD.sub(lambda match: _VARIABLES[match.group(match.lastgroup or 0)], message)
    if missing:
        hint = "or pass --emulator to try it without an account" if emulator_option else None
        message = f"{message}; {hint or _NO_ACCOUNT_HINT}"
    return message


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
