"""The command line speaks in its own terms: `CKO_*` variables and options, not Python keywords."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from checkout_customers import __version__
from checkout_customers.cli import build_parser, main


@pytest.fixture(autouse=True)
def no_account(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CKO_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("command", [["get", "bruce@wayne.com"], ["delete", "cus_abc"]])
def test_a_missing_credential_names_the_variables_and_the_emulator(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 2
    err = capsys.readouterr().err
    for variable in ("CKO_SECRET_KEY", "CKO_CLIENT_ID", "CKO_CLIENT_SECRET", "CKO_PREFIX"):
        assert variable in err
    assert "checkout-customers emulator" in err
    assert "secret_key=" not in err
    assert "client_id=" not in err


def test_migrate_without_a_credential_points_at_its_emulator_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = tmp_path / "customers.csv"
    source.write_text("email\nbruce@wayne.com\n", encoding="utf-8")
    assert main(["migrate", str(source)]) == 2
    err = capsys.readouterr().err
    assert "CKO_SECRET_KEY" in err
    assert "--emulator" in err
    assert "secret_key=" not in err


def test_a_key_without_an_account_address_names_the_prefix_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", "sk_sbox_m3fjgrdevfh3bpq3ugyyaxhvoqe")
    assert main(["get", "bruce@wayne.com"]) == 2
    err = capsys.readouterr().err
    assert "CKO_PREFIX" in err
    assert "prefix=" not in err


def test_a_malformed_value_is_named_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", "sk_sbox_m3fjgrdevfh3bpq3ugyyaxhvoqe")
    monkeypatch.setenv("CKO_BASE_URL", "http://api.example.com")
    assert main(["delete", "cus_abc"]) == 2
    err = capsys.readouterr().err
    assert "CKO_BASE_URL: plain http" in err
    assert "base_url" not in err


@pytest.mark.parametrize("command", ["get", "delete"])
def test_lookup_help_names_the_credential_variables(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for variable in ("CKO_SECRET_KEY", "CKO_CLIENT_ID", "CKO_PREFIX", "CKO_BASE_URL"):
        assert variable in out


def test_python_dash_m_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checkout_customers", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"checkout-customers {__version__}"
    usage = subprocess.run(
        [sys.executable, "-m", "checkout_customers", "get", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert usage.returncode == 0
    assert usage.stdout.startswith("usage: checkout-customers get")


def test_a_key_for_the_wrong_environment_names_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", "sk_m3fjgrdevfh3bpq3ugyyaxhvoqe")  # a production key
    monkeypatch.setenv("CKO_PREFIX", "abcd1234")
    monkeypatch.setenv("CKO_ENVIRONMENT", "sandbox")
    assert main(["get", "bruce@wayne.com"]) == 2
    err = capsys.readouterr().err
    assert "CKO_SECRET_KEY:" in err
    assert "set CKO_ENVIRONMENT" in err
    assert "sk_m3fj" not in err  # the key itself is never printed


def test_every_migrate_option_has_an_example_in_its_help() -> None:
    parser = build_parser("migrate")
    [migrate] = [
        action.choices["migrate"]
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    for action in migrate._actions:
        if action.help in (None, argparse.SUPPRESS) or "-h" in action.option_strings:
            continue
        assert "e.g." in str(action.help), f"{action.option_strings or action.dest}: no example"
