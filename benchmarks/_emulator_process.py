"""`checkout-customers emulator` in a child process, so that it has a core of its own.

with emulator_process("--write-rate", "100") as base_url:
    ...  # talk to base_url with SECRET_KEY
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["LAUNCH", "SECRET_KEY", "emulator_process"]

# The official checkout-sdk insists on this shape: `sk_sbox_` + 27 base32 characters.
SECRET_KEY = "sk_sbox_" + "m" * 26 + "q"
# Runs the command line with this interpreter, whatever is on PATH.
LAUNCH = "import sys; from checkout_customers.cli import main; sys.exit(main())"


@contextlib.contextmanager
def emulator_process(*options: str) -> Iterator[str]:
    """Start the emulator with `options` on a free port; yield its base URL; stop it."""
    command = [sys.executable, "-c", LAUNCH, "emulator", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--secret-key", SECRET_KEY, *options], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        process.wait(timeout=10)
