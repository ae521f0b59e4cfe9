"""A TRex STL profile as Python, in TRex's own conventions: `from trex_stl_lib.api import *`,
a class whose `get_streams(self, direction=0, **kwargs)` returns the streams, and
`register()`. TRex runs it with its own Scapy (2.4.3): each packet is the expression
`packet_code` wrote for that Scapy, each program the instructions `decompile` gives for the
compiled program (TRex's STLVm* classes take the same parameters), at the byte offsets it was
compiled to, each named in a comment. Loaded by TRex, every stream has the packet and the
program `build_pkt_ex` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scapyrpc.packets.expressions.scapy_dialect import render
from scapyrpc.packets.profiles.packet_code import PacketCode
from scapyrpc.packets.profiles.stream_json import MAC_DST_MASK, MAC_DST_SHIFT, MAC_SRC_BIT
from scapyrpc.packets.profiles.streams import Mode, Stream
from scapyrpc.version import PACKAGE_VERSION

CLASS_NAME = "STLS1"  # TRex's own profiles' name for the class register() returns
_MODE_CLASSES = {"continuous": "STLTXCont", "single_burst": "STLTXSingleBurst", "multi_burst": "STLTXMultiBurst"}
# Parameters that are byte offsets: named in a comment as a field (True) or as a layer (False).
_OFFSETS = {"pkt_offset": True, "offset": False, "l3_offset": False, "l4_offset": False}
_INDENT = " " * 8


@dataclass(frozen=True)
class PythonStream:
    """What one stream's method is written from."""

    settings: Stream
    packet: PacketCode
    field_engine: dict[str, Any]  # decompile()'s {"instructions": [...], "global_parameters": {...}}
    flags: int
    layers: list[dict[str, Any]]  # the packet result's layers, to name offsets


def write(streams: list[PythonStream]) -> str:
    """The whole profile."""
    imports = sorted({item for stream in streams for item in stream.packet.imports})
    lines = [
        f"# A TRex stateless profile written by scapyrpc {PACKAGE_VERSION} (export_profile).",
        "# Run it with TRex: `start -f <this file>` in trex-console, or STLProfile.load_py('<this file>').",
        "# Packets are Scapy expressions for TRex's own Scapy (2.4.3); Field Engine programs are",
        "# TRex's instructions at the byte offsets they were compiled to.",
        "from trex_stl_lib.api import *",
        *(f"from {module} import {name}" for module, name in imports),
        "",
        "",
        f"class {CLASS_NAME}(object):",
        f'    """{len(streams)} stream{"" if len(streams) == 1 else "s"}."""',
        "",
        "    def get_streams(self, direction=0, **kwargs):",
        f"        return [{', '.join(f'self.stream_{i}()' for i in range(len(streams)))}]",
    ]
    for index, stream in enumerate(streams):
        lines += ["", f"    def stream_{index}(self):", *_stream_body(stream)]
    lines += ["", "", "def register():", f"    return {CLASS_NAME}()", ""]
    return "\n".join(lines)


def _stream_body(stream: PythonStream) -> list[str]:
    lines = []
    if stream.packet.note:
        lines.append(f"{_INDENT}# {stream.packet.note}")
    layers = stream.packet.layers
    lines.append(f"{_INDENT}packet = {layers[0]}" if len(layers) == 1 else f"{_INDENT}packet = ({layers[0]} /")
    for position, layer in enumerate(layers[1:], start=2):
        lines.append(f"{_INDENT}          {layer}{')' if position == len(layers) else ' /'}")
    lines += _vm(stream)
    lines.append(f"{_INDENT}return STLStream(")
    lines += [f"{_INDENT}    {key}={value}," for key, value in _stream_arguments(stream)]
    lines.append(f"{_INDENT})")
    return lines


def _vm(stream: PythonStream) -> list[str]:
    instructions = stream.field_engine["instructions"]
    cache = stream.field_engine["global_parameters"].get("cache_size")
    tail = "" if cache is None else f", cache_size={render(cache)}"
    if not instructions:
        return [f"{_INDENT}vm = STLScVmRaw([]{tail})"]
    lines = [f"{_INDENT}vm = STLScVmRaw(["]
    for instruction in instructions:
        params = instruction["parameters"]
        text = ", ".join(f"{key}={render(value)}" for key, value in params.items())
        names = {
            key: name
            for key, as_field in _OFFSETS.items()
            if type(params.get(key)) is int and (name := _named(stream.layers, params[key], as_field))
        }
        shown = list(names.values()) if len(names) == 1 else [f"{key} {name}" for key, name in names.items()]
        comment = f"  # {', '.join(shown)}" if shown else ""
        lines.append(f"{_INDENT}    {instruction['id']}({text}),{comment}")
    lines.append(f"{_INDENT}]{tail})")
    return lines


def _stream_arguments(stream: PythonStream) -> list[tuple[str, str]]:
    """STLStream's arguments, in the order TRex's own code writer uses."""
    settings = stream.settings
    out = [("packet", "STLPktBuilder(pkt=packet, vm=vm)")]
    if settings.name is not None:
        out.insert(0, ("name", render(settings.name)))
    out += [("mode", _mode(settings.mode)), ("isg", render(settings.isg)), ("self_start", render(settings.self_start))]
    if settings.next is not None:
        out.append(("next", render(settings.next)))
    if settings.random_seed:
        out.append(("random_seed", render(settings.random_seed)))
    out += [
        ("mac_src_override_by_pkt", render(bool(stream.flags & MAC_SRC_BIT))),
        ("mac_dst_override_mode", render(stream.flags >> MAC_DST_SHIFT & MAC_DST_MASK)),
    ]
    return out


def _mode(mode: Mode) -> str:
    arguments: dict[str, Any] = {key: value for key, value in mode.editor().items() if key != "type"}
    burst = {key: arguments.pop(key) for key in list(arguments) if key != mode.rate_type}
    text = ", ".join(f"{key}={render(value)}" for key, value in {**burst, **arguments}.items())
    return f"{_MODE_CLASSES[mode.type]}({text})"


def _named(layers: list[dict[str, Any]], offset: int, as_field: bool) -> str | None:
    """`IP.src` (or `IP:1.src` for the second IP) for a field's offset, `IP` for a layer's."""
    seen: dict[str, int] = {}
    for layer in layers:
        index = seen[layer["id"]] = seen.get(layer["id"], -1) + 1
        prefix = layer["id"] if index == 0 else f"{layer['id']}:{index}"
        if not as_field and layer["offset"] == offset:
            return prefix
        if as_field:
            for fld in layer["fields"]:
                if layer["offset"] + fld["offset"] == offset and not fld.get("ignored"):
                    return f"{prefix}.{fld['id']}"
    return None
