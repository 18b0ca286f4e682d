"""A blocking script: find a customer by email, or create it, with the sync `Client`.

    export CKO_SECRET_KEY=sk_sbox_... CKO_PREFIX=abcd1234   # or CKO_BASE_URL of an emulator
    python examples/blocking_script.py bruce@wayne.com "Bruce Wayne"

Prints the customer's id and whether it was created. Exit status 2 for a bad argument or a
missing credential, 1 when the API answers an error or cannot be reached.
"""

from __future__ import annotations

import sys

from checkout_customers import (
    CheckoutArgumentError,
    CheckoutError,
    Client,
    NotFoundError,
)


def find_or_create(cko: Client, email: str, name: str | None) -> tuple[str, bool]:
    """The id of the customer with this email, creating it first if there is none."""
    try:
        return cko.customers.get(email).id, False
    except NotFoundError:
        return cko.customers.create(email=email, name=name).id, True


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: blocking_script.py EMAIL [NAME]", file=sys.stderr)
        return 2
    email, name = argv[0], argv[1] if len(argv) == 2 else None
    try:
        with Client() as cko:  # credentials from the CKO_* variables
            customer_id, created = find_or_create(cko, email, name)
    except CheckoutArgumentError as error:  # a missing credential or a bad email
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CheckoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{customer_id} {'created' if created else 'already there'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
