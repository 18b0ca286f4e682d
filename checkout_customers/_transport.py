"""The SDK's HTTP logic, apart from any HTTP library: retries, auth, deadlines, error mapping.

A `Transport` turns one call (`request(...)`) into attempts sent by a `Backend` (`_backend.py`;
the shipped one is aiohttp's, `_aiohttp_backend.py`), under the rules of `_retry.py`, and turns
the outcome into a `Response` or a `CheckoutError`. It is the only path to the network.

The interface the resources (and `with_options` / raw responses) build on:

    response = await transport.request(
        "GET", "/customers/cus_...",      # path already percent-encoded
        body=None,                        # JSON text (see `json_text`), or None
        idempotency=Idempotency.IDEMPOTENT,
        max_retries=None,                 # None: the client's; else an int >= 0
        timeout=None,                     # None: the client's; else a Timeout or seconds
        headers=None,                     # extra request headers (not Authorization)
        log_path=None,                    # the path as logged (no email addresses)
        not_found_ok=False,               # return a 404 instead of raising NotFoundError
    )
    response.status       # int, always 2xx (or 404 with not_found_ok)
    response.headers      # CIMultiDictProxy[str]: case-insensitive, `headers["cko-version"]`
    response.request_id   # the body's request_id, else the Cko-Request-Id header, else None
    response.elapsed      # seconds the final attempt took, as a float
    response.body         # the decoded JSON, None when the answer had no body

    other = transport.with_defaults(timeout=5, max_retries=0, headers={"X-Trace": "1"})

`with_defaults` returns a transport sharing this one's backend (so its connection pool) and
credentials (so its OAuth token), differing only in those defaults; closing either closes the
shared pool. Invalid options raise `CheckoutArgumentError` before anything is sent.

What a call can end in: a 2xx answer whose body is empty or JSON is a `Response`; any other
status raises the matching `CheckoutApiError` (a 3xx too: redirects are never followed); a
2xx answer that cannot be read (not JSON, nested too deep, over `max_response_bytes`) raises
`CheckoutConnectionError` "could not be read" with the request id; no answer raises
`CheckoutConnectionError` (`CheckoutTimeoutError` when time ran out). Messages say "the API
may have acted" only for writes (POST, PATCH, DELETE) that may have reached it.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import json.encoder
import logging
import platform
import re
import time
from collections.abc import Callable, Coroutine, Mapping
from enum import Enum
from typing import Any, NamedTuple
from urllib.parse import urlencode

import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import _json, _retry
from ._auth import authenticator_for
from ._backend import Backend, BackendAnswer, BackendRequest, FailureKind, SendFailed
from ._config import ClientConfig, OAuthCredentials, Timeout, TimeoutTypes
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

# The backend adds its library's token (`aiohttp/3.x`).
USER_AGENT = f"checkout-customers/{__version__} Python/{platform.python_version()}"
REQUEST_ID_HEADER = "Cko-Request-Id"
# Headers a caller may not set: the credential is ours to send, and the framing the backend's.
_RESERVED_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "host", "content-length", "transfer-encoding"}
)
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_SHARED_HEADER_TYPES = (None, "application/json")  # content types of `_headers_for`
_Headers = CIMultiDictProxy[str]
# An attempt is not started with less time than this left of the call's deadline.
_MIN_ATTEMPT_SECONDS = 0.001


def json_text(body: Mapping[str, Any]) -> str:
    """The JSON text of a request body: compact, keys sorted, so one request has one spelling
    (the migration fingerprints what it sends). The same text as `json.dumps(body,
    sort_keys=True, separators=(",", ":"))`."""
    return _encode_sorted(body)


def _sorted_encoder() -> Callable[[Mapping[str, Any]], str]:
    # `json.dumps` with options builds a `JSONEncoder`, and its `encode` a C encoder, on every
    # call: a third of the cost of a small body (benchmarks/bench_client.py). The C encoder is
    # built once here instead. No cycle check: bodies are built by the validators, from
    # scalars, so they cannot hold themselves.
    python_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return python_encoder.encode
    try:
        chunks = make(
            None, python_encoder.default, json.encoder.encode_basestring_ascii,
            None, ":", ",", True, False, True,
        )  # fmt: skip
    except TypeError:  # a signature other than CPython 3.10-3.13's
        return python_encoder.encode

    def encode(body: Mapping[str, Any]) -> str:
        return "".join(chunks(body, 0))

    return encode


_encode_sorted = _sorted_encoder()


class Idempotency(Enum):
    """How a request may be retried; see `_retry` for the rules."""

    IDEMPOTENT = "idempotent"  # GET, PATCH, DELETE
    CREATE = "create"  # POST /customers: retried only when provably not received


# A named tuple rather than an attrs class: one is built per answer, on the hot path, and
# a frozen attrs class sets each field through `object.__setattr__`.
class Response(NamedTuple):
    """A 2xx answer (or a 404 asked for with `not_found_ok`), read and decoded."""

    status: int
    body: Any  # may hold an OAuth access token: kept out of the repr
    request_id: str | None
    headers: CIMultiDictProxy[str]
    elapsed: float = 0.0

    def __repr__(self) -> str:
        return (
            f"Response(status={self.status}, request_id={self.request_id!r}, "
            f"elapsed={self.elapsed!r})"
        )


def extra_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Validate extra request headers; `CheckoutArgumentError` names a bad one (never a value)."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise CheckoutArgumentError(
            f"headers: must be a mapping of header names to values, got {type(headers).__name__}",
            field="headers",
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or _HEADER_NAME.fullmatch(name) is None:
            raise CheckoutArgumentError(
                f"headers: {name!r} is not a valid header name", field="headers"
            )
        if name.lower() in _RESERVED_HEADERS:
            raise CheckoutArgumentError(
                f"headers: {name} cannot be set per call; the client sends it", field="headers"
            )
        if not isinstance(value, str) or any(c in value for c in "\r\n\x00"):
            raise CheckoutArgumentError(
                f"headers: the value of {name} must be text on one line", field="headers"
            )
        checked[name] = value
    return checked


def _max_retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckoutArgumentError(
            f"max_retries: must be an integer >= 0, got {value!r}", field="max_retries"
        )
    return value


class Transport:
    """Sends calls with retries, authentication and deadlines; see the module docstring."""

    def __init__(self, config: ClientConfig, backend: Backend) -> None:
        self._config = config
        self._backend = backend
        self._auth = authenticator_for(config.credential, self._fetch_token)
        self._set_headers({})

    def _set_headers(self, defaults: dict[str, str]) -> None:
        self._default_headers = defaults
        user_agent = f"{USER_AGENT} {self._backend.user_agent}"
        self._headers = {"User-Agent": user_agent, "Accept": "application/json", **defaults}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        # The headers of a plain and of a JSON attempt, for the authorization last sent.
        self._sent_headers: tuple[str, _Headers, _Headers] | None = None

    def _headers_for(self, authorization: str, json_body: bool) -> _Headers:
        """The request headers of an attempt without extra headers, built once per credential.

        Read-only mappings shared by every such attempt: building a dict and aiohttp turning
        it into its own multidict cost about a microsecond per request
        (benchmarks/bench_client.py), and the credential changes only with an OAuth token.
        """
        sent = self._sent_headers
        if sent is None or sent[0] != authorization:
            plain = CIMultiDict(self._headers)
            plain["Authorization"] = authorization
            with_json = CIMultiDict(self._json_headers)
            with_json["Authorization"] = authorization
            sent = (authorization, CIMultiDictProxy(plain), CIMultiDictProxy(with_json))
            self._sent_headers = sent
        return sent[2] if json_body else sent[1]

    @property
    def base_url(self) -> URL:
        return self._config.base_url

    @property
    def config(self) -> ClientConfig:
        """The validated configuration this transport sends with."""
        return self._config

    @property
    def _session(self) -> object:
        # The backend's HTTP session, for the tests that check it is rebuilt after a fork.
        return getattr(self._backend, "session", None)

    def with_defaults(
        self,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Transport:
        """A transport sharing this one's backend and credentials, with other defaults."""
        config = self._config
        if timeout is not None:
            config = attrs.evolve(config, timeout=Timeout.of(timeout))
        if max_retries is not None:
            config = attrs.evolve(config, max_retries=_max_retries(max_retries))
        merged = {**self._default_headers, **extra_headers(headers)}
        other = copy.copy(self)
        other._config = config
        other._set_headers(merged)
        return other

    async def aclose(self) -> None:
        """Close the backend (the connection pool, unless the caller owns it); idempotent."""
        await self._backend.aclose()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: str | None = None,
        idempotency: Idempotency = Idempotency.IDEMPOTENT,
        max_retries: int | None = None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        log_path: str | None = None,
        not_found_ok: bool = False,
    ) -> Coroutine[Any, Any, Response]:
        """Send `method path` with retries; return a 2xx `Response` (see the module docstring).

        Options are checked here, before any coroutine exists. (A plain function returning the
        coroutine of `_send`: one coroutine fewer for every request.)
        """
        base = self._config.base_url
        url = base.with_path(base.raw_path.rstrip("/") + path, encoded=True)
        return self._send(
            method,
            url,
            data=body,
            content_type=None if body is None else "application/json",
            idempotency=idempotency,
            max_retries=self._config.max_retries
            if max_retries is None
            else _max_retries(max_retries),
            timeout=self._config.timeout if timeout is None else Timeout.of(timeout),
            extra=None if headers is None else extra_headers(headers),
            proxy=self._config.api_proxy,
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
        max_retries: int,
        timeout: Timeout,
        extra: dict[str, str] | None,
        proxy: URL | None,
        log_path: str,
        basic_auth: str | None = None,
        not_found_ok: bool = False,
    ) -> Response:
        retries_left = max_retries
        idempotent = idempotency is Idempotency.IDEMPOTENT
        writes = method in _WRITES
        max_body_bytes = self._config.max_response_bytes
        retry_number = 0
        refreshed_token = False
        unanswered_before = False
        deadline_at = time.monotonic() + timeout.deadline
        while True:
            authorization = basic_auth or self._auth.cached() or await self._auth.authorization()
            started = time.monotonic()
            remaining = deadline_at - started
            if remaining <= _MIN_ATTEMPT_SECONDS:
                raise CheckoutTimeoutError(
                    f"{method} {log_path}: the call's deadline of {timeout.deadline:g} s ran "
                    f"out after {retry_number + 1} attempts" + _acted(writes and unanswered_before)
                )
            cut_short = remaining < timeout.total
            headers: Mapping[str, str]
            if not extra and content_type in _SHARED_HEADER_TYPES:
                headers = self._headers_for(authorization, content_type is not None)
            else:
                own = {**self._headers}
                if content_type is not None:
                    own["Content-Type"] = content_type
                own.update(extra or {})
                own["Authorization"] = authorization  # never overridden, whatever the case
                headers = own
            attempt_timeout = attrs.evolve(timeout, total=remaining) if cut_short else timeout
            request = BackendRequest(
                method, url, headers, data, attempt_timeout, proxy, max_body_bytes
            )
            try:
                answer = await self._backend.send(request)
            except SendFailed as failure:
                error = _failure_error(
                    failure,
                    method,
                    url,
                    log_path,
                    writes=writes,
                    deadline=timeout.deadline if cut_short else None,
                )
                now = time.monotonic()
                delay = _retry.retry_delay(retry_number)
                if (
                    not _retry.should_retry_failure(failure.kind, idempotent=idempotent)
                    or retry_number >= retries_left
                    or not _retry.fits_deadline(delay, deadline_at - now)
                ):
                    raise error from None
                unanswered_before = unanswered_before or failure.kind.sent
                await asyncio.sleep(delay)
                retry_number += 1
                continue

            now = time.monotonic()
            response = _decode(answer, method, log_path, writes=writes, elapsed=now - started)
            status = response.status
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %s request_id=%s in %.3fs",
                    method,
                    log_path,
                    status,
                    response.request_id,
                    response.elapsed,
                )
            if 200 <= status < 300 or (status == 404 and not_found_ok):
                return response
            if basic_auth is None and _retry.should_refresh_credentials(
                status, refreshed=refreshed_token
            ):
                refreshed_token = True
                if self._auth.refused(authorization):
                    continue
            if _retry.done_when_missing(method, status, unanswered_before=unanswered_before):
                return response._replace(status=204, body=None)
            if (
                _retry.should_retry_status(status, idempotent=idempotent)
                and retry_number < retries_left
            ):
                delay = _retry.retry_delay(retry_number, response.headers)
                if _retry.fits_deadline(delay, deadline_at - now):
                    unanswered_before = unanswered_before or _retry.may_have_acted(status)
                    await asyncio.sleep(delay)
                    retry_number += 1
                    continue
            raise _api_error(response)

    async def _fetch_token(self, credentials: OAuthCredentials) -> tuple[Any, str | None]:
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
                max_retries=self._config.max_retries,
                timeout=self._config.timeout,
                extra=None,
                proxy=self._config.token_proxy,
                log_path="/connect/token",
                basic_auth=basic,
            )
        except AuthenticationError as exc:
            exc.message = "the OAuth token endpoint refused client_id/client_secret"
            raise
        return response.body, response.request_id


