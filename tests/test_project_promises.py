"""Promises the project makes outside the code: the warnings policy, the licence, the Pythons.

The examples of README.md and docs/ are run by tests/docs/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]

pytest_plugins = ["pytester"]


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


def test_the_licence_file_is_the_licence_pyproject_names() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "MIT"
    assert (REPO_ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


def test_the_classifiers_name_the_pythons_nox_tests() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    prefix = "Programming Language :: Python :: 3."
    claimed = [
        "3." + item.removeprefix(prefix)
        for item in pyproject["project"]["classifiers"]
        if item.startswith(prefix)
    ]
    noxfile = (REPO_ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert f"PYTHONS = {claimed!r}".replace("'", '"') in noxfile
    assert pyproject["project"]["requires-python"] == f">={claimed[0]}"
