"""The private event loop behind the sync `Client`: one daemon thread running asyncio.

A `Portal` owns one async client (an `AsyncClient`) and the event loop it lives on. Blocking
callers hand it a function of that client returning an awaitable; the portal runs it on its loop
and waits for the result:

    portal = Portal(lambda: AsyncClient(secret_key=...), AsyncClient.aclose, owner=client)
    customer = portal.call(lambda cko: cko.customers.get("bruce@wayne.com"))
    portal.close()

The generated facade (`_sync_client.py`, written by `scripts/generate_sync.py`) is the only user.

- While calls do not overlap, each runs on the calling thread, which drives the portal's loop
  itself for the length of the call: no thread hand-off, no loop thread. Not on the main
  thread when a Python handler is set for a common signal (it would run inside the loop), nor
  inside another running event loop: those calls go to the loop thread.
- The loop thread starts when calls first overlap (or cannot run on the calling thread), and
  from then on runs every call; it stops on `close()`, when the owner (the sync client) is
  garbage-collected, or at interpreter exit. Closing closes the async client (so its aiohttp
  session and connector) on the loop, then joins the thread. A call still running then raises
  `RuntimeError`.
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
import inspect
import os
import signal
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

# Signals whose Python handlers would run inside the loop if the main thread drove it: with one
# set, the main thread's calls go to the loop thread, where they always went.
_WATCHED_SIGNALS = tuple(
    getattr(signal, name)
    for name in (
        "SIGALRM",
        "SIGTERM",
        "SIGHUP",
        "SIGUSR1",
        "SIGUSR2",
        "SIGCHLD",
        "SIGWINCH",
        "SIGVTALRM",
        "SIGPROF",
        "SIGQUIT",
    )
    if hasattr(signal, name)
)
_C_HANDLERS = (int(signal.SIG_DFL), int(signal.SIG_IGN), None)
# The C functions under `signal.getsignal` / `signal.signal`, without the enum conversions that
# cost more than the rest of a call's checks (measured: benchmarks/bench_sync_facade.py).
_c_signal: Any = getattr(signal, "_signal", signal)
_getsignal: Callable[[int], Any] = _c_signal.getsignal
_set_signal: Callable[[int, Any], Any] = _c_signal.signal

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
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        # A calling thread is running the loop (`_driven` is its call's task); `_hand_over`:
        # another call is waiting on the loop, so the driver starts the loop thread when done.
        self._driving = False
        self._driven: asyncio.Task[Any] | None = None
        self._hand_over = False
        self._idle = threading.Condition(self._lock)
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
            if self._loop is not None and asyncio._get_running_loop() is self._loop:
                raise self._own_loop_error()  # code running on the loop this thread drives
            raise self._reentered("call it")
        calling.active = True
        try:
            return self._call(function)
        finally:
            calling.active = False

    def _call(self, function: Callable[[ClientT], Awaitable[T]]) -> T:
        task: asyncio.Task[T] | None = None
        with self._lock:
            self._check_usable()
            client = self._current_client()
            loop = self._current_loop()
            if self._thread is None and not self._driving and _may_drive():
                self._driving = True
                task = self._driven = loop.create_task(_then_stop(function, client))
            else:
                if self._thread is None and not self._driving:
                    self._start_thread()
                elif self._thread is None:
                    self._hand_over = True  # the driver starts the loop thread when done
                # Scheduled under the lock, so that a concurrent close() sees this call's task.
                started, finished = _schedule(loop, function, client)
        if task is None:
            return self._wait(loop, started, finished)
        try:
            return self._drive(loop, task)
        finally:
            with self._lock:
                self._driving = False
                self._driven = None
                if self._hand_over:
                    self._start_thread()
                self._idle.notify_all()

    def _wait(
        self,
        loop: asyncio.AbstractEventLoop,
        started: list[asyncio.Task[T]],
        finished: threading.Lock,
    ) -> T:
        """Wait for a call scheduled on the loop thread; Ctrl-C cancels it there."""
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

    def _drive(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[T]) -> T:
        """Run the loop on this thread until `task` is done; Ctrl-C cancels it, as on a thread."""
        interrupted = False

        def on_interrupt(signum: int, frame: object) -> None:
            nonlocal interrupted
            if interrupted or task.done():
                raise KeyboardInterrupt  # a second Ctrl-C: stop waiting for the cancellation
            interrupted = True
            # Thread-safe form: it also wakes the selector this handler interrupted.
            loop.call_soon_threadsafe(_cancel_driven, task)

        on_main = threading.current_thread() is threading.main_thread()
        if on_main:
            # As asyncio.run does: Ctrl-C cancels the call instead of raising inside the loop.
            previous = _set_signal(signal.SIGINT, on_interrupt)
        try:
            while not task.done():  # run_forever returns once the task's last step stops it
                loop.run_forever()
        except BaseException:
            if task.done():
                if not task.cancelled():
                    task.exception()  # its outcome is superseded by the interrupt: seen
            else:
                _cancel_driven(task)
                timer = loop.call_later(CANCEL_GRACE_S, loop.stop)
                with contextlib.suppress(BaseException):
                    loop.run_forever()
                timer.cancel()
            raise
        finally:
            if on_main:
                _set_signal(signal.SIGINT, previous)
        if interrupted:
            if not task.cancelled():
                task.exception()  # finished just before the interrupt: its outcome is seen
            raise KeyboardInterrupt
        if task.cancelled():
            raise RuntimeError(f"this {self._name} was closed while the call was running")
        return task.result()

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
            if self._driven is not None:
                # The call a thread is driving ends with RuntimeError, as on the loop thread.
                self._loop.call_soon_threadsafe(_cancel_driven, self._driven)  # type: ignore[union-attr]
            while self._driving:
                self._idle.wait()
            client = self._client
            loop, self._loop = self._loop, None
            executor, self._executor = self._executor, None
            thread, self._thread = self._thread, None
            _live_portals.discard(self)
        if loop is None or client is None or executor is None:
            return  # never used: the async client opened nothing yet
        if thread is None:
            # Calls ran on their callers' threads: nobody runs the loop now, so close it here
            # (in a thread of its own when this one runs another event loop).
            if asyncio._get_running_loop() is None:
                _close_idle_loop(loop, executor, self._close_client, client)
            else:
                closer = threading.Thread(
                    target=_close_idle_loop,
                    args=(loop, executor, self._close_client, client),
                    name="checkout-customers-close",
                )
                closer.start()
                closer.join()
            return
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
            raise self._own_loop_error()

    def _own_loop_error(self) -> RuntimeError:
        return RuntimeError(
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

    def _current_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            # Our own executor for the resolver's getaddrinfo calls, shut down without starting
            # a thread: at interpreter exit (3.12+) asyncio's shutdown_default_executor cannot.
            executor = concurrent.futures.ThreadPoolExecutor(
                thread_name_prefix="checkout-customers-resolver"
            )
            loop.set_default_executor(executor)
            self._loop, self._executor = loop, executor
        return self._loop

    def _start_thread(self) -> None:
        """Start the loop thread (under the lock, with the loop not running)."""
        thread = threading.Thread(
            target=_run_loop,
            args=(self._current_loop(), self._executor),
            name="checkout-customers-loop",
            daemon=True,
        )
        thread.start()
        self._thread = thread
        self._hand_over = False

    async def _shutdown(self, client: ClientT) -> None:
        try:
            await self._close_client(client)
            # Let the transports closed just now run their connection_lost callbacks.
            await asyncio.sleep(0)
        finally:
            asyncio.get_running_loop().stop()

    def _forget_parent(self) -> None:
        """In a forked child: drop (but keep referenced) everything the parent's portal made."""
        _inherited_from_parent.append((self._loop, self._executor, self._thread, self._client))
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._calling = threading.local()
        self._loop = self._thread = self._executor = None
        self._driving, self._driven, self._hand_over = False, None, False
        self._client = None


