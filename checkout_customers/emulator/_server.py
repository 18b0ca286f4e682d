"""Starting and stopping an emulator: on the caller's event loop, or on a thread of its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import attrs
from aiohttp import web

from ._app import FAULT_QUEUE_KEY, JOURNAL_KEY, build_app
from ._faults import FaultQueue, QueuedFault
from ._instruments import new_fingerprint, new_instrument_id
from ._journal import RecordedRequest, RequestJournal
from ._settings import EmulatorSettings
from ._store import Store
from ._validation import check_instrument

__all__ = ["RunningEmulator", "emulator_thread", "is_loopback", "run_emulator"]

_SHUTDOWN_TIMEOUT_S = 2.0
_START_TIMEOUT_S = 30.0


def is_loopback(host: str) -> bool:
    """Whether `host` names the loopback interface only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class RunningEmulator:
    """A started emulator: where it listens, how to log in, and what it stores.

    The introspection methods read the emulator's state directly and are safe to call from
    any thread, including while requests are being served.
    """

    def __init__(
        self,
        settings: EmulatorSettings,
        base_url: str,
        store: Store,
        journal: RequestJournal | None = None,
        fault_queue: FaultQueue | None = None,
    ) -> None:
        self.settings = settings
        #: e.g. `"http://127.0.0.1:54321"`, without a trailing slash.
        self.base_url = base_url
        self._store = store
        self._journal = RequestJournal(settings.journal_size) if journal is None else journal
        self._fault_queue = FaultQueue(store.email_key_of) if fault_queue is None else fault_queue

    def __repr__(self) -> str:
        return f"<RunningEmulator {self.base_url}>"

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def secret_key(self) -> str:
        """The first accepted secret key."""
        if not self.settings.secret_keys:
            raise LookupError("this emulator accepts no secret key")
        return self.settings.secret_keys[0]

    @property
    def public_key(self) -> str:
        """The first accepted public key (for `POST /tokens`)."""
        if not self.settings.public_keys:
            raise LookupError("this emulator accepts no public key")
        return self.settings.public_keys[0]

    @property
    def client_id(self) -> str:
        """The first accepted OAuth client id."""
        return self._first_client()[0]

    @property
    def client_secret(self) -> str:
        """The secret of `client_id`."""
        return self._first_client()[1]

    def _first_client(self) -> tuple[str, str]:
        for client in self.settings.oauth_clients.items():
            return client
        raise LookupError("this emulator accepts no OAuth client")

    def customers(self) -> list[dict[str, Any]]:
        """Every stored customer, oldest first, in the API's retrieve shape."""
        return [self._store.render(record) for record in self._store.customer_records()]

    def count_customers_with_email(self, email: str) -> int:
        """How many stored customers have this email, ignoring letter case."""
        return self._store.count_customers_with_email(email)

    def add_instrument(self, instrument: Mapping[str, Any]) -> str:
        """Store an instrument (the API's `card` or `bank_account` shape); returns its id.

        `id` and `fingerprint` are generated when absent. Raises `ValueError` for an
        instrument the admin path would refuse.
        """
        body = dict(instrument)
        codes = check_instrument(body)
        if codes:
            raise ValueError(f"invalid instrument: {', '.join(codes)}")
        stored = {"id": new_instrument_id(), "fingerprint": new_fingerprint(), **body}
        if not self._store.add_instrument(stored):
            raise ValueError(f"instrument id {stored['id']} is already taken")
        return str(stored["id"])

    def reset(self) -> None:
        """Forget every customer and every added instrument."""
        self._store.reset()

    # -- the request journal -----------------------------------------------------------------

    def requests(self, since: int = 0) -> list[RecordedRequest]:
        """The API requests received, oldest first: those with `seq` above `since`.

        The same as `GET /_emulator/requests?since=N`; at most `settings.journal_size` of the
        latest are kept. Each has `method`, `path`, `query`, `headers` (never
        `Authorization`), `body`, `status`, `request_id`, `time`, `fault` and `.json()`.
        """
        return self._journal.entries(since)

    def clear_requests(self) -> None:
        """Forget the journal's requests (`seq` numbers keep counting)."""
        self._journal.clear()

    # -- faults on demand --------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        email: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
    ) -> QueuedFault:
        """Make the next `times` API requests matching all the filters given meet `kind`.

            emulator.fail_next("drop_after_acting", method="POST", path="/customers")
            emulator.fail_next("503", method="GET", times=2, retry_after=1)

        `kind` is one of `"500"`, `"502"`, `"503"`, `"429"`, `"reset"`,
        `"drop_after_acting"`, `"slow_after_acting"`, `"act_late"`; `path` is a prefix of the
        request's path; `email` matches the email in a create or update body or a GET path
        (ignoring letter case); `retry_after` (seconds) goes with `"429"` and `"503"`. Raises
        `ValueError` naming a bad argument.
        """
        return self._fault_queue.add(
            kind, method=method, path=path, email=email, times=times, retry_after=retry_after
        )

    def faults(self) -> list[QueuedFault]:
        """The faults still queued, oldest first, each with the uses it has left."""
        return self._fault_queue.list()

    def clear_faults(self) -> None:
        """Forget every queued fault (the start-time shares stay)."""
        self._fault_queue.clear()


