"""The one cattrs converter between the API's JSON and the models.

It ignores unknown keys, maps `None`/absent to the models' defaults, and turns any instrument
whose `type` it does not model (or cannot parse) into an `UnknownInstrument` that keeps the raw
fields, so a new field or instrument type on the API never breaks a user.

It is strict about types: text must be a JSON string, a number a JSON number (not a string, not
a boolean), a flag a JSON boolean, metadata values scalars, and a required field present and not
null. cattrs would otherwise call `str()` on what it gets, turning `{"id": null}` into the id
`'None'` and `123` into `'123'`; an answer of the wrong shape must fail loudly instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._models import (
    BankAccountInstrument,
    CardInstrument,
    Customer,
    Instrument,
    UnknownInstrument,
)

__all__ = ["converter", "structure_customer", "unstructure"]

# omit_if_default: absent optional fields are left out of the JSON, as the API does.
converter = cattrs.Converter(forbid_extra_keys=False, omit_if_default=True)

_KNOWN_INSTRUMENTS: Mapping[str, type[CardInstrument] | type[BankAccountInstrument]] = {
    "card": CardInstrument,
    "bank_account": BankAccountInstrument,
}


def _structure_instrument(data: Any, _: Any) -> Instrument:
    if not isinstance(data, Mapping):
        raise TypeError(f"an instrument must be an object, not {type(data).__name__}")
    instrument_type = str(data.get("type", ""))
    model = _KNOWN_INSTRUMENTS.get(instrument_type)
    if model is not None:
        try:
            return converter.structure(data, model)
        except (cattrs.BaseValidationError, ValueError, TypeError):
            # A known type with an unexpected shape is still kept, raw, rather than failing
            # the whole customer.
            pass
    raw_id = data.get("id")
    return UnknownInstrument(
        type=instrument_type,
        id=raw_id if isinstance(raw_id, str) else None,
        data=dict(data),
    )


def _unstructure_instrument(instrument: Instrument) -> dict[str, Any]:
    if isinstance(instrument, UnknownInstrument):
        return {**instrument.data, "type": instrument.type}
    # `type` is not an init argument of the known models, so cattrs leaves it out.
    return {**unstructure(instrument), "type": instrument.type}


def _structure_nullable_tuple(data: Any, _: Any) -> tuple[Instrument, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise TypeError(f"instruments must be a list, not {_json_type(data)}")
    return tuple(_structure_instrument(item, Instrument) for item in data)


def _structure_metadata(data: Any, _: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise TypeError(f"metadata must be an object, not {_json_type(data)}")
    for key, value in data.items():
        if not isinstance(value, (str, int, float)):  # bool is an int
            raise TypeError(f"metadata value {key!r} must be a scalar, not {_json_type(value)}")
    return dict(data)


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages that must not quote the value itself."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _strict_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _strict_int(value: Any, _: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected an integer, got {_json_type(value)}")


def _strict_float(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {_json_type(value)}")


def _strict_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected true or false, got {_json_type(value)}")


converter.register_structure_hook(str, _strict_str)
converter.register_structure_hook(int, _strict_int)
converter.register_structure_hook(float, _strict_float)
converter.register_structure_hook(bool, _strict_bool)


converter.register_structure_hook(Instrument, _structure_instrument)
converter.register_unstructure_hook(Instrument, _unstructure_instrument)
converter.register_structure_hook(
    Customer,
    make_dict_structure_fn(
        Customer,
        converter,
        metadata=override(struct_hook=_structure_metadata),
        instruments=override(struct_hook=_structure_nullable_tuple),
        request_id=override(omit=True),
    ),
)
converter.register_unstructure_hook(
    Customer,
    make_dict_unstructure_fn(
        Customer,
        converter,
        instruments=override(
            unstruct_hook=lambda items: [_unstructure_instrument(i) for i in items]
        ),
        request_id=override(omit=True),
    ),
)


def unstructure(obj: Any) -> Any:
    """Turn a model into the API's JSON shape, leaving out fields left at their default."""
    return converter.unstructure(obj)


def structure_customer(data: Any, request_id: str | None) -> Customer:
    """Parse a retrieve-customer body; raises `TypeError` saying where it has the wrong shape
    (field paths and JSON types, never a value: the body is personal data)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"the customer is {_json_type(data)}, not an object")
    try:
        customer = converter.structure(data, Customer)
    except cattrs.BaseValidationError as exc:
        raise TypeError("; ".join(cattrs.transform_error(exc, path="customer"))) from None
    return attrs.evolve(customer, request_id=request_id)
