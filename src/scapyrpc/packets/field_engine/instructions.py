"""The nine Field Engine instructions: parameters, defaults, constructor checks and compiled JSON.

Each class mirrors one TRex STL class (reference §4). `create` applies the
constructor checks in the reference order; `emit` resolves symbolic offsets
and produces the compiled instruction object, keys in the reference order.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from scapyrpc.packets.field_engine.checks import (
    MAX_BY_SIZE,
    VALUE_LIST_MAX,
    check_cycle,
    check_init,
    check_min_max,
    check_not_negative,
    check_size,
    check_size_param,
    convert_val,
    convert_val_list,
    require,
)
from scapyrpc.packets.field_engine.errors import FEError
from scapyrpc.packets.field_engine.offsets import Layout

__all__ = [
    "CLASSES",
    "L4_TYPE_IP",
    "FixChecksumHw",
    "FixIcmpv6",
    "FixIpv4",
    "FlowVar",
    "FlowVarRepeatableRandom",
    "FlowVariable",
    "Instruction",
    "TrimPktSize",
    "TupleGen",
    "WrFlowVar",
    "WrMaskFlowVar",
]

REQUIRED = object()
FLOW_OPS = ("inc", "dec", "random")
CAST_SIZES = (1, 2, 4)
L4_TYPE_IP = 17


class Instruction(ABC):
    ID: ClassVar[str]
    PARAMS: ClassVar[dict[str, Any]]  # parameter -> default (REQUIRED if none)
    is_flow_var: ClassVar[bool] = False  # hoisted to the front and chainable via next_var

    @classmethod
    def create(cls, params: dict[str, Any]) -> Instruction:
        """Instantiate from sanitized parameters, running the constructor checks."""
        for key in params:
            if key not in cls.PARAMS:
                raise FEError(f"{cls.ID}: unknown parameter '{key}'")
        for key, default in cls.PARAMS.items():
            if default is REQUIRED and key not in params:
                raise FEError(f"{cls.ID}: missing required parameter '{key}'")
        inst = cls.__new__(cls)
        inst.setup(**{key: params.get(key, default) for key, default in cls.PARAMS.items()})
        return inst

    @abstractmethod
    def setup(self, *args: Any, **kwargs: Any) -> None:
        """Store the sanitized parameters, running the constructor's checks (each class names its own)."""

    def defines(self) -> tuple[str, ...]:
        """Variable names this instruction creates."""
        return ()

    def references(self) -> str | None:
        """The variable this instruction reads, if any."""
        return None

    @abstractmethod
    def emit(self, layout: Layout) -> dict[str, Any]:
        """The compiled VM instruction for this packet layout."""


def _field_offset(layout: Layout, value: Any) -> int:
    if isinstance(value, str):
        return layout.field_offset(value)
    require("pkt_offset", value, int)
    offset: int = value
    return offset


def _layer_offset(layout: Layout, arg: str, value: Any) -> int:
    if isinstance(value, str):
        return layout.layer_offset(value)
    require(arg, value, int)
    offset: int = value
    return offset


def _check_next_var(name: str, next_var: Any) -> None:
    if next_var is not None:
        require("next_var", next_var, str, "['str']")
        if next_var == name:
            raise FEError("Self loops are forbidden.")


class FlowVariable(Instruction):
    """A variable the program defines: hoisted to the front, chainable via `next_var`."""

    is_flow_var = True
    name: str
    split_to_cores: bool
    next_var: str | None


