"""Parameter sanitising: the GUI sends every value as text; turn it into what the instruction needs.

Rules (reference §2, first match wins): value objects / arrays; `pkt_offset`
integers and the `Ether.dst/src/type` shortcuts; JSON integers and booleans as
they are (`decompile_vm_raw` returns them, docs/api.md, Field engine); `"None"`,
`"true"`/`"false"`, MAC text, decimal integers, `0x` hex; anything else stays a
string (IPv4 text and symbolic offsets are read later). Unlike the reference,
null or a fractional number (outside `pkt_offset`) is reported instead of crashing.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from scapyrpc.packets.field_engine import arithmetic
from scapyrpc.packets.field_engine.errors import FEError

__all__ = ["sanitize"]

ETHER_SHORTCUTS = {"Ether.dst": 0, "Ether.src": 6, "Ether.type": 12}
_MAC = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def sanitize(instr_id: str, param_id: str, value: Any) -> Any:
    """The value `param_id` of instruction `instr_id` carries, as the constructors expect it."""
    if isinstance(value, dict):
        return _value_object(instr_id, param_id, value)
    if isinstance(value, list):
        return [_value_object(instr_id, param_id, v) if isinstance(v, dict) else v for v in value]
    if param_id == "pkt_offset":
        as_int = _int_or_none(value)
        if as_int is not None:
            return as_int
        if not isinstance(value, str):
            raise FEError(f"{instr_id}: parameter 'pkt_offset' must be text or an integer, got {_json_kind(value)}")
        if value in ETHER_SHORTCUTS:
            return ETHER_SHORTCUTS[value]
        return _text_tail(instr_id, param_id, value)
    if isinstance(value, bool) or type(value) is int:
        return value
    if not isinstance(value, str):
        raise FEError(
            f"{instr_id}: parameter '{param_id}' must be text, an integer or a boolean, got {_json_kind(value)}"
        )
    if value in ("None", "none"):
        return None
    if value in ("true", "false"):
        return value == "true"
    if _MAC.match(value.lower()):
        return int(value.replace(":", "").replace("-", ""), 16)
    as_int = _int_or_none(value)
    if as_int is not None:
        return as_int
    return _text_tail(instr_id, param_id, value)


def _text_tail(instr_id: str, param_id: str, value: str) -> Any:
    if value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            raise FEError(f"{instr_id}: parameter '{param_id}' is not a valid hex number: {value}") from None
    return value


def _int_or_none(value: Any) -> int | None:
    """Python `int()` of `value` (strings with sign, spaces, `_`; numbers; booleans), else None."""
    if isinstance(value, (str, int, float)):
        try:
            return int(value)
        except (ValueError, OverflowError):
            return None
    return None


def _value_object(instr_id: str, param_id: str, obj: dict[str, Any]) -> Any:
    vtype = obj.get("vtype")
    if vtype is None:
        raise FEError(f"{instr_id}: parameter '{param_id}' is an object without 'vtype'")
    if vtype == "EXPRESSION":
        return arithmetic.evaluate(_expression_text(instr_id, param_id, obj.get("expr")))
    if vtype == "OBJECT":
        return obj.get("value")
    if vtype == "BYTES":
        raise FEError(f"{instr_id}: parameter '{param_id}' cannot be a BYTES value")
    return obj


def _expression_text(instr_id: str, param_id: str, expr: Any) -> str:
    if isinstance(expr, dict) and "base64" in expr:
        try:
            return base64.b64decode(expr["base64"], validate=True).decode("utf-8")
        except (binascii.Error, ValueError, TypeError):
            raise FEError(f"{instr_id}: parameter '{param_id}': EXPRESSION base64 is not valid UTF-8 text") from None
    if not isinstance(expr, str):
        raise FEError(f"{instr_id}: parameter '{param_id}': EXPRESSION needs an 'expr' text")
    return expr


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, int):
        return "a JSON number"
    return type(value).__name__
