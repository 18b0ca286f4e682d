"""Contract: schemathesis drives the running emulator from the official OpenAPI extract.

The spec is read from `shared/reference/` beside the repository, never copied into it: these
tests skip where it is missing (a user's clone) and fail there in CI (`tests/_shared_spec.py`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis

from checkout_customers.emulator import (
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_AMEX_ID,
    TEST_CARD_VISA_ID,
    emulator_thread,
)

from .._shared_spec import OPENAPI_SPEC, needs_openapi_spec
from ._schemathesis_cli import PHASES, assert_clean, run_schemathesis

pytestmark = needs_openapi_spec


def test_the_reference_spec_is_beside_the_repository() -> None:
    assert OPENAPI_SPEC.is_file(), f"the contract test needs {OPENAPI_SPEC}"


@pytest.mark.slow
def test_schemathesis_finds_no_failure_in_any_phase(tmp_path: Path) -> None:
    """The `schemathesis run` a user would type, against a running emulator.

    The reference's limits on metadata (10 scalar pairs), on emails and on known instrument ids
    live in the spec's prose, not its schemas: see `_schemathesis_cli` for the check left out.
    """
    with emulator_thread() as emulator:
        summary = run_schemathesis(
            OPENAPI_SPEC, tmp_path, emulator.base_url, emulator.secret_key, name="customers"
        )

    assert_clean(summary, 4)
    assert summary["phases"] == {
        phase: {"status": "success", "skip_reason": None} for phase in PHASES
    }


def test_a_full_customer_with_both_instrument_types_matches_the_spec() -> None:
    schema = schemathesis.openapi.from_path(OPENAPI_SPEC)
    with emulator_thread() as emulator:
        headers = {"Authorization": f"Bearer {emulator.secret_key}"}
        create = schema["/customers"]["POST"].Case(
            body={
                "email": "full@example.com",
                "name": "Full Customer",
                "phone": {"country_code": "+44", "number": "20 7946 0958"},
                "metadata": {"tier": "gold", "visits": 3, "vip": True},
                "default": TEST_CARD_VISA_ID,
                "instruments": [TEST_BANK_ACCOUNT_GB_ID, TEST_CARD_AMEX_ID],
            },
            media_type="application/json",
        )
        customer_id = create.call_and_validate(base_url=emulator.base_url, headers=headers).json()[
            "id"
        ]
        get = schema["/customers/{identifier}"]["GET"]
        for identifier in (customer_id, "full@example.com"):
            case = get.Case(path_parameters={"identifier": identifier})
            response = case.call_and_validate(base_url=emulator.base_url, headers=headers)
            assert len(response.json()["instruments"]) == 3
