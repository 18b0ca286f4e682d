"""`AsyncClient`: configuration, one HTTP session, and the resources hanging off it."""

from __future__ import annotations

import copy
import ssl
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Literal

import aiohttp

from ._aiohttp_backend import AiohttpBackend
from ._config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    OAuthCredentials,
    TimeoutTypes,
    resolve_config,
)
from ._customers import AsyncCustomers
from ._errors import CheckoutArgumentError
from ._instruments import AsyncInstruments
from ._transport import Transport

__all__ = ["AsyncClient"]


class AsyncClient:
    """The async client of the Checkout.com Customers API (`.customers`), with the
    Instruments API that links payment instruments to customers (`.instruments`).

        async with AsyncClient(secret_key="sk_sbox_...", prefix="abcd1234") as cko:
            created = await cko.customers.create(email="bruce@wayne.com")

    Arguments left out are read from `CKO_SECRET_KEY`, `CKO_CLIENT_ID`, `CKO_CLIENT_SECRET`,
    `CKO_ENVIRONMENT`, `CKO_PREFIX` and `CKO_BASE_URL`; explicit arguments win. A missing or
    malformed credential raises `CheckoutArgumentError` here, naming what to set.

    One client holds one connection pool: create it once and share it between the tasks of
    one event loop. It binds to the loop that first uses it. `proxy=` sends every request
    through an HTTP proxy (`http://user:password@proxy:3128`); without it the `HTTPS_PROXY`,
    `HTTP_PROXY` and `NO_PROXY` environment variables are honoured unless `trust_env=False`.
    Answers larger than `max_response_bytes` (4 MiB by default) are refused.

    TLS certificates are always verified, by default against the system's CAs. Behind a proxy
    that re-signs HTTPS with a CA of your company, pass `ssl_context=`: to trust a CA of your
    own, e.g. `ssl.create_default_context(cafile=...)`. It is used for the API, the OAuth token
    endpoint and inside a proxy's `CONNECT` tunnel, and must verify (`verify_mode` is
    `ssl.CERT_REQUIRED` and `check_hostname` is true; else `CheckoutArgumentError`): there is
    no switch to turn verification off.

    Pass `session=` to use an `aiohttp.ClientSession` you own (it is never closed by the
    client; its connector then decides TLS, so `ssl_context=` beside it is refused). Close
    with `await client.aclose()` or by leaving `async with`.
    """

    def __init__(
        self,
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
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if session is not None and ssl_context is not None:
            # Silently ignoring either would leave the caller believing one decides TLS.
            raise CheckoutArgumentError(
                "ssl_context: cannot be combined with session=, whose connector decides TLS; "
                "give the context to its aiohttp.TCPConnector(ssl=...), or leave session out",
                field="ssl_context",
            )
        self._config = resolve_config(
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
        )
        backend = AiohttpBackend(
            max_connections=self._config.max_connections,
            ssl_context=self._config.ssl_context,
            session=session,
        )
        self._transport = Transport(self._config, backend)
        self._derived_from: AsyncClient | None = None
        self.customers = AsyncCustomers(self._transport)
        self.instruments = AsyncInstruments(self._transport)

    def with_options(
        self,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncClient:
        """A client sharing this one's connection pool and credentials (and OAuth token), whose
        calls default to these options; those left out keep this client's.

            fast = cko.with_options(timeout=5, max_retries=0)
            traced = cko.with_options(headers={"X-Correlation-Id": "abc"})  # added to ours
            customer = await fast.customers.get("cus_...")

        This client is unchanged. Closing the new one does nothing (so `async with` on it is
        safe): the pool closes with the client it was made from, after which every client
        made from it raises `RuntimeError`. Raises `CheckoutArgumentError` for an invalid
        option (a NaN timeout, a negative `max_retries`, an `Authorization` header, ...).
        """
        derived = copy.copy(self)
        derived._transport = self._transport.with_defaults(
            timeout=timeout, max_retries=max_retries, headers=headers
        )
        derived._config = derived._transport.config
        derived._derived_from = self._derived_from or self  # keeps the pool's owner alive
        derived.customers = AsyncCustomers(derived._transport)
        derived.instruments = AsyncInstruments(derived._transport)
        return derived

    @property
    def base_url(self) -> str:
        """The API base URL this client sends to."""
        return str(self._config.base_url)

    def __repr__(self) -> str:
        credential = self._config.credential
        auth = (
            f"client_id={credential.client_id!r}"
            if isinstance(credential, OAuthCredentials)
            else "secret_key=****"
        )
        return f"AsyncClient(base_url={self.base_url!r}, {auth})"

    async def aclose(self) -> None:
        """Close the connection pool (unless the session was passed in); safe to call twice.

        On a client made by `with_options` this does nothing (the pool is shared).
        """
        if self._derived_from is None:
            await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