async def _then_stop(function: Callable[[ClientT], Awaitable[T]], client: ClientT) -> T:
    """Run a driven call, then stop the loop in the same step: a done callback would take one
    more turn of the loop (measured: bench_sync_facade.py)."""
    try:
        return await function(client)
    finally:
        asyncio.get_running_loop().stop()


def _cancel_driven(task: asyncio.Task[Any]) -> None:
    """Cancel a driven call (on its loop). One cancelled before its first step never runs
    `_then_stop`'s `finally`, so it stops the loop when done instead (only then: a stop left
    queued would cut the loop's next run short)."""
    unstarted = inspect.getcoroutinestate(task.get_coro()) == inspect.CORO_CREATED  # type: ignore[arg-type]
    task.cancel()
    if unstarted:
        task.add_done_callback(_stop_loop)


async def _await(function: Callable[[ClientT], Awaitable[T]], client: ClientT) -> T:
    return await function(client)


def _schedule(
    loop: asyncio.AbstractEventLoop, function: Callable[[ClientT], Awaitable[T]], client: ClientT
) -> tuple[list[asyncio.Task[T]], threading.Lock]:
    """Start `function(client)` on the loop thread: the task (once started) and a lock released
    when it is done."""
    started: list[asyncio.Task[T]] = []
    finished = threading.Lock()  # released by the task's done callback: the cheapest wait
    finished.acquire()

    def start() -> None:  # on the loop
        task = loop.create_task(_await(function, client))
        started.append(task)
        task.add_done_callback(lambda _: finished.release())

    loop.call_soon_threadsafe(start)
    return started, finished


def _may_drive() -> bool:
    """Whether this thread may run the portal's loop for the length of a call."""
    if asyncio._get_running_loop() is not None:
        return False  # one thread runs one loop at a time
    if threading.current_thread() is not threading.main_thread():
        return True  # signal handlers run on the main thread only
    if _getsignal(signal.SIGINT) is not signal.default_int_handler:
        return False
    for signum in _WATCHED_SIGNALS:  # noqa: SIM110 - a loop, not a generator made per call
        if _getsignal(signum) not in _C_HANDLERS:
            return False
    return True


def _stop_loop(task: asyncio.Task[Any]) -> None:
    task.get_loop().stop()


def _close_idle_loop(
    loop: asyncio.AbstractEventLoop,
    executor: concurrent.futures.ThreadPoolExecutor,
    close_client: Callable[[Any], Awaitable[None]],
    client: Any,
) -> None:
    """Close `client` on `loop`, which no thread runs, then the loop itself."""

    async def shutdown() -> None:
        await close_client(client)
        await asyncio.sleep(0)  # the transports closed just now run connection_lost

    try:
        loop.run_until_complete(shutdown())
    finally:
        _finish_loop(loop, executor)


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
            _finish_loop(loop, executor)
        finally:
            asyncio.set_event_loop(None)


def _finish_loop(
    loop: asyncio.AbstractEventLoop, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
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
        loop.close()


def _after_fork_in_child() -> None:
    # The lock of a portal may have been held by a thread that does not exist in the child.
    for portal in list(_live_portals):
        if portal._pid != os.getpid():
            portal._forget_parent()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
