"""The emulator's aiohttp application: routes, authentication and the customers endpoints;
the instruments and tokens endpoints are served from `_instruments_api.py` the same way.

Every API request goes through the same steps, in this order: recording in the request
journal, added latency, authentication (401), a fault a test queued, the account's rate-limit
bucket (429), the fault draw, then the handler itself. Every response carries a fresh
`Cko-Request-Id`, errors included, and every API response `Cko-Version`; 401, 404, 405, 409,
413, 429 and 5xx have no body, as the API's 401 and 404 do. The admin path (`/_emulator/`) is
the emulator's own: not journaled, never slowed, limited or failed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import functools
import json
import logging
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import hdrs, web

from .. import _limits
from ._faults import (
    Fault,
    FaultPlan,
    FaultQueue,
    drop_connection,
    reset_connection,
    retry_after_header,
)
from ._instruments import new_customer_id, new_fingerprint, new_instrument_id
from ._instruments_api import Answer, InstrumentsApi
from ._journal import JournalEntry, RequestJournal
from ._ratelimit import RateLimiter
from ._settings import EmulatorSettings
from ._store import Record, Store
from ._validation import (
    MalformedBody,
    check_customer_fields,
    check_instrument,
    parse_json_object,
    stored_fields,
)

__all__ = [
    "API_VERSION",
    "FAULT_QUEUE_KEY",
    "JOURNAL_KEY",
    "REQUEST_ID_HEADER",
    "VERSION_HEADER",
    "build_app",
    "new_customer_id",
]

REQUEST_ID_HEADER = "Cko-Request-Id"
#: The spec declares this header on retrieve answers; the value is the version of the
#: official extract the emulator follows (its `info.version`).
VERSION_HEADER = "Cko-Version"
API_VERSION = "1.0.0"
JOURNAL_KEY = web.AppKey("journal", RequestJournal)
FAULT_QUEUE_KEY = web.AppKey("fault_queue", FaultQueue)
_ADMIN_PREFIX = "/_emulator/"
_TOKEN_PATH = "/connect/token"  # noqa: S105 - a path, not a password
_CUSTOMERS_PREFIX = "/customers/"
_INSTRUMENTS_PREFIX = "/instruments/"
_CARD_TOKENS_PATH = "/tokens"
#: Faults after which the client got no answer at all.
_UNANSWERED = frozenset({Fault.RESET_BEFORE_ACTING.value, Fault.DROP_AFTER_ACTING.value})
_logger = logging.getLogger("checkout_customers.emulator")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("cko_request_id")
#: The journal entry of the request being handled (a context variable rather than request
#: storage, whose typed keys only the newest aiohttp has).
_journal_entry: contextvars.ContextVar[JournalEntry | None] = contextvars.ContextVar(
    "cko_journal_entry", default=None
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ApiHandler = Callable[["_Api", web.Request], Awaitable[web.Response]]


def _new_request_id() -> str:
    return str(uuid.uuid4())


def _empty(status: int) -> web.Response:
    return web.Response(status=status)


def _invalid(codes: list[str]) -> web.Response:
    body = {
        "request_id": _request_id.get(),
        "error_type": "request_invalid",
        "error_codes": codes,
    }
    return web.json_response(body, status=422)


def _admin_error(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


@web.middleware
async def _request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every response a unique request id, journal API requests, and turn aiohttp's
    errors into bare ones."""
    request_id = _new_request_id()
    _request_id.set(request_id)
    admin = request.path.startswith(_ADMIN_PREFIX)
    journal = request.app[JOURNAL_KEY]
    entry: JournalEntry | None = None
    _journal_entry.set(None)
    try:
        if journal.enabled and not admin:
            entry = journal.record(
                request.method,
                request.rel_url,
                request.headers,
                request_id,
                form_secrets=request.path == _TOKEN_PATH,
                card_secrets=request.path == _CARD_TOKENS_PATH,
            )
            _journal_entry.set(entry)
            if request.body_exists:
                # Read here, before any fault can hang up; the handler reads aiohttp's copy.
                entry.body = await request.read()
        response = await handler(request)
    except web.HTTPException as exc:
        response = _empty(exc.status)
        if hdrs.ALLOW in exc.headers:
            response.headers[hdrs.ALLOW] = exc.headers[hdrs.ALLOW]
    except Exception:
        _logger.exception("emulator: unexpected error handling %s %s", request.method, request.path)
        response = _empty(500)
    response.headers[REQUEST_ID_HEADER] = request_id
    if not admin:
        response.headers[VERSION_HEADER] = API_VERSION
    if entry is not None and entry.fault not in _UNANSWERED:
        entry.status = response.status
    return response


