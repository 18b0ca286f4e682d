"""The names users import from `checkout_customers` are exactly the documented ones."""

from __future__ import annotations

import checkout_customers

CONTRACT_NAMES = {
    # shared/design/contract.md
    "AsyncClient", "Client", "Phone", "Customer", "CardInstrument", "BankAccountInstrument",
    "UnknownInstrument", "AccountHolder", "Address",
    "CheckoutError", "CheckoutArgumentError", "CheckoutApiError", "AuthenticationError",
    "PermissionDeniedError", "NotFoundError", "ConflictError", "UnprocessableEntityError",
    "RateLimitError", "ServerError", "CheckoutConnectionError", "CheckoutTimeoutError",
}  # fmt: skip
ADDED_NAMES = {
    "AccountHolderIdentification", "ApiResult", "BankDetails", "CreatedCustomer", "Instrument",
    "NOT_GIVEN", "NotGiven", "Timeout", "__version__",
    "CustomerLink", "GetOrCreateResult", "NetworkToken", "RawResponse",  # issue 11
    "InstrumentCustomer", "BankAccount", "UpdatedInstrument",  # issue 15
}  # fmt: skip


def test_all_holds_exactly_the_documented_public_names() -> None:
    assert set(checkout_customers.__all__) == CONTRACT_NAMES | ADDED_NAMES
    assert len(checkout_customers.__all__) == len(set(checkout_customers.__all__))


def test_every_exported_name_resolves() -> None:
    for name in checkout_customers.__all__:
        assert getattr(checkout_customers, name) is not None


def test_argument_errors_are_value_errors_and_everything_is_a_checkout_error() -> None:
    assert issubclass(checkout_customers.CheckoutArgumentError, ValueError)
    assert issubclass(checkout_customers.CheckoutTimeoutError,
                      checkout_customers.CheckoutConnectionError)  # fmt: skip
    for name in checkout_customers.__all__:
        value = getattr(checkout_customers, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, checkout_customers.CheckoutError)
