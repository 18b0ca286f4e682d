"""`python -m checkout_customers`: the `checkout-customers` command, for when it is not on PATH."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