class _Accounts:
    """Who may call: the configured secret keys, and the tokens issued to OAuth clients.

    Each secret key and each OAuth client is an account of its own (with its own rate
    limits); all accounts see the same customers.
    """

    def __init__(self, settings: EmulatorSettings) -> None:
        self._secret_keys = {
            key: f"secret_key:{index}" for index, key in enumerate(settings.secret_keys)
        }
        self._public_keys = {
            key: f"public_key:{index}" for index, key in enumerate(settings.public_keys)
        }
        self._clients = dict(settings.oauth_clients)
        self._token_ttl_s = settings.token_ttl_s
        self._tokens: dict[str, tuple[str, float]] = {}

    def authenticate(self, authorization: str | None) -> str | None:
        """The account behind an `Authorization: Bearer ...` header, or None."""
        if authorization is None:
            return None
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential:
            return None
        account = self._secret_keys.get(credential)
        if account is not None:
            return account
        token = self._tokens.get(credential)
        if token is None:
            return None
        account, expires_at = token
        if time.monotonic() >= expires_at:
            del self._tokens[credential]
            return None
        return account

    def authenticate_public(self, authorization: str | None) -> str | None:
        """The account behind an `Authorization: Bearer pk_...` header (for `POST /tokens`,
        which takes a public key only), or None."""
        if authorization is None:
            return None
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self._public_keys.get(credential)

    def issue_token(self, client_id: str, client_secret: str) -> tuple[str, int] | None:
        """A new access token and its lifetime in seconds, or None for bad credentials."""
        expected = self._clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected, client_secret):
            return None
        token = "emu_" + secrets.token_urlsafe(32)
        self._tokens[token] = (f"oauth:{client_id}", time.monotonic() + self._token_ttl_s)
        return token, int(self._token_ttl_s)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, client_secret = decoded.partition(":")
    if not separator:
        return None
    return urllib.parse.unquote(client_id), urllib.parse.unquote(client_secret)


def _status_fault(fault: Fault, retry_after: float | None) -> web.Response:
    response = _empty(fault.status or 500)
    if retry_after is not None:
        response.headers[hdrs.RETRY_AFTER] = retry_after_header(retry_after)
    return response


def _answer(answer: Answer) -> web.Response:
    if answer.codes:
        return _invalid(list(answer.codes))
    if answer.body is None:
        return _empty(answer.status)
    return web.json_response(answer.body, status=answer.status)


def _api(kind: str, *, public_key: bool = False) -> Callable[[ApiHandler], ApiHandler]:
    """Wrap an API handler in latency, authentication (a secret key or OAuth token; with
    `public_key`, a public key only), faults and rate limiting."""

    def decorate(handler: ApiHandler) -> ApiHandler:
        @functools.wraps(handler)
        async def wrapper(self: _Api, request: web.Request) -> web.Response:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            authorization = request.headers.get(hdrs.AUTHORIZATION)
            if public_key:
                account = self.accounts.authenticate_public(authorization)
            else:
                account = self.accounts.authenticate(authorization)
            if account is None:
                return _empty(401)
            fault, retry_after = Fault.NONE, None
            if self.queue:  # empty unless a test queued something: no cost otherwise
                email = await self._request_email(request) if self.queue.needs_email() else None
                queued = self.queue.take(request.method, request.path, email)
                if queued is not None:
                    fault, retry_after = queued.kind, queued.retry_after
            if fault is Fault.NONE:
                if not self.limiter.allow(account, kind):
                    return _status_fault(Fault.RATE_LIMITED, self.settings.retry_after)
                fault = self.faults.draw()
            if fault is Fault.NONE:
                return await handler(self, request)
            entry = _journal_entry.get()
            if entry is not None:
                entry.fault = fault.value
            if fault.status is not None:
                if retry_after is None and fault is Fault.RATE_LIMITED:
                    retry_after = self.settings.retry_after  # as the rate limiter's own 429s
                return _status_fault(fault, retry_after)
            if fault is Fault.RESET_BEFORE_ACTING:
                reset_connection(request)
                return _empty(500)  # never reaches the client
            if fault is Fault.SLOW_BEFORE_ACTING:
                # Shielded: the API acts even when the client has hung up meanwhile.
                return await asyncio.shield(self._act_late(handler, request))
            response = await handler(self, request)
            if fault is Fault.DROP_AFTER_ACTING:
                drop_connection(request)
            elif fault is Fault.SLOW_AFTER_ACTING:
                await asyncio.sleep(self.slow_s)
            return response

        return wrapper

    return decorate