class FlowVar(FlowVariable):
    ID = "STLVmFlowVar"
    PARAMS: ClassVar[dict[str, Any]] = {
        "name": REQUIRED,
        "init_value": None,
        "min_value": 0,
        "max_value": 255,
        "size": 4,
        "step": 1,
        "op": "inc",
        "value_list": None,
        "split_to_cores": True,
        "next_var": None,
    }
    size: int
    op: str
    step: int
    init_value: int | None  # None with a value_list
    min_value: int | None
    max_value: int | None
    value_list: list[int] | None

    def setup(
        self,
        name: Any,
        init_value: Any,
        min_value: Any,
        max_value: Any,
        size: Any,
        step: Any,
        op: Any,
        value_list: Any,
        split_to_cores: Any,
        next_var: Any,
    ) -> None:
        require("name", name, str)
        check_size_param(size)
        if op not in FLOW_OPS:
            raise FEError(f"Flow var has invalid op {op} ")
        if next_var is not None and op == "random":
            require("next_var", next_var, str, "['str']")
            raise FEError(f"If next_var is defined then op can't be random. Check {name} ")
        _check_next_var(name, next_var)
        require("split_to_cores", split_to_cores, bool)
        step = convert_val(step)
        if step <= 0:
            raise FEError(f"step {step} must be more than 0")
        if value_list is None:
            if init_value is None:  # decided on the raw values, as the reference does
                init_value = max_value if op == "dec" else min_value
            init_value, min_value, max_value = convert_val(init_value), convert_val(min_value), convert_val(max_value)
            check_size(size, (min_value, max_value, init_value, step))
            check_min_max(min_value, max_value)
            check_init(init_value, min_value, max_value)
            check_cycle(op, min_value, max_value, step)
        else:
            if hasattr(value_list, "__len__") and len(value_list) > VALUE_LIST_MAX:
                raise FEError(f"value_list size {len(value_list)} bigger than {VALUE_LIST_MAX}")
            init_value = min_value = max_value = None
            value_list = convert_val_list(value_list)
            check_size(size, value_list)
        self.name, self.size, self.op, self.step = name, size, op, step
        self.init_value, self.min_value, self.max_value, self.value_list = init_value, min_value, max_value, value_list
        self.split_to_cores, self.next_var = split_to_cores, next_var

    def defines(self) -> tuple[str, ...]:
        return (self.name,)

    def emit(self, layout: Layout) -> dict[str, Any]:
        out = {
            "type": "flow_var",
            "name": self.name,
            "size": self.size,
            "op": self.op,
            "next_var": self.next_var,
            "split_to_cores": self.split_to_cores,
        }
        if self.value_list is None:
            for key in ("init_value", "min_value", "max_value"):
                check_not_negative(key, getattr(self, key))
                out[key] = getattr(self, key)
        else:
            for value in self.value_list:
                check_not_negative("value_list", value)
            out["value_list"] = self.value_list
        out["step"] = self.step
        return out


class FlowVarRepeatableRandom(FlowVariable):
    ID = "STLVmFlowVarRepeatableRandom"
    PARAMS: ClassVar[dict[str, Any]] = {
        "name": REQUIRED,
        "size": 4,
        "limit": 100,
        "seed": None,
        "min_value": 0,
        "max_value": None,
        "split_to_cores": True,
        "next_var": None,
    }
    size: int
    limit: int
    seed: Any  # checked when emitted
    min_value: int
    max_value: int

    def setup(
        self,
        name: Any,
        size: Any,
        limit: Any,
        seed: Any,
        min_value: Any,
        max_value: Any,
        split_to_cores: Any,
        next_var: Any,
    ) -> None:
        require("name", name, str)
        check_size_param(size)
        require("split_to_cores", split_to_cores, bool)
        _check_next_var(name, next_var)
        if seed is None:  # random by design, as in TRex: send a seed for a reproducible program
            seed = random.randint(1, 32000)
        min_value = 0 if min_value is None else convert_val(min_value)
        max_value = MAX_BY_SIZE[size] if max_value is None else convert_val(max_value)
        check_size(size, (min_value, max_value))
        check_min_max(min_value, max_value)
        require("limit", limit, int)
        if limit <= 0:
            raise FEError(f"limit {limit} must be more than 0")
        self.name, self.size, self.limit, self.seed = name, size, limit, seed
        self.min_value, self.max_value = min_value, max_value
        self.split_to_cores, self.next_var = split_to_cores, next_var

    def defines(self) -> tuple[str, ...]:
        return (self.name,)

    def emit(self, layout: Layout) -> dict[str, Any]:
        require("seed", self.seed, int)
        check_not_negative("min_value", self.min_value)
        check_not_negative("max_value", self.max_value)
        return {
            "type": "flow_var_rand_limit",
            "name": self.name,
            "size": self.size,
            "limit": self.limit,
            "seed": self.seed,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "split_to_cores": self.split_to_cores,
            "next_var": self.next_var,
        }


