"""The emulator's aiohttp application: routes, authentication and the customers endpoints.

Every API request goes through the same steps, in this order: added latency, authentication
(401), the account's rate-limit bucket (429), the fault draw, then the handler itself. Every
response carries a fresh `Cko-Request-Id`, errors included; 401, 404, 405, 413, 415, 429 and
500 have no body, as the API's 401 and 404 do.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import functools
import logging
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import hdrs, web

from .. import _limits
from ._faults import Fault, FaultPlan, drop_connection, reset_connection
from ._instruments import new_fingerprint, new_instrument_id
from ._ratelimit import RateLimiter
from ._settings import EmulatorSettings
from ._store import Record, Store
from ._validation import (
    MalformedBody,
    check_customer_fields,
    check_instrument,
    parse_json_object,
)

__all__ = ["REQUEST_ID_HEADER", "build_app", "new_customer_id"]

REQUEST_ID_HEADER = "Cko-Request-Id"
_CUSTOMERS_PREFIX = "/customers/"
_logger = logging.getLogger("checkout_customers.emulator")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("cko_request_id")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ApiHandler = Callable[["_Api", web.Request], Awaitable[web.Response]]


def new_customer_id() -> str:
    """A fresh customer id: `cus_` followed by 26 lowercase base32 characters."""
    return "cus_" + base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()[:26]


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


@web.middleware
async def _request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every response a unique request id, and turn aiohttp's errors into bare ones."""
    request_id = _new_request_id()
    _request_id.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = _empty(exc.status)
        if hdrs.ALLOW in exc.headers:
            response.headers[hdrs.ALLOW] = exc.headers[hdrs.ALLOW]
    except Exception:
        _logger.exception("emulator: unexpected error handling %s %s", request.method, request.path)
        response = _empty(500)
    response.headers[REQUEST_ID_HEADER] = request_id
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


def _api(kind: str) -> Callable[[ApiHandler], ApiHandler]:
    """Wrap a customers handler in latency, authentication, rate limiting and faults."""

    def decorate(handler: ApiHandler) -> ApiHandler:
        @functools.wraps(handler)
        async def wrapper(self: _Api, request: web.Request) -> web.Response:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            account = self.accounts.authenticate(request.headers.get(hdrs.AUTHORIZATION))
            if account is None:
                return _empty(401)
            if not self.limiter.allow(account, kind):
                return _empty(429)
            fault = self.faults.draw()
            if fault is Fault.SERVER_ERROR:
                return _empty(500)
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

    def __init__(self, settings: EmulatorSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.accounts = _Accounts(settings)
        self.limiter = RateLimiter(settings.read_rate, settings.write_rate)
        self.faults = FaultPlan(settings)
        self.latency_s = settings.latency_ms / 1000
        self.slow_s = settings.fault_slow_ms / 1000

    # -- helpers -----------------------------------------------------------------------------

    async def _json_body(self, request: web.Request) -> dict[str, Any] | web.Response:
        """The request's JSON object, or the response refusing it (413, 415 or 422)."""
        length = request.content_length
        if length is not None and length > self.settings.max_body_bytes:
            return _empty(413)
        content_type = request.content_type
        if content_type != "application/json" and not content_type.endswith("+json"):
            return _empty(415)
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
        if self.settings.reject_duplicate_emails and self.store.email_taken(fields["email"]):
            return _empty(409)
        record: Record = {"id": new_customer_id(), "email": fields["email"]}
        for name in ("name", "metadata"):
            if name in fields:
                record[name] = fields[name]
        if "phone" in fields:
            record["phone"] = _phone(fields["phone"])
        linked: list[str] = []
        if "default" in fields:  # the reference: instruments are saved only with a default
            linked = _union(fields.get("instruments", []), [fields["default"]])
            record["default"] = fields["default"]
        record["instruments"] = linked
        self.store.insert_customer(record)
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
        if (
            self.settings.reject_duplicate_emails
            and "email" in fields
            and self.store.email_taken(fields["email"], except_id=record["id"])
        ):
            return _empty(409)
        for name in ("email", "name", "metadata"):
            if name in fields:
                record[name] = fields[name]  # metadata is replaced as a whole
        if "phone" in fields:
            record["phone"] = _phone(fields["phone"])
        linked = _union(record.get("instruments", []), fields.get("instruments", []))
        if "default" in fields:
            linked = _union(linked, [fields["default"]])
            record["default"] = fields["default"]
        if linked and record.get("default") not in linked:
            record["default"] = linked[0]
        record["instruments"] = linked
        self.store.replace_customer(record)
        return _empty(204)

    @_api("write")
    async def delete_customer(self, request: web.Request) -> web.Response:
        record = self._lookup(self._identifier(request), by_email=False)
        if record is None or not self.store.delete_customer(record["id"]):
            return _empty(404)
        return _empty(204)

    # -- OAuth -------------------------------------------------------------------------------

    async def issue_token(self, request: web.Request) -> web.Response:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        form = await request.post()
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


def _phone(phone: dict[str, Any]) -> dict[str, Any]:
    """The phone's known parts; other keys are dropped like unknown top-level fields."""
    return {part: phone[part] for part in ("country_code", "number") if part in phone}


def _union(first: list[str], second: list[str]) -> list[str]:
    """The ids of both lists, each once, in order of first appearance."""
    return list(dict.fromkeys([*first, *second]))


def build_app(settings: EmulatorSettings, store: Store) -> web.Application:
    """The emulator's application, serving `store` as `settings` say."""
    api = _Api(settings, store)
    app = web.Application(
        middlewares=[_request_id_middleware], client_max_size=settings.max_body_bytes
    )
    app.router.add_post("/customers", api.create_customer)
    # `.+`: a percent-encoded `/` in an email must still reach the handler.
    app.router.add_get("/customers/{identifier:.+}", api.get_customer, allow_head=False)
    app.router.add_patch("/customers/{identifier:.+}", api.update_customer)
    app.router.add_delete("/customers/{identifier:.+}", api.delete_customer)
    app.router.add_post("/connect/token", api.issue_token)
    app.router.add_get("/_emulator/customers", api.admin_customers, allow_head=False)
    app.router.add_get("/_emulator/instruments", api.admin_instruments, allow_head=False)
    app.router.add_post("/_emulator/instruments", api.admin_add_instrument)
    app.router.add_post("/_emulator/reset", api.admin_reset)
    return app
