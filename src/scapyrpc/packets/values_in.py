"""Model field value -> the Python value a Scapy field accepts (docs/api.md, Packet model): the
inverse of `values_out`.

A model value is a JSON number, a human string, a list, or a value object
(`{"vtype": ...}`). `field_value()` turns one into what `setfieldval` takes,
or into one of three markers: `RESET` (back to the default, so Scapy computes
it), `TotalSize` (a payload whose size depends on the finished frame) and
`Internal` (a value already in Scapy's internal form, set as is).
"""

from __future__ import annotations

import random
import re
import socket
from dataclasses import dataclass
from functools import cache
from typing import Any

from scapy.fields import Field, IP6Field, IPField, _FieldContainer
from scapy.packet import Packet

from scapyrpc.packets import limits
from scapyrpc.packets.encoding import decode_base64
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.expressions import scapy_dialect
from scapyrpc.packets.number_fields import check_byte_counts, field_holds_number
from scapyrpc.packets.unwrap import encoding_field

__all__ = [
    "DEFAULT_SEED",
    "FCS_BYTES",
    "RESET",
    "Internal",
    "TotalSize",
    "field_converts_numbers",
    "field_value",
    "total_size_bytes",
]

DEFAULT_SEED = 12345
FCS_BYTES = 4  # the Ethernet FCS Scapy does not emit but `total_size` counts

RESET = object()  # marker: delete the field value so Scapy uses its default / computes it

_DECIMAL = re.compile(r"[+-]?\d+\Z")
_MAX_DECIMAL_DIGITS = 4000  # Python converts at most 4300 (sys.get_int_max_str_digits)
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?\Z|[+-]?\d+[eE][+-]?\d+\Z")


@dataclass
class Internal:
    """A number to store as the field's internal value, bypassing its input conversion."""

    value: int


@dataclass
class TotalSize:
    """A BYTES generator whose size makes the whole frame `total` bytes (FCS included)."""

    spec: dict[str, Any]
    total: int


# ---------------------------------------------------------------- fields


@cache
def field_converts_numbers(fld: Field[Any, Any]) -> bool:
    """Whether `fld`'s input conversion changes a plain number (fixed-point, scaled)."""
    ftype = type(fld)
    if getattr(ftype, "any2i", None) is Field.any2i and getattr(ftype, "h2i", None) is Field.h2i:
        return False
    try:
        return any(fld.any2i(None, n) != n for n in (1, 12345))
    except Exception:  # needs a packet (enums depending on other fields): names, not scaling
        return False


def parse_number_text(text: str) -> int | float | None:
    """Decimal or 0x-hex text as a number; None when the text is not a plain number."""
    if _DECIMAL.match(text):
        if len(text) > _MAX_DECIMAL_DIGITS:
            raise ServiceError(f"number of {len(text)} digits is too long")
        return int(text)
    if _HEX.match(text):
        return int(text, 16)
    if _FLOAT.match(text):  # float-valued fields (BCD, scaled, IEEE) print like this
        return float(text)
    return None


# ---------------------------------------------------------------- bytes generators


def _check_size(size: Any, what: str) -> int:
    try:
        number = int(size)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 read as infinity
        raise ServiceError(f"{what} must be a number") from None
    cap = limits.current().max_payload_bytes
    if number > cap:
        raise ServiceError(f"{what} {number} is too large (limit {cap} bytes)")
    return max(number, 0)


def _random_bytes(size: int, seed: Any, low: int, high: int) -> bytes:
    """The reference generator: `low + int(random() * n)` from Random(seed), reproducible."""
    try:
        seed = int(seed) if seed not in (None, "") else DEFAULT_SEED
    except (TypeError, ValueError, OverflowError):
        raise ServiceError("BYTES seed must be a number") from None
    rnd = random.Random(seed).random
    n = high - low + 1
    return bytes([low + int(rnd() * n) for _ in range(size)])


