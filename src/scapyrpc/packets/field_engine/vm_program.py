"""A compiled VM program (TRex's JSON) read into typed instructions, checked as TRex's `add_stream`
reads it: each field's JSON type and range, required fields, `null` for an optional field's
default, the per-instruction value checks and the implicit padding of inc/dec ranges.

Every problem is a `ServiceError` naming the instruction (`instructions[i] (type)`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.field_engine.checks import MAX_BY_SIZE
from scapyrpc.packets.field_engine.checks import VALID_SIZES as VAR_SIZES

__all__ = [
    "U32",
    "U64",
    "FixHw",
    "FixIcmpv6",
    "FixIpv4",
    "FlowVar",
    "Instruction",
    "Program",
    "RandLimit",
    "Trim",
    "Tuple",
    "Write",
    "WriteMask",
    "read_program",
]

U16, U32, U64 = MAX_BY_SIZE[2], MAX_BY_SIZE[4], MAX_BY_SIZE[8]
I32_MIN, I32_MAX = -(2**31), 2**31 - 1
FLOW_OPS = ("inc", "dec", "random")
MAX_LIST = 0xFFFF
MAX_CACHE = 0xFFFF
_MISSING = object()


def where(index: int, kind: str) -> str:
    """How messages name an instruction."""
    return f"instructions[{index}] ({kind})"


class _Fields:
    """Typed reading of one JSON object, with errors that name it and the field."""

    def __init__(self, name: str, obj: dict[str, Any]) -> None:
        self.name, self.obj = name, obj

    def fail(self, message: str) -> ServiceError:
        return ServiceError(f"{self.name}: {message}")

    def _get(self, key: str, default: Any) -> Any:
        value = self.obj.get(key)
        if value is None:
            if default is _MISSING:
                raise self.fail(f"'{key}' is missing" if key not in self.obj else f"'{key}' is null")
            return default
        return value

    def uint(self, key: str, limit: int, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if type(value) is not int or not 0 <= value <= limit:
            raise self.fail(f"'{key}' must be an integer from 0 to {limit}, got {_shown(value)}")
        return value

    def int32(self, key: str, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if type(value) is not int or not I32_MIN <= value <= I32_MAX:
            raise self.fail(f"'{key}' must be an integer from {I32_MIN} to {I32_MAX}, got {_shown(value)}")
        return value

    def bool(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false, got {_shown(value)}")
        return value

    def str(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.fail(f"'{key}' must be a string, got {_shown(value)}")
        return value

    def choice(self, key: builtins.str, choices: tuple[object, ...], default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if type(value) not in (int, str) or value not in choices:
            raise self.fail(f"'{key}' must be one of {', '.join(map(str, choices))}, got {_shown(value)}")
        return value


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- the instructions


@dataclass(frozen=True)
class Instruction:
    """One instruction: its place in the program and what TRex's JSON says of it."""

    KIND: ClassVar[str]
    index: int

    @property
    def where(self) -> str:
        return where(self.index, self.KIND)


@dataclass(frozen=True)
class FlowVar(Instruction):
    """`flow_var`: inc/dec over [min, max] (the range padded to whole steps) or over `value_list`, or random."""

    KIND = "flow_var"
    name: str
    size: int
    op: str
    init: int
    min: int
    max: int
    step: int
    value_list: tuple[int, ...] | None
    split: bool
    next_var: str


@dataclass(frozen=True)
class RandLimit(Instruction):
    """`flow_var_rand_limit`: random values that repeat every `limit` packets."""

    KIND = "flow_var_rand_limit"
    name: str
    size: int
    limit: int
    seed: int
    min: int
    max: int
    split: bool
    next_var: str


@dataclass(frozen=True)
class Tuple(Instruction):
    """`tuple_flow_var`: client IP and port pairs (variables `name.ip`, `name.port`, `name.flow_limit`)."""

    KIND = "tuple_flow_var"
    name: str
    ip_min: int
    ip_max: int
    port_min: int
    port_max: int
    limit_flows: int
    flags: int


@dataclass(frozen=True)
class Write(Instruction):
    KIND = "write_flow_var"
    name: str
    offset: int
    add: int
    big: bool


@dataclass(frozen=True)
class WriteMask(Instruction):
    KIND = "write_mask_flow_var"
    name: str
    offset: int
    cast: int
    mask: int
    shift: int
    add: int
    big: bool


