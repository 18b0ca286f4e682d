"""A sync `Client` used from a signal handler that interrupted one of its calls raises
`RuntimeError` at once instead of risking a wait on its own lock or loop.

Each scenario runs in a fresh interpreter (its own signal handlers, and a hang becomes a failed
test through the timeout) against an emulator answering slowly on a thread of its own.
"""

from __future__ import annotations

import signal
import textwrap

import pytest

from .conftest import run_python

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="needs POSIX signals (setitimer, SIGUSR1)"
)

SCENARIO = """
import os, signal, threading, time
from checkout_customers import Client
from checkout_customers.emulator import emulator_thread

with emulator_thread(latency_ms=500) as emulator:
    cko = Client(secret_key=emulator.secret_key, base_url=emulator.base_url)
    created = cko.customers.create(email="bruce@wayne.com")
    outcomes = []

    def handler(signum, frame):
        started = time.monotonic()
        try:
            ACTION
            outcomes.append(("returned", 0.0))
        except RuntimeError as error:
            outcomes.append((str(error), time.monotonic() - started))

    signal.signal(SIGNAL, handler)
    TRIGGER
    customer = cko.customers.get(created.id)  # interrupted while waiting for the answer
    assert customer.id == created.id, customer
    assert cko.customers.get(created.id).id == created.id  # and the client still works
    cko.close()
    print(outcomes)
"""


def run(action: str, signal_name: str, trigger: str) -> str:
    code = (
        textwrap.dedent(SCENARIO)
        .replace("ACTION", action)
        .replace("SIGNAL", f"signal.{signal_name}")
        .replace("TRIGGER", trigger)
    )
    result = run_python(code, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    "action",
    [
        "cko.customers.get(created.id)",
        "cko.customers.with_raw_response.get(created.id)",
        "cko.with_options(max_retries=0).customers.get(created.id)",
        "cko.close()",
    ],
)
def test_a_call_from_a_timer_signal_during_a_call_raises_at_once(action: str) -> None:
    output = run(action, "SIGALRM", "signal.setitimer(signal.ITIMER_REAL, 0.3)")

    assert "signal handler" in output
    assert "inside one of its calls" in output
    waited = float(output.rsplit(", ", 1)[1].rstrip(")]\n"))
    assert waited < 0.2  # at once, not after the interrupted call's answer


def test_a_signal_sent_by_another_thread_is_refused_the_same_way() -> None:
    trigger = "threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()"
    output = run("cko.customers.get(created.id)", "SIGUSR1", trigger)

    assert "inside one of its calls" in output


def test_reading_the_client_from_a_signal_handler_still_works() -> None:
    output = run("repr(cko); cko.base_url", "SIGALRM", "signal.setitimer(signal.ITIMER_REAL, 0.3)")

    assert "[('returned', 0.0)]" in output
