"""Client configuration as small value objects, resolved once at construction.

`resolve_config` turns the keyword arguments of `AsyncClient` / `Client` (and the `CKO_*`
environment variables) into one immutable `ClientConfig`, or raises `CheckoutArgumentError`
naming what to set. Nothing here does I/O.

Usage:

    Timeout(total=30)                      # at most 30 s per attempt, all phases
    Timeout(connect=5, read=65, total=90)  # per phase
    Timeout(total=20, deadline=45)         # and at most 45 s for the whole call, retries included

Defaults and why: an attempt may take 90 s (the API's gateway gives up after 60 s), and a whole
call, every attempt and back-off included, 120 s; so with the default two retries the worst
case of one call is about two minutes, whatever the server does (a server trickling one byte a
second included). Answers are capped at `DEFAULT_MAX_RESPONSE_BYTES` (4 MiB) after
decompression; the largest customer the API can return is far below that.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import ssl
from collections.abc import Mapping, Sequence
from typing import Literal

import attrs
from yarl import URL

from ._errors import CheckoutArgumentError
from ._proxy import ProxyChoice, proxy_for, validate_proxy
from ._redact import mask_values

__all__ = [
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ClientConfig",
    "OAuthCredentials",
    "SecretKey",
    "Timeout",
    "TimeoutTypes",
    "resolve_config",
]

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_CONNECTIONS = 100
DEFAULT_DEADLINE_SECONDS = 120.0
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
DEFAULT_SCOPES = ("vault",)

_SECRET_KEY_PATTERN = re.compile(r"sk_[A-Za-z0-9_\-]{8,}", re.ASCII)
_SANDBOX_KEY_PREFIX = "sk_sbox_"
_CLIENT_ID_PATTERN = re.compile(r"cli_[a-z0-9]{8,}", re.ASCII)
_PREFIX_PATTERN = re.compile(r"[a-z0-9]{8}", re.ASCII)
_ENVIRONMENTS = ("sandbox", "production")


@attrs.frozen
class Timeout:
    """Time limits of a call, in seconds: finite and positive (NaN, infinity, 0 are refused).

    `connect` bounds opening a TCP/TLS connection, `pool` waiting for a free connection of the
    pool, `read` the wait for each chunk of the answer, `total` one whole attempt, and
    `deadline` the whole call: every attempt and every back-off between them. A retry is not
    started when its back-off would end past the deadline, and the last attempt is cut short
    at it. The API's gateway gives up after 60 s, so the default read limit sits just above.
    """

    total: float = 90.0
    connect: float = 10.0
    read: float = 65.0
    pool: float = 30.0
    deadline: float = DEFAULT_DEADLINE_SECONDS

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(Timeout):
            if not _is_duration(getattr(self, field.name)):
                value = getattr(self, field.name)
                raise CheckoutArgumentError(
                    f"timeout.{field.name}: must be a finite positive number of seconds, "
                    f"got {value!r}",
                    field=f"timeout.{field.name}",
                )

    @classmethod
    def of(cls, value: TimeoutTypes) -> Timeout:
        """Accept a `Timeout`, or a number of seconds N: every phase of an attempt at most N
        (connecting at most 10), the whole call at most max(N, 120)."""
        if value is None:
            return DEFAULT_TIMEOUT
        if isinstance(value, Timeout):
            return value
        if not _is_duration(value):
            raise CheckoutArgumentError(
                f"timeout: must be a finite positive number of seconds or a Timeout, got {value!r}",
                field="timeout",
            )
        seconds = float(value)
        return cls(
            total=seconds,
            connect=min(DEFAULT_TIMEOUT.connect, seconds),
            read=seconds,
            pool=seconds,
            deadline=max(DEFAULT_DEADLINE_SECONDS, seconds),
        )


def _is_duration(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


DEFAULT_TIMEOUT = Timeout()
TimeoutTypes = Timeout | float | int | None


@attrs.frozen
class SecretKey:
    """A secret API key; never shown by `repr()` or `str()`."""

    value: str = attrs.field(repr=False)

    def __str__(self) -> str:
        return "SecretKey(****)"


@attrs.frozen
class OAuthCredentials:
    """OAuth client credentials and the token endpoint to trade them at."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    scopes: tuple[str, ...]
    token_url: URL

    def __str__(self) -> str:
        return f"OAuthCredentials(client_id={self.client_id!r}, client_secret=****)"


def _show_context(context: ssl.SSLContext | None) -> str:
    # The default repr is only an address; whether a context of the caller's is in use is
    # what a reader of a config wants to know.
    return "None" if context is None else "<ssl.SSLContext given>"


@attrs.frozen
class ClientConfig:
    """Everything a client needs to know, validated.

    `api_proxy` and `token_proxy` are the proxies chosen for the API and for the OAuth token
    endpoint (`proxy=`, else the environment when `trust_env`), None for a direct connection.
    `ssl_context` verifies the TLS of both (through a proxy's tunnel too); None for aiohttp's
    default context, which trusts the system's CAs.
    """

    credential: SecretKey | OAuthCredentials
    base_url: URL
    timeout: Timeout
    max_retries: int
    max_connections: int
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    api_proxy: URL | None = attrs.field(default=None, repr=False)  # may hold credentials
    token_proxy: URL | None = attrs.field(default=None, repr=False)
    ssl_context: ssl.SSLContext | None = attrs.field(default=None, repr=_show_context)


