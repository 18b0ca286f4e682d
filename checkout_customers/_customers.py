"""The customers resource: create, get (by id or email), get_or_create, update and delete,
and the same methods returning raw answers (`with_raw_response`).

Arguments are validated before anything is sent; identifiers are percent-encoded as exactly one
path segment, so an email containing `/`, `?`, `#`, `%` or `+` round-trips and nothing can
escape `/customers/`.
"""

from __future__ import annotations

import string
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs

from ._config import TimeoutTypes
from ._customer_fields import CUSTOMER_FIELDS
from ._errors import (
    CheckoutApiError,
    CheckoutArgumentError,
    CheckoutConnectionError,
    ConflictError,
    ServerError,
)
from ._fast_structure import fast_customer
from ._models import (
    ApiResult,
    CreatedCustomer,
    Customer,
    GetOrCreateResult,
    MetadataValue,
    Phone,
)
from ._raw_response import RawResponse
from ._request_bodies import create_body, update_body
from ._transport import Idempotency, Response, Transport, json_text
from ._types import NOT_GIVEN, NotGiven
from ._validation import validate_customer_id, validate_identifier

__all__ = ["AsyncCustomers", "AsyncCustomersWithRawResponse", "PreparedCreate", "prepare_create"]


# Every ASCII character but the unreserved ones (RFC 3986), as `quote(..., safe="")` spells it.
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ASCII_ESCAPES = {code: f"%{code:02X}" for code in range(128) if chr(code) not in _UNRESERVED}


def _segment(identifier: str) -> str:
    # An ASCII identifier (a customer id) is letters, digits and `_` only: nothing to escape.
    if identifier.isascii() and identifier.isidentifier():
        return identifier
    # `str.translate` does in C what `quote` does a byte at a time in Python; emails are ASCII.
    if identifier.isascii():
        return identifier.translate(_ASCII_ESCAPES)
    return quote(identifier, safe="")


def _log_segment(identifier: str) -> str:
    # An email address is personal data: keep it out of log lines.
    return "{email}" if "@" in identifier else identifier


@attrs.frozen
class PreparedCreate:
    """A create request validated and encoded once, to send as is, possibly more than once.

        request = prepare_create({"email": "bruce@wayne.com", "name": "Bruce Wayne"})
        created = await cko.customers.create_prepared(request, max_retries=0)

    Built only by `prepare_create`, so the text sent is always a request `create` would accept.
    `email` is the request's email; `json` the exact text sent; `body` the checked request as a
    mapping (for callers that keep or compare it, such as the migration's journal).
    """

    email: str
    json: str = attrs.field(repr=False)
    body: Mapping[str, Any] = attrs.field(repr=False, eq=False, factory=dict)


def prepare_create(fields: Mapping[str, Any]) -> PreparedCreate:
    """Validate a create request given as a mapping of `create`'s keyword arguments.

    Raises `CheckoutArgumentError` naming the first field that is wrong (nothing is sent).
    """
    unknown = sorted(set(fields) - set(CUSTOMER_FIELDS.names))
    if unknown:
        raise CheckoutArgumentError(
            f"{unknown[0]}: not a customer field"
            f" (expected one of {', '.join(CUSTOMER_FIELDS.names)})",
            field=unknown[0],
        )
    body = create_body({name: fields.get(name) for name in CUSTOMER_FIELDS.names})
    return PreparedCreate(email=str(body["email"]), json=json_text(body), body=body)


