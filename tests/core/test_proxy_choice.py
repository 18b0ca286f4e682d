"""Which proxy the configuration picks for the API and the token endpoint, from which variable."""

from __future__ import annotations

from typing import Any

import pytest

from checkout_customers import CheckoutArgumentError
from checkout_customers._config import ClientConfig, resolve_config

from .conftest import SECRET_KEY


def config(env: dict[str, str], **options: Any) -> ClientConfig:
    return resolve_config(secret_key=SECRET_KEY, prefix="abcd1234", env=env, **options)


def test_an_https_api_uses_https_proxy_not_http_proxy() -> None:
    chosen = config({"HTTPS_PROXY": "http://secure:3128", "HTTP_PROXY": "http://plain:3128"})
    assert str(chosen.api_proxy) == "http://secure:3128"
    assert str(chosen.token_proxy) == "http://secure:3128"


def test_no_proxy_suffixes_match_subdomains_of_the_api() -> None:
    chosen = config({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "sandbox.checkout.com"})
    assert chosen.api_proxy is None


def test_http_proxy_is_ignored_in_a_cgi_process() -> None:
    env = {"HTTP_PROXY": "http://attacker:3128", "REQUEST_METHOD": "GET"}
    chosen = config(env, base_url="http://127.0.0.1:8080")
    assert chosen.api_proxy is None


def test_nothing_is_proxied_without_settings_or_with_trust_env_false() -> None:
    assert config({}).api_proxy is None
    assert config({"HTTPS_PROXY": "http://p:3128"}, trust_env=False).api_proxy is None


@pytest.mark.parametrize("value", ["ftp://p:21", "not a url", "socks5://p:1080", ""])
def test_an_unusable_proxy_argument_is_refused(value: str) -> None:
    with pytest.raises(CheckoutArgumentError, match="proxy") as raised:
        config({}, proxy=value)
    assert raised.value.field == "proxy"


@pytest.mark.parametrize("value", [0, 1023, True, 2.5, "4MiB"])
def test_max_response_bytes_must_be_a_sensible_integer(value: object) -> None:
    with pytest.raises(CheckoutArgumentError, match="max_response_bytes"):
        config({}, max_response_bytes=value)
