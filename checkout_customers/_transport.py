"""The only place that talks HTTP: one aiohttp session, authentication and the retry loop.

A `Transport` creates its `aiohttp.ClientSession` lazily, on the event loop that first uses it,
and refuses to be used from another loop. A caller-owned session is used as given and never
closed. Every answer comes back as a `Response` carrying the request id; every error status
becomes the matching `CheckoutApiError`, every transport failure a `CheckoutConnectionError`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import platform
import time
from collections.abc import Coroutine, Mapping
from enum import Enum
from typing import Any
from urllib.parse import urlencode

import aiohttp
import attrs
from yarl import URL

from . import _retry
from ._auth import authenticator_for
from ._config import ClientConfig, OAuthCredentials
from ._errors import (
    AuthenticationError,
    CheckoutApiError,
    CheckoutArgumentError,
    CheckoutConnectionError,
    CheckoutTimeoutError,
    api_error_for_status,
)
from ._version import __version__

__all__ = ["Idempotency", "Response", "Transport", "json_text"]

logger = logging.getLogger("checkout_customers")

USER_AGENT = (
    f"checkout-customers/{__version__} Python/{platform.python_version()} "
    f"aiohttp/{aiohttp.__version__}"
)
REQUEST_ID_HEADER = "Cko-Request-Id"
_BASE_HEADERS = {"User-Agent": USER_AGENT, "Accept": "application/json"}


def json_text(body: Mapping[str, Any]) -> str:
    """The JSON text of a request body: compact, keys sorted, so one request has one spelling
    (the migration fingerprints what it sends)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


class Idempotency(Enum):
    """How a request may be retried; see `_retry` for the rules."""

    IDEMPOTENT = "idempotent"  # GET, PATCH, DELETE
    CREATE = "create"  # POST /customers: retried only when provably not received


@attrs.frozen
class Response:
    status: int
    body: Any = attrs.field(repr=False)  # may hold an OAuth access token
    request_id: str | None
    headers: Mapping[str, str] = attrs.field(repr=False)


class _AttemptFailed(Exception):
    """One attempt got no usable answer; `sent` says whether the server may have acted."""

    def __init__(self, error: CheckoutConnectionError, *, sent: bool, retryable: bool = True):
        super().__init__(str(error))
        self.error = error
        self.sent = sent
        self.retryable = retryable


