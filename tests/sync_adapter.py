"""Run async-style tests through the sync `Client`: `adapt(client)` is awaited like an AsyncClient.

    api = adapt(Client(secret_key=..., base_url=...))
    customer = await api.customers.get("bruce@wayne.com")  # Client.customers.get, in a thread
    fast = api.with_options(timeout=5)                      # not awaited, as on AsyncClient
    await api.aclose()                                      # Client.close, in a thread

Every method is looked up on the wrapped object by name, so a new method of the generated
facade needs nothing here. Blocking calls run in `asyncio.to_thread`, so the test's own event
loop (and an emulator served on it) keeps running while the sync client waits.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

from checkout_customers import Client

__all__ = ["adapt"]

_PLAIN_VALUES = (str, bytes, int, float, bool, type(None))
_NOT_AWAITED = frozenset({"with_options"})  # plain methods on AsyncClient too


class _Awaiting:
    """A view of a sync object whose methods are coroutines running the originals in a thread."""

    def __init__(self, target: object) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if name in _NOT_AWAITED:
            return _adapting(attribute)
        if callable(attribute):
            return _in_thread(attribute)
        if isinstance(attribute, _PLAIN_VALUES):
            return attribute
        return _Awaiting(attribute)  # a resource such as `client.customers`

    def __repr__(self) -> str:
        return f"adapt({self._target!r})"


class _AwaitingClient(_Awaiting):
    """`adapt(client)`: also closes like an AsyncClient (`aclose()`, `async with`)."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.client = client

    async def aclose(self) -> None:
        await asyncio.to_thread(self.client.close)

    async def __aenter__(self) -> _AwaitingClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _in_thread(function: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(function)
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(function, *args, **kwargs)

    return call


def _adapting(function: Callable[..., Any]) -> Callable[..., Any]:
    # A method that is not awaited on AsyncClient either; the client it gives is adapted too.
    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        return _AwaitingClient(result) if isinstance(result, Client) else result

    return call


def adapt(client: Client) -> Any:
    """Wrap a sync `Client` so that `await adapted.customers.get(...)` calls it in a thread."""
    return _AwaitingClient(client)
