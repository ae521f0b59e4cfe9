"""Value conversion and the checks the instruction constructors share (reference §3).

Message texts are the reference's, byte for byte, including trailing spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scapyrpc.packets.field_engine.errors import FEError

__all__ = [
    "MAX_BY_SIZE",
    "U64_MAX",
    "VALID_SIZES",
    "VALUE_LIST_MAX",
    "check_cycle",
    "check_init",
    "check_min_max",
    "check_not_negative",
    "check_size",
    "check_size_param",
    "convert_val",
    "convert_val_list",
    "int_to_ipv4",
    "require",
]

MAX_BY_SIZE = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF, 8: 0xFFFFFFFFFFFFFFFF}
VALID_SIZES = tuple(MAX_BY_SIZE)
U64_MAX = MAX_BY_SIZE[8]
VALUE_LIST_MAX = 65535


def type_name(value: Any) -> str:
    return type(value).__name__


def require(arg: str, value: Any, expected: type, shown: str | None = None) -> None:
    """The reference `validate_type`; unlike it, a boolean never passes as an integer."""
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        raise FEError(
            f"Argument: '{arg}' invalid type: '{type_name(value)}', expecting type(s): {shown or expected.__name__}."
        )


def ipv4_to_int(text: str) -> int:
    """Strict dotted quad (4 decimal octets, no leading zeros, no spaces) -> uint32."""
    parts = text.split(".")
    if len(parts) != 4 or not all(_octet(p) for p in parts):
        raise FEError(f"Not valid IPv4 format: {text}")
    value = 0
    for part in parts:
        value = (value << 8) | int(part)
    return value


def _octet(part: str) -> bool:
    return (
        part.isascii()
        and part.isdigit()
        and 1 <= len(part) <= 3
        and (part == "0" or not part.startswith("0"))
        and int(part) <= 255
    )


def int_to_ipv4(value: int) -> str:
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def convert_val(value: Any) -> int:
    """An exact int as is, IPv4 text as uint32; anything else is `init val invalid`."""
    if type(value) is int:
        return value
    if isinstance(value, str):
        return ipv4_to_int(value)
    raise FEError(f"init val invalid {value} ")


def convert_val_list(values: Any) -> list[int]:
    if not isinstance(values, list):
        raise FEError(f"init val invalid(not list) {values} ")
    out = []
    for index, value in enumerate(values):
        if type(value) is int:
            out.append(value)
        elif isinstance(value, str):
            out.append(ipv4_to_int(value))
        else:
            raise FEError(f"init val[{index}] invalid {value} ")
    return out


def check_size(size: int, values: Iterable[int]) -> None:
    limit = MAX_BY_SIZE[size]
    for value in values:
        if value > limit:
            raise FEError(f"requested value {value} with size {size} is bigger than {limit:#x}")


def check_min_max(min_value: int, max_value: int) -> None:
    if min_value > max_value:
        raise FEError(f"max {max_value} is lower than min {min_value} ")


def check_init(init_value: int, min_value: int, max_value: int) -> None:
    if not min_value <= init_value <= max_value:
        raise FEError(f"init_value must be between min_value {min_value} and max_value {max_value}")


def check_cycle(op: str, min_value: int, max_value: int, step: int) -> None:
    """inc/dec ranges must be paddable to a whole number of steps (reference 'true cycle')."""
    if op not in ("inc", "dec"):
        return
    pad = (max_value - min_value + 1) % step
    if pad == 0:
        return
    step_pad = step - pad
    if (op == "inc" and U64_MAX - max_value < step_pad) or (op == "dec" and min_value < step_pad):
        raise FEError("could not pad range to be a true cycle - '(max_value - min_value + 1) % step' should be zero")


def check_size_param(size: Any) -> None:
    if type(size) is not int or size not in VALID_SIZES:
        raise FEError(f"Flow var has invalid size {size} ")


def check_not_negative(name: str, value: int) -> None:
    """An emit-time assertion of the reference (crashed HEAD on Python 3; reported here)."""
    if value < 0:
        raise FEError(f"{name} ({value}) is negative")
