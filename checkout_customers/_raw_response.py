"""`RawResponse`: an answer's status, headers, request id and timing, parsed only on request.

What `client.customers.with_raw_response.<method>(...)` returns, on both clients:

    raw = await cko.customers.with_raw_response.get("cus_...")
    raw.status, raw.headers["Cko-Version"], raw.request_id, raw.elapsed
    customer = raw.parse()          # what `cko.customers.get(...)` would have returned
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from ._transport import Response

__all__ = ["RawResponse"]

T = TypeVar("T")
_NOT_PARSED = object()


class RawResponse(Generic[T]):
    """A successful answer as it came: `.status`, `.headers`, `.request_id`, `.elapsed`.

        raw = await cko.customers.with_raw_response.get("bruce@wayne.com")
        print(raw.status, raw.headers.get("Cko-Version"), raw.elapsed.total_seconds())
        customer = raw.parse()

    Only 2xx answers become a `RawResponse`: an error status raises the same `CheckoutApiError`
    as the plain method, so `raw.status` is always a success. `headers` is a read-only,
    case-insensitive mapping (`raw.headers["cko-request-id"]` works). `elapsed` is how long
    the final attempt took, from sending to the last byte of the answer. `parse()` returns
    what the plain method returns (parsed once, then the same object); it raises
    `CheckoutConnectionError` for an answer it cannot read.
    """

    __slots__ = ("_parse", "_parsed", "_response")

    def __init__(self, response: Response, parse: Callable[[Response], T]) -> None:
        self._response = response
        self._parse = parse
        self._parsed: object = _NOT_PARSED

    @property
    def status(self) -> int:
        """The HTTP status code of the answer (2xx)."""
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        """The answer's headers: read-only, case-insensitive, repeated headers kept."""
        return self._response.headers

    @property
    def request_id(self) -> str | None:
        """The answer's request id (from the body, else the `Cko-Request-Id` header)."""
        return self._response.request_id

    @property
    def elapsed(self) -> datetime.timedelta:
        """How long the final attempt took, from sending the request to the answer's end."""
        return datetime.timedelta(seconds=self._response.elapsed)

    def parse(self) -> T:
        """What the plain method returns for this answer; raises `CheckoutConnectionError`
        when the answer cannot be read as that."""
        if self._parsed is _NOT_PARSED:
            self._parsed = self._parse(self._response)
        return self._parsed  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<RawResponse status={self.status} request_id={self.request_id!r}>"
