"""The one cattrs converter between the API's JSON and the models.

It ignores unknown keys, maps `None`/absent to the models' defaults, and turns any instrument
whose `type` it does not model (or cannot parse) into an `UnknownInstrument` that keeps the raw
fields, so a new field or instrument type on the API never breaks a user.
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
    return tuple(_structure_instrument(item, Instrument) for item in data)


def _structure_metadata(data: Any, _: Any) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise TypeError("metadata must be an object")
    return {str(key): value for key, value in data.items()}


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
    """Parse a retrieve-customer body; raises `cattrs.BaseValidationError` or `TypeError`."""
    if not isinstance(data, Mapping):
        raise TypeError("the customer body is not a JSON object")
    customer = converter.structure(data, Customer)
    return attrs.evolve(customer, request_id=request_id)