class _Unreadable(Exception):
    """A 2xx answer whose body could not be decoded; the text says why."""


def _json_body(payload: bytes) -> Any:
    try:
        return _json.loads(payload)  # orjson when installed; the stdlib's result either way
    except RecursionError:
        raise _Unreadable("its JSON is nested too deeply") from None
    except UnicodeDecodeError:
        raise _Unreadable("it is not UTF-8 text") from None
    except json.JSONDecodeError:
        raise _Unreadable("it is not JSON") from None
    except ValueError:  # a valid text `json.loads` still refuses: an integer of 4,301+ digits
        raise _Unreadable("it holds a number with more digits than Python reads") from None


def _error_body(payload: bytes, headers: Mapping[str, str]) -> Any:
    text = payload.decode("utf-8", errors="replace")
    if text[:1] in ("{", "[") or "json" in headers.get("Content-Type", ""):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    return text


def _request_id(body: Any, headers: Mapping[str, str] | None) -> str | None:
    if isinstance(body, dict):
        request_id = body.get("request_id")
        if isinstance(request_id, str):
            return request_id
    return None if headers is None else headers.get(REQUEST_ID_HEADER)


def _decode(
    answer: BackendAnswer, method: str, log_path: str, *, writes: bool, elapsed: float
) -> Response:
    status, headers, payload = answer.status, answer.headers, answer.body
    body: Any = None
    if payload:
        if 200 <= status < 300:
            try:
                body = _json_body(payload)
            except _Unreadable as why:
                request_id = headers.get(REQUEST_ID_HEADER)
                raise CheckoutConnectionError(
                    f"{method} {log_path}: the {status} answer could not be read: {why} "
                    f"(request_id={request_id or 'unknown'})" + _acted(writes),
                    request_id=request_id,
                ) from None
        else:
            body = _error_body(payload, headers)
    return Response(status, body, _request_id(body, headers), headers, elapsed)


