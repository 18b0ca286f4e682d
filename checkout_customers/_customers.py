"""The customers resource: create, get (by id or email), update and delete.

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
import cattrs

from ._converter import structure_customer
from ._errors import CheckoutConnectionError
from ._models import ApiResult, CreatedCustomer, Customer, MetadataValue, Phone
from ._transport import Idempotency, Response, Transport, json_text
from ._types import NOT_GIVEN, NotGiven
from ._validation import (
    create_body,
    update_body,
    validate_customer_id,
    validate_identifier,
)

__all__ = ["AsyncCustomers", "PreparedCreate", "prepare_create"]


# Every ASCII character but the unreserved ones (RFC 3986), as `quote(..., safe="")` spells it.
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ASCII_ESCAPES = {code: f"%{code:02X}" for code in range(128) if chr(code) not in _UNRESERVED}


def _segment(identifier: str) -> str:
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
    `email` is the request's email; `json` the exact text sent.
    """

    email: str
    json: str = attrs.field(repr=False)


def prepare_create(fields: Mapping[str, Any]) -> PreparedCreate:
    """Validate a create request given as a mapping of `create`'s keyword arguments.

    Raises `CheckoutArgumentError` naming the first field that is wrong (nothing is sent).
    """
    body = create_body(**fields)
    return PreparedCreate(email=str(body["email"]), json=json_text(body))


class AsyncCustomers:
    """`client.customers`: the Customers API. Safe to share between tasks of one event loop."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def create(
        self,
        *,
        email: str,
        name: str | None = None,
        phone: Phone | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        default: str | None = None,
        instruments: Sequence[str] | None = None,
        max_retries: int | None = None,
    ) -> CreatedCustomer:
        """Create a customer and return its `id` and the `request_id`.

        `instruments` are linked only when `default` is given too (the API's rule).
        The request is retried only when it provably never reached the API (connection
        refused, 429), so a retry never creates a second customer; after a timeout or a
        dropped connection the customer may exist: look it up by email before creating again.

        Raises `CheckoutArgumentError` (nothing sent), `CheckoutApiError` subclasses,
        `CheckoutConnectionError`.
        """
        body = create_body(
            email=email,
            name=name,
            phone=phone,
            metadata=metadata,
            default=default,
            instruments=instruments,
        )
        return _created(await self._post(json_text(body), max_retries))

    async def create_prepared(
        self, request: PreparedCreate, *, max_retries: int | None = None
    ) -> CreatedCustomer:
        """`create` with a request validated and encoded beforehand by `prepare_create`.

        For callers that may send one request several times (the migration): the same text
        goes each time. Retries and errors are those of `create`.
        """
        return _created(await self._post(request.json, max_retries))

    def _post(self, body: str, max_retries: int | None) -> Coroutine[Any, Any, Response]:
        return self._transport.request(
            "POST",
            "/customers",
            body=body,
            idempotency=Idempotency.CREATE,
            max_retries=max_retries,
        )

    async def get(self, id_or_email: str, *, max_retries: int | None = None) -> Customer:
        """Return the customer with this id (`cus_...`) or email address.

        Raises `NotFoundError` when there is none, `CheckoutArgumentError` for an identifier
        that is neither an id nor an email, and the other `CheckoutError`s.
        """
        return _parse_customer(await self._get(id_or_email, max_retries, not_found_ok=False))

    async def find(self, id_or_email: str, *, max_retries: int | None = None) -> Customer | None:
        """`get`, but None when there is no such customer (a 404) instead of `NotFoundError`.

        Raises `CheckoutArgumentError` for an identifier that is neither an id nor an email,
        and the other `CheckoutError`s.
        """
        response = await self._get(id_or_email, max_retries, not_found_ok=True)
        return None if response.status == 404 else _parse_customer(response)

    def _get(
        self, id_or_email: str, max_retries: int | None, *, not_found_ok: bool
    ) -> Coroutine[Any, Any, Response]:
        identifier = validate_identifier(id_or_email)
        return self._transport.request(
            "GET",
            f"/customers/{_segment(identifier)}",
            max_retries=max_retries,
            log_path=f"/customers/{_log_segment(identifier)}",
            not_found_ok=not_found_ok,
        )

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
        max_retries: int | None = None,
    ) -> ApiResult:
        """Change the given fields of a customer; fields not passed are not sent.

        `metadata` replaces the stored metadata as a whole. Raises `NotFoundError`,
        `CheckoutArgumentError` (nothing sent) and the other `CheckoutError`s.
        """
        customer_id = validate_customer_id(customer_id)
        body = update_body(
            {
                "email": email,
                "name": name,
                "phone": phone,
                "metadata": metadata,
                "default": default,
                "instruments": instruments,
            }
        )
        response = await self._transport.request(
            "PATCH",
            f"/customers/{_segment(customer_id)}",
            body=json_text(body),
            max_retries=max_retries,
        )
        return ApiResult(request_id=response.request_id)

    async def delete(self, customer_id: str, *, max_retries: int | None = None) -> ApiResult:
        """Delete a customer and all of its linked payment instruments.

        Raises `NotFoundError` when there is no such customer (unless an earlier attempt of
        this same call went unanswered: then the 404 of the retry means it is done).
        """
        customer_id = validate_customer_id(customer_id)
        response = await self._transport.request(
            "DELETE", f"/customers/{_segment(customer_id)}", max_retries=max_retries
        )
        return ApiResult(request_id=response.request_id)


def _created(response: Response) -> CreatedCustomer:
    customer_id = response.body.get("id") if isinstance(response.body, dict) else None
    if not isinstance(customer_id, str) or not customer_id:
        raise CheckoutConnectionError(
            f"the API answered {response.status} to create without a customer id "
            f"(request_id={response.request_id}); the customer may exist: look it up by email"
        )
    return CreatedCustomer(id=customer_id, request_id=response.request_id)


def _parse_customer(response: Response) -> Customer:
    body: Any = response.body
    try:
        return structure_customer(body, response.request_id)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise CheckoutConnectionError(
            f"the API answered {response.status} with a customer that could not be read "
            f"(request_id={response.request_id}): {exc}"
        ) from exc