def _fail(field: str, message: str) -> CheckoutArgumentError:
    return CheckoutArgumentError(f"{field}: {message}", field=field)


def _pick(explicit: str | None, variable: str, env: Mapping[str, str]) -> str | None:
    if explicit is not None:
        return explicit
    value = env.get(variable, "").strip()
    return value or None


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _parse_base_url(raw: str) -> URL:
    try:
        url = URL(raw.strip())
    except (TypeError, ValueError) as exc:
        raise _fail("base_url", f"{raw!r} is not a URL") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise _fail("base_url", f"{raw!r} must be an absolute http(s) URL")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise _fail(
            "base_url",
            f"plain http is only allowed for loopback hosts; use https for {url.host!r}",
        )
    if url.query_string or url.fragment or url.user or url.password:
        raise _fail("base_url", "must not contain a query, fragment or user info")
    return url.with_path(url.raw_path.rstrip("/"), encoded=True)


def _secret_key(value: str, environment: str | None, base_url_given: bool) -> SecretKey:
    if not base_url_given:
        is_sandbox_key = value.startswith(_SANDBOX_KEY_PREFIX)
        if environment == "production" and is_sandbox_key:
            raise _fail("secret_key", "a sandbox key (sk_sbox_...) cannot be used in production")
        if environment == "sandbox" and not is_sandbox_key:
            raise _fail("secret_key", "a production key cannot be used in sandbox; set environment")
    return SecretKey(value)


def verifying_ssl_context(value: object) -> ssl.SSLContext:
    """`value` if it is an `ssl.SSLContext` that verifies; else `CheckoutArgumentError`.

    Checked when the client is made and again before each request (`_aiohttp_backend`): a
    context is mutable, and one edited after it was given must not weaken the connection.
    """
    if not isinstance(value, ssl.SSLContext):
        raise _fail(
            "ssl_context",
            f"must be an ssl.SSLContext, such as ssl.create_default_context(cafile=...); "
            f"got {type(value).__name__}",
        )
    # The one promise of this option: it adds trust, it never removes verification.
    if value.verify_mode != ssl.CERT_REQUIRED or value.check_hostname is not True:
        raise _fail(
            "ssl_context",
            "must verify certificates and host names (verify_mode=ssl.CERT_REQUIRED, "
            "check_hostname=True), as ssl.create_default_context(cafile=...) does; "
            "verification cannot be switched off",
        )
    return value


def _scopes(scopes: Sequence[str] | str | None) -> tuple[str, ...]:
    if scopes is None:
        return DEFAULT_SCOPES
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    if not items or not all(isinstance(s, str) and s and not s.isspace() for s in items):
        raise _fail("scopes", "must be one or more non-empty scope names, such as 'vault'")
    return tuple(items)


