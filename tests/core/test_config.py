"""Construction: arguments, environment variables, base URLs, and clear errors."""

from __future__ import annotations

import pytest

from checkout_customers import AsyncClient, CheckoutArgumentError, Timeout

from .conftest import SECRET_KEY

CKO_VARIABLES = (
    "CKO_SECRET_KEY",
    "CKO_CLIENT_ID",
    "CKO_CLIENT_SECRET",
    "CKO_ENVIRONMENT",
    "CKO_PREFIX",
    "CKO_BASE_URL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CKO_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_sandbox_base_url_is_built_from_the_prefix() -> None:
    client = AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234")
    assert client.base_url == "https://abcd1234.api.sandbox.checkout.com"


def test_production_base_url_needs_a_production_key() -> None:
    client = AsyncClient(secret_key="sk_m73dzbpy7cf3gfd46xr4yj5xo4e", prefix="abcd1234",
                         environment="production")  # fmt: skip
    assert client.base_url == "https://abcd1234.api.checkout.com"
    with pytest.raises(CheckoutArgumentError, match="sandbox key"):
        AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234", environment="production")


def test_environment_variables_fill_in_missing_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CKO_PREFIX", "wxyz9876")
    assert AsyncClient().base_url == "https://wxyz9876.api.sandbox.checkout.com"


def test_explicit_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", "not a key at all")
    monkeypatch.setenv("CKO_PREFIX", "wxyz9876")
    monkeypatch.setenv("CKO_BASE_URL", "https://proxy.example.com")
    client = AsyncClient(secret_key=SECRET_KEY, base_url="http://127.0.0.1:9000")
    assert client.base_url == "http://127.0.0.1:9000"


def test_oauth_prefix_comes_from_the_client_id() -> None:
    client = AsyncClient(client_id="cli_qwerty12abcdefgh", client_secret="s3cret")
    assert client.base_url == "https://qwerty12.api.sandbox.checkout.com"


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({}, "CKO_SECRET_KEY"),
        ({"secret_key": "pk_sbox_public_key_by_mistake"}, "secret_key"),
        ({"secret_key": SECRET_KEY}, "CKO_PREFIX"),
        ({"secret_key": SECRET_KEY, "prefix": "NOT-A-PREFIX"}, "prefix"),
        ({"client_id": "cli_abcdefgh1234"}, "CKO_CLIENT_SECRET"),
        ({"client_secret": "s3cret", "prefix": "abcd1234"}, "CKO_CLIENT_ID"),
        ({"client_id": "nope", "client_secret": "s3cret"}, "client_id"),
        (
            {"secret_key": SECRET_KEY, "client_id": "cli_abcdefgh1234", "client_secret": "x"},
            "not both",
        ),
        ({"secret_key": SECRET_KEY, "base_url": "http://api.example.com"}, "loopback"),
        ({"secret_key": SECRET_KEY, "base_url": "ftp://127.0.0.1"}, "http"),
        ({"secret_key": SECRET_KEY, "base_url": "https://h.example.com?x=1"}, "query"),
        ({"secret_key": SECRET_KEY, "prefix": "abcd1234", "environment": "live"}, "environment"),
        ({"secret_key": SECRET_KEY, "prefix": "abcd1234", "timeout": -1}, "timeout"),
        ({"secret_key": SECRET_KEY, "prefix": "abcd1234", "max_retries": -1}, "max_retries"),
        ({"secret_key": SECRET_KEY, "prefix": "abcd1234", "max_connections": 0}, "max_conn"),
        (
            {"client_id": "cli_abcdefgh1234", "client_secret": "x", "scopes": []},
            "scopes",
        ),
    ],
)
def test_bad_configuration_fails_at_construction_naming_what_to_set(
    kwargs: dict[str, object], names: str
) -> None:
    with pytest.raises(CheckoutArgumentError, match=names) as raised:
        AsyncClient(**kwargs)  # type: ignore[arg-type]
    assert isinstance(raised.value, ValueError)


def test_both_credentials_in_the_environment_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CKO_CLIENT_ID", "cli_abcdefgh1234")
    monkeypatch.setenv("CKO_CLIENT_SECRET", "s3cret")
    with pytest.raises(CheckoutArgumentError, match="unset one"):
        AsyncClient(prefix="abcd1234")


def test_https_and_loopback_http_base_urls_are_accepted() -> None:
    for url in ("https://proxy.example.com/base/", "http://localhost:1", "http://[::1]:2"):
        AsyncClient(secret_key=SECRET_KEY, base_url=url)


def test_secrets_never_appear_in_repr_or_errors() -> None:
    client = AsyncClient(secret_key=SECRET_KEY, prefix="abcd1234")
    assert SECRET_KEY not in repr(client)
    assert SECRET_KEY not in repr(client._config)
    assert SECRET_KEY not in str(client._config.credential)
    with pytest.raises(CheckoutArgumentError) as raised:
        AsyncClient(secret_key=SECRET_KEY + " ", prefix="abcd1234")
    assert SECRET_KEY not in str(raised.value)


def test_timeout_accepts_seconds_or_an_object() -> None:
    assert Timeout.of(5) == Timeout(total=5, connect=5, read=5, pool=5)
    assert Timeout.of(None) == Timeout()
    custom = Timeout(connect=1, read=2, total=3)
    assert Timeout.of(custom) is custom
    with pytest.raises(CheckoutArgumentError, match=r"timeout\.read"):
        Timeout(read=0)


def test_the_environment_completes_an_oauth_credential_given_in_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CKO_CLIENT_SECRET", "from-the-environment")
    monkeypatch.setenv("CKO_SECRET_KEY", SECRET_KEY)  # another kind: ignored, not a conflict
    client = AsyncClient(client_id="cli_qwerty12abcdefgh")
    assert "cli_qwerty12abcdefgh" in repr(client)
    monkeypatch.delenv("CKO_CLIENT_SECRET")
    monkeypatch.setenv("CKO_CLIENT_ID", "cli_qwerty12abcdefgh")
    assert AsyncClient(client_secret="s3cret").base_url.startswith("https://qwerty12.")