class _UsesVariable(Instruction):
    """An instruction that reads the variable `fv_name`."""

    fv_name: str

    def references(self) -> str | None:
        return self.fv_name


class _Write(_UsesVariable):
    """A write into the packet at `pkt_offset` (a field descriptor or a byte offset) plus `offset_fixup`."""

    pkt_offset: Any
    offset_fixup: int

    def target(self, layout: Layout) -> int:
        return _field_offset(layout, self.pkt_offset) + self.offset_fixup


class WrFlowVar(_Write):
    ID = "STLVmWrFlowVar"
    PARAMS: ClassVar[dict[str, Any]] = {
        "fv_name": REQUIRED,
        "pkt_offset": REQUIRED,
        "offset_fixup": 0,
        "add_val": 0,
        "is_big": True,
    }

    add_val: int
    is_big: bool

    def setup(self, fv_name: Any, pkt_offset: Any, offset_fixup: Any, add_val: Any, is_big: Any) -> None:
        require("fv_name", fv_name, str)
        require("offset_fixup", offset_fixup, int)
        require("add_val", add_val, int)
        require("is_big", is_big, bool)
        self.fv_name, self.pkt_offset, self.offset_fixup = fv_name, pkt_offset, offset_fixup
        self.add_val, self.is_big = add_val, is_big

    def emit(self, layout: Layout) -> dict[str, Any]:
        return {
            "type": "write_flow_var",
            "name": self.fv_name,
            "pkt_offset": self.target(layout),
            "add_value": self.add_val,
            "is_big_endian": self.is_big,
        }


class WrMaskFlowVar(_Write):
    ID = "STLVmWrMaskFlowVar"
    PARAMS: ClassVar[dict[str, Any]] = {
        "fv_name": REQUIRED,
        "pkt_offset": REQUIRED,
        "pkt_cast_size": 1,
        "mask": 0xFF,
        "shift": 0,
        "add_value": 0,
        "offset_fixup": 0,
        "is_big": True,
    }

    pkt_cast_size: int
    mask: int
    shift: int
    add_value: int
    is_big: bool

    def setup(
        self,
        fv_name: Any,
        pkt_offset: Any,
        pkt_cast_size: Any,
        mask: Any,
        shift: Any,
        add_value: Any,
        offset_fixup: Any,
        is_big: Any,
    ) -> None:
        require("fv_name", fv_name, str)
        require("offset_fixup", offset_fixup, int)
        require("pkt_cast_size", pkt_cast_size, int)
        if pkt_cast_size not in CAST_SIZES:
            raise FEError("not valid cast size")
        require("mask", mask, int)
        require("shift", shift, int)
        require("add_value", add_value, int)
        require("is_big", is_big, bool)
        self.fv_name, self.pkt_offset, self.pkt_cast_size = fv_name, pkt_offset, pkt_cast_size
        self.mask, self.shift, self.add_value = mask, shift, add_value
        self.offset_fixup, self.is_big = offset_fixup, is_big

    def emit(self, layout: Layout) -> dict[str, Any]:
        return {
            "type": "write_mask_flow_var",
            "name": self.fv_name,
            "pkt_offset": self.target(layout),
            "pkt_cast_size": self.pkt_cast_size,
            "mask": self.mask,
            "shift": self.shift,
            "add_value": self.add_value,
            "is_big_endian": self.is_big,
        }


class FixIpv4(Instruction):
    ID = "STLVmFixIpv4"
    PARAMS: ClassVar[dict[str, Any]] = {"offset": REQUIRED}

    offset: Any  # a layer descriptor or a byte offset, checked when emitted

    def setup(self, offset: Any) -> None:
        self.offset = offset

    def emit(self, layout: Layout) -> dict[str, Any]:
        return {"type": "fix_checksum_ipv4", "pkt_offset": _layer_offset(layout, "offset", self.offset)}


