"""The hand-written half of the sync `Client`: its private event loop, closing, `with_options`.

`scripts/generate_sync.py` writes the other half (`_sync_client.py`): the constructor with
`AsyncClient`'s real signature, and one blocking method per async method, each handing its call
to `SyncClientBase._run`. Everything here is shared by every generated class.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from ._client import AsyncClient
from ._config import TimeoutTypes
from ._portal import Portal

__all__ = ["SyncClientBase", "SyncResource"]

T = TypeVar("T")
SelfT = TypeVar("SelfT", bound="SyncClientBase")


class SyncClientBase:
    """The blocking client of the Checkout.com Customers API: `AsyncClient` without `await`.

        with Client(secret_key="sk_sbox_...", prefix="abcd1234") as cko:
            customer = cko.customers.get("bruce@wayne.com")

    Takes the keyword arguments of `AsyncClient` except `session`, has the same methods
    (`with_options` and `customers.with_raw_response` included) and raises the same exceptions.
    Close with `close()` or by leaving `with`.

    Each client has its own event loop: a call made while no other is running drives it on the
    calling thread; once calls overlap, a daemon thread runs it, until `close()`, leaving
    `with`, or interpreter exit. One client is safe to share between
    any number of threads, and works when called from inside a running event loop (a notebook,
    an async framework calling sync code). Called from code running on its own loop, or from a
    signal handler that interrupted one of its calls, it raises `RuntimeError` rather than
    deadlock. After `os.fork()` the child gets a fresh loop and connection pool on first use.
    Ctrl-C during a call cancels the request.
    """

    # (This docstring is the generated `Client`'s too.) Calls run on one `AsyncClient` on a
    # private event loop (`Portal`); a client made by `with_options` shares the portal (so the
    # loop, the pool and the credentials) and runs each call on that client's async twin.

    def __init__(self, make_client: Callable[[], AsyncClient]) -> None:
        self._portal: Portal[AsyncClient] = Portal(
            make_client, AsyncClient.aclose, owner=self, name=type(self).__name__
        )
        # Clients from with_options: the options of each with_options call, in order.
        self._options: tuple[dict[str, Any], ...] = ()
        self._derived: tuple[AsyncClient, AsyncClient] | None = None
        # On a client from with_options: the client that owns the portal, kept alive by it.
        self._root: SyncClientBase | None = None
        self._attach_resources()

    def _attach_resources(self) -> None:
        """Create the resource attributes (`self.customers`, ...); generated."""

    def _run(self, function: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Run `function(async_client)` on the private loop and return its result."""
        if not self._options:
            return self._portal.call(function)
        return self._portal.call(lambda cko: function(self._async_twin(cko)))

    def _async_twin(self, cko: AsyncClient) -> AsyncClient:
        # One twin per async client: after a fork the portal builds a new one, and so do we.
        derived = self._derived
        if derived is None or derived[0] is not cko:
            twin = cko
            for options in self._options:
                twin = twin.with_options(**options)
            derived = self._derived = (cko, twin)
        return derived[1]

    def with_options(
        self: SelfT,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SelfT:
        """A client sharing this one's event loop, connection pool and credentials, whose
        calls default to these options (those left out keep this client's); see
        `AsyncClient.with_options`.

            fast = cko.with_options(timeout=5, max_retries=0)

        Closing it does nothing: the pool closes with the client it was made from. Raises
        `CheckoutArgumentError` for an invalid option.
        """
        options: dict[str, Any] = {
            "timeout": timeout,
            "max_retries": max_retries,
            "headers": dict(headers) if isinstance(headers, Mapping) else headers,
        }
        derived = copy.copy(self)
        derived._root = self._root or self
        derived._options = (*self._options, options)
        derived._derived = None
        derived._async_twin(self._portal.client)  # validates now, in the caller's thread
        derived._attach_resources()
        return derived

    @property
    def base_url(self) -> str:
        """The API base URL this client sends to."""
        return self._portal.client.base_url

    def __repr__(self) -> str:
        return type(self).__name__ + repr(self._portal.client).removeprefix("AsyncClient")

    def close(self) -> None:
        """Close the connection pool, stop the event-loop thread; safe to call twice.

        On a client made by `with_options` this does nothing.
        """
        if self._root is None:
            self._portal.close()

    def __enter__(self: SelfT) -> SelfT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SyncResource:
    """A blocking resource (`client.customers`): its methods run through the client's `_run`."""

    def __init__(self, client: SyncClientBase) -> None:
        self._client = client  # keeps the client, so its loop, alive while this is used