def _resolve(settings: EmulatorSettings | None, overrides: Mapping[str, Any]) -> EmulatorSettings:
    settings = EmulatorSettings() if settings is None else settings
    return attrs.evolve(settings, **overrides) if overrides else settings


@contextlib.asynccontextmanager
async def run_emulator(
    settings: EmulatorSettings | None = None, **overrides: Any
) -> AsyncIterator[RunningEmulator]:
    """Serve an emulator on the running event loop for the duration of the block.

        async with run_emulator(write_rate=10) as emulator:
            async with AsyncClient(secret_key=emulator.secret_key,
                                   base_url=emulator.base_url) as cko: ...

    `overrides` are `EmulatorSettings` fields replacing those of `settings`. Raises `OSError`
    when the address cannot be bound, `ValueError` for bad settings.
    """
    settings = _resolve(settings, overrides)
    store = Store(settings.db_path, case_sensitive_emails=settings.case_sensitive_emails)
    try:
        app = build_app(settings, store)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.host, settings.port)
            await site.start()
            port = runner.addresses[0][1]
            base_url = f"http://{_url_host(settings.host)}:{port}"
            yield RunningEmulator(settings, base_url, store, app[JOURNAL_KEY], app[FAULT_QUEUE_KEY])
        finally:
            await runner.cleanup()
    finally:
        store.close()


@contextlib.contextmanager
def emulator_thread(
    settings: EmulatorSettings | None = None, **overrides: Any
) -> Iterator[RunningEmulator]:
    """Serve an emulator on a daemon thread with its own event loop, for blocking code.

        with emulator_thread() as emulator:
            with Client(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko: ...

    Leaving the block stops the server and waits for the thread. Raises what `run_emulator`
    raises when the emulator cannot start.
    """
    settings = _resolve(settings, {**overrides})
    started: concurrent.futures.Future[
        tuple[RunningEmulator, asyncio.AbstractEventLoop, asyncio.Event]
    ] = concurrent.futures.Future()

    async def serve() -> None:
        stop = asyncio.Event()
        try:
            async with run_emulator(settings) as emulator:
                started.set_result((emulator, asyncio.get_running_loop(), stop))
                await stop.wait()
        except BaseException as exc:
            if started.done():
                raise
            started.set_exception(exc)

    thread = threading.Thread(
        target=asyncio.run, args=(serve(),), name="checkout-customers-emulator", daemon=True
    )
    thread.start()
    try:
        emulator, loop, stop = started.result(timeout=_START_TIMEOUT_S)
    except BaseException:
        thread.join(timeout=_START_TIMEOUT_S)
        raise
    try:
        yield emulator
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
