"""A faithful, stateful Checkout.com Customers API on loopback, for development and tests,
with the Instruments API and card tokens (`POST /tokens`, with `emulator.public_key`).

    from checkout_customers.emulator import run_emulator

    async with run_emulator() as emulator:
        async with AsyncClient(secret_key=emulator.secret_key, base_url=emulator.base_url) as cko:
            created = await cko.customers.create(email="bruce@wayne.com")

`emulator_thread()` does the same for blocking code, on a thread of its own. The command
`checkout-customers emulator` serves one from the shell, and the pytest plugin gives tests a
`checkout_emulator` fixture. A test reads back what its code sent with `emulator.requests()`
and makes exact requests fail with `emulator.fail_next(...)`. Endpoints, error codes, test
instruments and fault injection are described in `docs/emulator.md`.
"""

from ._faults import FAULT_KINDS, QueuedFault
from ._instruments import (
    TEST_BANK_ACCOUNT_FR_ID,
    TEST_BANK_ACCOUNT_GB_ID,
    TEST_CARD_AMEX_ID,
    TEST_CARD_DISCOVER_ID,
    TEST_CARD_MASTERCARD_ID,
    TEST_CARD_VISA_ID,
    TEST_INSTRUMENTS,
)
from ._instruments_api import INSTRUMENT_ERROR_CODES
from ._journal import RecordedRequest
from ._server import RunningEmulator, emulator_thread, run_emulator
from ._settings import (
    DEFAULT_CARD_TOKEN_TTL_S,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SECRET_KEY,
    EmulatorSettings,
)
from ._tokens import TEST_CARD_NUMBERS
from ._validation import ERROR_CODES

__all__ = [
    "DEFAULT_CARD_TOKEN_TTL_S",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_JOURNAL_SIZE",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_SECRET_KEY",
    "ERROR_CODES",
    "FAULT_KINDS",
    "INSTRUMENT_ERROR_CODES",
    "TEST_BANK_ACCOUNT_FR_ID",
    "TEST_BANK_ACCOUNT_GB_ID",
    "TEST_CARD_AMEX_ID",
    "TEST_CARD_DISCOVER_ID",
    "TEST_CARD_MASTERCARD_ID",
    "TEST_CARD_NUMBERS",
    "TEST_CARD_VISA_ID",
    "TEST_INSTRUMENTS",
    "EmulatorSettings",
    "QueuedFault",
    "RecordedRequest",
    "RunningEmulator",
    "emulator_thread",
    "run_emulator",
]