def _resolve(
    *,
    secret_key: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    scopes: Sequence[str] | str | None = None,
    environment: Literal["sandbox", "production"] | None = None,
    prefix: str | None = None,
    base_url: str | None = None,
    timeout: TimeoutTypes = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    proxy: str | None = None,
    trust_env: bool = True,
    ssl_context: ssl.SSLContext | None = None,
    env: Mapping[str, str],
) -> ClientConfig:

    if secret_key is not None and (client_id is not None or client_secret is not None):
        raise CheckoutArgumentError(
            "pass either secret_key or client_id/client_secret, not both", field="secret_key"
        )
    # The kind of credential passed explicitly wins; the environment fills in the rest of that
    # kind (say, CKO_CLIENT_SECRET beside client_id=), or gives the whole credential.
    if client_id is not None or client_secret is not None:
        client_id = _pick(client_id, "CKO_CLIENT_ID", env)
        client_secret = _pick(client_secret, "CKO_CLIENT_SECRET", env)
    elif secret_key is None:
        secret_key = _pick(None, "CKO_SECRET_KEY", env)
        client_id = _pick(None, "CKO_CLIENT_ID", env)
        client_secret = _pick(None, "CKO_CLIENT_SECRET", env)
        if secret_key is not None and (client_id is not None or client_secret is not None):
            raise CheckoutArgumentError(
                "both CKO_SECRET_KEY and CKO_CLIENT_ID/CKO_CLIENT_SECRET are set; unset one",
                field="secret_key",
            )

    environment = _pick(environment, "CKO_ENVIRONMENT", env)  # type: ignore[assignment]
    if environment is not None and environment not in _ENVIRONMENTS:
        raise _fail("environment", f"must be 'sandbox' or 'production', got {environment!r}")
    raw_base_url = _pick(base_url, "CKO_BASE_URL", env)
    prefix = _pick(prefix, "CKO_PREFIX", env)

    if secret_key is None and client_id is None and client_secret is None:
        raise CheckoutArgumentError(
            "no credential: pass secret_key= (or set CKO_SECRET_KEY), or client_id= and "
            "client_secret= (or set CKO_CLIENT_ID and CKO_CLIENT_SECRET)",
            field="secret_key",
        )
    if secret_key is not None and _SECRET_KEY_PATTERN.fullmatch(secret_key) is None:
        raise CheckoutArgumentError(
            "secret_key: malformed; expected sk_sbox_... (sandbox) or sk_... (production)",
            field="secret_key",
        )
    if client_id is not None and _CLIENT_ID_PATTERN.fullmatch(client_id) is None:
        raise _fail("client_id", "malformed; expected cli_ followed by lowercase letters/digits")
    if client_id is not None and prefix is None:
        prefix = client_id[len("cli_") : len("cli_") + 8]
    if prefix is not None and _PREFIX_PATTERN.fullmatch(prefix) is None:
        raise _fail("prefix", f"must be 8 lowercase letters or digits, got {prefix!r}")

    if raw_base_url is not None:
        api_url = _parse_base_url(raw_base_url)
        token_url = api_url.with_path(api_url.raw_path.rstrip("/") + "/connect/token", encoded=True)
    elif prefix is None:
        raise CheckoutArgumentError(
            "prefix: your account's base-URL prefix is required; pass prefix= or set "
            "CKO_PREFIX (or pass base_url= / set CKO_BASE_URL)",
            field="prefix",
        )
    else:
        domain = "checkout.com" if environment == "production" else "sandbox.checkout.com"
        api_url = URL(f"https://{prefix}.api.{domain}")
        token_url = URL(f"https://{prefix}.access.{domain}/connect/token")

    credential: SecretKey | OAuthCredentials
    if secret_key is not None:
        credential = _secret_key(secret_key, environment or "sandbox", raw_base_url is not None)
    else:
        if not client_id:
            raise _fail("client_id", "required with client_secret; or set CKO_CLIENT_ID")
        if not client_secret:
            raise _fail("client_secret", "required with client_id; or set CKO_CLIENT_SECRET")
        credential = OAuthCredentials(client_id, client_secret, _scopes(scopes), token_url)

    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise _fail("max_retries", f"must be an integer >= 0, got {max_retries!r}")
    if (
        isinstance(max_connections, bool)
        or not isinstance(max_connections, int)
        or max_connections < 1
    ):
        raise _fail("max_connections", f"must be an integer >= 1, got {max_connections!r}")

    if (
        isinstance(max_response_bytes, bool)
        or not isinstance(max_response_bytes, int)
        or max_response_bytes < 1024
    ):
        raise _fail("max_response_bytes", f"must be an integer >= 1024, got {max_response_bytes!r}")
    if not isinstance(trust_env, bool):
        raise _fail("trust_env", f"must be True or False, got {trust_env!r}")
    explicit_proxy = None if proxy is None else validate_proxy(proxy, "proxy")
    choice = ProxyChoice(explicit=explicit_proxy, trust_env=trust_env, env=env)
    context = None if ssl_context is None else verifying_ssl_context(ssl_context)
    return ClientConfig(
        credential=credential,
        base_url=api_url,
        timeout=Timeout.of(timeout),
        max_retries=max_retries,
        max_connections=max_connections,
        max_response_bytes=max_response_bytes,
        api_proxy=proxy_for(api_url, choice),
        token_proxy=proxy_for(token_url, choice),
        ssl_context=context,
    )


def resolve_config(
    *,
    secret_key: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    scopes: Sequence[str] | str | None = None,
    environment: Literal["sandbox", "production"] | None = None,
    prefix: str | None = None,
    base_url: str | None = None,
    timeout: TimeoutTypes = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    proxy: str | None = None,
    trust_env: bool = True,
    ssl_context: ssl.SSLContext | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Validate the client's arguments, filling gaps from `CKO_*` environment variables.

    `proxy` (a URL, credentials allowed) wins; else, when `trust_env`, `HTTPS_PROXY` /
    `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY` of the environment choose, as requests and httpx
    do. `ssl_context` must verify certificates and host names. Every secret given (to
    whichever argument) is masked in the messages raised here.
    """
    env = os.environ if env is None else env
    try:
        return _resolve(
            secret_key=secret_key,
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            environment=environment,
            prefix=prefix,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_connections=max_connections,
            max_response_bytes=max_response_bytes,
            proxy=proxy,
            trust_env=trust_env,
            ssl_context=ssl_context,
            env=env,
        )
    except CheckoutArgumentError as exc:
        failure = exc
    # A secret pasted into the wrong argument (prefix=, environment=, base_url=) would otherwise
    # be echoed back: mask every value known to be secret, wherever it appears. Raised afresh
    # outside the `except`, so the original (and its cause, which may quote the value) is not
    # even the new error's context.
    secrets = [
        value
        for value in (
            secret_key,
            client_secret,
            env.get("CKO_SECRET_KEY"),
            env.get("CKO_CLIENT_SECRET"),
        )
        if isinstance(value, str)
    ]
    raise CheckoutArgumentError(mask_values(str(failure), secrets), field=failure.field)
