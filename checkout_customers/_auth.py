"""Authorization headers: a secret key as is, or an OAuth token fetched and cached.

The OAuth token is cached until shortly before it expires; when many calls need a new token at
once, exactly one request fetches it and the others wait for that answer. A token the API
refuses with 401 is dropped so the next attempt fetches a fresh one. Secrets never appear in
`repr()`, `str()` or log lines.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ._config import OAuthCredentials, SecretKey
from ._errors import CheckoutConnectionError

__all__ = ["Authenticator", "OAuthAuthenticator", "SecretKeyAuthenticator", "authenticator_for"]

# Refresh this long before the announced expiry, so a token never expires in flight.
_EXPIRY_MARGIN_SECONDS = 60.0
# A token goes into a header as is: visible ASCII only (RFC 6750's b64token is narrower still),
# so a control character or a line break in an answer cannot reach the request line.
_TOKEN = re.compile(r"[\x21-\x7e]+")

# Fetches a token: the answer's decoded body and its request id.
TokenFetcher = Callable[[OAuthCredentials], Awaitable[tuple[Any, str | None]]]


class Authenticator(Protocol):
    def cached(self) -> str | None:
        """The `Authorization` header to send now, when it is known without waiting."""

    async def authorization(self) -> str:
        """The value of the `Authorization` header to send now."""

    def refused(self, authorization: str) -> bool:
        """The API answered 401 to `authorization`: True when a fresh one is worth a retry."""


class SecretKeyAuthenticator:
    def __init__(self, key: SecretKey) -> None:
        self._header = f"Bearer {key.value}"

    def cached(self) -> str:
        return self._header

    async def authorization(self) -> str:
        return self._header

    def refused(self, authorization: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "SecretKeyAuthenticator(****)"


class OAuthAuthenticator:
    def __init__(self, credentials: OAuthCredentials, fetch_token: TokenFetcher) -> None:
        self._credentials = credentials
        self._fetch_token = fetch_token
        self._header: str | None = None
        self._expires_at = 0.0
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"OAuthAuthenticator(client_id={self._credentials.client_id!r})"

    def cached(self) -> str | None:
        if self._header is not None and time.monotonic() < self._expires_at:
            return self._header
        return None

    async def authorization(self) -> str:
        header = self.cached()
        if header is not None:
            return header
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            header = self.cached()  # another caller may have fetched it while we waited
            if header is not None:
                return header
            body, request_id = await self._fetch_token(self._credentials)
            token, expires_in = _parse_token(body, request_id)
            margin = min(_EXPIRY_MARGIN_SECONDS, expires_in / 10)
            self._header = f"Bearer {token}"
            self._expires_at = time.monotonic() + expires_in - margin
            return self._header

    def refused(self, authorization: str) -> bool:
        if authorization == self._header:
            self._header = None
            self._expires_at = 0.0
        return True


def _parse_token(body: Any, request_id: str | None) -> tuple[str, float]:
    if isinstance(body, dict):
        token = body.get("access_token")
        expires_in = body.get("expires_in", 3600)
        if (
            isinstance(token, str)
            and _TOKEN.fullmatch(token) is not None
            and isinstance(expires_in, (int, float))
            and not isinstance(expires_in, bool)
            and expires_in > 0
        ):
            try:
                seconds = float(expires_in)
            except OverflowError:  # an integer of hundreds of digits
                seconds = math.inf
            if math.isfinite(seconds):  # `Infinity` and `1e999` decode to an infinite float
                return token, seconds
    raise CheckoutConnectionError(
        "the OAuth token endpoint's answer could not be read: it has no usable "
        f"access_token/expires_in (request_id={request_id or 'unknown'})",
        request_id=request_id,
    )


def authenticator_for(
    credential: SecretKey | OAuthCredentials, fetch_token: TokenFetcher
) -> Authenticator:
    if isinstance(credential, SecretKey):
        return SecretKeyAuthenticator(credential)
    return OAuthAuthenticator(credential, fetch_token)
