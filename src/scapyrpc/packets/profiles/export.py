"""`export_profile`: the editor's streams as a TRex STL profile, in Python, JSON or YAML.

Each stream's packet is built and its Field Engine compiled exactly as `build_pkt_ex` does
(the model and the instructions are the same parameters); the JSON and YAML hold those bytes
and that program, the Python profile writes both for TRex's own Scapy.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from scapy.layers.l2 import Ether
from scapy.packet import Packet

from scapyrpc.packets import dissect, field_engine, model
from scapyrpc.packets.errors import InputSyntaxError, ServiceError
from scapyrpc.packets.profiles import python_profile, stream_json, text_formats
from scapyrpc.packets.profiles.packet_code import packet_code
from scapyrpc.packets.profiles.streams import (
    Stream,
    check_links,
    check_stream_count,
    fail,
    known_keys,
    member,
    obj,
    packet_size,
    shown,
)

MAX_CACHE = 0xFFFF  # TRex's server reads a program's cache size as 16 bits
STREAM_KEYS = (
    "name",
    "model",
    "field_engine",
    "mode",
    "isg",
    "next",
    "self_start",
    "random_seed",
    "mac_src_override_by_pkt",
    "mac_dst_override_mode",
)
IGNORED_KEYS = ("binary", "dropped")  # what import_profile adds: its streams can be sent back as they are


@dataclass(frozen=True)
class Built:
    """One stream, its packet built and its program compiled."""

    settings: Stream
    packet: Packet
    result: dict[str, Any]  # the packet result
    binary: bytes
    program: dict[str, Any]  # the compiled program, as build_pkt_ex's field_engine.instructions


def export_profile(streams: Any, options: Any) -> dict[str, Any]:
    """`{"text": ...}`: the profile in `options.format`; with `notes` when TRex will not load all
    of it as written (parts of a packet its Scapy lacks, values its JSON loader drops)."""
    options = obj(options, "options")
    known_keys(options, ("format",), "options")
    fmt = options.get("format")
    if fmt not in text_formats.FORMATS:
        raise fail("options.format", f"must be one of {', '.join(text_formats.FORMATS)}")
    if not isinstance(streams, list):
        raise fail("streams", "must be a list of streams")
    check_stream_count(len(streams), "streams")
    built = [build(item, member("streams", index)) for index, item in enumerate(streams)]
    check_links([b.settings for b in built])
    notes: list[str] = []
    if fmt == "python":
        python = [_python_stream(b) for b in built]
        notes = [f"streams[{i}]: {s.packet.note}" for i, s in enumerate(python) if s.packet.note]
        result = {"text": python_profile.write(python)}
    else:
        notes = [note for i, b in enumerate(built) for note in _loader_notes(b.program, member("streams", i))]
        result = {"text": text_formats.dump([_stream_json(b) for b in built], fmt)}
    return {**result, "notes": notes} if notes else result


def _loader_notes(program: dict[str, Any], where: str) -> list[str]:
    """What TRex's JSON and YAML loader (STLPktBuilder.from_json) does not read back of a program:
    the Python profile keeps all of it."""
    notes = []
    for inst in program["instructions"]:
        kind = inst["type"]
        if kind == "flow_var" and "init_value" in inst:
            start = inst["max_value"] if inst["op"] == "dec" else inst["min_value"]
            if inst["init_value"] != start:
                notes.append(
                    f"{where}: TRex's JSON and YAML loader starts variable {shown(inst['name'])} at {start}, "
                    f"not at its init_value {inst['init_value']} (the Python profile keeps it)"
                )
        elif kind == "tuple_flow_var" and inst["flags"]:
            notes.append(
                f"{where}: TRex's JSON and YAML loader drops the flags {inst['flags']} of tuple generator "
                f"{shown(inst['name'])} (the Python profile keeps them)"
            )
        elif kind == "fix_checksum_hw" and inst["l3_len"] == 0:
            notes.append(
                f"{where}: TRex's JSON and YAML loader refuses fix_checksum_hw of an IPv4 header alone "
                "(l3_len 0); the Python profile loads"
            )
    return notes


def build(item: Any, where: str) -> Built:
    """One stream of the request: its settings read, its packet built, its program compiled."""
    item = obj(item, where)
    known_keys(item, STREAM_KEYS + IGNORED_KEYS, where)
    settings = Stream.read(item, where)
    if "model" not in item:
        raise fail(where, "missing 'model' (the packet's layers, as build_pkt takes them)")
    with _prefixed(member(where, "model")):
        pkt = model.build_packet(item["model"])
        result = dissect.packet_result(pkt)
    binary = base64.b64decode(result["binary"])
    packet_size(binary, member(where, "model"))
    program: dict[str, Any] = {"instructions": []}
    if item.get("field_engine") is not None:
        fe_where = member(where, "field_engine")
        compiled = field_engine.compile_for_packet(pkt, result, {"field_engine": item["field_engine"]})
        if compiled["error"] is not None:
            raise fail(fe_where, compiled["error"].strip())
        program = compiled["instructions"]
        if program.get("cache", 0) > MAX_CACHE:
            raise fail(member(member(fe_where, "global_parameters"), "cache_size"), f"TRex takes at most {MAX_CACHE}")
    return Built(settings, pkt, result, binary, program)


@contextmanager
def _prefixed(where: str) -> Iterator[None]:
    """Errors of the packet model, said where they are."""
    try:
        yield
    except ServiceError as exc:
        raise fail(where, str(exc)) from None
    except InputSyntaxError as exc:
        raise InputSyntaxError(f"{where}: {exc}") from None


def _macs_set(pkt: Packet) -> tuple[bool, bool]:
    """Whether the packet's Ether layer sets its source, its destination (TRex's
    STLPktBuilder.is_default_src_mac and is_default_dst_mac)."""
    if not isinstance(pkt, Ether):
        return False, False
    return "src" in pkt.fields, "dst" in pkt.fields


def _stream_json(built: Built) -> dict[str, Any]:
    return stream_json.write(built.settings, built.binary, built.program, _flags(built))


def _flags(built: Built) -> int:
    return stream_json.flags(built.settings, *_macs_set(built.packet))


def _python_stream(built: Built) -> python_profile.PythonStream:
    return python_profile.PythonStream(
        built.settings,
        packet_code(built.packet, built.binary, built.result),
        field_engine.decompile(built.program),
        _flags(built),
        built.result["data"],
    )
