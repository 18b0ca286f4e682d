"""Promises the project makes outside the code: the README's examples, the warnings policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checkout_customers.emulator import RunningEmulator

README = Path(__file__).resolve().parents[1] / "README.md"

pytest_plugins = ["pytester"]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_sync_example_runs_as_written(
    checkout_client: object, checkout_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    (example,) = [
        block
        for block in python_blocks(README.read_text())
        if block.startswith("from checkout_customers import Client\n")
    ]
    checkout_client.customers.create(email="bruce@wayne.com", name="Bruce Wayne")  # type: ignore[attr-defined]
    monkeypatch.setenv("CKO_SECRET_KEY", checkout_emulator.secret_key)
    monkeypatch.setenv("CKO_BASE_URL", checkout_emulator.base_url)
    namespace: dict[str, object] = {}
    exec(compile(example, str(README), "exec"), namespace)
    assert checkout_client.customers.get("bruce@wayne.com").name == "Batman"  # type: ignore[attr-defined]


def test_an_unclosed_client_fails_the_test_that_leaked_it(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n"
    )
    pytester.makepyfile(
        """
        import gc

        from checkout_customers import AsyncClient


        async def test_leaks_a_session(checkout_emulator):
            client = AsyncClient(
                secret_key=checkout_emulator.secret_key, base_url=checkout_emulator.base_url
            )
            await client.customers.create(email="leak@x.com")
            del client
            gc.collect()
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Unclosed client session*"])
