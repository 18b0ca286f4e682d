"""The emulator's configuration: one frozen value object, validated when it is built."""

from __future__ import annotations

import math
import types
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "DEFAULT_CARD_TOKEN_TTL_S",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_JOURNAL_SIZE",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_TOKEN_TTL_S",
    "EmulatorSettings",
]

#: The secret key every emulator accepts unless told otherwise. For local use only.
DEFAULT_SECRET_KEY = "sk_sbox_emulator_local_key"  # noqa: S105 - a documented local default
#: The public key (for `POST /tokens` only) every emulator accepts unless told otherwise.
DEFAULT_PUBLIC_KEY = "pk_sbox_emulator_local_key"
#: Lifetime of the card tokens issued by `POST /tokens`, in seconds (the API's 15 minutes).
DEFAULT_CARD_TOKEN_TTL_S = 15 * 60.0
#: The OAuth client every emulator accepts unless told otherwise.
DEFAULT_CLIENT_ID = "cli_emulatorlocal"
#: The secret of `DEFAULT_CLIENT_ID`. For local use only.
DEFAULT_CLIENT_SECRET = "emulator_local_client_secret"  # noqa: S105 - a documented local default
#: Lifetime of the access tokens issued by `POST /connect/token`, in seconds.
DEFAULT_TOKEN_TTL_S = 3600.0
#: Request bodies above this size are refused with 413.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: How many requests the request journal keeps (the oldest fall off first).
DEFAULT_JOURNAL_SIZE = 1000
#: The statuses `reject_duplicate_emails` may answer.
DUPLICATE_EMAIL_STATUSES = (409, 422)
#: The statuses `unknown_customer_status` may answer.
UNKNOWN_CUSTOMER_STATUSES = (404, 422)
#: What `customer_id_email_conflict` may do.
CUSTOMER_ID_EMAIL_CONFLICT_RULES = ("reject", "id")


def _default_oauth_clients() -> Mapping[str, str]:
    return types.MappingProxyType({DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})


def _to_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _freeze_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(value))


