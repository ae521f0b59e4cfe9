"""`decompile_vm_raw`: a compiled VM program back to the GUI's instruction model (reference §11).

Built so that compiling the result again gives the same program. Values keep
their JSON types as the reference returned them (docs/api.md, Field engine): numbers for
offsets, sizes, values and `cache_size`, booleans for flags, text for names,
operations and IPv4 addresses; `build_pkt_ex` accepts them as well as their text
forms. `init_value` and tuple `flags` are kept (the reference lost them), and
`global_parameters` is always present (`{}` without a cache).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.field_engine.checks import int_to_ipv4
from scapyrpc.packets.field_engine.instructions import (
    FixChecksumHw,
    FixIcmpv6,
    FixIpv4,
    FlowVar,
    FlowVarRepeatableRandom,
    TrimPktSize,
    TupleGen,
    WrFlowVar,
    WrMaskFlowVar,
)

__all__ = ["decompile"]

Params = dict[str, Any]


def decompile(vm_raw: Any) -> dict[str, Any]:
    """`{"instructions": [{"id", "parameters"}], "global_parameters": {...}}` for a compiled program."""
    if isinstance(vm_raw, dict) and "instructions" not in vm_raw and isinstance(vm_raw.get("vm"), dict):
        vm_raw = vm_raw["vm"]  # a stream's saved {"vm": program}
    if not isinstance(vm_raw, dict) or not isinstance(vm_raw.get("instructions"), list):
        raise ServiceError("vm program must be an object with an 'instructions' list")
    out = [_instruction(i, entry) for i, entry in enumerate(vm_raw["instructions"])]
    global_parameters: dict[str, int] = {}
    if vm_raw.get("cache") is not None:
        global_parameters["cache_size"] = _Reader("vm program", vm_raw).int("cache")
    return {"instructions": out, "global_parameters": global_parameters}


def _instruction(index: int, entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ServiceError(f"vm instruction {index + 1} must be an object with a string 'type'")
    convert = _CONVERTERS.get(entry["type"])
    if convert is None:
        raise ServiceError(f"vm instruction {index + 1}: unknown type '{entry['type']}'")
    instr_id, params = convert(_Reader(f"vm instruction {index + 1} ({entry['type']})", entry))
    return {"id": instr_id, "parameters": params}


class _Reader:
    """Typed access to one compiled instruction (or the program), with errors that name it and the key."""

    def __init__(self, where: str, obj: dict[str, Any]) -> None:
        self.where, self.obj = where, obj

    def _get(self, key: str, ok: Callable[[Any], bool], what: str, default: Any = ...) -> Any:
        if key not in self.obj:
            if default is not ...:
                return default
            raise ServiceError(f"{self.where}: missing '{key}'")
        value = self.obj[key]
        if not ok(value):
            raise ServiceError(f"{self.where}: '{key}' must be {what}")
        return value

    # the methods are named after what they return, so inside this class the builtins are spelled out
    def int(self, key: str, default: Any = ...) -> int:
        value: int = self._get(key, lambda v: type(v) is int, "an integer", default)
        return value

    def str(self, key: builtins.str, default: Any = ...) -> builtins.str:
        value: builtins.str = self._get(key, lambda v: isinstance(v, str), "a string", default)
        return value

    def bool(self, key: builtins.str, default: Any = ...) -> builtins.bool:
        value: builtins.bool = self._get(key, lambda v: isinstance(v, bool), "true or false", default)
        return value

    def optional_str(self, key: builtins.str) -> builtins.str | None:
        value: builtins.str | None = self._get(key, lambda v: v is None or isinstance(v, str), "a string or null", None)
        return value

    def int_list(self, key: builtins.str) -> list[builtins.int]:
        value: list[builtins.int] = self._get(
            key, lambda v: isinstance(v, list) and all(type(x) is int for x in v), "a list of integers"
        )
        return value


def _ip(value: int) -> str | int:
    """IPv4 text, as the GUI shows tuple ranges; a value outside IPv4 stays a number."""
    return int_to_ipv4(value) if 0 <= value <= 0xFFFFFFFF else value


def _chain(r: _Reader, params: Params) -> Params:
    """next_var / split_to_cores only when set: the GUI catalogue does not list them."""
    if not r.bool("split_to_cores", True):
        params["split_to_cores"] = False
    next_var = r.optional_str("next_var")
    if next_var is not None:
        params["next_var"] = next_var
    return params


def _flow_var(r: _Reader) -> tuple[str, Params]:
    params: Params = {"name": r.str("name")}
    if "value_list" in r.obj and r.obj["value_list"] is not None:
        params["value_list"] = r.int_list("value_list")
    else:
        for key in ("init_value", "max_value", "min_value"):
            params[key] = r.int(key)
    params.update(step=r.int("step", 1), size=r.int("size"), op=r.str("op"))
    return FlowVar.ID, _chain(r, params)


def _rand_limit(r: _Reader) -> tuple[str, Params]:
    params: Params = {"name": r.str("name")}
    for key in ("size", "limit", "seed", "min_value", "max_value"):
        params[key] = r.int(key)
    return FlowVarRepeatableRandom.ID, _chain(r, params)


def _write(r: _Reader) -> tuple[str, Params]:
    return WrFlowVar.ID, {
        "fv_name": r.str("name"),
        "pkt_offset": r.int("pkt_offset"),
        "offset_fixup": 0,
        "add_val": r.int("add_value", 0),
        "is_big": r.bool("is_big_endian", True),
    }


def _write_mask(r: _Reader) -> tuple[str, Params]:
    return WrMaskFlowVar.ID, {
        "fv_name": r.str("name"),
        "pkt_offset": r.int("pkt_offset"),
        "pkt_cast_size": r.int("pkt_cast_size"),
        "mask": r.int("mask"),
        "shift": r.int("shift"),
        "add_value": r.int("add_value", 0),
        "is_big": r.bool("is_big_endian", True),
    }


def _fix_ipv4(r: _Reader) -> tuple[str, Params]:
    return FixIpv4.ID, {"offset": r.int("pkt_offset")}


def _fix_hw(r: _Reader) -> tuple[str, Params]:
    l2_len, l3_len, l4_type = r.int("l2_len"), r.int("l3_len"), r.int("l4_type")
    l4_offset = 0 if l4_type == 17 and l3_len == 0 else l2_len + l3_len
    return FixChecksumHw.ID, {"l3_offset": l2_len, "l4_offset": l4_offset, "l4_type": l4_type}


def _fix_icmpv6(r: _Reader) -> tuple[str, Params]:
    l2_len, l3_len = r.int("l2_len"), r.int("l3_len")
    return FixIcmpv6.ID, {"l3_offset": l2_len, "l4_offset": l2_len + l3_len}


def _trim(r: _Reader) -> tuple[str, Params]:
    return TrimPktSize.ID, {"fv_name": r.str("name")}


def _tuple(r: _Reader) -> tuple[str, Params]:
    params: Params = {"name": r.str("name"), "ip_min": _ip(r.int("ip_min")), "ip_max": _ip(r.int("ip_max"))}
    for key, default in (("port_min", 1025), ("port_max", 65535), ("limit_flows", 100000), ("flags", 0)):
        params[key] = r.int(key, default)
    return TupleGen.ID, params


_CONVERTERS: dict[str, Callable[[_Reader], tuple[str, Params]]] = {
    "flow_var": _flow_var,
    "flow_var_rand_limit": _rand_limit,
    "write_flow_var": _write,
    "write_mask_flow_var": _write_mask,
    "fix_checksum_ipv4": _fix_ipv4,
    "fix_checksum_hw": _fix_hw,
    "fix_checksum_icmpv6": _fix_icmpv6,
    "trim_pkt_size": _trim,
    "tuple_flow_var": _tuple,
}
