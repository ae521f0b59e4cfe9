"""Field value -> its `value` and `hvalue` in a packet result (docs/api.md, Packet result): the
inverse of `values_in`.

`value` is JSON-ready (a number, a string, `{"vtype": "BYTES"}` or
`{"vtype": "EXPRESSION"}`), and `hvalue` is the human text that `values_in`
accepts back as input for the same bytes (the GUI re-sends hvalues when it
edits imported packets).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from scapy.fields import Field, FlagsField, FlagValue, _EnumField
from scapy.packet import Packet

from scapyrpc.packets.encoding import encode_base64
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.expressions import scapy_dialect
from scapyrpc.packets.values_in import field_converts_numbers

__all__ = ["bytes_value", "render"]

_NOT_TEXT = re.compile(rb"[^\x20-\x7e\t\r\n]")
_NUMBER_TEXT = re.compile(r"[+-]?(\d+|0[xX][0-9a-fA-F]+)\Z")

# ---------------------------------------------------------------- values


def bytes_value(data: bytes) -> tuple[dict[str, Any], str]:
    """A BYTES value object and its hvalue: the text when printable, else `<binary>`."""
    hvalue = "<binary>" if _NOT_TEXT.search(data) else data.decode("ascii")
    return {"vtype": "BYTES", "base64": encode_base64(data)}, hvalue


def expression_text(value: Any) -> str:
    """Text the EXPRESSION evaluator reads back; repr for values it has no form for."""
    try:
        return scapy_dialect.render(value)
    except ServiceError:
        return repr(value)


def _int_hvalue_enum(layer: Packet, fld: Any, value: int) -> str:
    text = fld.i2repr(layer, value)
    if isinstance(text, str):
        if _NUMBER_TEXT.match(text):
            return text
        try:
            if fld.any2i(layer, text) == value:  # the name must lead back to this value
                return text
        except Exception:
            pass
    return str(value)


def _int_hvalue_flags(layer: Packet, fld: Any, value: int) -> str:
    if value < 0:  # Scapy's flag names of a negative value never end (its shift stays at -1)
        return str(value)
    text = str(FlagValue(value, fld.names))
    try:
        if FlagValue(text, fld.names).value == value:
            return text
    except Exception:
        pass
    return str(value)


def _int_hvalue_plain(layer: Packet, fld: Any, value: int) -> str:
    return str(value)


def _int_hvalue_generic(layer: Packet, fld: Any, value: int) -> str:
    """i2repr when it is a plain decimal/hex rendering of the same number (e.g. 0x3ace).

    A field that converts numbers on input (fixed-point time stamps) gets its
    human value when that converts back exactly, else its internal value in hex.
    """
    if field_converts_numbers(fld):
        try:
            human = fld.i2h(layer, value)
            if fld.any2i(layer, human) == value and isinstance(human, (int, float)):
                return repr(human)
        except Exception:
            pass
        return hex(value)
    try:
        text = fld.i2repr(layer, value)
    except Exception:
        return str(value)
    if isinstance(text, str) and _NUMBER_TEXT.match(text) and int(text, 0) == value:
        return text
    return str(value)


@cache
def _int_hvalue_fn(fld: Any) -> Callable[[Packet, Any, int], str]:
    """How this field's integers are shown: flag letters, enum names, or numbers."""
    ftype = type(fld)
    if issubclass(ftype, FlagsField):
        return _int_hvalue_flags
    if issubclass(ftype, _EnumField):
        return _int_hvalue_enum
    if (
        getattr(ftype, "i2repr", None) is Field.i2repr
        and getattr(ftype, "i2h", None) is Field.i2h
        and not field_converts_numbers(fld)
    ):
        return _int_hvalue_plain
    return _int_hvalue_generic


def render(layer: Packet, fld: Any, value: Any) -> tuple[Any, str]:
    """(value, hvalue) of one field: JSON-ready, and hvalue accepted back as input."""
    vt = type(value)
    if vt is int:
        return value, _int_hvalue_fn(fld)(layer, fld, value)
    if vt is str:
        return value, value
    if vt is bytes:
        return bytes_value(value)
    if value is None:
        return None, ""
    if isinstance(value, FlagValue):
        return value.value, _int_hvalue_fn(fld)(layer, fld, value.value)
    if isinstance(value, bool):
        return int(value), str(int(value))
    if isinstance(value, int):
        value = int(value)
        return value, _int_hvalue_fn(fld)(layer, fld, value)
    if isinstance(value, float):
        return value, repr(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes_value(bytes(value))
    if isinstance(value, str):
        return str(value), str(value)
    expr = expression_text(value)
    return {"vtype": "EXPRESSION", "expr": expr}, expr
