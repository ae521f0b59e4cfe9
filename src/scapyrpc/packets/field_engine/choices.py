"""`load_instruction_parameter_values`: the suggestions the GUI offers for a parameter (reference §9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scapyrpc.packets.field_engine.instructions import FlowVar, FlowVarRepeatableRandom, TupleGen
from scapyrpc.packets.unwrap import layer_list

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["parameter_values"]


def parameter_values(pkt: Packet, fe_model: Any, parameter_id: str) -> dict[str, dict[str, str]]:
    """`{"map": {choice: choice}}` for `name`, `fv_name`, `pkt_offset` and `offset`; `{}` otherwise."""
    if parameter_id == "fv_name":
        choices = variable_names(fe_model)
    elif parameter_id in ("name", "pkt_offset", "offset"):
        choices = _packet_choices(layer_list(pkt), parameter_id)
    else:
        choices = []
    return {"map": {choice: choice for choice in choices}}


def _packet_choices(layers: list[Packet], parameter_id: str) -> list[str]:
    names = [type(layer).__name__ for layer in layers]
    if parameter_id == "offset":  # STLVmFixIpv4 targets IPv4 layers only
        return [f"IP:{i}" for i in range(names.count("IP"))]
    fields_of: dict[str, list[str]] = {}
    for layer in layers:
        fields_of.setdefault(type(layer).__name__, [f.name for f in layer.fields_desc])
    out: list[str] = []
    for cls_name, fields in fields_of.items():
        count = names.count(cls_name)
        for fname in fields:
            if parameter_id == "name":
                out.append(f"{cls_name}_{fname}")
            elif count == 1:
                out.append(f"{cls_name}.{fname}")
            else:
                out.extend(f"{cls_name}:{i}.{fname}" for i in range(count))
    return out


def variable_names(fe_model: Any) -> list[str]:
    """Variables the model's instructions define; a tuple generator offers `<name>.ip` and `<name>.port`."""
    if isinstance(fe_model, dict) and isinstance(fe_model.get("field_engine"), dict):
        fe_model = fe_model["field_engine"]
    instructions = fe_model.get("instructions") if isinstance(fe_model, dict) else fe_model
    out: list[str] = []
    for entry in instructions if isinstance(instructions, list) else []:
        params = entry.get("parameters") if isinstance(entry, dict) else None
        name = params.get("name") if isinstance(params, dict) else None
        if not isinstance(name, str) or not name:
            continue
        if entry.get("id") in (FlowVar.ID, FlowVarRepeatableRandom.ID):
            out.append(name)
        elif entry.get("id") == TupleGen.ID:
            out.extend((f"{name}.ip", f"{name}.port"))
    return out