def _check_rate(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{attribute.name} must be a positive number of requests/s or None")


def _check_share(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value}")


def _check_non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be a non-negative number, got {value}")


def _duplicate_email_status(value: object) -> int | None:
    """`True` is 409 (what the setting meant before it took a status); False and None: off."""
    if value is None or value is False:
        return None
    if value is True:
        return 409
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and value in DUPLICATE_EMAIL_STATUSES:
        return value
    raise ValueError(f"reject_duplicate_emails must be 409, 422, True or False, got {value!r}")


def _unknown_customer_status(value: object) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and value in UNKNOWN_CUSTOMER_STATUSES:
        return value
    raise ValueError(f"unknown_customer_status must be 404 or 422, got {value!r}")


def _check_conflict_rule(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in CUSTOMER_ID_EMAIL_CONFLICT_RULES:
        raise ValueError(f"{attribute.name} must be 'reject' or 'id', got {value!r}")


def _check_optional_non_negative(
    instance: object, attribute: attrs.Attribute[Any], value: float | None
) -> None:
    if value is not None:
        _check_non_negative(instance, attribute, value)


def _check_credential(field: str, text: object) -> None:
    if not isinstance(text, str) or not text or any(c.isspace() for c in text):
        raise ValueError(f"{field}: credentials must be non-empty strings without spaces")


def _check_secret_keys(
    instance: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]
) -> None:
    for secret_key in value:
        _check_credential(attribute.name, secret_key)


def _check_oauth_clients(
    instance: object, attribute: attrs.Attribute[Any], value: Mapping[str, str]
) -> None:
    for client_id, client_secret in value.items():
        _check_credential(attribute.name, client_id)
        _check_credential(attribute.name, client_secret)


@attrs.frozen(kw_only=True)
class EmulatorSettings:
    """How an emulator listens, whom it lets in, and how it misbehaves.

        settings = EmulatorSettings(write_rate=5, fault_drop_after_acting=0.1, seed=7)
        async with run_emulator(settings) as emulator: ...

    Fault shares are probabilities in 0..1 drawn independently for each API request
    (their sum must not exceed 1); they are seeded by `seed` so a test run can be replayed.
    Raises `ValueError` for an out-of-range value.
    """

    host: str = "127.0.0.1"
    #: 0 picks a free port.
    port: int = attrs.field(
        default=0,
        validator=attrs.validators.and_(attrs.validators.ge(0), attrs.validators.le(65535)),
    )
    #: SQLite file keeping the state across restarts; None keeps it in memory.
    db_path: str | None = None
    secret_keys: tuple[str, ...] = attrs.field(
        default=(DEFAULT_SECRET_KEY,), converter=_to_tuple, validator=_check_secret_keys
    )
    #: OAuth clients, client_id -> client_secret.
    oauth_clients: Mapping[str, str] = attrs.field(
        factory=_default_oauth_clients,
        converter=_freeze_mapping,
        validator=_check_oauth_clients,
        hash=False,
    )
    token_ttl_s: float = attrs.field(default=DEFAULT_TOKEN_TTL_S, validator=_check_non_negative)
    #: Public keys accepted by `POST /tokens` (and only there); each is an account of its own.
    public_keys: tuple[str, ...] = attrs.field(
        default=(DEFAULT_PUBLIC_KEY,), converter=_to_tuple, validator=_check_secret_keys
    )
    #: Lifetime of card tokens, in seconds; the API's is 15 minutes.
    card_token_ttl_s: float = attrs.field(
        default=DEFAULT_CARD_TOKEN_TTL_S, validator=_check_non_negative
    )
    #: Requests/s per account for GET; None is unlimited.
    read_rate: float | None = attrs.field(default=None, validator=_check_rate)
    #: Requests/s per account for POST, PATCH and DELETE; None is unlimited.
    write_rate: float | None = attrs.field(default=None, validator=_check_rate)
    #: Share answered 500 without acting.
    fault_500: float = attrs.field(default=0.0, validator=_check_share)
    #: Share that act, then close the connection without answering.
    fault_drop_after_acting: float = attrs.field(default=0.0, validator=_check_share)
    #: Share that act, then answer only after `fault_slow_ms`.
    fault_slow_after_acting: float = attrs.field(default=0.0, validator=_check_share)
    #: Share whose connection is reset (TCP RST) before acting.
    fault_reset_before_acting: float = attrs.field(default=0.0, validator=_check_share)
    #: Share that wait `fault_slow_ms`, then act and answer: a request queued inside the API,
    #: which acts after a client with a shorter timeout has given up on it.
    fault_slow_before_acting: float = attrs.field(default=0.0, validator=_check_share)
    fault_slow_ms: float = attrs.field(default=2000.0, validator=_check_non_negative)
    #: Fixed latency added to every API request.
    latency_ms: float = attrs.field(default=0.0, validator=_check_non_negative)
    seed: int | None = None
    #: `Retry-After` seconds sent with the rate limiter's 429s (rounded up); None sends none.
    retry_after: float | None = attrs.field(default=None, validator=_check_optional_non_negative)
    #: The status answered to a create or update giving an email another customer has: 409
    #: (no body) or 422 (`email_already_exists`); None (the default) allows duplicates, the
    #: dangerous case. `True` means 409. Enforced by the store, so emulators sharing one
    #: `db_path` never hold two customers with one email.
    reject_duplicate_emails: int | None = attrs.field(
        default=None, converter=_duplicate_email_status
    )
    #: Find customers by email only in the exact letter case they were stored with. The real
    #: API's behaviour is unknown; the default ignores letter case.
    case_sensitive_emails: bool = False
    #: Refuse `POST /instruments` without a customer to link (422 `customer_required`). Not
    #: documented by the API; the default stores the instrument unlinked.
    instrument_customer_required: bool = False
    #: The status answered when `customer.id` names no customer, on creating or updating an
    #: instrument: 422 (`customer_not_found`, the default) or 404. Not documented by the API.
    unknown_customer_status: int = attrs.field(default=422, converter=_unknown_customer_status)
    #: What a `customer` giving both an `id` and an `email` of another customer gets:
    #: `"reject"` (422 `customer_email_mismatch`, the default) or `"id"` (the id wins, the
    #: email is ignored). Not documented by the API.
    customer_id_email_conflict: str = attrs.field(default="reject", validator=_check_conflict_rule)
    max_body_bytes: int = attrs.field(
        default=DEFAULT_MAX_BODY_BYTES, validator=attrs.validators.gt(0)
    )
    #: How many requests `GET /_emulator/requests` keeps; 0 keeps none.
    journal_size: int = attrs.field(default=DEFAULT_JOURNAL_SIZE, validator=attrs.validators.ge(0))

    def __attrs_post_init__(self) -> None:
        if self.fault_total > 1.0 + 1e-9:
            raise ValueError(f"the fault shares add up to {self.fault_total}, more than 1")
        if not self.secret_keys and not self.oauth_clients:
            raise ValueError("at least one secret key or OAuth client is needed")
        if set(self.public_keys) & set(self.secret_keys):
            raise ValueError("a key cannot be both a public key and a secret key")

    @property
    def fault_total(self) -> float:
        """The share of API requests that meet any fault."""
        return (
            self.fault_500
            + self.fault_drop_after_acting
            + self.fault_slow_after_acting
            + self.fault_reset_before_acting
            + self.fault_slow_before_acting
        )
