"""The kinds of customer field: what each accepts in a call, a CSV row and the emulator.

A kind knows, for a field of that kind, the Python type its keyword argument takes, how the
client checks a value and spells it in a request body (raising `CheckoutArgumentError`), which
CSV columns carry it and how their cells read, and how the emulator checks a request body and
which 422 error codes it answers. The fields themselves are declared once, in
`_customer_fields`; a new field of an existing kind is one line there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

import attrs

from . import _limits
from ._validation import (
    validate_email,
    validate_instrument_id,
    validate_instruments,
    validate_metadata,
    validate_phone,
    validate_text,
)

__all__ = [
    "CsvCellError",
    "Email",
    "FieldKind",
    "InstrumentId",
    "InstrumentIds",
    "KnownInstrument",
    "Metadata",
    "PhoneNumber",
    "Text",
]

#: The emulator's question "is there an instrument with this id?".
KnownInstrument = Callable[[str], bool]


class CsvCellError(ValueError):
    """The CSV cells of one field cannot make a value; the row is invalid for this reason."""


class FieldKind:
    """What a field of this kind accepts; subclasses fill in each part for their field `name`.

    `annotation` is the type of the field's keyword argument as the resource methods spell it
    (`str`, `Phone`, ...), without `| None` or `| NotGiven`.
    """

    annotation: str
    #: Whether the emulator links instruments through the field (its own rules) rather than
    #: storing the value as sent.
    links_instruments = False

    #: `validate(value, name)`: the value as the request body carries it; raises
    #: `CheckoutArgumentError` naming the field. (A plain function where one fits: it runs on
    #: every call.)
    validate: Callable[[object, str], Any]

    def csv_columns(self, name: str) -> tuple[str, ...]:
        """The CSV columns that carry the field, as a header spells them."""
        return (name,)

    def csv_claims(self, name: str, column: str) -> bool:
        """Whether `column` of a CSV header belongs to this field."""
        return column in self.csv_columns(name)

    def from_csv(self, name: str, cells: Mapping[str, str]) -> object:
        """The field's value from a row's non-empty cells (by column), None when absent.

        Raises `CsvCellError` when the cells cannot make a value.
        """
        return cells.get(name)

    def error_codes(self, name: str) -> tuple[str, ...]:
        """Every 422 error code the emulator's check of this field can answer."""
        return (f"{name}_invalid",)

    def check(self, value: object, name: str, known_instrument: KnownInstrument) -> list[str]:
        """The emulator's check of a non-null value sent: its error codes, empty if fine."""
        raise NotImplementedError

    def stored(self, value: Any) -> Any:
        """What the emulator keeps of a value that passed `check`."""
        return value


@attrs.frozen
class Text(FieldKind):
    """Free text of at most `max_length` characters; a CSV cell is taken as written."""

    max_length: int
    annotation = "str"

    def validate(self, value: object, name: str) -> str:
        return validate_text(value, name, self.max_length)

    def error_codes(self, name: str) -> tuple[str, ...]:
        return (f"{name}_invalid", f"{name}_too_long")

    def check(self, value: object, name: str, known_instrument: KnownInstrument) -> list[str]:
        if not isinstance(value, str):
            return [f"{name}_invalid"]
        return [f"{name}_too_long"] if len(value) > self.max_length else []


@attrs.frozen
class Email(FieldKind):
    """An email address; CSV cells are stripped.

    Its limits are `_limits.EMAIL_MAX_LENGTH` and `EMAIL_PATTERN`, which look-ups by email and
    the migration's email keys share.
    """

    annotation = "str"

    # The address check is `validate_email`'s, shared with look-ups by email (called directly:
    # the request bodies run it on every call).
    validate = staticmethod(validate_email)

    def from_csv(self, name: str, cells: Mapping[str, str]) -> object:
        cell = cells.get(name)
        return None if cell is None else cell.strip()

    def error_codes(self, name: str) -> tuple[str, ...]:
        return (f"{name}_invalid", f"{name}_too_long")

    def check(self, value: object, name: str, known_instrument: KnownInstrument) -> list[str]:
        if not isinstance(value, str) or not value:
            return [f"{name}_invalid"]
        if len(value) > _limits.EMAIL_MAX_LENGTH:
            return [f"{name}_too_long"]
        if _limits.EMAIL_PATTERN.fullmatch(value) is None:
            return [f"{name}_invalid"]
        return []


