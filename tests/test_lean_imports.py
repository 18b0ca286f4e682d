"""What importing the package and running the quick commands pull in: nothing they do not use.

Each check runs in a fresh interpreter, so that nothing imported by the test run itself counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from checkout_customers import Client
from checkout_customers.emulator import RunningEmulator

# Never needed to call the API: the bulk migration (and its SQLite journal), the emulator, and
# the command line.
HEAVY = ("checkout_customers.migration", "checkout_customers.emulator", "sqlite3")

_LOADED_AFTER = """
import json, sys
{code}
heavy = {heavy!r}
print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))
"""


def loaded_after(
    code: str, env: dict[str, str] | None = None, heavy: tuple[str, ...] = HEAVY
) -> tuple[str, list[str]]:
    """Run `code` in a fresh interpreter; what it printed and the heavy modules it loaded."""
    script = _LOADED_AFTER.format(code=code, heavy=heavy)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    printed, _, modules = done.stdout.rstrip("\n").rpartition("\n")
    return printed, json.loads(modules)


def test_importing_the_package_loads_neither_migration_nor_emulator_nor_cattrs() -> None:
    # cattrs (and the converter's generated code) is needed only for answers the fast parse
    # leaves to it, the sync facade only by blocking code: importing them would put the
    # package over 1.3x the import time of aiohttp.
    heavy = (*HEAVY, "cattrs", "checkout_customers._converter", "checkout_customers._portal")
    assert loaded_after("import checkout_customers", heavy=heavy) == ("", [])


@pytest.mark.parametrize("command", ["get", "delete"])
def test_the_get_and_delete_commands_load_neither_migration_nor_emulator(
    command: str, checkout_emulator: RunningEmulator, checkout_client: Client
) -> None:
    customer_id = checkout_client.customers.create(email="lean@example.com").id
    env = {key: value for key, value in os.environ.items() if not key.startswith("CKO_")}
    env["CKO_SECRET_KEY"] = checkout_emulator.secret_key
    env["CKO_BASE_URL"] = checkout_emulator.base_url
    code = (
        "from checkout_customers.cli import main\n"
        f"status = main([{command!r}, {customer_id!r}])\n"
        "print('exit status', status)"
    )
    printed, heavy = loaded_after(code, env)
    assert heavy == []
    # The command did its work, so the modules above are those of a real run.
    assert printed.endswith("exit status 0")
    if command == "get":
        assert customer_id in printed
    else:
        assert checkout_emulator.customers() == []