class FixChecksumHw(Instruction):
    ID = "STLVmFixChecksumHw"
    PARAMS: ClassVar[dict[str, Any]] = {"l3_offset": REQUIRED, "l4_offset": REQUIRED, "l4_type": REQUIRED}

    l3_offset: Any  # layer descriptors or byte offsets, checked when emitted
    l4_offset: Any
    l4_type: Any

    def setup(self, l3_offset: Any, l4_offset: Any, l4_type: Any) -> None:
        self.l3_offset, self.l4_offset, self.l4_type = l3_offset, l4_offset, l4_type

    def emit(self, layout: Layout) -> dict[str, Any]:
        l2_len = _layer_offset(layout, "l2_len", self.l3_offset)
        l4_offset = _layer_offset(layout, "l4_offset", self.l4_offset)
        if self.l4_type == L4_TYPE_IP and l4_offset == 0:  # IPv4 header checksum only
            l3_len = 0
        else:
            if l4_offset < l2_len + 8:
                raise FEError("l4_offset should be higher than l3_offset offset")
            l3_len = l4_offset - l2_len
        require("l4_type", self.l4_type, int)
        return {"type": "fix_checksum_hw", "l2_len": l2_len, "l3_len": l3_len, "l4_type": self.l4_type}


class FixIcmpv6(Instruction):
    ID = "STLVmFixIcmpv6"
    PARAMS: ClassVar[dict[str, Any]] = {"l3_offset": REQUIRED, "l4_offset": REQUIRED}

    l3_offset: Any  # layer descriptors or byte offsets, checked when emitted
    l4_offset: Any

    def setup(self, l3_offset: Any, l4_offset: Any) -> None:
        self.l3_offset, self.l4_offset = l3_offset, l4_offset

    def emit(self, layout: Layout) -> dict[str, Any]:
        l2_len = _layer_offset(layout, "l2_len", self.l3_offset)
        l4_offset = _layer_offset(layout, "l3_len", self.l4_offset)
        return {"type": "fix_checksum_icmpv6", "l2_len": l2_len, "l3_len": l4_offset - l2_len}


class TrimPktSize(_UsesVariable):
    ID = "STLVmTrimPktSize"
    PARAMS: ClassVar[dict[str, Any]] = {"fv_name": REQUIRED}

    def setup(self, fv_name: Any) -> None:
        require("fv_name", fv_name, str)
        self.fv_name = fv_name

    def emit(self, layout: Layout) -> dict[str, Any]:
        return {"type": "trim_pkt_size", "name": self.fv_name}


class TupleGen(Instruction):
    ID = "STLVmTupleGen"
    PARAMS: ClassVar[dict[str, Any]] = {
        "name": REQUIRED,
        "ip_min": "0.0.0.1",
        "ip_max": "0.0.0.10",
        "port_min": 1025,
        "port_max": 65535,
        "limit_flows": 100000,
        "flags": 0,
    }

    name: str
    ip_min: int
    ip_max: int
    port_min: int
    port_max: int
    limit_flows: int
    flags: int

    def setup(
        self, name: Any, ip_min: Any, ip_max: Any, port_min: Any, port_max: Any, limit_flows: Any, flags: Any
    ) -> None:
        require("name", name, str)
        ip_min, ip_max = convert_val(ip_min), convert_val(ip_max)
        for arg, value in (
            ("port_min", port_min),
            ("port_max", port_max),
            ("limit_flows", limit_flows),
            ("flags", flags),
        ):
            require(arg, value, int)
        self.name, self.ip_min, self.ip_max = name, ip_min, ip_max
        self.port_min, self.port_max, self.limit_flows, self.flags = port_min, port_max, limit_flows, flags

    def defines(self) -> tuple[str, ...]:
        return (f"{self.name}.ip", f"{self.name}.port")

    def emit(self, layout: Layout) -> dict[str, Any]:
        return {
            "type": "tuple_flow_var",
            "name": self.name,
            "ip_min": self.ip_min,
            "ip_max": self.ip_max,
            "port_min": self.port_min,
            "port_max": self.port_max,
            "limit_flows": self.limit_flows,
            "flags": self.flags,
        }


CLASSES: dict[str, type[Instruction]] = {
    cls.ID: cls
    for cls in (
        FlowVar,
        WrFlowVar,
        WrMaskFlowVar,
        FixIpv4,
        TrimPktSize,
        TupleGen,
        FlowVarRepeatableRandom,
        FixChecksumHw,
        FixIcmpv6,
    )
}
