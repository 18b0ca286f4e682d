"""`checkout-customers get ID_OR_EMAIL` and `checkout-customers delete ID`: quick checks.

Credentials come from the environment (`CKO_SECRET_KEY`, ...), as for `AsyncClient()`.
Exit statuses: 0 done, 1 the API answered an error (e.g. not found) or did not answer,
2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from .._client import AsyncClient
from .._converter import unstructure
from .._errors import CheckoutApiError, CheckoutArgumentError, CheckoutError, NotFoundError
from ._arguments import (
    CREDENTIAL_VARIABLES_HELP,
    EXIT_FAILURES,
    EXIT_OK,
    EXIT_USAGE,
    configuration_error,
)

__all__ = ["register"]

_EXIT_STATUSES = (
    "exit status: 0 done; 1 the API answered an error (such as not found) or did not answer; "
    "2 usage or configuration error"
)


def register(subparsers: Any) -> None:
    get = subparsers.add_parser(
        "get",
        help="print a customer as JSON",
        description="Print the customer with this id (cus_...) or email address as JSON. "
        + CREDENTIAL_VARIABLES_HELP,
        epilog=_EXIT_STATUSES,
    )
    get.add_argument("id_or_email", metavar="ID_OR_EMAIL")
    get.set_defaults(run=run_get)
    delete = subparsers.add_parser(
        "delete",
        help="delete a customer",
        description="Delete the customer with this id, and its linked payment instruments. "
        + CREDENTIAL_VARIABLES_HELP,
        epilog=_EXIT_STATUSES,
    )
    delete.add_argument("customer_id", metavar="ID")
    delete.set_defaults(run=run_delete)


def _call(command: str, action: Callable[[AsyncClient], Awaitable[str]]) -> int:
    prefix = f"checkout-customers {command}"
    try:
        client = AsyncClient()
    except CheckoutArgumentError as exc:
        print(
            f"{prefix}: error: {configuration_error(exc, emulator_option=False)}", file=sys.stderr
        )
        return EXIT_USAGE

    async def main() -> str:
        async with client:
            return await action(client)

    try:
        output = asyncio.run(main())
    except CheckoutArgumentError as exc:
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NotFoundError as exc:
        print(f"{prefix}: not found (request_id={exc.request_id or 'unknown'})", file=sys.stderr)
        return EXIT_FAILURES
    except CheckoutApiError as exc:
        print(f"{prefix}: the API answered {exc}", file=sys.stderr)
        return EXIT_FAILURES
    except CheckoutError as exc:
        print(f"{prefix}: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    print(output)
    return EXIT_OK


def run_get(args: argparse.Namespace) -> int:
    async def get(client: AsyncClient) -> str:
        customer = await client.customers.get(args.id_or_email)
        return json.dumps(unstructure(customer), indent=2, ensure_ascii=False)

    return _call("get", get)


def run_delete(args: argparse.Namespace) -> int:
    async def delete(client: AsyncClient) -> str:
        result = await client.customers.delete(args.customer_id)
        return f"deleted {args.customer_id} (request_id={result.request_id or 'unknown'})"

    return _call("delete", delete)
