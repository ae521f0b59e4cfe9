"""Pre-flight warnings: what a compiled program will do wrong on TRex, said before TRex says it.

TRex validates a stream's program only when the stream is added to a port, and some mistakes
it never reports: a write wider than the field it starts at silently overwrites the next
one, a write into a header nobody fixes the checksum of sends broken packets. Each warning
names the instruction (its index in the client's instruction list) and the field it touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scapyrpc.packets.field_engine.instructions import Instruction
from scapyrpc.packets.field_engine.offsets import Layout

__all__ = ["warnings"]

MIN_FRAME = 60  # TRex pads a stream's packet to this many bytes
_L4 = ("TCP", "UDP")
_TUPLE_PARTS = {"ip": 4, "port": 2}


@dataclass(frozen=True)
class _Write:
    index: int  # in the client's instruction list
    name: str  # the variable it writes
    start: int
    length: int


def warnings(
    program: list[Instruction], final: list[Instruction], emitted: list[dict[str, Any]], layout: Layout
) -> list[dict[str, Any]]:
    """Warnings about `emitted` (the compiled `final` program) on `layout`'s packet; `program` is the
    client's order, which the warnings' indexes refer to."""
    index = {id(inst): i for i, inst in enumerate(program)}
    compiled = [(index[id(inst)], out) for inst, out in zip(final, emitted)]
    sizes = _variable_sizes(emitted)
    found: list[dict[str, Any]] = []
    found += _unchanging(compiled)
    found += _trims(compiled, emitted, layout)
    for position, (i, out) in enumerate(compiled):
        if out["type"] not in ("write_flow_var", "write_mask_flow_var"):
            continue
        write = _Write(i, out["name"], out["pkt_offset"], _width(out, sizes))
        found += _outside(write, layout, emitted)
        found += _wider_than_field(write, layout)
        found += _unfixed_checksums(write, layout, [later for _, later in compiled[position + 1 :]])
    return sorted(found, key=lambda w: w["instruction"])


def _variable_sizes(emitted: list[dict[str, Any]]) -> dict[str, int]:
    sizes = {}
    for out in emitted:
        if out["type"] in ("flow_var", "flow_var_rand_limit"):
            sizes[out["name"]] = out["size"]
        elif out["type"] == "tuple_flow_var":
            for part, size in _TUPLE_PARTS.items():
                sizes[f"{out['name']}.{part}"] = size
    return sizes


def _width(out: dict[str, Any], sizes: dict[str, int]) -> int:
    if out["type"] == "write_mask_flow_var":
        return int(out["pkt_cast_size"])
    return sizes.get(out["name"], 0)


def _warning(index: int, message: str) -> dict[str, Any]:
    return {"instruction": index, "message": message}


def _unchanging(compiled: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    found = []
    for i, out in compiled:
        if out["type"] not in ("flow_var", "flow_var_rand_limit"):
            continue
        values = out.get("value_list")
        if values is not None and len(set(values)) == 1:
            found.append(_warning(i, f"variable {out['name']} never changes: its value list holds one value"))
        elif values is None and out.get("min_value") == out.get("max_value"):
            found.append(
                _warning(
                    i, f"variable {out['name']} never changes: its minimum and maximum are both {out.get('min_value')}"
                )
            )
    return found


def _trim_floor(emitted: list[dict[str, Any]], layout: Layout) -> int | None:
    """The shortest the packet can get through trim_pkt_size (None: it is never trimmed)."""
    trimmed = {out["name"] for out in emitted if out["type"] == "trim_pkt_size"}
    floors = [
        out.get("min_value", 0)
        for out in emitted
        if out["type"] in ("flow_var", "flow_var_rand_limit") and out["name"] in trimmed
    ]
    floors += [
        min(out["value_list"])
        for out in emitted
        if out["type"] == "flow_var" and out["name"] in trimmed and out.get("value_list")
    ]
    return min(floors) if floors else None


def _trims(
    compiled: list[tuple[int, dict[str, Any]]], emitted: list[dict[str, Any]], layout: Layout
) -> list[dict[str, Any]]:
    found = []
    variables = {out["name"]: out for out in emitted if out["type"] in ("flow_var", "flow_var_rand_limit")}
    for i, out in compiled:
        if out["type"] != "trim_pkt_size" or out["name"] not in variables:
            continue
        var = variables[out["name"]]
        values = var.get("value_list") or [var.get("min_value", 0), var.get("max_value", 0)]
        low, high = min(values), max(values)
        length = max(layout.frame_length, MIN_FRAME)
        if low < MIN_FRAME or high > length:
            found.append(
                _warning(
                    i,
                    f"trims to {out['name']} ({low}..{high} bytes), outside {MIN_FRAME}..{length}: "
                    f"the packet is {length} bytes and TRex sends no frame under {MIN_FRAME}",
                )
            )
    return found


def _outside(write: _Write, layout: Layout, emitted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    end = write.start + write.length
    length = max(layout.frame_length, MIN_FRAME)
    if write.start < 0 or end > length:
        return [
            _warning(
                write.index,
                f"writes bytes {write.start}..{end - 1} of a {length}-byte packet: "
                "past its end (TRex refuses the stream)",
            )
        ]
    floor = _trim_floor(emitted, layout)
    if floor is not None and end > floor:
        return [
            _warning(
                write.index,
                f"writes bytes {write.start}..{end - 1}, past the end of the packet once trimmed to {floor} bytes",
            )
        ]
    return []


def _wider_than_field(write: _Write, layout: Layout) -> list[dict[str, Any]]:
    span = layout.field_at(write.start)
    if span is None or span.bit_length or not span.length:
        return []
    end = write.start + write.length
    if end <= span.start + span.length:
        return []
    over = [s.label for s in layout.fields_between(span.start + span.length, end) if s.label != span.label]
    also = f": it overwrites {', '.join(over)} too" if over else ""
    return [_warning(write.index, f"writes {write.length} bytes at {span.label} ({span.length} bytes){also}")]


def _unfixed_checksums(write: _Write, layout: Layout, after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A write into an IPv4 header, or into what a TCP/UDP checksum covers, with no fix after it."""
    end = write.start + write.length
    found = []
    for ip in layout.layers_named("IP"):
        header_end = ip.offset + ip.header_length
        if write.start < header_end and end > ip.offset and not _fixes_ipv4(after, ip.offset):
            touched = _touched(layout, write.start, end)
            found.append(
                _warning(
                    write.index,
                    f"writes into the IPv4 header ({touched}) with no STLVmFixIpv4 or "
                    "STLVmFixChecksumHw for it: its checksum will be wrong",
                )
            )
        pseudo = layout.pseudo_header(ip)
        for l4 in layout.layers_after(ip, _L4):
            covers = write.start < layout.frame_length and end > l4.offset
            covers = covers or any(write.start < s.start + s.length and end > s.start for s in pseudo)
            if covers and layout.l4_checksum_on(l4) and not _fixes_l4(after, l4.offset):
                touched = _touched(layout, write.start, end)
                found.append(
                    _warning(
                        write.index,
                        f"changes what the {l4.class_name} checksum covers ({touched}) "
                        "with no STLVmFixChecksumHw for it: its checksum will be wrong",
                    )
                )
    return found


def _touched(layout: Layout, start: int, end: int) -> str:
    labels = [span.label for span in layout.fields_between(start, end)]
    return ", ".join(labels) if labels else f"bytes {start}..{end - 1}"


def _fixes_ipv4(program: list[dict[str, Any]], ip_offset: int) -> bool:
    return any(
        (out["type"] == "fix_checksum_ipv4" and out["pkt_offset"] == ip_offset)
        or (out["type"] == "fix_checksum_hw" and out["l2_len"] == ip_offset)
        for out in program
    )


def _fixes_l4(program: list[dict[str, Any]], l4_offset: int) -> bool:
    return any(
        out["type"] == "fix_checksum_hw" and out["l3_len"] and out["l2_len"] + out["l3_len"] == l4_offset
        for out in program
    )
