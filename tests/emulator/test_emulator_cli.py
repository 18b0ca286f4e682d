"""`checkout-customers emulator` as a user runs it: a real process, signals, exit statuses."""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from checkout_customers.cli import main
from checkout_customers.cli._emulator_command import _settings_fields, register
from checkout_customers.emulator import DEFAULT_PUBLIC_KEY, DEFAULT_SECRET_KEY, EmulatorSettings

START_TIMEOUT_S = 10.0
_LAUNCH = "import sys; from checkout_customers.cli import main; sys.exit(main())"


def _start(*args: str) -> tuple[subprocess.Popen[str], str, float]:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # returns at the first line, or at exit
    return process, line, time.monotonic() - started


def _stop(process: subprocess.Popen[str], signum: int) -> tuple[int, str, str]:
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=START_TIMEOUT_S)
    return process.returncode, stdout, stderr


def _request(base_url: str, method: str, path: str, body: object = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        base_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {DEFAULT_SECRET_KEY}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_prints_one_listening_line_promptly_and_stops_cleanly_on_signal(
    tmp_path: Path, signum: int
) -> None:
    process, line, elapsed = _start("--port", "0", "--db", str(tmp_path / "state.sqlite3"))
    try:
        assert line.startswith("listening on http://127.0.0.1:"), line
        base_url = line.split()[-1]
        status, _ = _request(base_url, "POST", "/customers", {"email": "cli@example.com"})
        assert status == 201
    finally:
        returncode, stdout, stderr = _stop(process, signum)

    assert returncode == 0, stderr
    assert stdout == ""  # exactly one line in all
    assert DEFAULT_SECRET_KEY not in line + stderr
    print(f"emulator listening {elapsed:.2f}s after launch")
    assert elapsed < 5.0  # target: under 1 s; the margin absorbs a loaded CI machine


def test_state_in_db_survives_a_process_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite3")
    process, line, _ = _start("--db", db)
    try:
        _, raw = _request(line.split()[-1], "POST", "/customers", {"email": "kept@example.com"})
    finally:
        assert _stop(process, signal.SIGINT)[0] == 0
    customer_id = json.loads(raw)["id"]

    process, line, _ = _start("--db", db)
    try:
        status, raw = _request(line.split()[-1], "GET", "/customers/kept%40example.com")
    finally:
        assert _stop(process, signal.SIGINT)[0] == 0

    assert (status, json.loads(raw)["id"]) == (200, customer_id)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "port must be 0 to 65535"),
        (["--fault-500", "1.5"], "between 0 and 1"),
        (["--read-rate", "-1"], "positive"),
        (["--latency-ms", "soon"], "not a number"),
        (["--fault-500", "0.6", "--fault-drop", "0.6"], "add up to"),
        (["--oauth-client", "no-secret"], "CLIENT_ID:CLIENT_SECRET"),
        (["--host", "0.0.0.0"], "--allow-non-loopback"),
        (["--db", "/nonexistent-folder/emulator.sqlite3"], "unable to open"),
        (["--db", str(Path(__file__))], "not a database"),
        (["--reject-duplicate-emails", "404"], "expected 409 or 422"),
        (["--retry-after", "-1"], "must be zero or more"),
        (["--journal-size", "many"], "not a whole number"),
        (["--unknown-customer-status", "500"], "invalid choice"),
        (["--customer-id-email-conflict", "merge"], "invalid choice"),
        (["--public-key", "pk sbox"], "without spaces"),
        (["--public-key", DEFAULT_SECRET_KEY], "both a public key and a secret key"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    try:
        status = main(["emulator", *args])
    except SystemExit as exc:  # argparse's own usage errors
        status = int(exc.code or 0)

    assert status == 2
    assert message in capsys.readouterr().err


def test_a_non_loopback_host_needs_the_flag_and_warns(capsys: pytest.CaptureFixture[str]) -> None:
    process, line, _ = _start("--host", "0.0.0.0", "--allow-non-loopback")
    returncode, _, stderr = _stop(process, signal.SIGINT)

    assert line.startswith("listening on http://0.0.0.0:")
    assert returncode == 0
    assert "warning" in stderr


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], {"retry_after": None, "reject_duplicate_emails": None, "journal_size": 1000}),
        (
            ["--retry-after", "1.5", "--reject-duplicate-emails", "--journal-size", "0"],
            {"retry_after": 1.5, "reject_duplicate_emails": 409, "journal_size": 0},
        ),
        (["--reject-duplicate-emails", "422"], {"reject_duplicate_emails": 422}),
        (["--reject-duplicate-emails", "409"], {"reject_duplicate_emails": 409}),
        (
            [],
            {
                "public_keys": (DEFAULT_PUBLIC_KEY,),
                "card_token_ttl_s": 900.0,
                "instrument_customer_required": False,
                "unknown_customer_status": 422,
                "customer_id_email_conflict": "reject",
            },
        ),
        (
            [
                "--public-key",
                "pk_sbox_one",
                "--public-key",
                "pk_sbox_two",
                "--card-token-ttl",
                "0.5",
                "--instrument-customer-required",
                "--unknown-customer-status",
                "404",
                "--customer-id-email-conflict",
                "id",
            ],
            {
                "public_keys": ("pk_sbox_one", "pk_sbox_two"),
                "card_token_ttl_s": 0.5,
                "instrument_customer_required": True,
                "unknown_customer_status": 404,
                "customer_id_email_conflict": "id",
            },
        ),
    ],
)
def test_control_flags_become_settings(flags: list[str], expected: dict[str, object]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["emulator", *flags])

    settings = EmulatorSettings(**_settings_fields(args))

    assert {name: getattr(settings, name) for name in expected} == expected


def test_the_emulator_process_sends_retry_after_with_its_429s() -> None:
    process, line, _ = _start("--write-rate", "0.01", "--retry-after", "7")
    try:
        base_url = line.split()[-1]
        assert _request(base_url, "POST", "/customers", {"email": "d@example.com"})[0] == 201
        with pytest.raises(urllib.error.HTTPError) as limited:
            _request(base_url, "POST", "/customers", {"email": "e@example.com"})
    finally:
        assert _stop(process, signal.SIGINT)[0] == 0

    assert limited.value.code == 429
    assert limited.value.headers["Retry-After"] == "7"
    limited.value.close()


def test_a_request_that_is_not_http_gets_400_and_one_line_on_stderr_not_a_traceback() -> None:
    process, line, _ = _start()
    try:
        host, port = line.split()[-1].removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            connection.sendall(b"GET /customers/x HTTP/1.1\r\nHost: a\r\nX-Probe: \x00\r\n\r\n")
            answer = connection.recv(1024)
    finally:
        returncode, _, stderr = _stop(process, signal.SIGINT)

    assert answer.split(b" ", 2)[1] == b"400"
    assert returncode == 0
    assert "Traceback" not in stderr
    assert "refused a malformed request" in stderr