class Transport:
    def __init__(self, config: ClientConfig, session: aiohttp.ClientSession | None = None):
        self._config = config
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeout = aiohttp.ClientTimeout(
            total=config.timeout.total,
            # aiohttp's `connect` covers waiting for a pooled connection plus connecting.
            connect=config.timeout.pool + config.timeout.connect,
            sock_connect=config.timeout.connect,
            sock_read=config.timeout.read,
            ceil_threshold=5,
        )
        self._auth = authenticator_for(config.credential, self._fetch_token)
        # A session of ours sends the base headers by default; a caller's gets them each time.
        self._request_headers = {} if self._owns_session else _BASE_HEADERS

    @property
    def base_url(self) -> URL:
        return self._config.base_url

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this client is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._owns_session:
            return self._session
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError(
                "this AsyncClient is bound to the event loop that first used it; create one "
                "client per event loop (or use the sync Client from other threads)"
            )
        if self._session is None:
            self._loop = loop
            connector = aiohttp.TCPConnector(
                limit=self._config.max_connections,
                limit_per_host=self._config.max_connections,
                ttl_dns_cache=300,
                use_dns_cache=True,
                # Idle connections are dropped before common load balancers drop them, so a
                # create rarely goes out on a connection the server is closing (its outcome
                # would then be unknown).
                keepalive_timeout=15,
                ssl=True,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers=_BASE_HEADERS,
                raise_for_status=False,
            )
            # aiohttp silently sends an idempotent request a second time when a reused
            # connection drops (RFC 9112 section 9.3.1). Our retry loop must see every attempt:
            # it counts them against max_retries, and a DELETE answered 404 after an
            # unanswered attempt has succeeded. There is no public switch for this.
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
            self._session = session
        return self._session

    async def aclose(self) -> None:
        """Close the session if this transport created it; idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: str | None = None,
        idempotency: Idempotency = Idempotency.IDEMPOTENT,
        max_retries: int | None = None,
        log_path: str | None = None,
        not_found_ok: bool = False,
    ) -> Coroutine[Any, Any, Response]:
        """Send `method path` (already percent-encoded) with retries; return a 2xx `Response`.

        `body` is JSON text (see `json_text`). Raises the `CheckoutApiError` subclass of an
        error status (a 404 is returned instead when `not_found_ok`), or
        `CheckoutConnectionError`. A DELETE retried after an unanswered attempt that then
        answers 404 counts as done. (A plain function returning the coroutine of `_send`: one
        coroutine fewer for every request.)
        """
        base = self._config.base_url
        url = base.with_path(base.raw_path.rstrip("/") + path, encoded=True)
        return self._send(
            method,
            url,
            data=body,
            content_type=None if body is None else "application/json",
            idempotency=idempotency,
            max_retries=max_retries,
            log_path=log_path or path,
            not_found_ok=not_found_ok,
        )

    async def _send(
        self,
        method: str,
        url: URL,
        *,
        data: str | None,
        content_type: str | None,
        idempotency: Idempotency,
        max_retries: int | None,
        log_path: str,
        basic_auth: str | None = None,
        not_found_ok: bool = False,
    ) -> Response:
        retries_left = self._config.max_retries if max_retries is None else max_retries
        if isinstance(retries_left, bool) or not isinstance(retries_left, int) or retries_left < 0:
            raise CheckoutArgumentError(
                f"max_retries: must be an integer >= 0, got {max_retries!r}", field="max_retries"
            )
        idempotent = idempotency is Idempotency.IDEMPOTENT
        retry_number = 0
        refreshed_token = False
        unanswered_before = False
        while True:
            authorization = basic_auth or self._auth.cached() or await self._auth.authorization()
            headers = {**self._request_headers, "Authorization": authorization}
            if content_type is not None:
                headers["Content-Type"] = content_type
            try:
                response = await self._attempt(method, url, data, headers, log_path)
            except _AttemptFailed as failure:
                may_retry = failure.retryable and (idempotent or not failure.sent)
                if not may_retry or retry_number >= retries_left:
                    raise failure.error from failure.__cause__
                unanswered_before = unanswered_before or failure.sent
                await asyncio.sleep(_retry.retry_delay(retry_number))
                retry_number += 1
                continue

            if response.status < 400 or (response.status == 404 and not_found_ok):
                return response
            if response.status == 401 and basic_auth is None and not refreshed_token:
                # A 401 means the API did not act, so even a create may go again once, with a
                # fresh token (only OAuth can get one).
                refreshed_token = True
                if self._auth.refused(authorization):
                    continue
            if response.status == 404 and method == "DELETE" and unanswered_before:
                return attrs.evolve(response, status=204, body=None)
            if (
                _retry.should_retry_status(response.status, idempotent=idempotent)
                and retry_number < retries_left
            ):
                unanswered_before = unanswered_before or response.status >= 500
                await asyncio.sleep(_retry.retry_delay(retry_number, response.headers))
                retry_number += 1
                continue
            raise _api_error(response)

    async def _attempt(
        self, method: str, url: URL, data: str | None, headers: dict[str, str], log_path: str
    ) -> Response:
        session = self._get_session()
        started = time.perf_counter()
        unreadable: str | None = None
        try:
            async with session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
                raise_for_status=False,  # a caller-owned session may say otherwise
            ) as raw:
                payload = await raw.read()
                response = _decode(raw.status, raw.headers, payload)
        except aiohttp.ClientConnectorCertificateError as exc:
            raise _AttemptFailed(
                CheckoutConnectionError(f"TLS certificate verification failed: {exc}"),
                sent=False,
                retryable=False,
            ) from exc
        except aiohttp.ClientSSLError as exc:
            raise _AttemptFailed(
                CheckoutConnectionError(f"TLS error: {exc}"), sent=False, retryable=False
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise _AttemptFailed(
                CheckoutConnectionError(f"could not connect to {url.host}: {exc.strerror or exc}"),
                sent=False,
            ) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise _AttemptFailed(
                CheckoutTimeoutError(f"timed out connecting to {url.host}"), sent=False
            ) from exc
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise _AttemptFailed(
                CheckoutTimeoutError(
                    f"{method} {log_path} timed out waiting for the answer; the API may have acted"
                ),
                sent=True,
            ) from exc
        except aiohttp.ClientResponseError as exc:
            unreadable = f"{type(exc).__name__}, status {exc.status}: {exc.message}"
        except aiohttp.ClientError as exc:
            raise _AttemptFailed(
                CheckoutConnectionError(
                    f"{method} {log_path} failed without an answer ({type(exc).__name__}: {exc});"
                    " the API may have acted"
                ),
                sent=True,
            ) from exc
        if unreadable is not None:
            # Raised here, not in the except block, so that the aiohttp error is not even its
            # context: that error's repr carries the request's headers (the Authorization) and
            # its text the URL (an email address).
            raise _AttemptFailed(
                CheckoutConnectionError(
                    f"{method} {log_path} got an unreadable answer ({unreadable}); the API may "
                    "have acted"
                ),
                sent=True,
            )
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s request_id=%s in %.3fs",
                method,
                log_path,
                response.status,
                response.request_id,
                time.perf_counter() - started,
            )
        return response

    async def _fetch_token(self, credentials: OAuthCredentials) -> Any:
        form = {"grant_type": "client_credentials", "scope": " ".join(credentials.scopes)}
        pair = f"{credentials.client_id}:{credentials.client_secret}".encode()
        basic = "Basic " + base64.b64encode(pair).decode("ascii")
        try:
            response = await self._send(
                "POST",
                credentials.token_url,
                data=urlencode(form),
                content_type="application/x-www-form-urlencoded",
                # Asking for a token twice is harmless, so the token request retries freely.
                idempotency=Idempotency.IDEMPOTENT,
                max_retries=None,
                log_path="/connect/token",
                basic_auth=basic,
            )
        except AuthenticationError as exc:
            exc.message = "the OAuth token endpoint refused client_id/client_secret"
            raise
        return response.body


def _decode(status: int, headers: Mapping[str, str], payload: bytes) -> Response:
    body: Any = None
    if payload:
        text = payload.decode("utf-8", errors="replace")
        body = text
        if text[:1] in ("{", "[") or "json" in headers.get("Content-Type", ""):
            try:
                body = json.loads(text)
            except ValueError:
                body = text
    request_id = None
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    else:
        request_id = headers.get(REQUEST_ID_HEADER)
    return Response(status=status, body=body, request_id=request_id, headers=headers)


def _api_error(response: Response) -> CheckoutApiError:
    body = response.body
    error_type = None
    error_codes: tuple[str, ...] = ()
    if isinstance(body, dict):
        if isinstance(body.get("error_type"), str):
            error_type = body["error_type"]
        codes = body.get("error_codes")
        if isinstance(codes, list):
            error_codes = tuple(str(code) for code in codes)
    return api_error_for_status(
        response.status,
        request_id=response.request_id,
        error_type=error_type,
        error_codes=error_codes,
        body=body,
    )
