"""The request bodies of `customers.create` and `customers.update`, built from the arguments.

Each declared customer field (`_customer_fields`) is read from the arguments by name and
checked by its kind before anything is sent; a violation raises `CheckoutArgumentError` naming
the field. The migration builds its create requests with `create_body` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._customer_fields import CUSTOMER_FIELDS, CustomerFields
from ._errors import CheckoutArgumentError
from ._types import NOT_GIVEN
from ._validation import _fail

__all__ = ["create_body", "update_body"]


def create_body(
    arguments: Mapping[str, object], fields: CustomerFields = CUSTOMER_FIELDS
) -> dict[str, Any]:
    """Check the arguments of a create (None meaning left out); return the JSON body to send.

    `arguments` maps every declared field's name to its value (the method's `locals()`).
    """
    for name in fields.required:
        if arguments[name] is None:
            raise _fail(name, "is required")
    body: dict[str, Any] = {}
    for name, validate in fields.validators:
        value = arguments[name]
        if value is not None:
            body[name] = validate(value, name)
    return body


def update_body(
    arguments: Mapping[str, object], fields: CustomerFields = CUSTOMER_FIELDS
) -> dict[str, Any]:
    """Check the arguments of an update; fields left `NOT_GIVEN` are not sent."""
    body: dict[str, Any] = {}
    for name, validate in fields.validators:
        value = arguments[name]
        if value is NOT_GIVEN:  # the one member of `NotGiven`
            continue
        if value is None:
            raise _fail(name, "None is not a value; leave the argument out to keep it unchanged")
        body[name] = validate(value, name)
    if not body:
        raise CheckoutArgumentError(
            "update needs at least one of: " + ", ".join(fields.names), field=None
        )
    return body