@dataclass(frozen=True)
class FixIpv4(Instruction):
    KIND = "fix_checksum_ipv4"
    offset: int


@dataclass(frozen=True)
class FixHw(Instruction):
    KIND = "fix_checksum_hw"
    l2_len: int
    l3_len: int
    l4_type: int


@dataclass(frozen=True)
class FixIcmpv6(Instruction):
    KIND = "fix_checksum_icmpv6"
    l2_len: int
    l3_len: int


@dataclass(frozen=True)
class Trim(Instruction):
    KIND = "trim_pkt_size"
    name: str


@dataclass(frozen=True)
class Program:
    instructions: tuple[Instruction, ...]
    cache: int

    @property
    def random(self) -> bool:
        """Whether a flow_var draws from the stream's generator (which then needs a seed)."""
        return any(isinstance(inst, FlowVar) and inst.op == "random" for inst in self.instructions)


# ---------------------------------------------------------------- reading them


def _sized(f: _Fields, size: int, value: int, what: str) -> None:
    limit = (1 << (8 * size)) - 1
    if value > limit:
        raise f.fail(f"{what} {value} does not fit the variable's {size} bytes")


def _flow_var(index: int, f: _Fields) -> FlowVar:
    name, next_var = f.str("name"), f.str("next_var", "")
    size, op = f.choice("size", VAR_SIZES), f.choice("op", FLOW_OPS)
    value_list = f.obj.get("value_list")
    step = f.uint("step", U64)
    split = f.bool("split_to_cores", True)
    if step == 0:
        raise f.fail("step cannot be 0")
    if value_list is None:
        init, low, high = f.uint("init_value", U64), f.uint("min_value", U64), f.uint("max_value", U64)
        if high < low:
            raise f.fail(f"max_value {high} is smaller than min_value {low}")
        if not low <= init <= high:
            raise f.fail(f"init_value {init} is not between min_value {low} and max_value {high}")
        for what, value in (("init_value", init), ("min_value", low), ("max_value", high), ("step", step)):
            _sized(f, size, value, what)
        low, high = _pad_range(f, op, low, high, step)
        if high - low + 1 > U64:
            raise f.fail("the range covers all 2^64 values, which TRex cannot step through (a division by zero)")
        return FlowVar(index, name, size, op, init, low, high, step, None, split, next_var)
    if not isinstance(value_list, list) or not all(type(v) is int and 0 <= v <= U64 for v in value_list):
        raise f.fail("'value_list' must be a list of integers from 0 to 2^64 - 1")
    if step > len(value_list):
        raise f.fail(f"step {step} is bigger than the value_list's {len(value_list)} values")
    if len(value_list) > MAX_LIST:
        raise f.fail(f"value_list has {len(value_list)} values, more than {MAX_LIST}")
    for value in value_list:
        _sized(f, size, value, "value_list value")
    return FlowVar(index, name, size, op, 0, 0, 0, step, tuple(value_list), split, next_var)


def _pad_range(f: _Fields, op: str, low: int, high: int, step: int) -> tuple[int, int]:
    """An inc range grows up (a dec range down) to a whole number of steps, as TRex pads it."""
    pad = ((high - low + 1) & U64) % step
    if pad == 0 or op == "random":
        return low, high
    grow = step - pad
    if op == "inc":
        if U64 - high < grow:
            raise f.fail(
                "could not pad the range to a whole number of steps: (max_value - min_value + 1) % step must be 0"
            )
        return low, high + grow
    if low < grow:
        raise f.fail("could not pad the range to a whole number of steps: (max_value - min_value + 1) % step must be 0")
    return low - grow, high


def _rand_limit(index: int, f: _Fields) -> RandLimit:
    name, next_var = f.str("name"), f.str("next_var", "")
    size = f.choice("size", VAR_SIZES)
    seed, limit = f.uint("seed", U64), f.uint("limit", U64)
    low, high = f.uint("min_value", U64), f.uint("max_value", U64)
    split = f.bool("split_to_cores", True)
    if limit < 1:
        raise f.fail("limit cannot be 0")
    if high < low:
        raise f.fail(f"max_value {high} is smaller than min_value {low}")
    for what, value in (("min_value", low), ("max_value", high)):
        _sized(f, size, value, what)
    # TRex's bound on the limit for sizes 1, 2, 4, 8 is 2^8, 2^16, 2^24, 2^32 less one (the index
    # of the size in its table, plus one, times 8 bits)
    limit_max = (1 << (8 * (VAR_SIZES.index(size) + 1))) - 1
    if limit > limit_max:
        raise f.fail(f"limit {limit} is bigger than TRex allows for a {size}-byte variable ({limit_max})")
    return RandLimit(index, name, size, limit, seed, low, high, split, next_var)


