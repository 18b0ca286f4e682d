"""Contract: schemathesis drives the instruments and tokens endpoints from the official extract.

The spec is read from `shared/reference/` beside the repository, never copied into it. `POST
/tokens` takes a public key and the instruments endpoints a secret key, so schemathesis runs
twice, once per credential, each on the operations that credential may call. A second test
calls every operation with real data (a token, stored instruments of both types) and validates
each answer against the spec's schemas, which random data seldom reaches; there the schema the
`type` discriminator names is checked explicitly (schemathesis checks only the base schema's
`type` and `id`, the discriminator being no JSON Schema keyword).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
import yaml

from checkout_customers.emulator import TEST_BANK_ACCOUNT_GB_ID, TEST_CARD_VISA_ID, emulator_thread

from .._shared_spec import INSTRUMENTS_SPEC, needs_instruments_spec
from ._schemathesis_cli import PHASES, assert_clean, run_schemathesis

# Skips on a clone without `shared/` beside it, naming the file; fails in this project's CI.
pytestmark = needs_instruments_spec


def _conforms(instance: Any, schema_name: str) -> None:
    """Validate against one of the spec's component schemas (OpenAPI 3.0: JSON Schema 4)."""
    spec = yaml.safe_load(INSTRUMENTS_SPEC.read_text())
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    errors = [
        error.message for error in jsonschema_rs.Draft4Validator(schema).iter_errors(instance)
    ]
    assert errors == [], f"{schema_name}: {errors}"


def test_the_instruments_spec_is_beside_the_repository() -> None:
    assert INSTRUMENTS_SPEC.is_file(), f"the contract test needs {INSTRUMENTS_SPEC}"


@pytest.mark.slow
def test_schemathesis_finds_no_failure_on_instruments_or_tokens(tmp_path: Path) -> None:
    """The `schemathesis run` a user would type, once per credential.

    As for customers, every check runs except `positive_data_acceptance`: what the spec keeps
    in prose (a token must exist and be unused, a card unexpired, a customer id known) makes
    a body its schemas allow rightly get 422, which the spec documents.
    """
    with emulator_thread() as emulator:
        url = emulator.base_url
        instruments = run_schemathesis(
            INSTRUMENTS_SPEC,
            tmp_path,
            url,
            emulator.secret_key,
            "--exclude-path",
            "/tokens",
            name="instruments",
        )
        tokens = run_schemathesis(
            INSTRUMENTS_SPEC,
            tmp_path,
            url,
            emulator.public_key,
            "--include-path",
            "/tokens",
            name="tokens",
        )

    assert_clean(instruments, 4)
    assert instruments["phases"] == {
        phase: {"status": "success", "skip_reason": None} for phase in PHASES
    }
    assert_clean(tokens, 1)
    # One operation has no stateful links to follow; the other three phases all ran.
    assert {phase: tokens["phases"][phase]["status"] for phase in PHASES} == {
        "examples": "success",
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "skip",
    }


def test_every_operation_answers_as_the_spec_says_with_real_data() -> None:
    schema = schemathesis.openapi.from_path(INSTRUMENTS_SPEC)
    with emulator_thread() as emulator:
        secret = {"Authorization": f"Bearer {emulator.secret_key}"}
        public = {"Authorization": f"Bearer {emulator.public_key}"}

        def call(path: str, method: str, headers: dict[str, str], **case: Any) -> Any:
            operation = schema[path][method]
            if "body" in case:
                case["media_type"] = "application/json"
            made = operation.Case(**case)
            return made.call_and_validate(base_url=emulator.base_url, headers=headers)

        tokenised = call(
            "/tokens",
            "POST",
            public,
            body={
                "type": "card",
                "number": "4543474002249996",
                "expiry_month": 6,
                "expiry_year": 2040,
                "name": "Bruce Wayne",
                "cvv": "956",
                "billing_address": {"address_line1": "1007 Mountain Drive", "country": "US"},
                "phone": {"country_code": "+1", "number": "415 555 2671"},
            },
        ).json()
        _conforms(tokenised, "01_CardTokenResponse")
        token = tokenised["token"]
        card = call(
            "/instruments",
            "POST",
            secret,
            body={
                "type": "token",
                "token": token,
                "customer": {"email": "contract@example.com", "name": "Bruce", "default": True},
            },
        ).json()
        _conforms(card, "StoreTokenInstrumentResponse")
        bank = call(
            "/instruments",
            "POST",
            secret,
            body={
                "type": "bank_account",
                "currency": "GBP",
                "country": "GB",
                "account_type": "current",
                "iban": "GB33BUKB20201555555555",
                "account_holder": {"type": "individual", "date_of_birth": "1986-01-01"},
                "customer": {"id": card["customer"]["id"]},
            },
        ).json()
        _conforms(bank, "StoreBankAccountInstrumentResponse")

        for instrument_id, shape in (
            (card["id"], "RetrieveCardInstrumentResponse"),
            (bank["id"], "RetrieveBankAccountInstrumentResponse"),
            (TEST_CARD_VISA_ID, "RetrieveCardInstrumentResponse"),
            (TEST_BANK_ACCOUNT_GB_ID, "RetrieveBankAccountInstrumentResponse"),
        ):
            got = call("/instruments/{id}", "GET", secret, path_parameters={"id": instrument_id})
            assert got.json()["id"] == instrument_id
            _conforms(got.json(), shape)
        updated = call(
            "/instruments/{id}",
            "PATCH",
            secret,
            path_parameters={"id": card["id"]},
            body={"expiry_year": 2041, "customer": {"default": True}},
        )
        assert updated.json() == {"type": "card", "fingerprint": card["fingerprint"]}
        _conforms(updated.json(), "UpdateCardInstrumentResponse")
        deleted = call("/instruments/{id}", "DELETE", secret, path_parameters={"id": bank["id"]})
        assert deleted.status_code == 204
