"""Masking of secrets in text that may be shown: exception messages and log lines.

`redact` replaces whatever looks like a credential, wherever it appears and whichever argument
it was given to: API keys (`sk_...`, `sk_sbox_...`, and public `pk_...` keys too, since a key
in the wrong place is usually a pasted mistake), `Bearer` / `Basic` credentials, JWT-shaped
access tokens, and the password of a URL (`http://user:****@proxy:3128`). `mask_values` masks
values known to be secret (an OAuth client secret has no recognisable shape).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MASK", "mask_values", "redact"]

MASK = "****"

_CREDENTIAL = re.compile(
    r"(?<![A-Za-z0-9])(?:sk|pk)_[A-Za-z0-9_\-]{6,}"
    # A token has a digit or a base64 sign somewhere: "basic authentication" is not one.
    r"|(?i:\b(?:bearer|basic)\s+)(?=[A-Za-z._~\-]*[0-9+/=])[A-Za-z0-9._~+/=\-]{6,}"
    r"|\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*",
    re.ASCII,
)
_KEY_PREFIX = re.compile(r"^(?:sk|pk)_(?:sbox_|test_|live_)?")
# `scheme://user:password@host`: keep the user (it helps), mask the password.
_URL_PASSWORD = re.compile(r"(://[^/@\s:]*):[^/@\s]*@")


def _mask_credential(match: re.Match[str]) -> str:
    text = match.group(0)
    scheme, space, _ = text.partition(" ")
    if space and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {MASK}"
    return text[:3] + MASK if text[:3] in ("sk_", "pk_") else MASK


def redact(text: str) -> str:
    """`text` with every credential-shaped substring masked."""
    text = _CREDENTIAL.sub(_mask_credential, text)
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def mask_values(text: str, secrets: Iterable[str]) -> str:
    """`redact(text)`, also masking each of `secrets` (values of 6 characters or more)."""
    for secret in secrets:
        secret = secret.strip()
        # The key's body alone (pasted without its `sk_sbox_`) is just as secret.
        body = _KEY_PREFIX.sub("", secret)
        for value in (secret, body):
            if len(value) >= 6:
                text = text.replace(value, MASK)
    return redact(text)
