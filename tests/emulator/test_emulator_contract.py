"""Contract: schemathesis drives the running emulator from the official OpenAPI extract.

The spec is read from `shared/reference/` beside the repository, never copied into it: these
tests skip where it is missing (a user's clone) and fail there in CI (`tests/_shared_spec.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck

from checkout_customers.emulator import (
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_AMEX_ID,
    TEST_CARD_VISA_ID,
    emulator_thread,
)

from .._shared_spec import OPENAPI_SPEC, needs_openapi_spec

pytestmark = needs_openapi_spec

MAX_EXAMPLES = 12


def test_the_reference_spec_is_beside_the_repository() -> None:
    assert OPENAPI_SPEC.is_file(), f"the contract test needs {OPENAPI_SPEC}"


def test_no_response_of_the_emulator_violates_the_spec() -> None:
    schema = schemathesis.openapi.from_path(OPENAPI_SPEC)
    checked: list[str] = []
    with emulator_thread() as emulator:
        headers = {"Authorization": f"Bearer {emulator.secret_key}"}
        results: list[Any] = list(schema.get_all_operations())
        for result in results:
            operation = result.ok()
            run = _property(operation, emulator.base_url, headers)
            run()
            checked.append(f"{operation.method.upper()} {operation.path}")

    assert sorted(checked) == [
        "DELETE /customers/{identifier}",
        "GET /customers/{identifier}",
        "PATCH /customers/{identifier}",
        "POST /customers",
    ]


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


def _property(operation: Any, base_url: str, headers: dict[str, str]) -> Callable[[], None]:
    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            base_url=base_url,
            headers=headers,
            # The reference's limits on metadata (10 scalar pairs), on emails and on known
            # instrument ids live in the spec's prose, not its schemas, so a body the schema
            # allows may rightly get 422. Every other check runs.
            excluded_checks=[schemathesis.checks.positive_data_acceptance],
        )

    return run
