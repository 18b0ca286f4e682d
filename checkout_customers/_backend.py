"""The seam between the SDK and an HTTP library: send one request, get status, headers and body.

`Transport` (retries, authentication, deadlines, error mapping) talks to a `Backend` only; the
one shipped backend is `AiohttpBackend` (`_aiohttp_backend.py`). A test can pass any object with
the same two methods:

    class FakeBackend:
        user_agent = "fake/1.0"

        async def send(self, request: BackendRequest) -> BackendAnswer:
            return BackendAnswer(200, CIMultiDictProxy(CIMultiDict()), b'{"id": "cus_..."}')

        async def aclose(self) -> None: ...

A backend sends exactly one attempt (no retries, no redirects followed, no cookies), and reports
a failure to get a complete answer as `SendFailed` with the `FailureKind` that the retry rules
of `_retry.py` need: whether the request may have reached the server, whether trying again can
help. It must stop reading once the body, decompressed, exceeds `request.max_body_bytes`, and
give up once `request.timeout.total` seconds have passed. Nothing in this module imports aiohttp.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from multidict import CIMultiDictProxy
from yarl import URL

from ._config import Timeout

__all__ = ["Backend", "BackendAnswer", "BackendRequest", "FailureKind", "SendFailed"]


# Named tuples rather than attrs classes: one of each is built per attempt, on the hot path.
class BackendRequest(NamedTuple):
    """One attempt to send: everything a backend needs, already encoded.

    `timeout.total` is already shortened to what is left of the call's deadline. `proxy` is
    the proxy URL to send through (credentials allowed), or None for a direct connection.
    """

    method: str
    url: URL
    headers: Mapping[str, str]  # holds the Authorization; read-only (may be shared)
    body: str | None  # may hold personal data
    timeout: Timeout
    proxy: URL | None  # may hold proxy credentials
    max_body_bytes: int

    def __repr__(self) -> str:
        # The headers hold the credential, the body personal data, the proxy a password.
        return f"BackendRequest({self.method} {self.url.path}, timeout={self.timeout!r})"


class BackendAnswer(NamedTuple):
    """A complete answer, whatever its status; `body` is the decompressed bytes."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def __repr__(self) -> str:
        return f"BackendAnswer(status={self.status}, {len(self.body)} bytes)"


class FailureKind(enum.Enum):
    """Why an attempt got no complete answer; `_retry.py` decides what each one allows."""

    CONNECT = "connect"  # could not open a connection: the request was not sent
    CONNECT_TIMEOUT = "connect_timeout"  # no connection in time: not sent
    TLS = "tls"  # certificate or TLS failure: not sent, and retrying cannot help
    PROXY = "proxy"  # the proxy refused to open a tunnel (407, 403, ...): not sent
    ANSWER_TIMEOUT = "answer_timeout"  # sent, no complete answer in time
    DISCONNECTED = "disconnected"  # sent, the connection dropped before a complete answer
    MALFORMED = "malformed"  # sent, the answer broke HTTP (bad framing, bad encoding)
    TOO_LARGE = "too_large"  # sent, the body exceeded max_body_bytes

    @property
    def sent(self) -> bool:
        """True when the server may have received the request (and acted on it)."""
        return self not in _NOT_SENT


_NOT_SENT = frozenset(
    {FailureKind.CONNECT, FailureKind.CONNECT_TIMEOUT, FailureKind.TLS, FailureKind.PROXY}
)


class SendFailed(Exception):
    """One attempt got no complete answer.

    `detail` is safe to show: it never holds a header, a body or the request's URL (the path
    can hold an email address). `headers` are the answer's, when the failure came after them
    (a body too large or broken), so that the request id can still be reported.
    """

    def __init__(
        self, kind: FailureKind, detail: str, *, headers: CIMultiDictProxy[str] | None = None
    ) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail
        self.headers = headers


class Backend(Protocol):
    """Sends single HTTP attempts; see the module docstring for the contract."""

    @property
    def user_agent(self) -> str:
        """The library's token for the `User-Agent` header, such as `aiohttp/3.14.5`."""
        ...

    async def send(self, request: BackendRequest) -> BackendAnswer:
        """Send `request` once; return the complete answer or raise `SendFailed`."""
        ...

    async def aclose(self) -> None:
        """Release connections this backend owns; later `send` calls raise `RuntimeError`."""
        ...
