"""Every exception the SDK raises, in one tree.

```
CheckoutError
├── CheckoutArgumentError (also a ValueError)  bad input, caught before any request is sent
├── CheckoutApiError                           the API answered with a status other than 2xx
│   ├── AuthenticationError        401
│   ├── PermissionDeniedError      403
│   ├── NotFoundError              404
│   ├── ConflictError              409
│   ├── UnprocessableEntityError   422
│   ├── RateLimitError             429
│   └── ServerError                5xx
└── CheckoutConnectionError                    no usable answer: refused, reset, TLS, ...
    └── CheckoutTimeoutError
```

Catch `CheckoutError` for "anything from this SDK". The sync `Client` raises the same classes.
Only a 2xx answer is a success: any other status, a redirect included (they are never
followed), raises a `CheckoutApiError`. An answer that cannot be read (not JSON, nested too
deep, wrong types, a null where a value is required, larger than `max_response_bytes`) raises
`CheckoutConnectionError` saying it "could not be read", with the request id. Every message is
passed through `_redact.redact`, so a credential never shows in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._redact import redact

__all__ = [
    "AuthenticationError",
    "CheckoutApiError",
    "CheckoutArgumentError",
    "CheckoutConnectionError",
    "CheckoutError",
    "CheckoutTimeoutError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnprocessableEntityError",
    "api_error_for_status",
]


class CheckoutError(Exception):
    """Base class of every exception raised by checkout-customers."""

    def __init__(self, *args: object) -> None:
        # A secret pasted into the wrong argument must not be echoed back by any message.
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class CheckoutArgumentError(CheckoutError, ValueError):
    """An argument is missing or invalid; nothing was sent.

    `field` names the offending argument (for example `"phone.number"`), when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments are not pickled by default (multiprocessing, Celery).
        return _rebuild, (type(self), (str(self),), {"field": self.field})


class CheckoutApiError(CheckoutError):
    """The API answered with an error status, or any other status that is not 2xx.

    Attributes:
        status: the HTTP status code.
        request_id: the body's `request_id`, else the `Cko-Request-Id` header, else `None`.
        error_type: the body's `error_type` (for example `"request_invalid"`), or `None`.
        error_codes: the body's `error_codes` as a tuple, possibly empty.
        body: the decoded JSON body, else its text, `None` when the body was empty.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        request_id: str | None = None,
        error_type: str | None = None,
        error_codes: tuple[str, ...] = (),
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = redact(message)
        self.status = status
        self.request_id = request_id
        self.error_type = error_type
        self.error_codes = error_codes
        self.body = body

    def __reduce__(self) -> tuple[Any, ...]:
        keywords = {
            "status": self.status,
            "request_id": self.request_id,
            "error_type": self.error_type,
            "error_codes": self.error_codes,
            "body": self.body,
        }
        return _rebuild, (type(self), (self.message,), keywords)

    def __str__(self) -> str:
        parts = [f"{self.status} {self.message}"]
        if self.error_type:
            parts.append(f"error_type={_clipped(self.error_type)}")
        if self.error_codes:
            parts.append("error_codes=" + ",".join(_codes_shown(self.error_codes)))
        parts.append(f"request_id={self.request_id or 'unknown'}")
        return " | ".join(parts)

    def __repr__(self) -> str:
        error_type = None if self.error_type is None else _clipped(self.error_type)
        return (
            f"{type(self).__name__}(status={self.status!r}, request_id={self.request_id!r}, "
            f"error_type={error_type!r}, error_codes={_codes_shown(self.error_codes)!r})"
        )


# The text of an error becomes a log line: what a server put in `error_type` and
# `error_codes` is shown up to these limits (the attributes keep all of it).
_MAX_CODES_SHOWN = 20
_MAX_CODE_CHARS = 120


def _clipped(text: str) -> str:
    if len(text) <= _MAX_CODE_CHARS:
        return text
    return f"{text[:_MAX_CODE_CHARS]}... ({len(text)} characters)"


def _codes_shown(codes: tuple[str, ...]) -> tuple[str, ...]:
    shown = tuple(_clipped(code) for code in codes[:_MAX_CODES_SHOWN])
    if len(codes) > _MAX_CODES_SHOWN:
        shown += (f"... ({len(codes)} codes)",)
    return shown


class AuthenticationError(CheckoutApiError):
    """401: the secret key or access token was refused."""


class PermissionDeniedError(CheckoutApiError):
    """403: the credential is valid but may not do this (for example a missing OAuth scope)."""


class NotFoundError(CheckoutApiError):
    """404: no customer with that id or email on this account."""


class ConflictError(CheckoutApiError):
    """409: the request conflicts with the current state of the resource."""


class UnprocessableEntityError(CheckoutApiError):
    """422: the API refused the request body; see `error_codes`."""


class RateLimitError(CheckoutApiError):
    """429: the account's read or write rate limit was exceeded."""


class ServerError(CheckoutApiError):
    """5xx: the API failed; whether it acted on the request is unknown."""


class CheckoutConnectionError(CheckoutError):
    """No usable answer: connection refused or reset, TLS failure, malformed response, ...

    `request_id` is the answer's `Cko-Request-Id` (or its body's `request_id`) when an answer
    came but could not be read, so that it can be quoted to support; `None` otherwise.
    """

    def __init__(self, *args: object, request_id: str | None = None) -> None:
        super().__init__(*args)
        self.request_id = request_id

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self.args, {"request_id": self.request_id})


class CheckoutTimeoutError(CheckoutConnectionError):
    """The request timed out; whether the API acted on it is unknown."""


def _rebuild(
    cls: type[CheckoutError], args: tuple[Any, ...], keywords: Mapping[str, Any]
) -> CheckoutError:
    return cls(*args, **keywords)


_ERROR_BY_STATUS: Mapping[int, type[CheckoutApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_DEFAULT_MESSAGES: Mapping[int, str] = {
    401: "Unauthorized: check the secret key or OAuth credentials",
    403: "Forbidden: the credential lacks the permission (scope) for this operation",
    404: "Not found",
    409: "Conflict",
    422: "The request was refused as invalid",
    429: "Too many requests: the account's rate limit was exceeded",
}


def api_error_for_status(
    status: int,
    *,
    request_id: str | None,
    error_type: str | None,
    error_codes: tuple[str, ...],
    body: Any,
    location: str | None = None,
) -> CheckoutApiError:
    """Build the exception class that matches `status`; `location` is a redirect's target."""
    if 500 <= status < 600:
        cls: type[CheckoutApiError] = ServerError
        message = "Server error"
    elif status >= 600:  # no such class of status (RFC 9110 section 15): not the API's
        cls = CheckoutApiError
        message = "Unexpected status outside the HTTP range"
    elif 300 <= status < 400:
        cls = CheckoutApiError
        target = f" to {location}" if location else " without a Location"
        message = (
            f"Unexpected redirect{target}; redirects are not followed (check base_url, or "
            "a proxy rewriting requests)"
        )
    elif status < 200:
        cls = CheckoutApiError
        message = "Unexpected informational status"
    else:
        cls = _ERROR_BY_STATUS.get(status, CheckoutApiError)
        message = _DEFAULT_MESSAGES.get(status, "Unexpected error status")
    return cls(
        message,
        status=status,
        request_id=request_id,
        error_type=error_type,
        error_codes=error_codes,
        body=body,
    )
