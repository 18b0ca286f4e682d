"""The customer's fields, declared once: name, kind (type, limits, CSV columns, emulator codes).

The limits are given here, by value or as a `_limits` constant where other objects share them
(an instrument's account holder has a name and a phone too).

Everything that lists the customer's fields reads `CUSTOMER_FIELDS`: the request bodies of
`create`, `update` and `get_or_create` (`_request_bodies`), the migration's JSONL fields and CSV
columns, and the emulator's checks and `ERROR_CODES`. The resource methods spell their keyword
arguments out, for type checkers, IDEs and the sync generator; a test keeps those signatures and
the `Customer` model in step with this declaration. Adding a field of an existing kind is one
line below (plus its keyword argument on the methods, which that test then asks for).
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from . import _limits
from ._field_kinds import Email, FieldKind, InstrumentId, InstrumentIds, Metadata, PhoneNumber, Text

__all__ = ["CUSTOMER_FIELDS", "CustomerField", "CustomerFields"]


@attrs.frozen
class CustomerField:
    """One field of a customer: its API (and keyword argument) name and its kind.

    `required` fields must be given to create a customer.
    """

    name: str
    kind: FieldKind
    required: bool = False


class CustomerFields:
    """A declaration of the customer's fields, in the order bodies and messages list them."""

    def __init__(self, *fields: CustomerField) -> None:
        self.fields = fields
        self.names = tuple(field.name for field in fields)
        self.required = tuple(field.name for field in fields if field.required)
        # (name, validate) pairs: the request bodies' hot loop reads them without attribute
        # look-ups.
        self.validators = tuple((field.name, field.kind.validate) for field in fields)

    def __iter__(self) -> Iterator[CustomerField]:
        return iter(self.fields)

    def __repr__(self) -> str:
        return f"CustomerFields({', '.join(self.names)})"

    def extended(self, *fields: CustomerField) -> CustomerFields:
        """This declaration with `fields` added at the end."""
        return CustomerFields(*self.fields, *fields)

    def error_codes(self) -> tuple[str, ...]:
        """The emulator's 422 codes for these fields: `<name>_required`, then each field's."""
        required = tuple(f"{name}_required" for name in self.required)
        return required + tuple(
            code for field in self for code in field.kind.error_codes(field.name)
        )

    def csv_columns(self) -> tuple[str, ...]:
        """The CSV columns these fields take, as a header spells them (`metadata.<key>`)."""
        return tuple(column for field in self for column in field.kind.csv_columns(field.name))


CUSTOMER_FIELDS = CustomerFields(
    CustomerField("email", Email(), required=True),
    CustomerField("name", Text(max_length=_limits.NAME_MAX_LENGTH)),
    CustomerField(
        "phone",
        PhoneNumber(
            country_code_length=_limits.PHONE_COUNTRY_CODE_LENGTH,
            number_length=_limits.PHONE_NUMBER_LENGTH,
        ),
    ),
    CustomerField(
        "metadata",
        Metadata(
            max_pairs=_limits.METADATA_MAX_PAIRS,
            key_max_length=_limits.METADATA_KEY_MAX_LENGTH,
            value_max_length=_limits.METADATA_VALUE_MAX_LENGTH,
        ),
    ),
    CustomerField("default", InstrumentId()),
    CustomerField("instruments", InstrumentIds(not_found_code="instrument_not_found")),
)
