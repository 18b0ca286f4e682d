"""The private event loop behind the sync `Client`: one daemon thread running asyncio.

A `Portal` owns one async client (an `AsyncClient`) and the event loop it lives on. Blocking
callers hand it a function of that client returning an awaitable; the portal runs it on its loop
and waits for the result:

    portal = Portal(lambda: AsyncClient(secret_key=...), AsyncClient.aclose, owner=client)
    customer = portal.call(lambda cko: cko.customers.get("bruce@wayne.com"))
    portal.close()

The generated facade (`_sync_client.py`, written by `scripts/generate_sync.py`) is the only user.

- The loop thread starts on the first call, and stops on `close()`, when the owner (the sync
  client) is garbage-collected, or at interpreter exit; stopping closes the async client (so its
  aiohttp session and connector) on the loop, then joins the thread. A call still running then
  raises `RuntimeError`.
- Any number of threads may call one portal at once; their calls run concurrently on the loop.
- Calling from inside another running event loop works: only the calling thread blocks.
- Calling from the portal's own loop thread would wait for itself forever, so it raises
  `RuntimeError` instead.
- So does a call (or `close()`) made while this thread is already inside a call of the same
  portal: a signal handler that runs during a call, which could otherwise wait on the lock
  the interrupted call holds.
- After `os.fork()` the child builds a fresh loop, thread and async client on first use and
  never touches the parent's (they belong to the parent's threads and sockets).
- `KeyboardInterrupt` (Ctrl-C) while waiting cancels the call on the loop and is re-raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

__all__ = ["Portal"]

ClientT = TypeVar("ClientT")
T = TypeVar("T")

#: How long `close()` waits for the async client to close before stopping the loop anyway.
CLOSE_TIMEOUT_S = 10.0
#: How long an interrupted call waits for its cancellation to finish on the loop.
CANCEL_GRACE_S = 2.0

_live_portals: weakref.WeakSet[Portal[Any]] = weakref.WeakSet()
# Whatever a forked child inherited from its parent's portals. It is kept referenced, never used
# and never closed: closing it would act on the parent's sockets and epoll registrations.
_inherited_from_parent: list[object] = []


class Portal(Generic[ClientT]):
    """Runs calls on one async client, on a private event loop in a daemon thread.

    Thread-safe: share one portal (one `Client`) between any number of threads.
    """

    def __init__(
        self,
        make_client: Callable[[], ClientT],
        close_client: Callable[[ClientT], Awaitable[None]],
        *,
        owner: object,
        name: str = "Client",
    ) -> None:
        self._make_client = make_client
        self._close_client = close_client
        self._name = name
        self._lock = threading.Lock()
        self._calling = threading.local()  # .active: this thread is inside call()
        self._pid = os.getpid()
        self._client: ClientT | None = make_client()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        _live_portals.add(self)
        # Close when the owner is garbage-collected or at interpreter exit, whichever is first.
        weakref.finalize(owner, self.close)

    @property
    def client(self) -> ClientT:
        """The async client of this process (rebuilt after a fork)."""
        if getattr(self._calling, "active", False) and self._client is not None:
            # A signal handler inside a call (repr, base_url): the interrupted call may hold
            # the lock, and it has made the client already.
            return self._client
        with self._lock:
            if self._pid != os.getpid():
                self._forget_parent()
            return self._current_client()

    @property
    def running(self) -> bool:
        """Whether the loop thread of this process is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def call(self, function: Callable[[ClientT], Awaitable[T]]) -> T:
        """Run `function(client)` on the loop and return its result, or raise its exception.

        Raises `RuntimeError` when the portal is closed, when called from its own loop thread,
        and when this thread is already inside a call (from a signal handler).
        """
        calling = self._calling
        if getattr(calling, "active", False):
            raise self._reentered("call it")
        calling.active = True
        try:
            return self._call(function)
        finally:
            calling.active = False

    def _call(self, function: Callable[[ClientT], Awaitable[T]]) -> T:
        started: list[asyncio.Task[T]] = []
        finished = threading.Lock()  # released by the task's done callback: the cheapest wait
        finished.acquire()

        def start() -> None:  # on the loop
            task = loop.create_task(_await(function, client))
            started.append(task)
            task.add_done_callback(lambda _: finished.release())

        with self._lock:
            self._check_usable()
            client = self._current_client()
            loop = self._start_loop()
            # Scheduled under the lock, so that a concurrent close() sees this call's task.
            loop.call_soon_threadsafe(start)
        try:
            finished.acquire()
        except BaseException:
            # Mostly KeyboardInterrupt: cancel the request on the loop and give it a moment to
            # unwind, so that the connection is released before the interrupt propagates.
            # The loop may close meanwhile (a concurrent close()): the interrupt still wins.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_cancel, started)
                finished.acquire(timeout=CANCEL_GRACE_S)
            raise
        if started[0].cancelled():
            raise RuntimeError(f"this {self._name} was closed while the call was running")
        return started[0].result()

    def close(self) -> None:
        """Close the async client and stop the loop thread; idempotent.

        From the loop thread itself the shutdown is only scheduled, not waited for. Raises
        `RuntimeError` when this thread is inside a call (from a signal handler).
        """
        if getattr(self._calling, "active", False):
            raise self._reentered("close it")
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._pid != os.getpid():
                self._forget_parent()
            client = self._client
            loop, self._loop = self._loop, None
            thread, self._thread = self._thread, None
            _live_portals.discard(self)
        if loop is None or thread is None or client is None:
            return  # never started: the async client opened nothing yet
        shutdown = asyncio.run_coroutine_threadsafe(self._shutdown(client), loop)
        if threading.current_thread() is thread:
            return
        try:
            shutdown.result(CLOSE_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            loop.call_soon_threadsafe(loop.stop)
        finally:
            thread.join()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self.running else "idle"
        return f"<Portal {self._name!r} {state}>"

    def _check_usable(self) -> None:
        if self._closed:
            raise RuntimeError(f"this {self._name} is closed; create a new one")
        if self._pid != os.getpid():
            self._forget_parent()
        if self._thread is not None and threading.current_thread() is self._thread:
            raise RuntimeError(
                f"the sync {self._name} was called from its own event-loop thread, where "
                "it would wait for itself forever; code running on that loop must use the "
                "AsyncClient and await its methods"
            )

    def _reentered(self, action: str) -> RuntimeError:
        return RuntimeError(
            f"the sync {self._name} was used while this thread is inside one of its calls (from "
            "a signal handler that interrupted it, say): waiting there could hang forever; "
            f"{action} after the interrupted call returns, or from another thread"
        )

    def _current_client(self) -> ClientT:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _start_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            # Our own executor for the resolver's getaddrinfo calls, shut down without starting
            # a thread: at interpreter exit (3.12+) asyncio's shutdown_default_executor cannot.
            executor = concurrent.futures.ThreadPoolExecutor(
                thread_name_prefix="checkout-customers-resolver"
            )
            loop.set_default_executor(executor)
            thread = threading.Thread(
                target=_run_loop,
                args=(loop, executor),
                name="checkout-customers-loop",
                daemon=True,
            )
            thread.start()
            self._loop, self._thread = loop, thread
        return self._loop

    async def _shutdown(self, client: ClientT) -> None:
        try:
            await self._close_client(client)
            # Let the transports closed just now run their connection_lost callbacks.
            await asyncio.sleep(0)
        finally:
            asyncio.get_running_loop().stop()

    def _forget_parent(self) -> None:
        """In a forked child: drop (but keep referenced) everything the parent's portal made."""
        _inherited_from_parent.append((self._loop, self._thread, self._client))
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._calling = threading.local()
        self._loop = self._thread = None
        self._client = None


async def _await(function: Callable[[ClientT], Awaitable[T]], client: ClientT) -> T:
    return await function(client)


def _cancel(started: list[asyncio.Task[Any]]) -> None:
    task = started[0]
    if not task.cancel() and not task.cancelled():
        task.exception()  # finished just before the interrupt: mark its outcome as seen


def _run_loop(
    loop: asyncio.AbstractEventLoop, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            # Calls still running when the client closed end cancelled (their callers get a
            # RuntimeError); a call scheduled meanwhile starts a task, so look again.
            while tasks := asyncio.all_tasks(loop):
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            executor.shutdown(wait=True)
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _after_fork_in_child() -> None:
    # The lock of a portal may have been held by a thread that does not exist in the child.
    for portal in list(_live_portals):
        if portal._pid != os.getpid():
            portal._forget_parent()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
