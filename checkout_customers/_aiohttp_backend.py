"""The only place that imports aiohttp: the `Backend` that sends one attempt over a session.

An `AiohttpBackend` creates its `aiohttp.ClientSession` lazily, on the event loop that first
uses it, and refuses to be used from another loop. A caller-owned session is used as given and
never closed. TLS is verified with the `ssl_context` given (already checked to verify), else
with aiohttp's default context; the connector's context also secures a proxy's `CONNECT`
tunnel. Redirects are not followed, cookies are not kept, the environment's proxies and
`.netrc` are not read by aiohttp (the proxy is chosen by `_proxy.py` and given per request).
The body is read against `max_body_bytes` as it arrives, after decompression, so neither a huge
answer nor a small compressed one that inflates (a "zip bomb") can fill the memory.
"""

from __future__ import annotations

import asyncio
import os
import ssl

import aiohttp

from ._backend import BackendAnswer, BackendRequest, FailureKind, SendFailed
from ._config import Timeout, verifying_ssl_context

__all__ = ["AiohttpBackend"]

# The reason to stop reading, kept here rather than raised inside aiohttp's `except` blocks,
# whose exceptions carry the request's headers (the Authorization) and URL (an email).
_Failure = tuple[FailureKind, str]
_NO_CONTENT = frozenset({204, 304})


def client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    """aiohttp's view of `timeout` (its `connect` covers waiting for a pooled connection too)."""
    return aiohttp.ClientTimeout(
        total=timeout.total,
        connect=timeout.pool + timeout.connect,
        sock_connect=timeout.connect,
        sock_read=timeout.read,
        ceil_threshold=5,
    )


class AiohttpBackend:
    """Sends single attempts over one aiohttp session (ours, or the caller's)."""

    def __init__(
        self,
        *,
        max_connections: int,
        ssl_context: ssl.SSLContext | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._max_connections = max_connections
        self._ssl_context = ssl_context
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # The aiohttp timeout of the Timeout last used: most calls reuse the client's own.
        self._last_timeout: Timeout | None = None
        self._last_client_timeout = aiohttp.ClientTimeout()

    @property
    def user_agent(self) -> str:
        """`aiohttp/VERSION`, for the `User-Agent` header."""
        return f"aiohttp/{aiohttp.__version__}"

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session, once one exists."""
        return self._session

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this client is closed; create a new one")
        if self._session is not None and not self._owns_session:
            return self._session
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError(
                "this AsyncClient is bound to the event loop that first used it; create one "
                "client per event loop (or use the sync Client from other threads)"
            )
        if self._session is None:
            self._loop = loop
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=self._max_connections,
                ttl_dns_cache=300,
                use_dns_cache=True,
                # Idle connections are dropped before common load balancers drop them, so a
                # create rarely goes out on a connection the server is closing (its outcome
                # would then be unknown).
                keepalive_timeout=15,
                ssl=True if self._ssl_context is None else self._ssl_context,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                raise_for_status=False,
                trust_env=False,  # proxies come from `_proxy.py`; `.netrc` is never read
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
        """Close the session if this backend created it; idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    async def send(self, request: BackendRequest) -> BackendAnswer:
        """Send one attempt; see `Backend.send`."""
        session = self._session
        # The checks of `_get_session`, inlined for the common case (a session of ours, made
        # on this loop): one call fewer per request (benchmarks/bench_client.py).
        if (
            session is None
            or not self._owns_session
            or self._closed
            or self._loop is not asyncio.get_running_loop()
        ):
            session = self._get_session()
        if self._ssl_context is not None:
            verifying_ssl_context(self._ssl_context)  # still verifying, if edited since
        if request.timeout is self._last_timeout:
            timeout = self._last_client_timeout
        else:
            timeout = client_timeout(request.timeout)
            self._last_timeout, self._last_client_timeout = request.timeout, timeout
        failure: _Failure | None = None
        headers = None
        try:
            async with session.request(
                request.method,
                request.url,
                data=request.body,
                headers=request.headers,
                timeout=timeout,
                proxy=request.proxy,
                allow_redirects=False,
                raise_for_status=False,  # a caller-owned session may say otherwise
            ) as raw:
                headers = raw.headers
                limit = request.max_body_bytes
                if raw.status in _NO_CONTENT:
                    # No content by definition (RFC 9110 section 6.4.1); aiohttp reads none.
                    return BackendAnswer(raw.status, headers, b"")
                length = raw.content_length
                if length is not None and length > limit:
                    failure = (FailureKind.TOO_LARGE, f"Content-Length {length} > {limit} bytes")
                elif length is not None and "Content-Encoding" not in headers:
                    # The framing bounds this read: the fast path of every plain answer.
                    body = await raw.read()
                else:
                    capped = await _read_at_most(raw.content, limit)
                    if capped is None:
                        failure = (FailureKind.TOO_LARGE, f"more than {limit} bytes")
                    body = capped or b""
        except aiohttp.ClientConnectorCertificateError as exc:
            failure = (
                FailureKind.TLS,
                f"TLS certificate verification failed: {exc.certificate_error}",
            )
        except aiohttp.ClientSSLError as exc:
            failure = (FailureKind.TLS, f"TLS error: {type(exc).__name__}")
        except aiohttp.ClientProxyConnectionError as exc:
            failure = (FailureKind.CONNECT, f"via the proxy: {_os_reason(exc)}")
        except aiohttp.ClientConnectorError as exc:
            failure = (FailureKind.CONNECT, _os_reason(exc))
        except aiohttp.ClientHttpProxyError as exc:
            failure = (FailureKind.PROXY, f"the proxy answered {exc.status} {exc.message}")
        except aiohttp.ConnectionTimeoutError:
            failure = (FailureKind.CONNECT_TIMEOUT, "timed out connecting")
        except (asyncio.TimeoutError, TimeoutError, aiohttp.ServerTimeoutError):
            # Before Python 3.11 the builtin TimeoutError is not asyncio.TimeoutError.
            failure = (FailureKind.ANSWER_TIMEOUT, "timed out waiting for the answer")
        except aiohttp.ClientResponseError as exc:
            failure = (
                FailureKind.MALFORMED,
                f"{type(exc).__name__}, status {exc.status}: {exc.message}",
            )
        except aiohttp.ClientPayloadError as exc:
            failure = (FailureKind.MALFORMED, f"{type(exc).__name__}: {exc}")
        except aiohttp.ClientError as exc:
            # Only the type and the OS's reason: some of these quote the URL (an email).
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else None
            detail = f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__
            failure = (FailureKind.DISCONNECTED, detail)
        if failure is not None:
            # Raised here, not in an `except` block, so that the aiohttp error is not even its
            # context: its repr carries the request's headers and its text the URL.
            raise SendFailed(*failure, headers=headers)
        return BackendAnswer(raw.status, raw.headers, body)


def _os_reason(exc: aiohttp.ClientConnectorError) -> str:
    """The operating system's words for a failed connection ("Connection refused").

    asyncio replaces the text of a refused connect with "Connect call failed (host, port)", which
    tells an operator nothing; the errno still says what happened.
    """
    number = exc.os_error.errno
    if number:
        return os.strerror(number)
    return exc.strerror or "connection failed"


async def _read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds `limit` bytes (decompressed)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