@attrs.frozen
class PhoneNumber(FieldKind):
    """A `Phone`; in CSV two columns, `<name>_country_code` and `<name>_number`, both needed."""

    country_code_length: tuple[int, int]
    number_length: tuple[int, int]
    annotation = "Phone"

    def validate(self, value: object, name: str) -> dict[str, str]:
        return validate_phone(value, name, self.country_code_length, self.number_length)

    def csv_columns(self, name: str) -> tuple[str, ...]:
        return (f"{name}_country_code", f"{name}_number")

    def from_csv(self, name: str, cells: Mapping[str, str]) -> object:
        country_code_column, number_column = self.csv_columns(name)
        country_code, number = cells.get(country_code_column), cells.get(number_column)
        if country_code is None and number is None:
            return None
        if country_code is None or number is None:
            missing = country_code_column if country_code is None else number_column
            raise CsvCellError(f"{name}: {missing} is missing")
        return {"country_code": country_code.strip(), "number": number.strip()}

    def error_codes(self, name: str) -> tuple[str, ...]:
        return (f"{name}_invalid", f"{name}_country_code_invalid", f"{name}_number_invalid")

    def check(self, value: object, name: str, known_instrument: KnownInstrument) -> list[str]:
        # Both parts are optional, as in the spec's `PhoneNumber`; a part sent must fit.
        if not isinstance(value, dict):
            return [f"{name}_invalid"]
        codes = []
        if "country_code" in value and not _within(value["country_code"], self.country_code_length):
            codes.append(f"{name}_country_code_invalid")
        if "number" in value and not _within(value["number"], self.number_length):
            codes.append(f"{name}_number_invalid")
        return codes

    def stored(self, value: Any) -> Any:
        # Other keys are dropped, like unknown top-level fields.
        return {part: value[part] for part in ("country_code", "number") if part in value}


@attrs.frozen
class Metadata(FieldKind):
    """Up to `max_pairs` scalar values by key; in CSV one `<name>.<key>` column per key."""

    max_pairs: int
    key_max_length: int
    value_max_length: int
    annotation = "Mapping[str, MetadataValue]"

    def validate(self, value: object, name: str) -> Any:
        return validate_metadata(
            value, name, self.max_pairs, self.key_max_length, self.value_max_length
        )

    def csv_columns(self, name: str) -> tuple[str, ...]:
        return (f"{name}.<key>",)

    def csv_claims(self, name: str, column: str) -> bool:
        return column.startswith(f"{name}.") and len(column) > len(name) + 1

    def from_csv(self, name: str, cells: Mapping[str, str]) -> object:
        prefix = f"{name}."
        pairs = {
            column[len(prefix) :]: cell
            for column, cell in cells.items()
            if column.startswith(prefix)
        }
        return pairs or None

    def error_codes(self, name: str) -> tuple[str, ...]:
        return (
            f"{name}_invalid",
            f"{name}_too_many_pairs",
            f"{name}_key_invalid",
            f"{name}_value_invalid",
            f"{name}_value_too_long",
        )

    def check(self, value: object, name: str, known_instrument: KnownInstrument) -> list[str]:
        if not isinstance(value, dict):
            return [f"{name}_invalid"]
        codes = []
        if len(value) > self.max_pairs:
            codes.append(f"{name}_too_many_pairs")
        for key, item in value.items():
            if not key or len(key) > self.key_max_length:
                codes.append(f"{name}_key_invalid")
            length = _scalar_length(item)
            if length is None:
                codes.append(f"{name}_value_invalid")
            elif length > self.value_max_length:
                codes.append(f"{name}_value_too_long")
        return codes


@attrs.frozen
class InstrumentId(FieldKind):
    """The id of an instrument the API holds (`_limits.INSTRUMENT_ID_PATTERN`); a CSV cell is
    stripped."""

    annotation = "str"
    links_instruments = True

    validate = staticmethod(validate_instrument_id)

    def from_csv(self, name: str, cells: Mapping[str, str]) -> object:
        cell = cells.get(name)
        return None if cell is None else cell.strip()

    def error_codes(self, name: str) -> tuple[str, ...]:
        return (f"{name}_invalid", f"{name}_not_found")

    def check(self, value: object, name: str, known_instrument: KnownInstrument) -> list[str]:
        if not _is_instrument_id(value):
            return [f"{name}_invalid"]
        return [] if known_instrument(value) else [f"{name}_not_found"]


@attrs.frozen
class InstrumentIds(FieldKind):
    """A list of instrument ids; a CSV cell holds them separated by spaces.

    `not_found_code` is the code for an id the emulator does not hold (the API's spelling is
    singular: `instrument_not_found`).
    """

    not_found_code: str
    annotation = "Sequence[str]"
    links_instruments = True

    validate = staticmethod(validate_instruments)

    def from_csv(self, name: str, cells: Mapping[str, str]) -> object:
        cell = cells.get(name)
        return None if cell is None else cell.split()

    def error_codes(self, name: str) -> tuple[str, ...]:
        return (f"{name}_invalid", self.not_found_code)

    def check(self, value: object, name: str, known_instrument: KnownInstrument) -> list[str]:
        if not isinstance(value, list) or not all(_is_instrument_id(item) for item in value):
            return [f"{name}_invalid"]
        return [] if all(known_instrument(item) for item in value) else [self.not_found_code]


def _is_instrument_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _limits.INSTRUMENT_ID_PATTERN.fullmatch(value) is not None


def _within(value: object, bounds: tuple[int, int]) -> bool:
    low, high = bounds
    return isinstance(value, str) and low <= len(value) <= high


def _scalar_length(value: object) -> int | None:
    """Length of a metadata value as text, or None when it is not a scalar."""
    if isinstance(value, bool):
        return len("true" if value else "false")
    if isinstance(value, str):
        return len(value)
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, float) and math.isfinite(value):
        return len(json.dumps(value))
    return None
