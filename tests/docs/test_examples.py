"""The programs in examples/ run against the emulator as their docstrings tell users to run them."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from checkout_customers import Client
from checkout_customers.emulator import RunningEmulator
from checkout_customers.migration import migrate_sync, read_csv

from .test_doc_examples import user_environment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(
    arguments: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def account(checkout_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """The emulator as the account of the CKO_* variables of this process."""
    for name, value in user_environment(checkout_emulator).items():
        if name.startswith("CKO_"):
            monkeypatch.setenv(name, value)
    for name in ("CKO_CLIENT_ID", "CKO_CLIENT_SECRET", "CKO_PREFIX", "CKO_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    return checkout_emulator


async def test_the_aiohttp_app_serves_with_one_shared_client(account: RunningEmulator) -> None:
    app_module = load_example("aiohttp_app")
    app = app_module.make_app()
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        client = app[app_module.CHECKOUT]
        url = str(server.make_url("/customers"))
        async with http.post(url, json={"email": "bruce@wayne.com", "name": "Bruce"}) as answer:
            assert answer.status == 201
            customer_id = (await answer.json())["id"]
        async with http.get(f"{url}/bruce@wayne.com") as answer:
            assert answer.status == 200
            assert await answer.json() == {
                "id": customer_id,
                "email": "bruce@wayne.com",
                "name": "Bruce",
            }
        async with http.get(f"{url}/nobody@example.com") as answer:
            assert answer.status == 404
        async with http.post(url, json={"email": "not an email"}) as answer:
            assert answer.status == 400
            assert "email" in await answer.text()
        assert app[app_module.CHECKOUT] is client  # the same client served every request
    assert account.count_customers_with_email("bruce@wayne.com") == 1


@contextlib.asynccontextmanager
async def asgi_server(app: Any) -> AsyncIterator[Any]:
    """Run `app`'s lifespan as an ASGI server does; yield the app as requests should reach it.

    Starlette's own TestClient needs httpx on some versions and httpx2 on others; the ASGI
    lifespan protocol is the same everywhere.
    """
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    lifespan = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"

    async def with_state(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    try:
        yield with_state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


async def test_the_starlette_app_serves_through_its_lifespan(account: RunningEmulator) -> None:
    import httpx

    app_module = load_example("starlette_app")
    async with asgi_server(app_module.app) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            body = {"email": "selina@kyle.example", "name": "Selina"}
            created = await http.post("/customers", json=body)
            assert created.status_code == 201
            found = await http.get("/customers/selina@kyle.example")
            assert found.status_code == 200
            assert found.json() == {
                "id": created.json()["id"],
                "email": "selina@kyle.example",
                "name": "Selina",
            }
            assert (await http.get("/customers/nobody@example.com")).status_code == 404
            assert (await http.post("/customers", json={"email": ""})).status_code == 400
    assert account.count_customers_with_email("selina@kyle.example") == 1


def test_the_blocking_script_finds_or_creates(
    checkout_emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = user_environment(checkout_emulator)
    script = str(EXAMPLES / "blocking_script.py")
    first = run_example([script, "bruce@wayne.com", "Bruce Wayne"], tmp_path, env)
    assert first.returncode == 0, first.stderr
    customer_id, outcome = first.stdout.split(maxsplit=1)
    assert outcome.strip() == "created"
    again = run_example([script, "bruce@wayne.com"], tmp_path, env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == [customer_id, "already", "there"]
    assert checkout_emulator.count_customers_with_email("bruce@wayne.com") == 1

    no_account = {name: value for name, value in env.items() if not name.startswith("CKO_")}
    missing = run_example([script, "bruce@wayne.com"], tmp_path, no_account)
    assert missing.returncode == 2
    assert "CKO_SECRET_KEY" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_stripe_export_migrates_with_every_field_mapped(
    checkout_emulator: RunningEmulator, tmp_path: Path
) -> None:
    shutil.copy(EXAMPLES / "stripe_customers_export.csv", tmp_path)
    env = user_environment(checkout_emulator)
    arguments = [
        str(EXAMPLES / "migrate_stripe_export.py"),
        "stripe_customers_export.csv",
        "--report",
        "report.jsonl",
    ]
    result = run_example(arguments, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("created 6, existing 0, failed 0, invalid 0, duplicate 1")
    report = [json.loads(line) for line in (tmp_path / "report.jsonl").read_text().splitlines()]
    assert {
        (entry["line"], entry["status"]) for entry in report if entry["status"] != "created"
    } == {(7, "duplicate")}
    with (EXAMPLES / "stripe_customers_export.csv").open(encoding="utf-8", newline="") as stream:
        exported = list(csv.DictReader(stream))
    customers = {customer["email"]: customer for customer in checkout_emulator.customers()}
    assert set(customers) == {row["Email"].strip().lower() for row in exported}
    bruce = customers["bruce@wayne.com"]
    assert bruce["name"] == "Bruce Wayne"  # the first row of a repeated email wins
    assert bruce["phone"] == {"country_code": "+1", "number": "4155552671"}
    assert bruce["metadata"] == {
        "stripe_id": "cus_PkT9Lw2aXbR1cd",
        "crm_id": "CRM-1001",
        "plan": "gold",
    }
    assert customers["selina@kyle.example"]["phone"] == {
        "country_code": "+44",
        "number": "7700 900123",
    }
    assert customers["barbara.gordon@example.net"]["phone"]["country_code"] == "+33"
    harvey = customers["harvey@example.com"]
    assert "phone" not in harvey or harvey["phone"] is None
    assert harvey["metadata"]["stripe_phone"] == "4155550199"  # no country code: kept, not lost

    rerun = run_example(arguments, tmp_path, env)  # resumes: nothing created twice
    assert rerun.returncode == 0, rerun.stderr
    assert len(checkout_emulator.customers()) == 6


def _example_files() -> dict[str, int]:
    """The files of examples/ (not __pycache__, which importing an example may create)."""
    return {path.name: path.stat().st_mtime_ns for path in EXAMPLES.iterdir() if path.is_file()}


def test_make_customers_csv_help_writes_nothing(tmp_path: Path) -> None:
    before = _example_files()
    result = run_example(
        [str(EXAMPLES / "make_customers_csv.py"), "--help"], tmp_path, dict(os.environ)
    )
    assert result.returncode == 0
    assert "--rows N" in result.stdout
    assert "--out PATH" in result.stdout
    assert list(tmp_path.iterdir()) == []
    assert _example_files() == before


def test_make_customers_csv_writes_the_rows_asked_for(
    account: RunningEmulator, tmp_path: Path
) -> None:
    out = tmp_path / "sample.csv"
    script = str(EXAMPLES / "make_customers_csv.py")
    result = run_example([script, "--rows", "25", "--out", str(out)], tmp_path, dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["sample.csv"]  # no JSONL unless asked
    assert out.stat().st_mode & 0o777 == 0o600
    with Client() as cko:
        report = migrate_sync(cko, read_csv(out), journal=tmp_path / "journal.sqlite3")
    assert (report.created, report.invalid, report.duplicate) == (25, 0, 0)

    bad = run_example([script, "--rows", "0", "--out", str(out)], tmp_path, dict(os.environ))
    assert bad.returncode == 2
    assert "--rows" in bad.stderr


def test_make_customers_csv_reproduces_the_shipped_example_files(tmp_path: Path) -> None:
    arguments = ["--out", str(tmp_path / "c.csv"), "--jsonl", str(tmp_path / "c.jsonl")]
    script = str(EXAMPLES / "make_customers_csv.py")
    result = run_example([script, *arguments], tmp_path, dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c.csv").read_bytes() == (EXAMPLES / "customers.csv").read_bytes()
    assert (tmp_path / "c.jsonl").read_bytes() == (EXAMPLES / "customers.jsonl").read_bytes()