def _acted(writes: bool) -> str:
    return "; the API may have acted" if writes else ""


def _failure_error(
    failure: SendFailed,
    method: str,
    url: URL,
    log_path: str,
    *,
    writes: bool,
    deadline: float | None,
) -> CheckoutConnectionError:
    """The error for an attempt that got no answer; `deadline` when it was cut short by it."""
    kind, detail = failure.kind, failure.detail
    late = "" if deadline is None else f" (the call's deadline of {deadline:g} s ran out)"
    if kind is FailureKind.CONNECT:
        return CheckoutConnectionError(f"could not connect to {url.host} ({detail})")
    if kind is FailureKind.CONNECT_TIMEOUT:
        return CheckoutTimeoutError(f"timed out connecting to {url.host}{late}")
    if kind is FailureKind.TLS:
        return CheckoutConnectionError(f"{detail} ({url.host})")
    if kind is FailureKind.PROXY:
        return CheckoutConnectionError(f"could not reach {url.host} through the proxy: {detail}")
    acted = _acted(writes)
    # The headers came before the failure (a body cut short, too large, too slow): their id.
    request_id = None if failure.headers is None else failure.headers.get(REQUEST_ID_HEADER)
    known = "" if request_id is None else f" (request_id={request_id})"
    if kind is FailureKind.ANSWER_TIMEOUT:
        return CheckoutTimeoutError(
            f"{method} {log_path} timed out waiting for the answer{late}{known}{acted}",
            request_id=request_id,
        )
    read = f"(request_id={request_id or 'unknown'})"
    if kind is FailureKind.TOO_LARGE:
        return CheckoutConnectionError(
            f"{method} {log_path}: the answer could not be read: it is larger than "
            f"max_response_bytes ({detail}) {read}{acted}",
            request_id=request_id,
        )
    if kind is FailureKind.MALFORMED:
        return CheckoutConnectionError(
            f"{method} {log_path}: the answer could not be read ({detail}) {read}{acted}",
            request_id=request_id,
        )
    return CheckoutConnectionError(
        f"{method} {log_path} failed without an answer ({detail}){known}{acted}",
        request_id=request_id,
    )


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
        location=response.headers.get("Location"),
    )
