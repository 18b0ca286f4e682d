"""The transport over a fake backend: retry rules, per-call options and the response it returns.

The backend seam (`_backend.Backend`) lets these tests script answers and failures attempt by
attempt, without patching aiohttp.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

import checkout_customers
from checkout_customers import (
    CheckoutArgumentError,
    CheckoutConnectionError,
    CheckoutTimeoutError,
    ServerError,
    Timeout,
)
from checkout_customers._backend import (
    BackendAnswer,
    BackendRequest,
    FailureKind,
    SendFailed,
)
from checkout_customers._config import resolve_config
from checkout_customers._transport import Idempotency, Transport

from .conftest import CUSTOMER_ID, SECRET_KEY

Scripted = BackendAnswer | SendFailed


def answer(status: int, body: bytes = b"", **headers: str) -> BackendAnswer:
    return BackendAnswer(status, CIMultiDictProxy(CIMultiDict(headers)), body)


class FakeBackend:
    """Answers each attempt with the next scripted answer (or raises the scripted failure)."""

    user_agent = "fake/1.0"

    def __init__(self, script: Iterable[Scripted]) -> None:
        self.script = list(script)
        self.requests: list[BackendRequest] = []
        self.closed = False

    async def send(self, request: BackendRequest) -> BackendAnswer:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, SendFailed):
            raise step
        return step

    async def aclose(self) -> None:
        self.closed = True


def transport(backend: FakeBackend, **options: object) -> Transport:
    config = resolve_config(secret_key=SECRET_KEY, prefix="abcd1234", env={}, **options)  # type: ignore[arg-type]
    return Transport(config, backend)


PATH = f"/customers/{CUSTOMER_ID}"


async def test_the_response_carries_status_headers_request_id_elapsed_and_body() -> None:
    backend = FakeBackend(
        [answer(200, b'{"id": "x"}', **{"Cko-Request-Id": "r1", "Cko-Version": "1.2"})]
    )
    response = await transport(backend).request("GET", PATH)
    assert response.status == 200
    assert response.headers["cko-version"] == "1.2"  # case-insensitive
    assert response.request_id == "r1"
    assert response.elapsed >= 0.0
    assert response.body == {"id": "x"}


async def test_per_call_headers_are_sent_and_authorization_cannot_be_overridden() -> None:
    backend = FakeBackend([answer(204)])
    await transport(backend).request("DELETE", PATH, headers={"X-Trace-Id": "t-1"})
    sent = backend.requests[0].headers
    assert sent["X-Trace-Id"] == "t-1"
    assert sent["Authorization"] == f"Bearer {SECRET_KEY}"
    for reserved in ("Authorization", "authorization", "Host", "Content-Length"):
        with pytest.raises(CheckoutArgumentError, match=reserved):
            transport(backend).request("GET", PATH, headers={reserved: "Bearer sk_other_key_12345"})
    with pytest.raises(CheckoutArgumentError, match="one line"):
        transport(backend).request("GET", PATH, headers={"X-A": "a\r\nInjected: 1"})
    assert len(backend.requests) == 1


async def test_per_call_timeout_reaches_the_backend() -> None:
    backend = FakeBackend([answer(204)])
    await transport(backend).request("DELETE", PATH, timeout=7)
    assert backend.requests[0].timeout.total == 7.0
    await transport(backend).request("DELETE", PATH, timeout=Timeout(total=3, read=2))
    assert backend.requests[1].timeout.read == 2.0


async def test_per_call_max_retries_counts_attempts() -> None:
    backend = FakeBackend([answer(503)])
    with pytest.raises(ServerError):
        await transport(backend).request("GET", PATH, max_retries=3)
    assert len(backend.requests) == 4
    with pytest.raises(CheckoutArgumentError, match="max_retries"):
        await transport(backend).request("GET", PATH, max_retries=-1)


async def test_with_defaults_shares_the_backend_and_leaves_the_original_alone() -> None:
    backend = FakeBackend([answer(503)])
    original = transport(backend)
    derived = original.with_defaults(max_retries=0, timeout=5, headers={"X-Team": "growth"})
    with pytest.raises(ServerError):
        await derived.request("GET", PATH)
    assert len(backend.requests) == 1
    assert backend.requests[0].headers["X-Team"] == "growth"
    assert backend.requests[0].timeout.total == 5.0
    with pytest.raises(ServerError):
        await original.request("GET", PATH)
    assert len(backend.requests) == 4  # the original still retries twice
    assert "X-Team" not in backend.requests[-1].headers
    await derived.aclose()
    assert backend.closed


@pytest.mark.parametrize(
    ("kind", "create_attempts", "get_attempts"),
    [
        (FailureKind.CONNECT, 3, 3),
        (FailureKind.CONNECT_TIMEOUT, 3, 3),
        (FailureKind.TLS, 1, 1),
        (FailureKind.PROXY, 1, 1),
        (FailureKind.ANSWER_TIMEOUT, 1, 3),
        (FailureKind.DISCONNECTED, 1, 3),
        (FailureKind.MALFORMED, 1, 3),
        (FailureKind.TOO_LARGE, 1, 1),
    ],
)
async def test_each_failure_kind_is_retried_by_the_rules(
    kind: FailureKind, create_attempts: int, get_attempts: int
) -> None:
    backend = FakeBackend([SendFailed(kind, "scripted")])
    with pytest.raises(CheckoutConnectionError):
        await transport(backend).request(
            "POST", "/customers", body="{}", idempotency=Idempotency.CREATE
        )
    assert len(backend.requests) == create_attempts
    backend.requests.clear()
    with pytest.raises(CheckoutConnectionError) as raised:
        await transport(backend).request("GET", PATH)
    assert len(backend.requests) == get_attempts
    assert "may have acted" not in str(raised.value)


async def test_only_writes_say_the_api_may_have_acted() -> None:
    backend = FakeBackend([SendFailed(FailureKind.ANSWER_TIMEOUT, "scripted")])
    with pytest.raises(CheckoutTimeoutError) as read:
        await transport(backend).request("GET", PATH)
    with pytest.raises(CheckoutTimeoutError) as write:
        await transport(backend).request("PATCH", PATH, body="{}")
    assert "may have acted" not in str(read.value)
    assert "may have acted" in str(write.value)


@pytest.mark.parametrize(
    "module", ["_transport", "_retry", "_auth", "_errors", "_backend", "_config", "_proxy"]
)
def test_the_http_logic_does_not_import_aiohttp(module: str) -> None:
    source = Path(checkout_customers.__file__).with_name(f"{module}.py").read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert "aiohttp" not in imported
