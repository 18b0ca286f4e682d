"""Fixtures for the sync facade's tests: an emulator on its own thread and a `Client` on it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from checkout_customers import Client
from checkout_customers.emulator import RunningEmulator, emulator_thread

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with emulator_thread() as running:
        yield running


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[Client]:
    with Client(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
        yield cko


def run_python(code: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with warnings as errors; return its outcome."""
    return subprocess.run(
        [sys.executable, *python_flags(), "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONDEVMODE": "1"},
        check=False,
    )


def python_flags() -> list[str]:
    # Python 3.12+ warns about fork() in a process with threads; that is the point of the test.
    return ["-W", "error", "-W", "ignore:This process:DeprecationWarning"]
