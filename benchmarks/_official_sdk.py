"""The official `checkout-sdk`, pointed at an emulator: the baseline the benchmarks compare to.

Its custom `Environment` plus the legacy-domain switch keep it from prefixing the emulator's
host with a merchant subdomain.
"""

from __future__ import annotations

import warnings
from typing import Any

from _emulator_process import SECRET_KEY

__all__ = ["official_api"]


def official_api(base_url: str) -> Any:
    """A `CheckoutSdk` API object talking to the emulator at `base_url` with `SECRET_KEY`."""
    from checkout_sdk.checkout_sdk import CheckoutSdk
    from checkout_sdk.environment import Environment

    base = base_url + "/"
    environment = Environment(
        base_uri=base,
        authorization_uri=base_url + "/connect/token",
        files_uri=base,
        transfers_uri=base,
        balances_uri=base,
        forward_uri=base,
        identity_uri=base,
        is_sandbox=True,
    )
    with warnings.catch_warnings():  # use_legacy_domain() is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return (
            CheckoutSdk.builder()
            .secret_key(SECRET_KEY)
            .environment(environment)
            .use_legacy_domain()
            .build()
        )
