"""TRex's stream JSON: one stream as `STLStream.to_json()` writes it and `STLStream.from_json()`
reads it (a profile is a list of them: `STLProfile.to_json()`), in both directions.

Written: every key `to_json()` writes, in its order (`name` and `next` only when set). Read: the
flat form, or the stateless GUI's form with the stream's keys under `stream:`; keys missing are
TRex's defaults. TRex's stream keys this project does not carry are listed as `dropped` when
they are not their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from scapyrpc.packets.encoding import decode_base64, encode_base64
from scapyrpc.packets.profiles.streams import Stream, fail, integer, member, obj, packet_size

# `flags` bits (STLStream): MAC source taken from the packet, MAC destination mode, dummy stream.
MAC_SRC_BIT, MAC_DST_SHIFT, MAC_DST_MASK, DUMMY_BIT = 0x1, 1, 0x3, 0x8


def flags(stream: Stream, src_set: bool, dst_set: bool) -> int:
    """The stream's `flags`: as given, else as TRex sets them for a Scapy packet (an Ether source
    or destination the packet sets is kept, else the port's is used)."""
    src = stream.mac_src_override_by_pkt if stream.mac_src_override_by_pkt is not None else src_set
    dst = stream.mac_dst_override_mode if stream.mac_dst_override_mode is not None else int(dst_set)
    return (MAC_SRC_BIT if src else 0) | (dst & MAC_DST_MASK) << MAC_DST_SHIFT


def write(stream: Stream, binary: bytes, program: dict[str, Any], stream_flags: int) -> dict[str, Any]:
    """The stream as TRex's JSON."""
    out: dict[str, Any] = {
        "flags": stream_flags,
        "action_count": 0,
        "enabled": True,
        "self_start": stream.self_start,
        "start_paused": False,
        "isg": stream.isg,
        "core_id": -1,
    }
    if stream.random_seed:
        out["random_seed"] = stream.random_seed
    out.update(
        mode=stream.mode.trex(),
        packet={"binary": encode_base64(binary), "meta": ""},
        vm=program,
        flow_stats={"enabled": False},
    )
    if stream.name is not None:
        out["name"] = stream.name
    if stream.next is not None:
        out["next"] = stream.next
    return out


@dataclass(frozen=True)
class ReadStream:
    """A stream read from TRex's JSON: its settings, packet, program and what was not carried."""

    settings: Stream
    binary: bytes
    vm: dict[str, Any]
    vm_where: str
    dropped: tuple[str, ...]


# TRex's stream keys with their defaults, which this project does not carry.
_NOT_CARRIED = {"enabled": True, "action_count": 0, "core_id": -1, "start_paused": False}
DROPPABLE = (*_NOT_CARRIED, "flow_stats", "dummy_stream")  # what `dropped` may list


def read(item: Any, where: str) -> ReadStream:
    """One stream of a profile, flat or in the GUI's form (`{name, stream: {...}}`)."""
    item = obj(item, where)
    inner = member(where, "stream")
    if "stream" in item:
        nested = obj(item["stream"], inner)
        merged = {**{k: v for k, v in item.items() if k != "stream"}, **nested}

        def at(key: str) -> str:
            return member(inner if key in nested else where, key)

    else:
        merged = item

        def at(key: str) -> str:
            return member(where, key)

    settings = Stream.read(merged, at, trex_form=True)
    packet = obj(merged.get("packet"), at("packet"))
    binary = decode_base64(packet.get("binary"), member(at("packet"), "binary"))
    packet_size(binary, member(at("packet"), "binary"))
    vm = obj(merged.get("vm", {"instructions": []}), at("vm"))
    stream_flags = integer(merged.get("flags", 0), at("flags"), 0, 0xFFFFFFFF)
    dst_mode = stream_flags >> MAC_DST_SHIFT & MAC_DST_MASK
    if dst_mode == MAC_DST_MASK:
        raise fail(at("flags"), "MAC destination mode 3 is not one of TRex's (0, 1, 2)")
    settings = replace(
        settings, mac_src_override_by_pkt=bool(stream_flags & MAC_SRC_BIT), mac_dst_override_mode=dst_mode
    )
    dropped = [key for key, default in _NOT_CARRIED.items() if merged.get(key, default) != default]
    if isinstance(merged.get("flow_stats"), dict) and merged["flow_stats"].get("enabled"):
        dropped.append("flow_stats")
    if stream_flags & DUMMY_BIT:
        dropped.append("dummy_stream")
    return ReadStream(settings, binary, vm, at("vm"), tuple(dropped))
