"""The sync `Client` across process events, each in a fresh interpreter run with `-W error`:
fork, Ctrl-C during a slow request, and exit without `close()`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from checkout_customers.emulator import RunningEmulator, emulator_thread
from tests.sync.conftest import REPO_ROOT, python_flags, run_python

CONNECT = """
import sys, threading
from checkout_customers import Client
base_url, secret_key = sys.argv[1:3]
def loop_threads():
    return [t for t in threading.enumerate() if t.name == "checkout-customers-loop"]
"""


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[RunningEmulator]:
    with emulator_thread(latency_ms=3000) as running:
        yield running


def slow_emulator_args(emulator: RunningEmulator) -> list[str]:
    return [emulator.base_url, emulator.secret_key]


def run(emulator: RunningEmulator, code: str) -> subprocess.CompletedProcess[str]:
    result = run_python(CONNECT + code, emulator.base_url, emulator.secret_key)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result


def test_exiting_without_close_leaves_no_warning(emulator: RunningEmulator) -> None:
    result = run(
        emulator,
        """
# By host name, so that the loop's resolver threads run too.
cko = Client(secret_key=secret_key, base_url=base_url.replace("127.0.0.1", "localhost"))
print(cko.customers.create(email="exit@wayne.com").id)
""",
    )
    assert result.stdout.startswith("cus_")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_loop_session_and_client(emulator: RunningEmulator) -> None:
    result = run(
        emulator,
        """
import os
cko = Client(secret_key=secret_key, base_url=base_url)
created = cko.customers.create(email="fork@wayne.com")
parent = (cko._portal._loop, cko._portal.client, cko._portal.client._transport._session)
pid = os.fork()
if pid == 0:
    code = 1
    try:
        assert cko.customers.get(created.id).email == "fork@wayne.com"
        child = (cko._portal._loop, cko._portal.client, cko._portal.client._transport._session)
        assert all(mine is not theirs for mine, theirs in zip(child, parent))
        assert loop_threads() == []  # the child's lone caller drives its own fresh loop
        cko.close()
        assert loop_threads() == []
        code = 0
    finally:
        os._exit(code)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
assert cko.customers.get(created.id).email == "fork@wayne.com"
assert not parent[2].closed
print("ok")
""",
    )
    assert result.stdout == "ok\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_exiting_without_close_leaves_no_warning(
    emulator: RunningEmulator,
) -> None:
    run(
        emulator,
        """
import os
cko = Client(secret_key=secret_key, base_url=base_url)
cko.customers.create(email="fork2@wayne.com")
if os.fork() == 0:
    cko.customers.get("fork2@wayne.com")
    sys.exit(0)
_, status = os.wait()
assert os.waitstatus_to_exitcode(status) == 0
""",
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_cancels_a_slow_request_promptly(slow_emulator: RunningEmulator) -> None:
    code = """
import asyncio, time
cko = Client(secret_key=secret_key, base_url=base_url, max_retries=0)
print("calling", flush=True)
started = time.monotonic()
try:
    cko.customers.get("cus_y3oqhf46pyzuxjbcn2giaqnb44")
except KeyboardInterrupt:
    async def other_tasks(_):
        return len(asyncio.all_tasks()) - 1
    print("interrupted", round(time.monotonic() - started, 1), cko._portal.call(other_tasks))
cko.close()
assert loop_threads() == []
"""
    process = subprocess.Popen(
        [sys.executable, *python_flags(), "-c", CONNECT + code, *slow_emulator_args(slow_emulator)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "calling\n"
        time.sleep(0.5)
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
        process.wait()
    assert time.monotonic() - interrupted_at < 2.0
    assert process.returncode == 0, err
    assert err == ""
    # Interrupted well before the 3 s latency, with nothing left running on the loop.
    seconds, pending = out.split()[1:]
    assert float(seconds) < 2.0
    assert pending == "0"
