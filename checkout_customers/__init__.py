"""checkout-customers: the Checkout.com Customers API for Python, async first.

    from checkout_customers import AsyncClient, Client, Phone

    async with AsyncClient(secret_key="sk_sbox_...", prefix="abcd1234") as cko:
        created = await cko.customers.create(email="bruce@wayne.com", name="Bruce Wayne")
        customer = await cko.customers.get(created.id)

See the README for configuration, errors, the sync `Client` and bulk migration.
"""

from typing import TYPE_CHECKING

from ._client import AsyncClient
from ._config import Timeout
from ._errors import (
    AuthenticationError,
    CheckoutApiError,
    CheckoutArgumentError,
    CheckoutConnectionError,
    CheckoutError,
    CheckoutTimeoutError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from ._models import (
    AccountHolder,
    AccountHolderIdentification,
    Address,
    ApiResult,
    BankAccount,
    BankAccountInstrument,
    BankDetails,
    CardInstrument,
    CreatedCustomer,
    Customer,
    CustomerLink,
    GetOrCreateResult,
    Instrument,
    InstrumentCustomer,
    NetworkToken,
    Phone,
    UnknownInstrument,
    UpdatedInstrument,
)
from ._raw_response import RawResponse
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__

if TYPE_CHECKING:
    from ._sync_client import Client

__all__ = [
    "NOT_GIVEN",
    "AccountHolder",
    "AccountHolderIdentification",
    "Address",
    "ApiResult",
    "AsyncClient",
    "AuthenticationError",
    "BankAccount",
    "BankAccountInstrument",
    "BankDetails",
    "CardInstrument",
    "CheckoutApiError",
    "CheckoutArgumentError",
    "CheckoutConnectionError",
    "CheckoutError",
    "CheckoutTimeoutError",
    "Client",
    "ConflictError",
    "CreatedCustomer",
    "Customer",
    "CustomerLink",
    "GetOrCreateResult",
    "Instrument",
    "InstrumentCustomer",
    "NetworkToken",
    "NotFoundError",
    "NotGiven",
    "PermissionDeniedError",
    "Phone",
    "RateLimitError",
    "RawResponse",
    "ServerError",
    "Timeout",
    "UnknownInstrument",
    "UnprocessableEntityError",
    "UpdatedInstrument",
    "__version__",
]


def __getattr__(name: str) -> object:
    # The sync facade and its event-loop portal are imported on first use, not with the package:
    # async code never needs them (benchmarks/bench_import.py).
    if name == "Client":
        from ._sync_client import Client

        globals()["Client"] = Client
        return Client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
