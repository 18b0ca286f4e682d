"""Arbitrary JSON never makes the emulator fail: every body gets a 2xx or a 4xx answer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout_customers.emulator import RunningEmulator, emulator_thread

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(["email", "name", "phone", "metadata", "default", "instruments"])
BODIES = JSON | st.dictionaries(FIELDS, JSON, max_size=6)


def _send(emulator: RunningEmulator, method: str, path: str, body: Any) -> int:
    request = urllib.request.Request(
        emulator.base_url + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {emulator.secret_key}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def test_arbitrary_bodies_never_cause_a_server_error() -> None:
    with emulator_thread() as emulator:
        _send(emulator, "POST", "/customers", {"email": "target@example.com"})
        target = emulator.customers()[0]["id"]

        @given(body=BODIES, method=st.sampled_from(["POST", "PATCH"]))
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(body: Any, method: str) -> None:
            path = "/customers" if method == "POST" else f"/customers/{target}"
            assert _send(emulator, method, path, body) in {201, 204, 422}

        run()
