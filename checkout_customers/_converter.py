"""The one cattrs converter between the API's JSON and the models.

It keeps the keys a model does not know in the model's read-only `extra` (and writes them back
when unstructuring), maps `None`/absent to the models' defaults, and turns any instrument whose
`type` it does not model (or cannot parse) into an `UnknownInstrument` that keeps the raw fields,
so a new field or instrument type on the API never breaks a user and is never lost.

It is strict about types: text must be a JSON string, a number a JSON number (not a string, not
a boolean), a flag a JSON boolean, metadata values scalars, and a required field present and not
null. cattrs would otherwise call `str()` on what it gets, turning `{"id": null}` into the id
`'None'` and `123` into `'123'`; an answer of the wrong shape must fail loudly instead.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._fast_structure import fast_customer
from ._models import (
    AccountHolder,
    AccountHolderIdentification,
    Address,
    BankAccountInstrument,
    BankDetails,
    CardInstrument,
    Customer,
    CustomerLink,
    Instrument,
    NetworkToken,
    Phone,
    UnknownInstrument,
    UpdatedInstrument,
)

__all__ = [
    "converter",
    "structure_customer",
    "structure_instrument",
    "structure_updated_instrument",
    "unstructure",
]

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


def _is_optional(kind: Any) -> bool:
    return (
        typing.get_origin(kind) in (typing.Union, types.UnionType)
        and len(typing.get_args(kind)) == 2
        and type(None) in typing.get_args(kind)
    )


def _optional_hook(kind: Any, conv: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # cattrs looks the inner type's hook up again on every value; every optional field of
    # every model goes through here, so resolve it once. Hooks registered for the inner type
    # (before the models' hooks below are made) are honoured exactly as cattrs would.
    inner_type = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    inner = conv.get_structure_hook(inner_type)

    def structure(value: Any, _: Any) -> Any:
        return None if value is None else inner(value, inner_type)

    return structure


converter.register_structure_hook_factory(_is_optional, _optional_hook)
converter.register_structure_hook(Instrument, _structure_instrument)
converter.register_unstructure_hook(Instrument, _unstructure_instrument)


def _keeping_extra(
    cls: type[Any],
    structure_overrides: Mapping[str, Any] | None = None,
    unstructure_overrides: Mapping[str, Any] | None = None,
) -> None:
    """Register hooks for `cls` that carry unknown keys into and out of its `extra`."""
    # (`Customer.request_id` counts: a body's `request_id` is the answer's, not an extra.)
    known = frozenset(field.name for field in attrs.fields(cls)) - {"extra"}
    structure_known = make_dict_structure_fn(
        cls, converter, extra=override(omit=True), **(structure_overrides or {})
    )
    unstructure_known = make_dict_unstructure_fn(
        cls,
        converter,
        _cattrs_omit_if_default=converter.omit_if_default,
        extra=override(omit=True),
        **(unstructure_overrides or {}),
    )
    name = cls.__name__

    def structure(data: Any, _: Any) -> Any:
        try:
            unknown = data.keys() - known  # a set difference in C: the usual empty case is cheap
        except AttributeError:
            raise TypeError(f"{name} must be an object, not {_json_type(data)}") from None
        instance = structure_known(data, cls)
        if unknown:
            # The instance is new and not yet shared; this is how attrs' own frozen __init__
            # sets attributes, where evolve() would build the whole object a second time.
            object.__setattr__(instance, "extra", MappingProxyType({k: data[k] for k in unknown}))
        return instance

    def unstructure(instance: Any) -> dict[str, Any]:
        fields: dict[str, Any] = unstructure_known(instance)
        if instance.extra:
            return {**instance.extra, **fields}  # a modelled field wins over an extra one
        return fields

    converter.register_structure_hook(cls, structure)
    converter.register_unstructure_hook(cls, unstructure)


for _model in (
    Phone,
    Address,
    AccountHolderIdentification,
    AccountHolder,
    BankDetails,
    NetworkToken,
    CustomerLink,
):
    _keeping_extra(_model)
# `request_id` is the answer's (a header), never a field of an instrument's body.
for _answer_model in (CardInstrument, BankAccountInstrument, UpdatedInstrument):
    _keeping_extra(
        _answer_model,
        structure_overrides={"request_id": override(omit=True)},
        unstructure_overrides={"request_id": override(omit=True)},
    )
_keeping_extra(
    Customer,
    structure_overrides={
        "metadata": override(struct_hook=_structure_metadata),
        "instruments": override(struct_hook=_structure_nullable_tuple),
        "request_id": override(omit=True),
    },
    unstructure_overrides={
        "instruments": override(
            unstruct_hook=lambda items: [_unstructure_instrument(i) for i in items]
        ),
        "request_id": override(omit=True),
    },
)


_structure_customer_fields = converter.get_structure_hook(Customer)


def unstructure(obj: Any) -> Any:
    """Turn a model into the API's JSON shape, leaving out fields left at their default."""
    return converter.unstructure(obj)


def structure_customer(data: Any, request_id: str | None) -> Customer:
    """Parse a retrieve-customer body; raises `TypeError` saying where it has the wrong shape
    (field paths and JSON types, never a value: the body is personal data)."""
    if type(data) is dict:
        fast = fast_customer(data, request_id)  # None: not well-formed, let cattrs decide
        if fast is not None:
            return fast
    if not isinstance(data, Mapping):
        raise TypeError(f"the customer is {_json_type(data)}, not an object")
    try:
        customer: Customer = _structure_customer_fields(data, Customer)
    except cattrs.BaseValidationError as exc:
        raise TypeError("; ".join(cattrs.transform_error(exc, path="customer"))) from None
    # As for `extra`: the instance is new and unshared, and evolve() would build it twice.
    object.__setattr__(customer, "request_id", request_id)
    return customer


def structure_instrument(data: Any, request_id: str | None) -> Instrument:
    """Parse an instrument answer (create or get): a `CardInstrument`, a
    `BankAccountInstrument`, or an `UnknownInstrument` keeping a type this SDK does not model
    (or a known type of an unexpected shape). Raises `TypeError` when it is no object or has
    no `type`."""
    if not isinstance(data, Mapping):
        raise TypeError(f"the instrument is {_json_type(data)}, not an object")
    if not isinstance(data.get("type"), str):
        raise TypeError(f"the instrument's type is {_json_type(data.get('type'))}, not a string")
    instrument = _structure_instrument(data, Instrument)
    object.__setattr__(instrument, "request_id", request_id)  # new and unshared, as above
    return instrument


def structure_updated_instrument(data: Any, request_id: str | None) -> UpdatedInstrument:
    """Parse the answer to an instrument update (`{type, fingerprint}`); raises `TypeError`
    saying where it has the wrong shape."""
    if not isinstance(data, Mapping):
        raise TypeError(f"the answer is {_json_type(data)}, not an object")
    try:
        updated: UpdatedInstrument = converter.structure(data, UpdatedInstrument)
    except cattrs.BaseValidationError as exc:
        raise TypeError("; ".join(cattrs.transform_error(exc, path="instrument"))) from None
    object.__setattr__(updated, "request_id", request_id)
    return updated