class _Api:
    """The handlers, sharing the emulator's state."""

    async def _act_late(self, handler: ApiHandler, request: web.Request) -> web.Response:
        if request.can_read_body:
            # Received now (aiohttp keeps it), before the client may hang up; too large a
            # body is refused with 413 at once.
            await request.read()
        await asyncio.sleep(self.slow_s)
        return await handler(self, request)

    def __init__(
        self, settings: EmulatorSettings, store: Store, journal: RequestJournal, queue: FaultQueue
    ) -> None:
        self.settings = settings
        self.store = store
        self.journal = journal
        self.queue = queue
        self.instruments = InstrumentsApi(settings, store)
        self.accounts = _Accounts(settings)
        self.limiter = RateLimiter(settings.read_rate, settings.write_rate)
        self.faults = FaultPlan(settings)
        self.latency_s = settings.latency_ms / 1000
        self.slow_s = settings.fault_slow_ms / 1000

    # -- helpers -----------------------------------------------------------------------------

    async def _json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """The request's JSON object, or the response refusing it (413 or 422).

        A missing body, or one not declared JSON, is `request_body_malformed` like a body
        that does not parse: 422 is the status the spec documents for a body the API cannot
        use (it documents no 415).
        """
        length = request.content_length
        if length is not None and length > self.settings.max_body_bytes:
            return _empty(413)
        content_type = request.content_type
        if not request.body_exists or (
            content_type != "application/json" and not content_type.endswith("+json")
        ):
            return _invalid(["request_body_malformed"])
        raw = await request.read()  # raises 413 past the application's client_max_size
        try:
            return parse_json_object(raw)
        except MalformedBody:
            return _invalid(["request_body_malformed"])

    @staticmethod
    def _identifier(request: web.Request) -> str:
        """The path segment after `/customers/`, percent-decoded exactly once.

        More than one segment names no customer (404): a client that sends an email's `/`
        without percent-encoding it is caught here rather than served by luck.
        """
        raw = request.rel_url.raw_path[len(_CUSTOMERS_PREFIX) :]
        return "" if "/" in raw else urllib.parse.unquote(raw)

    async def _request_email(self, request: web.Request) -> str | None:
        """The email a request names (in its JSON body, as the `customer` of an instrument,
        or as the GET path), in the store's comparison form; None when it names none. Only
        asked when a test queued a fault."""
        email: object = None
        if request.method == "GET" and request.path.startswith(_CUSTOMERS_PREFIX):
            identifier = self._identifier(request)
            email = identifier if "@" in identifier else None
        elif request.body_exists and request.content_type.endswith("json"):
            try:
                body = parse_json_object(await request.read())
            except (MalformedBody, web.HTTPException):
                body = {}
            customer = body.get("customer")
            email = customer.get("email") if isinstance(customer, dict) else body.get("email")
        return self.store.email_key_of(email) if isinstance(email, str) else None

    def _duplicate_email(self) -> web.Response:
        if self.settings.reject_duplicate_emails == 422:
            return _invalid(["email_already_exists"])
        return _empty(409)

    def _lookup(self, identifier: str, *, by_email: bool) -> Record | None:
        if _limits.CUSTOMER_ID_PATTERN.fullmatch(identifier):
            return self.store.customer_by_id(identifier)
        if by_email and "@" in identifier:
            return self.store.customer_by_email(identifier)
        return None

    # -- the customers API -------------------------------------------------------------------

    @_api("write")
    async def create_customer(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        fields, codes = check_customer_fields(
            body, creating=True, known_instrument=self.store.instrument_exists
        )
        if codes:
            return _invalid(codes)
        record: Record = {"id": new_customer_id(), **stored_fields(fields)}
        linked: list[str] = []
        if "default" in fields:  # the reference: instruments are saved only with a default
            linked = _union(fields.get("instruments", []), [fields["default"]])
            record["default"] = fields["default"]
        record["instruments"] = linked
        unique = self.settings.reject_duplicate_emails is not None
        if not self.store.insert_customer(record, unique_email=unique):
            return self._duplicate_email()
        return web.json_response({"id": record["id"]}, status=201)

    @_api("read")
    async def get_customer(self, request: web.Request) -> web.Response:
        record = self._lookup(self._identifier(request), by_email=True)
        if record is None:
            return _empty(404)
        return web.json_response(self.store.render(record))

    @_api("write")
    async def update_customer(self, request: web.Request) -> web.Response:
        record = self._lookup(self._identifier(request), by_email=False)
        if record is None:
            return _empty(404)
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        fields, codes = check_customer_fields(
            body, creating=False, known_instrument=self.store.instrument_exists
        )
        if codes:
            return _invalid(codes)
        record.update(stored_fields(fields))  # metadata is replaced as a whole
        linked = _union(record.get("instruments", []), fields.get("instruments", []))
        if "default" in fields:
            linked = _union(linked, [fields["default"]])
            record["default"] = fields["default"]
        if linked and record.get("default") not in linked:
            record["default"] = linked[0]
        record["instruments"] = linked
        unique = self.settings.reject_duplicate_emails is not None and "email" in fields
        if not self.store.replace_customer(record, unique_email=unique):
            return self._duplicate_email()
        return _empty(204)

    @_api("write")
    async def delete_customer(self, request: web.Request) -> web.Response:
        record = self._lookup(self._identifier(request), by_email=False)
        if record is None or not self.store.delete_customer(record["id"]):
            return _empty(404)
        return _empty(204)

    # -- the instruments API and card tokens -------------------------------------------------

    @staticmethod
    def _instrument_id(request: web.Request) -> str:
        """The path segment after `/instruments/`, percent-decoded once (one segment only)."""
        raw = request.rel_url.raw_path[len(_INSTRUMENTS_PREFIX) :]
        return "" if "/" in raw else urllib.parse.unquote(raw)

    @_api("write", public_key=True)
    async def create_token(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        return _answer(self.instruments.create_token(body))

    @_api("write")
    async def create_instrument(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        return _answer(self.instruments.create(body))

    @_api("read")
    async def get_instrument(self, request: web.Request) -> web.Response:
        return _answer(self.instruments.get(self._instrument_id(request)))

    @_api("write")
    async def update_instrument(self, request: web.Request) -> web.Response:
        instrument_id = self._instrument_id(request)
        if self.instruments.find(instrument_id) is None:  # 404 before the body is read
            return _empty(404)
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        return _answer(self.instruments.update(instrument_id, body))

    @_api("write")
    async def delete_instrument(self, request: web.Request) -> web.Response:
        return _answer(self.instruments.delete(self._instrument_id(request)))

    # -- OAuth -------------------------------------------------------------------------------

    async def issue_token(self, request: web.Request) -> web.Response:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        try:
            form = await request.post()
        except (ValueError, LookupError):
            # A body that is not text in its declared charset (or names no known charset):
            # the OAuth answer to a request it cannot read, never a 500.
            return web.json_response({"error": "invalid_request"}, status=400)
        credentials = _basic_credentials(request.headers.get(hdrs.AUTHORIZATION))
        if credentials is None:
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if isinstance(client_id, str) and isinstance(client_secret, str):
                credentials = client_id, client_secret
        if credentials is None:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant_type = form.get("grant_type")
        if grant_type is None:
            return web.json_response({"error": "invalid_request"}, status=400)
        if grant_type != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        issued = self.accounts.issue_token(*credentials)
        if issued is None:
            return web.json_response({"error": "invalid_client"}, status=401)
        token, expires_in = issued
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
            headers={"Cache-Control": "no-store"},
        )

    # -- the admin path ----------------------------------------------------------------------

    def _admin_allowed(self, request: web.Request) -> bool:
        return self.accounts.authenticate(request.headers.get(hdrs.AUTHORIZATION)) is not None

    async def admin_customers(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        customers = [self.store.render(record) for record in self.store.customer_records()]
        return web.json_response({"customers": customers})

    async def admin_instruments(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        return web.json_response({"instruments": self.store.instruments()})

    async def admin_add_instrument(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        codes = check_instrument(body)
        if codes:
            return _invalid(codes)
        instrument = {"id": new_instrument_id(), "fingerprint": new_fingerprint(), **body}
        if not self.store.add_instrument(instrument):
            return _empty(409)
        return web.json_response({"id": instrument["id"]}, status=201)

    async def admin_reset(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        self.store.reset()
        return _empty(204)

    async def admin_requests(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        since_text = request.query.get("since", "0")
        if not (since_text.isascii() and since_text.isdigit()):
            return _admin_error(f"since must be a whole number >= 0, got {since_text!r}")
        entries = self.journal.entries(int(since_text))
        return web.json_response(
            {"requests": [attrs.asdict(entry) for entry in entries]},
            dumps=_dumps,
        )

    async def admin_clear_requests(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        self.journal.clear()
        return _empty(204)

    async def admin_faults(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        return web.json_response({"faults": [queued.to_json() for queued in self.queue.list()]})

    async def admin_add_fault(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):
            return _admin_error('the body must be JSON, such as {"kind": "503", "times": 2}')
        try:
            queued = self.queue.add_json(body)
        except ValueError as exc:
            return _admin_error(str(exc))
        return web.json_response(queued.to_json(), status=201)

    async def admin_clear_faults(self, request: web.Request) -> web.Response:
        if not self._admin_allowed(request):
            return _empty(401)
        self.queue.clear()
        return _empty(204)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _union(first: list[str], second: list[str]) -> list[str]:
    """The ids of both lists, each once, in order of first appearance."""
    return list(dict.fromkeys([*first, *second]))


def build_app(settings: EmulatorSettings, store: Store) -> web.Application:
    """The emulator's application, serving `store` as `settings` say."""
    journal = RequestJournal(settings.journal_size)
    queue = FaultQueue(store.email_key_of)
    api = _Api(settings, store, journal, queue)
    app = web.Application(
        middlewares=[_request_id_middleware], client_max_size=settings.max_body_bytes
    )
    app[JOURNAL_KEY] = journal
    app[FAULT_QUEUE_KEY] = queue
    app.router.add_post("/customers", api.create_customer)
    # `.+`: a percent-encoded `/` in an email must still reach the handler.
    app.router.add_get("/customers/{identifier:.+}", api.get_customer, allow_head=False)
    app.router.add_patch("/customers/{identifier:.+}", api.update_customer)
    app.router.add_delete("/customers/{identifier:.+}", api.delete_customer)
    app.router.add_post("/instruments", api.create_instrument)
    app.router.add_get("/instruments/{id:.+}", api.get_instrument, allow_head=False)
    app.router.add_patch("/instruments/{id:.+}", api.update_instrument)
    app.router.add_delete("/instruments/{id:.+}", api.delete_instrument)
    app.router.add_post(_CARD_TOKENS_PATH, api.create_token)
    app.router.add_post("/connect/token", api.issue_token)
    app.router.add_get("/_emulator/customers", api.admin_customers, allow_head=False)
    app.router.add_get("/_emulator/instruments", api.admin_instruments, allow_head=False)
    app.router.add_post("/_emulator/instruments", api.admin_add_instrument)
    app.router.add_post("/_emulator/reset", api.admin_reset)
    app.router.add_get("/_emulator/requests", api.admin_requests, allow_head=False)
    app.router.add_delete("/_emulator/requests", api.admin_clear_requests)
    app.router.add_get("/_emulator/faults", api.admin_faults, allow_head=False)
    app.router.add_post("/_emulator/faults", api.admin_add_fault)
    app.router.add_delete("/_emulator/faults", api.admin_clear_faults)
    return app