def _tuple(index: int, f: _Fields) -> Tuple:
    name = f.str("name")
    ip_min, ip_max = f.uint("ip_min", U32), f.uint("ip_max", U32)
    port_min, port_max = f.uint("port_min", U16), f.uint("port_max", U16)
    limit_flows, flags = f.uint("limit_flows", U32), f.uint("flags", U16)
    if ip_min > ip_max:
        raise f.fail(f"ip_min {ip_min} is bigger than ip_max {ip_max}")
    if port_min > port_max:
        raise f.fail(f"port_min {port_min} is bigger than port_max {port_max}")
    return Tuple(index, name, ip_min, ip_max, port_min, port_max, limit_flows, flags)


def _write(index: int, f: _Fields) -> Write:
    return Write(index, f.str("name"), f.uint("pkt_offset", U16), f.int32("add_value"), f.bool("is_big_endian"))


def _write_mask(index: int, f: _Fields) -> WriteMask:
    name, offset = f.str("name"), f.uint("pkt_offset", U16)
    cast = f.uint("pkt_cast_size", U16) & 0xFF  # TRex keeps it in a byte
    mask, shift = f.uint("mask", U32), f.int32("shift")
    add, big = f.int32("add_value"), f.bool("is_big_endian")
    if cast not in (1, 2, 4):
        raise f.fail(f"pkt_cast_size must be 1, 2 or 4, got {cast}")
    return WriteMask(index, name, offset, cast, mask, shift, add, big)


def _fix_ipv4(index: int, f: _Fields) -> FixIpv4:
    return FixIpv4(index, f.uint("pkt_offset", U16))


def _fix_hw(index: int, f: _Fields) -> FixHw:
    return FixHw(index, f.uint("l2_len", U16), f.uint("l3_len", U16), f.uint("l4_type", U16) & 0xFF)


def _fix_icmpv6(index: int, f: _Fields) -> FixIcmpv6:
    return FixIcmpv6(index, f.uint("l2_len", U16), f.uint("l3_len", U16))


def _trim(index: int, f: _Fields) -> Trim:
    return Trim(index, f.str("name"))


_READERS: dict[str, Callable[[int, _Fields], Instruction]] = {
    cls.KIND: reader
    for cls, reader in (
        (FlowVar, _flow_var),
        (RandLimit, _rand_limit),
        (Tuple, _tuple),
        (Write, _write),
        (WriteMask, _write_mask),
        (FixIpv4, _fix_ipv4),
        (FixHw, _fix_hw),
        (FixIcmpv6, _fix_icmpv6),
        (Trim, _trim),
    )
}


def read_program(program: Any) -> Program:
    """The program `{"instructions": [...], "cache"?: N}` read and checked (`split_by_var`, which
    older TRex versions wrote, is accepted and has no effect: variables split by `split_to_cores`);
    a stream's `{"vm": {...}}` is taken for the program it holds, as decompile_vm_raw takes it."""
    if isinstance(program, dict) and set(program) == {"vm"}:
        program = program["vm"]
    if not isinstance(program, dict) or not isinstance(program.get("instructions"), list):
        raise ServiceError("vm_program must be an object with an 'instructions' list")
    top = _Fields("vm_program", program)
    cache = top.uint("cache", MAX_CACHE, 0)
    if program.get("split_by_var") is not None:
        top.str("split_by_var")
    return Program(tuple(_instruction(i, entry) for i, entry in enumerate(program["instructions"])), cache)


def _instruction(index: int, entry: Any) -> Instruction:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ServiceError(f"instructions[{index}] must be an object with a string 'type'")
    reader = _READERS.get(entry["type"])
    if reader is None:
        raise ServiceError(
            f"instructions[{index}]: unknown type {_shown(entry['type'])}; known types: {', '.join(_READERS)}"
        )
    return reader(index, _Fields(where(index, entry["type"]), entry))
