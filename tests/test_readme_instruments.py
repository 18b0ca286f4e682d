"""The README's instrument flows (sign-up, replace a card, remove a card) run as written,
against an emulator, with the credentials in the environment as the README tells users."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checkout_customers import Client
from checkout_customers.emulator import RunningEmulator

README = Path(__file__).resolve().parents[1] / "README.md"
FLOWS = {
    "sign-up": "bruce@wayne.com",
    "replace": "selina@kyle.com",
    "remove": "lucius@fox.example",
}


def instrument_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return [block for block in blocks if "cko.instruments" in block]


def test_the_readme_shows_the_three_flows() -> None:
    blocks = instrument_blocks()
    assert len(blocks) == 3
    for block, email in zip(blocks, FLOWS.values(), strict=True):
        assert email in block


@pytest.mark.parametrize(("index", "email"), list(enumerate(FLOWS.values())), ids=list(FLOWS))
def test_each_flow_runs_as_written_twice(
    index: int,
    email: str,
    checkout_client: Client,
    checkout_emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CKO_SECRET_KEY", checkout_emulator.secret_key)
    monkeypatch.setenv("CKO_BASE_URL", checkout_emulator.base_url)
    monkeypatch.delenv("CKO_PUBLIC_KEY", raising=False)
    block = instrument_blocks()[index]

    for _ in range(2):  # a second run (an existing customer) works too
        exec(compile(block, str(README), "exec"), {"__name__": "__main__"})

    customer = checkout_client.customers.get(email)
    assert customer.default is not None
    assert customer.default in [instrument.id for instrument in customer.instruments]
    assert email in capsys.readouterr().out