def _repeat(template: bytes, size: int) -> bytes:
    if not template:
        return b""
    return (template * (size // len(template) + 1))[:size]


def _template_code(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ServiceError("BYTES template_code must be a string of hex digits")
    digits = re.sub(r"\s+", "", re.sub(r"0[xX]", "", text))
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise ServiceError(f"BYTES template_code is not hex: {text[:40]!r}") from None


def generate_bytes(spec: dict[str, Any], size: Any = None) -> bytes:
    """Bytes of a BYTES value object; `size` overrides the object's own `size`."""
    gen = spec.get("generate")
    if gen is None:
        if "base64" not in spec:
            raise ServiceError("BYTES value needs 'base64' or 'generate'")
        data = decode_base64(spec["base64"], "BYTES base64")
        cap = limits.current().max_payload_bytes
        if len(data) > cap:
            raise ServiceError(f"BYTES payload of {len(data)} bytes is too large (limit {cap} bytes)")
        return data
    if size is None:
        size = spec.get("size")
    if gen == "template_code":
        code = _template_code(spec.get("template_code"))
        size = _check_size(size if size is not None else len(code), "BYTES size")
        limits.spend_payload(size, "BYTES")
        return _repeat(code, size)
    if size is None:
        raise ServiceError(f"BYTES generator '{gen}' needs 'size' or 'total_size'")
    size = _check_size(size, "BYTES size")
    limits.spend_payload(size, "BYTES")
    if gen == "random_bytes":
        return _random_bytes(size, spec.get("seed"), 0x00, 0xFF)
    if gen == "random_ascii":
        return _random_bytes(size, spec.get("seed"), 0x20, 0x7E)
    if gen == "template":
        return _repeat(decode_base64(spec.get("template_base64", ""), "BYTES template_base64"), size)
    raise ServiceError(f"unknown BYTES generator '{gen}'")


def total_size_bytes(pending: TotalSize, frame_len_without: int) -> bytes:
    """Generate a `total_size` payload once the rest of the frame is known."""
    size = pending.total - FCS_BYTES - frame_len_without
    return generate_bytes(pending.spec, max(size, 0))


# ---------------------------------------------------------------- value objects


def _expression(expr: Any) -> Any:
    if isinstance(expr, dict) and "base64" in expr:  # the reference's Python 3 form
        try:
            expr = decode_base64(expr["base64"], "EXPRESSION").decode("utf-8")
        except UnicodeDecodeError:
            raise ServiceError("EXPRESSION base64 is not UTF-8 text") from None
    if not isinstance(expr, str):
        raise ServiceError("EXPRESSION 'expr' must be a string")
    return scapy_dialect.evaluate(expr)


def plain_value(value: Any) -> Any:
    """A field-independent value: lists and value objects resolved recursively."""
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    vtype = value.get("vtype")
    if vtype == "EXPRESSION":
        return _expression(value.get("expr"))
    if vtype == "BYTES":
        return generate_bytes(value)
    if vtype == "OBJECT":
        return value.get("value")
    raise ServiceError(f"unsupported value object vtype {vtype!r}")


def _address_text(fld: Field[Any, Any], text: str, where: str) -> str:
    """Reject host names: resolving them would emit DNS traffic from the server."""
    family = socket.AF_INET6 if isinstance(fld, IP6Field) else socket.AF_INET
    address, _, prefix = text.partition("/")
    try:
        socket.inet_pton(family, address)
        if prefix:
            int(prefix)
    except (OSError, ValueError):
        kind = "IPv6" if family == socket.AF_INET6 else "IPv4"
        raise ServiceError(f"bad {kind} address {text!r} for {where}") from None
    return text


def human_value(layer: Packet, fld: Field[Any, Any] | _FieldContainer, text: str, where: str) -> Any:
    """A human string (decimal, 0x hex, enum name, flag letters, address) for `fld`."""
    if text == "":
        return RESET
    actual = encoding_field(layer, fld)
    if field_holds_number(actual):
        text = text.strip()
        if _HEX.match(text) and field_converts_numbers(actual):
            return Internal(int(text, 16))  # the hex hvalue of a converting field is its internal value
        number = parse_number_text(text)
        if number is not None:
            return number
        try:
            value = actual.any2i(layer, text)
        except Exception:
            raise ServiceError(f"bad value {text!r} for {where}") from None
        if isinstance(value, str):
            raise ServiceError(f"bad value {text!r} for {where}")
        return value
    if isinstance(actual, (IPField, IP6Field)):
        return _address_text(actual, text, where)
    return text


def field_value(layer: Packet, fld: Field[Any, Any] | _FieldContainer, value: Any, where: str) -> Any:
    """The value to set on `layer`'s field `fld` for model value `value`."""
    if value is None:
        return RESET
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return human_value(layer, fld, value, where)
    if isinstance(value, dict):
        vtype = value.get("vtype")
        if vtype == "UNDEFINED":
            return RESET
        if vtype == "RANDOM":
            try:
                rnd = fld.randval()
            except Exception:
                rnd = None
            if rnd is None:
                raise ServiceError(f"{where} has no random value")
            return rnd
        if vtype == "MACHINE":
            data = decode_base64(value.get("base64"), "MACHINE base64")
            try:
                return encoding_field(layer, fld).m2i(layer, data)
            except Exception:
                raise ServiceError(f"bad MACHINE value for {where}") from None
        if vtype == "BYTES" and "total_size" in value:
            try:
                total = int(value["total_size"])
            except (TypeError, ValueError, OverflowError):
                raise ServiceError("BYTES total_size must be a number") from None
            _check_size(total, "BYTES total_size")
            return TotalSize(value, total)
        if vtype not in ("BYTES", "EXPRESSION", "OBJECT"):
            raise ServiceError(f"unknown value type {vtype!r} for {where}")
    value = plain_value(value)
    check_byte_counts(layer, fld, value, where)
    return value
