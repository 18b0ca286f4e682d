"""Parsing of well-formed customer answers at the cost of a few dict look-ups per field.

`fast_customer(data, request_id)` builds the same `Customer` the cattrs converter
(`_converter.py`) would, for the answers that need none of its care: every field of the JSON
type its model declares, or null. It returns None for anything else (a wrong type, a missing
required field, a model it has no code for), and the caller then runs the converter, which
gives the same result or the precise error. An instrument that cannot be read fast is handed
to the converter's own instrument rule alone, so one odd instrument does not slow the rest.

Why not cattrs alone: its generated code calls a hook per field (and our strict hooks add a
call each), about 60 Python calls for a customer with two instruments; this module generates,
once per model at import, one function per model that checks types inline. A benchmark
(`benchmarks/bench_client.py`) showed structuring as the largest cost of `customers.get` over a
raw aiohttp request.
"""

from __future__ import annotations

import threading
import types
import typing
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from ._models import BankAccountInstrument, CardInstrument, Customer, Instrument

__all__ = ["fast_customer"]


class _Slow(Exception):
    """This answer needs the full converter."""


_SCALARS = {str: "str", int: "int", bool: "bool"}
_METADATA_VALUES = frozenset({str, int, float, bool})


def _inner_of_optional(kind: Any) -> Any:
    """`X` of `X | None`, else None."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = typing.get_args(kind)
        if len(args) == 2 and type(None) in args:
            return next(arg for arg in args if arg is not type(None))
    return None


def _field_code(
    field: attrs.Attribute[Any],
    kind: Any,
    index: int,
    namespace: dict[str, Any],
    special: Mapping[str, Callable[[Any], Any]],
) -> list[str] | None:
    """Lines setting `a{index}` from `d`, or None when this field has no fast code."""
    name, target = field.name, f"a{index}"
    if name in special:
        namespace[f"special_{name}"] = special[name]
        return [f"{target} = special_{name}(d.get({name!r}))"]
    inner = _inner_of_optional(kind)
    if inner is not None and field.default is None:
        lines = [f"{target} = d.get({name!r})"]
        if inner in _SCALARS:
            # `type(...) is` and not isinstance: a bool is not an int here, as in the converter.
            lines.append(f"if {target} is not None and type({target}) is not {_SCALARS[inner]}:")
            lines.append("    raise _Slow")
            return lines
        if inner in _MODELS:
            namespace[f"fast_{inner.__name__}"] = _MODELS[inner]
            lines.append(f"if {target} is not None:")
            lines.append(f"    if type({target}) is not dict:")
            lines.append("        raise _Slow")
            lines.append(f"    {target} = fast_{inner.__name__}({target})")
            return lines
        return None
    if kind is str and field.default is attrs.NOTHING:
        return [
            f"{target} = d.get({name!r})",
            f"if type({target}) is not str:",
            "    raise _Slow",
        ]
    return None


def _plain_slots(cls: type[Any]) -> bool:
    """Whether an instance of `cls` is fully made by setting each field's slot: attrs' own
    `__init__` does nothing more (no validator, converter, hook or cached hash to set)."""
    slots = getattr(cls, "__slots__", ())
    return (
        "__attrs_cached_hash" not in slots
        and not hasattr(cls, "__attrs_pre_init__")
        and not hasattr(cls, "__attrs_post_init__")
        and all(
            field.validator is None
            and field.converter is None
            and field.on_setattr in (None, attrs.setters.NO_OP)
            and field.name in slots
            for field in attrs.fields(cls)
            if field.init
        )
        and all(field.name in slots for field in attrs.fields(cls))
    )


def _fast_function(
    cls: type[Any], special: Mapping[str, Callable[[Any], Any]] | None = None
) -> Callable[..., Any] | None:
    """Generate the fast structuring function of `cls`, or None when a field has no fast code.

    The function takes the JSON object (a dict) and, for `Customer`, the request id.
    """
    hints = typing.get_type_hints(cls)
    fields = attrs.fields(cls)
    # The converter's rule (`_keeping_extra`): every field but `extra` is known, so a body's
    # `request_id` is not an extra of the customer.
    known = frozenset(field.name for field in fields) - {"extra"}
    namespace: dict[str, Any] = {
        "cls": cls,
        "known": known,
        "_Slow": _Slow,
        "MappingProxyType": MappingProxyType,
        "new": object.__new__,
    }
    body: list[str] = []
    values: dict[str, str] = {}  # field name: the expression of its value
    for index, field in enumerate(fields):
        if field.name == "extra":
            values["extra"] = "extra"
        elif field.name == "request_id":
            values["request_id"] = "request_id"
        elif not field.init:
            if isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
                return None
            namespace[f"default_{index}"] = field.default
            values[field.name] = f"default_{index}"
        else:
            lines = _field_code(field, hints[field.name], index, namespace, special or {})
            if lines is None:
                return None
            body.extend(lines)
            values[field.name] = f"a{index}"
    if "extra" in values:
        # As the converter does: unknown keys kept, read-only; the shared empty one otherwise.
        namespace["no_extra"] = attrs.fields_dict(cls)["extra"].default
        # `issuperset` answers the common case (no unknown key) without building a set.
        body.append(
            "extra = no_extra if known.issuperset(d) else "
            "MappingProxyType({k: d[k] for k in d.keys() - known})"
        )
    if _plain_slots(cls):
        # Each slot set through its descriptor: what attrs' frozen __init__ does field by
        # field through object.__setattr__, at half the cost.
        build = ["instance = new(cls)"]
        for field in fields:
            namespace[f"set_{field.name}"] = cls.__dict__[field.name].__set__
            build.append(f"set_{field.name}(instance, {values[field.name]})")
    else:
        arguments = ", ".join(
            f"{field.name}={values[field.name]}" for field in fields if field.init
        )
        build = [f"instance = cls({arguments})"]
    source = "\n".join(
        [
            f"def fast_{cls.__name__}(d, request_id=None):",
            *(f"    {line}" for line in body),
            *(f"    {line}" for line in build),
            "    return instance",
        ]
    )
    exec(compile(source, f"<fast structure {cls.__name__}>", "exec"), namespace)  # noqa: S102
    function: Callable[..., Any] = namespace[f"fast_{cls.__name__}"]
    return function


# Filled in dependency order: a model's function refers to those of the models it holds.
_MODELS: dict[type[Any], Callable[..., Any]] = {}


def _add(cls: type[Any], special: Mapping[str, Callable[[Any], Any]] | None = None) -> None:
    function = _fast_function(cls, special)
    if function is not None:
        _MODELS[cls] = function


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise _Slow
    for item in value.values():
        if type(item) not in _METADATA_VALUES:
            raise _Slow
    return dict(value)


def _instruments(value: Any) -> tuple[Instrument, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise _Slow
    return tuple([_instrument(item) for item in value])


def _instrument(item: Any) -> Instrument:
    if type(item) is dict:
        fast = _INSTRUMENTS.get(item.get("type"))  # type: ignore[arg-type]
        if fast is not None:
            try:
                instrument: Instrument = fast(item)
                return instrument
            except _Slow:
                pass
    from ._converter import _structure_instrument  # imports this module: import it late

    return _structure_instrument(item, Instrument)


def _build() -> None:
    from ._models import (
        AccountHolder,
        AccountHolderIdentification,
        Address,
        BankDetails,
        CustomerLink,
        NetworkToken,
        Phone,
    )

    for cls in (
        Phone,
        Address,
        AccountHolderIdentification,
        AccountHolder,
        BankDetails,
        NetworkToken,
        CustomerLink,
        CardInstrument,
        BankAccountInstrument,
    ):
        _add(cls)
    _add(Customer, {"metadata": _metadata, "instruments": _instruments})


# Filled by `_build()` on the first answer rather than at import: `import checkout_customers`
# stays cheap (bench_import.py).
_INSTRUMENTS: dict[str, Callable[..., Any]] = {}
_built = False


def fast_customer(data: dict[str, Any], request_id: str | None) -> Customer | None:
    """The `Customer` of a well-formed answer, or None when the converter must decide."""
    if not _built:
        _build_once()
    function = _MODELS.get(Customer)
    if function is None:
        return None
    try:
        customer: Customer = function(data, request_id)
    except _Slow:
        return None
    return customer


def _build_once() -> None:
    global _built
    with _build_lock:
        if _built:
            return
        _build()
        _INSTRUMENTS.update(
            (kind, _MODELS[cls])
            for kind, cls in (("card", CardInstrument), ("bank_account", BankAccountInstrument))
            if cls in _MODELS
        )
        _built = True


_build_lock = threading.Lock()  # the sync Client's threads may parse their first answers at once
