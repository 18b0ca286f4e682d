"""A purpose-built Customers API double whose every answer a test can script, on a real socket.

The emulator draws its faults at random; the rules of the exactly-once protocol need exact
scenes ("the first create answers 500 and acts 0.8 s later"). `ScriptedApi` stores customers by
lower-cased email and answers `GET /customers/{email}` and `POST /customers`; a test sets
`script_create` / `script_lookup` to choose, request by request, what happens:

    async with ScriptedApi() as api:
        api.script_create = lambda email, attempt: Act.LATE_500 if attempt == 1 else Act.OK
        async with AsyncClient(secret_key="sk_sbox_test", base_url=api.base_url) as cko: ...
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from checkout_customers.migration._circuit_breaker import PROBE_EMAIL

__all__ = ["Act", "ScriptedApi"]


class Act(enum.Enum):
    """What the API does with one request."""

    OK = "act and answer"
    ERROR_500 = "answer 500 without acting"
    ACT_THEN_500 = "act, then answer 500"
    LATE_500 = "answer 500 at once, act `late_seconds` later (a request queued inside the API)"
    ANSWER_503 = "answer 503 without acting (an outage)"
    CONFLICT = "answer 409 without acting"
    UNAUTHORIZED = "answer 401 without acting"
    RATE_LIMITED = "answer 429 without acting"
    HANG = "wait `late_seconds`, then act and answer (a request stuck inside the API)"
    MISS = "answer 404 to a look-up whatever is stored (an API matching emails differently)"


class ScriptedApi:
    """The double; `base_url` once entered. Every request is logged in `log`."""

    def __init__(self, *, late_seconds: float = 0.8) -> None:
        self.late_seconds = late_seconds
        self.customers: dict[str, str] = {}  # email (lower case) -> id
        self.created: Counter[str] = Counter()  # how many customers each email got
        self.log: list[tuple[float, str, str, Act]] = []  # (time.time(), method, email, act)
        self.script_create: Callable[[str, int], Act] = lambda email, attempt: Act.OK
        self.script_lookup: Callable[[str, int], Act] = lambda email, attempt: Act.OK
        self._attempts: Counter[tuple[str, str]] = Counter()
        self._ids = itertools.count(1)
        self._late: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._request_seen = asyncio.Event()
        #: While True, every request is answered 503 without acting (an outage).
        self.down = False
        self._site: web.TCPSite | None = None
        self._port = 0
        self.base_url = ""

    async def __aenter__(self) -> ScriptedApi:
        await self.listen()
        self.base_url = f"http://127.0.0.1:{self._port}"
        return self

    async def listen(self) -> None:
        """Accept connections (again, on the same port)."""
        app = web.Application()
        app.router.add_get("/customers/{identifier}", self._get)
        app.router.add_post("/customers", self._post)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", self._port, reuse_address=True)
        await self._site.start()
        self._port = self._site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def hang_up(self) -> None:
        """Close every connection and stop listening: connections are refused until `listen`."""
        assert self._runner is not None
        await self._runner.cleanup()
        self._runner = None

    async def __aexit__(self, *exc_info: object) -> None:
        for task in self._late:
            task.cancel()
        await asyncio.gather(*self._late, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    def requests(self, method: str, email: str | None = None) -> list[tuple[float, Act]]:
        """(time, act) of each `method` request, for `email` or all."""
        return [
            (moment, act)
            for moment, logged_method, logged_email, act in self.log
            if logged_method == method and (email is None or logged_email == email)
        ]

    async def wait_for_requests(
        self, method: str, email: str, count: int, timeout: float = 10.0
    ) -> None:
        """Return once `count` `method` requests for `email` have arrived."""
        async with asyncio.timeout(timeout) if hasattr(asyncio, "timeout") else _nothing():
            while len(self.requests(method, email)) < count:
                self._request_seen.clear()
                await self._request_seen.wait()

    def _act(self, method: str, email: str, script: Callable[[str, int], Act]) -> Act:
        key = (method, email)
        self._attempts[key] += 1
        act = script(email, self._attempts[key])
        self.log.append((time.time(), method, email, act))
        self._request_seen.set()
        return act

    def _store(self, email: str) -> str:
        customer_id = f"cus_{next(self._ids):026d}"
        self.customers[email] = customer_id
        self.created[email] += 1
        return customer_id

    async def _get(self, request: web.Request) -> web.Response:
        email = unquote(request.match_info["identifier"]).lower()
        if self.down:
            self.log.append((time.time(), "GET", email, Act.ANSWER_503))
            return _error(503)
        if email == PROBE_EMAIL:
            return _error(404)
        act = self._act("GET", email, self.script_lookup)
        if act is Act.HANG:
            await asyncio.sleep(self.late_seconds)
            act = Act.OK
        if act is not Act.OK:
            return _error(_STATUS[act])
        customer_id = self.customers.get(email)
        if customer_id is None:
            return _error(404)
        return web.json_response({"id": customer_id, "email": email})

    async def _post(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        email = str(body["email"]).lower()
        if self.down:
            self.log.append((time.time(), "POST", email, Act.ANSWER_503))
            return _error(503)
        act = self._act("POST", email, self.script_create)
        if act is Act.HANG:
            await asyncio.sleep(self.late_seconds)
            act = Act.OK
        if act is Act.OK:
            return web.json_response({"id": self._store(email)}, status=201)
        if act is Act.ACT_THEN_500:
            self._store(email)
        elif act is Act.LATE_500:
            task = asyncio.create_task(self._store_later(email))
            self._late.add(task)
            task.add_done_callback(self._late.discard)
        return _error(_STATUS[act])

    async def _store_later(self, email: str) -> None:
        await asyncio.sleep(self.late_seconds)
        self._store(email)


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


_STATUS = {
    Act.ERROR_500: 500,
    Act.ACT_THEN_500: 500,
    Act.LATE_500: 500,
    Act.ANSWER_503: 503,
    Act.CONFLICT: 409,
    Act.UNAUTHORIZED: 401,
    Act.RATE_LIMITED: 429,
    Act.MISS: 404,
}


def _error(status: int) -> web.Response:
    return web.json_response(
        {"request_id": f"req_{status}", "error_type": "scripted"}, status=status
    )