class AsyncCustomers:
    """`client.customers`: the Customers API. Safe to share between tasks of one event loop.

    Every method takes the per-call options `timeout=` (seconds or a `Timeout`), `headers=`
    (extra request headers; `Authorization` and the framing headers cannot be set) and
    `max_retries=`; left out, the client's settings apply. `with_raw_response` has the same
    methods, returning a `RawResponse` (status, headers, request id, timing) instead.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @property
    def with_raw_response(self) -> AsyncCustomersWithRawResponse:
        """The same methods, each returning a `RawResponse` (status, headers, timing, parse)."""
        # Made on each use rather than kept: a reference cycle would keep a client that is
        # dropped unclosed (and its session) alive until the cyclic garbage collector runs.
        return AsyncCustomersWithRawResponse(self)

    async def create(
        self,
        *,
        email: str,
        name: str | None = None,
        phone: Phone | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        default: str | None = None,
        instruments: Sequence[str] | None = None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> CreatedCustomer:
        """Create a customer and return its `id` and the `request_id`.

        `instruments` are linked only when `default` is given too (the API's rule).
        The request is retried only when it provably never reached the API (connection
        refused, 429), so a retry never creates a second customer; after a timeout or a
        dropped connection the customer may exist: look it up by email before creating again
        (`get_or_create` does this for you).

        Raises `CheckoutArgumentError` (nothing sent), `CheckoutApiError` subclasses,
        `CheckoutConnectionError`.
        """
        body = create_body(locals())  # the declared fields, by name (see `_customer_fields`)
        return _created(await self._post(json_text(body), max_retries, timeout, headers))

    async def create_prepared(
        self,
        request: PreparedCreate,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> CreatedCustomer:
        """`create` with a request validated and encoded beforehand by `prepare_create`.

        For callers that may send one request several times (the migration): the same text
        goes each time. Retries and errors are those of `create`.
        """
        return _created(await self._post(request.json, max_retries, timeout, headers))

    def _post(
        self,
        body: str,
        max_retries: int | None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, Response]:
        return self._transport.request(
            "POST",
            "/customers",
            body=body,
            idempotency=Idempotency.CREATE,
            timeout=timeout,
            headers=headers,
            max_retries=max_retries,
        )

    async def get(
        self,
        id_or_email: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> Customer:
        """Return the customer with this id (`cus_...`) or email address.

        Raises `NotFoundError` when there is none, `CheckoutArgumentError` for an identifier
        that is neither an id nor an email, and the other `CheckoutError`s.
        """
        response = await self._get(id_or_email, max_retries, timeout, headers)
        return _parse_customer(response)

    async def find(
        self,
        id_or_email: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> Customer | None:
        """`get`, but None when there is no such customer (a 404) instead of `NotFoundError`.

        Raises `CheckoutArgumentError` for an identifier that is neither an id nor an email,
        and the other `CheckoutError`s.
        """
        response = await self._get(id_or_email, max_retries, timeout, headers, not_found_ok=True)
        return None if response.status == 404 else _parse_customer(response)

    def _get(
        self,
        id_or_email: str,
        max_retries: int | None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        *,
        not_found_ok: bool = False,
    ) -> Coroutine[Any, Any, Response]:
        identifier = validate_identifier(id_or_email)
        return self._transport.request(
            "GET",
            f"/customers/{_segment(identifier)}",
            timeout=timeout,
            headers=headers,
            max_retries=max_retries,
            log_path=f"/customers/{_log_segment(identifier)}",
            not_found_ok=not_found_ok,
        )

    async def get_or_create(
        self,
        *,
        email: str,
        name: str | None = None,
        phone: Phone | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        default: str | None = None,
        instruments: Sequence[str] | None = None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> GetOrCreateResult:
        """Return the customer with this email, creating it (with the other fields) if none.

        A look-up by email comes first; only a 404 leads to a create. A create that gets no
        definite answer (a timeout, a dropped connection, a 5xx) is never sent again: a second
        look-up decides, and if that finds nothing either the outcome is unknown and
        `CheckoutConnectionError` says so. A create refused with 409 (another caller created the
        email meanwhile) is answered from a look-up too. The options apply to each request.

        Limits: the API has no idempotency key and does not keep emails unique, so two callers
        racing between look-up and create can still make two customers; and the email is
        looked up as given (send one spelling of an address).

        Raises `CheckoutArgumentError` (nothing sent), `CheckoutApiError` subclasses,
        `CheckoutConnectionError`.
        """
        body = create_body(locals())  # the declared fields, by name (see `_customer_fields`)
        options = (max_retries, timeout, headers)
        found = await self._look_up_email(email, *options)
        if found is not None:
            return GetOrCreateResult(id=found.id, created=False, request_id=found.request_id)
        try:
            created = _created(await self._post(json_text(body), *options))
        except ConflictError:
            found = await self._look_up_email(email, *options)
            if found is None:
                raise
            return GetOrCreateResult(id=found.id, created=False, request_id=found.request_id)
        except (CheckoutConnectionError, ServerError) as unanswered:
            return await self._settle_unanswered_create(email, unanswered, *options)
        return GetOrCreateResult(id=created.id, created=True, request_id=created.request_id)

    async def _look_up_email(
        self,
        email: str,
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> Customer | None:
        response = await self._get(email, max_retries, timeout, headers, not_found_ok=True)
        return None if response.status == 404 else _parse_customer(response)

    async def _settle_unanswered_create(
        self,
        email: str,
        unanswered: Exception,
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> GetOrCreateResult:
        # Sending the create again could make a second customer; only a look-up may decide.
        try:
            found = await self._look_up_email(email, max_retries, timeout, headers)
        except (CheckoutConnectionError, CheckoutApiError) as failed:
            raise CheckoutConnectionError(
                f"get_or_create: the create got no definite answer ({unanswered}) and the "
                f"look-up that followed failed too ({failed}); whether the customer was "
                "created is unknown: look it up by email before creating again"
            ) from unanswered
        if found is None:
            raise CheckoutConnectionError(
                f"get_or_create: the create got no definite answer ({unanswered}) and no "
                "customer with this email exists yet; whether the create will still act is "
                "unknown: look it up by email later, before creating again"
            ) from unanswered
        return GetOrCreateResult(id=found.id, created=True, request_id=found.request_id)

    async def update(
        self,
        customer_id: str,
        *,
        email: str | NotGiven = NOT_GIVEN,
        name: str | NotGiven = NOT_GIVEN,
        phone: Phone | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, MetadataValue] | NotGiven = NOT_GIVEN,
        default: str | NotGiven = NOT_GIVEN,
        instruments: Sequence[str] | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> ApiResult:
        """Change the given fields of a customer; fields not passed are not sent.

        `metadata` replaces the stored metadata as a whole. Raises `NotFoundError`,
        `CheckoutArgumentError` (nothing sent) and the other `CheckoutError`s.
        """
        fields = locals()  # the declared fields, by name (see `_customer_fields`)
        response = await self._patch(customer_id, fields, max_retries, timeout, headers)
        return _api_result(response)

    def _patch(
        self,
        customer_id: str,
        fields: Mapping[str, object],
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> Coroutine[Any, Any, Response]:
        customer_id = validate_customer_id(customer_id)
        return self._transport.request(
            "PATCH",
            f"/customers/{_segment(customer_id)}",
            body=json_text(update_body(fields)),
            timeout=timeout,
            headers=headers,
            max_retries=max_retries,
        )

    async def delete(
        self,
        customer_id: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> ApiResult:
        """Delete a customer and all of its linked payment instruments.

        Raises `NotFoundError` when there is no such customer (unless an earlier attempt of
        this same call went unanswered: then the 404 of the retry means it is done).
        """
        return _api_result(await self._delete(customer_id, max_retries, timeout, headers))

    def _delete(
        self,
        customer_id: str,
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> Coroutine[Any, Any, Response]:
        customer_id = validate_customer_id(customer_id)
        return self._transport.request(
            "DELETE",
            f"/customers/{_segment(customer_id)}",
            timeout=timeout,
            headers=headers,
            max_retries=max_retries,
        )


class AsyncCustomersWithRawResponse:
    """`client.customers.with_raw_response`: the customers methods, returning `RawResponse`.

        raw = await cko.customers.with_raw_response.get("cus_...")
        raw.headers.get("Cko-Version"), raw.status, raw.elapsed
        customer = raw.parse()

    Arguments, validation, retries and errors are those of the plain methods.
    """

    def __init__(self, customers: AsyncCustomers) -> None:
        self._customers = customers

    async def create(
        self,
        *,
        email: str,
        name: str | None = None,
        phone: Phone | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        default: str | None = None,
        instruments: Sequence[str] | None = None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[CreatedCustomer]:
        """`customers.create`, returning the raw answer; `.parse()` gives the created id."""
        body = create_body(locals())  # the declared fields, by name (see `_customer_fields`)
        post = self._customers._post(json_text(body), max_retries, timeout, headers)
        return RawResponse(await post, _created)

    async def get(
        self,
        id_or_email: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[Customer]:
        """`customers.get`, returning the raw answer; `.parse()` gives the `Customer`."""
        get = self._customers._get(id_or_email, max_retries, timeout, headers)
        return RawResponse(await get, _parse_customer)

    async def update(
        self,
        customer_id: str,
        *,
        email: str | NotGiven = NOT_GIVEN,
        name: str | NotGiven = NOT_GIVEN,
        phone: Phone | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, MetadataValue] | NotGiven = NOT_GIVEN,
        default: str | NotGiven = NOT_GIVEN,
        instruments: Sequence[str] | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[ApiResult]:
        """`customers.update`, returning the raw answer; `.parse()` gives the `ApiResult`."""
        fields = locals()  # the declared fields, by name (see `_customer_fields`)
        patch = self._customers._patch(customer_id, fields, max_retries, timeout, headers)
        return RawResponse(await patch, _api_result)

    async def delete(
        self,
        customer_id: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[ApiResult]:
        """`customers.delete`, returning the raw answer; `.parse()` gives the `ApiResult`."""
        delete = self._customers._delete(customer_id, max_retries, timeout, headers)
        return RawResponse(await delete, _api_result)


def _api_result(response: Response) -> ApiResult:
    return ApiResult(request_id=response.request_id)


def _created(response: Response) -> CreatedCustomer:
    customer_id = response.body.get("id") if isinstance(response.body, dict) else None
    if not isinstance(customer_id, str) or not customer_id:
        raise CheckoutConnectionError(
            f"the API's {response.status} answer to create could not be read: it has no "
            f"customer id (request_id={response.request_id or 'unknown'}); the customer may "
            "exist: look it up by email",
            request_id=response.request_id,
        )
    return CreatedCustomer(id=customer_id, request_id=response.request_id)


def _parse_customer(response: Response) -> Customer:
    body: Any = response.body
    if type(body) is dict:
        customer = fast_customer(body, response.request_id)  # None: let the converter decide
        if customer is not None:
            return customer
    # Imported here, for the rare answer the fast parse leaves to it: cattrs, and the
    # converter's hooks, cost more to import than the rest of the package.
    import cattrs

    from ._converter import structure_customer

    try:
        return structure_customer(body, response.request_id)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise CheckoutConnectionError(
            f"the API answered {response.status} with a customer that could not be read "
            f"(request_id={response.request_id or 'unknown'}): {exc}",
            request_id=response.request_id,
        ) from exc
