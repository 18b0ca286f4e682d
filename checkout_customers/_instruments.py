"""The instruments resource: store a tokenised card or a bank account for a customer, read,
update and delete it, and the same methods returning raw answers (`with_raw_response`).

Arguments are validated before anything is sent (`_instrument_validation`); instrument ids are
percent-encoded as exactly one path segment. Creating is not idempotent on this API, so a create
is retried only when it provably never reached it, as a customer create is.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import Any
from urllib.parse import quote

from ._config import TimeoutTypes
from ._errors import CheckoutConnectionError
from ._instrument_validation import (
    create_instrument_body,
    update_instrument_body,
    validate_instrument_id,
)
from ._models import (
    AccountHolder,
    ApiResult,
    BankAccount,
    Instrument,
    InstrumentCustomer,
    UpdatedInstrument,
)
from ._raw_response import RawResponse
from ._transport import Idempotency, Response, Transport, json_text
from ._types import NOT_GIVEN, NotGiven

__all__ = ["AsyncInstruments", "AsyncInstrumentsWithRawResponse"]


def _path(instrument_id: str) -> str:
    return f"/instruments/{quote(validate_instrument_id(instrument_id), safe='')}"


class AsyncInstruments:
    """`client.instruments`: the Instruments API. Safe to share between tasks of one loop.

        card = await cko.instruments.create(
            token="tok_...", customer=InstrumentCustomer(id="cus_...", default=True)
        )
        await cko.instruments.update(card.id, expiry_year=2031)
        await cko.instruments.delete(card.id)

    Every method takes the per-call options `timeout=`, `headers=` and `max_retries=`, as the
    customers methods do; `with_raw_response` has the same methods, returning a `RawResponse`.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @property
    def with_raw_response(self) -> AsyncInstrumentsWithRawResponse:
        """The same methods, each returning a `RawResponse` (status, headers, timing, parse)."""
        return AsyncInstrumentsWithRawResponse(self)

    async def create(
        self,
        *,
        token: str | None = None,
        bank_account: BankAccount | None = None,
        account_holder: AccountHolder | None = None,
        customer: InstrumentCustomer | None = None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> Instrument:
        """Store a payment instrument, linked to a customer, and return it.

        Give exactly one of `token` (a card token, `tok_...`, from Checkout.com's tokenisation;
        the answer is the `CardInstrument` it stands for) and `bank_account` (a `BankAccount`).
        `customer` links it: an existing customer's `id` or `email`, or a new `email`, which
        creates that customer with this instrument as its default. The answer is a
        `CardInstrument`, a `BankAccountInstrument`, or an `UnknownInstrument` for a type this
        SDK does not model, with the call's `request_id`.

        The request is retried only when it provably never reached the API (connection
        refused, 429): the API has no idempotency key for instruments, and a token is single
        use. After a timeout or a dropped connection the instrument may exist: look at the
        customer's instruments before storing again.

        Raises `CheckoutArgumentError` (nothing sent), `UnprocessableEntityError` (a used or
        expired token, say), the other `CheckoutApiError` subclasses, `CheckoutConnectionError`.
        """
        body = create_instrument_body(
            token=token, bank_account=bank_account, account_holder=account_holder, customer=customer
        )
        return _created(await self._post(body, max_retries, timeout, headers))

    def _post(
        self,
        body: dict[str, Any],
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> Coroutine[Any, Any, Response]:
        return self._transport.request(
            "POST",
            "/instruments",
            body=json_text(body),
            idempotency=Idempotency.CREATE,
            timeout=timeout,
            headers=headers,
            max_retries=max_retries,
        )

    async def get(
        self,
        instrument_id: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> Instrument:
        """Return the instrument with this id (`src_...`), with the customer it is linked to
        (`customer.default` says whether it is that customer's default).

        Raises `NotFoundError` when there is none, `CheckoutArgumentError` for an id of the
        wrong shape, and the other `CheckoutError`s.
        """
        return _parse_instrument(await self._get(instrument_id, max_retries, timeout, headers))

    def _get(
        self,
        instrument_id: str,
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> Coroutine[Any, Any, Response]:
        return self._transport.request(
            "GET", _path(instrument_id), timeout=timeout, headers=headers, max_retries=max_retries
        )

    async def update(
        self,
        instrument_id: str,
        *,
        expiry_month: int | NotGiven = NOT_GIVEN,
        expiry_year: int | NotGiven = NOT_GIVEN,
        name: str | NotGiven = NOT_GIVEN,
        account_holder: AccountHolder | NotGiven = NOT_GIVEN,
        customer: InstrumentCustomer | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> UpdatedInstrument:
        """Change the given fields of a card; fields not passed are not sent.

        `customer=InstrumentCustomer(id=..., default=True)` links the card to that customer
        and, with `default=True`, makes it the default (`InstrumentCustomer(default=True)`
        alone: the default of the customer it is linked to). Returns the `type` and
        `fingerprint` (all the API answers) with the `request_id`.

        Raises `NotFoundError`, `CheckoutArgumentError` (nothing sent) and the other
        `CheckoutError`s.
        """
        fields = {
            "expiry_month": expiry_month,
            "expiry_year": expiry_year,
            "name": name,
            "account_holder": account_holder,
            "customer": customer,
        }
        return _updated(await self._patch(instrument_id, fields, max_retries, timeout, headers))

    def _patch(
        self,
        instrument_id: str,
        fields: Mapping[str, object],
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> Coroutine[Any, Any, Response]:
        path = _path(instrument_id)
        return self._transport.request(
            "PATCH",
            path,
            body=json_text(update_instrument_body(fields)),
            timeout=timeout,
            headers=headers,
            max_retries=max_retries,
        )

    async def delete(
        self,
        instrument_id: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> ApiResult:
        """Delete an instrument; it leaves the customer it was linked to.

        Raises `NotFoundError` when there is no such instrument (unless an earlier attempt of
        this same call went unanswered: then the 404 of the retry means it is done).
        """
        return _api_result(await self._delete(instrument_id, max_retries, timeout, headers))

    def _delete(
        self,
        instrument_id: str,
        max_retries: int | None,
        timeout: TimeoutTypes,
        headers: Mapping[str, str] | None,
    ) -> Coroutine[Any, Any, Response]:
        return self._transport.request(
            "DELETE",
            _path(instrument_id),
            timeout=timeout,
            headers=headers,
            max_retries=max_retries,
        )


class AsyncInstrumentsWithRawResponse:
    """`client.instruments.with_raw_response`: the instruments methods, returning `RawResponse`.

        raw = await cko.instruments.with_raw_response.get("src_...")
        raw.status, raw.request_id, raw.elapsed
        card = raw.parse()

    Arguments, validation, retries and errors are those of the plain methods.
    """

    def __init__(self, instruments: AsyncInstruments) -> None:
        self._instruments = instruments

    async def create(
        self,
        *,
        token: str | None = None,
        bank_account: BankAccount | None = None,
        account_holder: AccountHolder | None = None,
        customer: InstrumentCustomer | None = None,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[Instrument]:
        """`instruments.create`, returning the raw answer; `.parse()` gives the instrument."""
        body = create_instrument_body(
            token=token, bank_account=bank_account, account_holder=account_holder, customer=customer
        )
        post = self._instruments._post(body, max_retries, timeout, headers)
        return RawResponse(await post, _created)

    async def get(
        self,
        instrument_id: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[Instrument]:
        """`instruments.get`, returning the raw answer; `.parse()` gives the instrument."""
        get = self._instruments._get(instrument_id, max_retries, timeout, headers)
        return RawResponse(await get, _parse_instrument)

    async def update(
        self,
        instrument_id: str,
        *,
        expiry_month: int | NotGiven = NOT_GIVEN,
        expiry_year: int | NotGiven = NOT_GIVEN,
        name: str | NotGiven = NOT_GIVEN,
        account_holder: AccountHolder | NotGiven = NOT_GIVEN,
        customer: InstrumentCustomer | NotGiven = NOT_GIVEN,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[UpdatedInstrument]:
        """`instruments.update`, returning the raw answer; `.parse()` gives the
        `UpdatedInstrument`."""
        fields = {
            "expiry_month": expiry_month,
            "expiry_year": expiry_year,
            "name": name,
            "account_holder": account_holder,
            "customer": customer,
        }
        patch = self._instruments._patch(instrument_id, fields, max_retries, timeout, headers)
        return RawResponse(await patch, _updated)

    async def delete(
        self,
        instrument_id: str,
        *,
        timeout: TimeoutTypes = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[ApiResult]:
        """`instruments.delete`, returning the raw answer; `.parse()` gives the `ApiResult`."""
        delete = self._instruments._delete(instrument_id, max_retries, timeout, headers)
        return RawResponse(await delete, _api_result)


def _api_result(response: Response) -> ApiResult:
    return ApiResult(request_id=response.request_id)


def _unreadable(response: Response, what: str, exc: Exception) -> CheckoutConnectionError:
    return CheckoutConnectionError(
        f"the API answered {response.status} with {what} that could not be read "
        f"(request_id={response.request_id or 'unknown'}): {exc}",
        request_id=response.request_id,
    )


# cattrs and the converter are imported on the first answer, not with the package: they cost
# more to import than the rest of it (benchmarks/bench_import.py).


def _created(response: Response) -> Instrument:
    import cattrs

    from ._converter import structure_instrument

    body: Any = response.body
    try:
        instrument = structure_instrument(body, response.request_id)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise _unreadable(response, "a created instrument", exc) from exc
    if not instrument.id:
        raise CheckoutConnectionError(
            f"the API's {response.status} answer to create could not be read: it has no "
            f"instrument id (request_id={response.request_id or 'unknown'}); the instrument "
            "may exist: look at the customer's instruments before storing it again",
            request_id=response.request_id,
        )
    return instrument


def _parse_instrument(response: Response) -> Instrument:
    import cattrs

    from ._converter import structure_instrument

    body: Any = response.body
    try:
        return structure_instrument(body, response.request_id)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise _unreadable(response, "an instrument", exc) from exc


def _updated(response: Response) -> UpdatedInstrument:
    import cattrs

    from ._converter import structure_updated_instrument

    body: Any = response.body
    try:
        return structure_updated_instrument(body, response.request_id)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise _unreadable(response, "an update", exc) from exc
