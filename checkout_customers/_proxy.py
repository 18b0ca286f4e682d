"""Which HTTP proxy, if any, a request goes through: `proxy=` or the standard variables.

The rules are those of requests and httpx: an explicit `proxy=` URL is used for every request;
otherwise, unless `trust_env=False`, `https_proxy` (for https URLs) or `http_proxy` (for http
URLs), else `all_proxy`, chosen from the environment (lower-case names win over upper-case),
unless the host matches `no_proxy` (comma-separated host names or domain suffixes, `*` for all;
matched as `urllib.request.proxy_bypass_environment` does). As in the standard library,
`HTTP_PROXY` is ignored when `REQUEST_METHOD` is set (a CGI process, where any client can set
it: "httpoxy"). Proxies are `http://` or `https://` URLs, with `user:password@` when the proxy
wants credentials; they are never shown in messages.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

import attrs
from yarl import URL

from ._errors import CheckoutArgumentError

__all__ = ["ProxyChoice", "proxy_for", "validate_proxy"]

_SCHEMES = ("http", "https")


@attrs.frozen
class ProxyChoice:
    """What chooses the proxy: an explicit URL, else the environment when `trust_env`."""

    explicit: URL | None = attrs.field(repr=False)
    trust_env: bool
    env: Mapping[str, str] = attrs.field(repr=False, eq=False)


def validate_proxy(raw: object, source: str) -> URL:
    """`raw` as a proxy URL, or `CheckoutArgumentError` naming `source` (never the value)."""
    if not isinstance(raw, str):
        raise CheckoutArgumentError(
            f"{source}: must be a proxy URL such as 'http://proxy:3128', got {type(raw).__name__}",
            field="proxy",
        )
    try:
        url = URL(raw.strip())
    except (TypeError, ValueError):
        url = None
    if url is None or url.scheme not in _SCHEMES or not url.host:
        # The value is not echoed: it may carry the proxy's password.
        raise CheckoutArgumentError(
            f"{source}: must be an http:// or https:// proxy URL such as "
            "'http://user:password@proxy:3128' (SOCKS proxies are not supported)",
            field="proxy",
        )
    return url


def _variable(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    for key in (name.lower(), name.upper()):
        if key == "HTTP_PROXY" and "REQUEST_METHOD" in env:
            continue  # httpoxy: in CGI, HTTP_PROXY comes from the client's Proxy header
        value = env.get(key, "").strip()
        if value:
            return key, value
    return None


def proxy_for(url: URL, choice: ProxyChoice) -> URL | None:
    """The proxy to send requests for `url` through, or None for a direct connection."""
    if choice.explicit is not None:
        return choice.explicit
    if not choice.trust_env:
        return None
    found = _variable(choice.env, f"{url.scheme}_proxy") or _variable(choice.env, "all_proxy")
    if found is None:
        return None
    no_proxy = _variable(choice.env, "no_proxy")
    if no_proxy is not None:
        host = f"{url.host}:{url.port}" if url.port is not None else str(url.host)
        if urllib.request.proxy_bypass_environment(host, {"no": no_proxy[1]}):  # type: ignore[attr-defined]
            return None
    name, value = found
    return validate_proxy(value, f"the {name} environment variable (or pass trust_env=False)")
