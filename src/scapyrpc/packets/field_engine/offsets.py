"""Symbolic offsets: `IP.src`, `IP:1.dst`, `802|1Q.vlan` (fields) and `IP`, `IP:1` (layers).

Offsets are byte positions in the frame as built, read from the packet result
that `dissect` computed for the same packet (one offset computation per
request). Differences from the reference (TRex-patched Scapy), both deliberate:
a layer's offset is its real position on the wire (the reference ignored IPv4
option padding added at post-build time), and field offsets are per layer
instance (the reference shared them per class for repeated layers). As in the
reference, a bit field's offset is the byte holding its first bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scapyrpc.packets.field_engine.errors import FEError
from scapyrpc.packets.unwrap import layer_list

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["Layout"]

BAD_FIELD_DESC = "Field desription should be layer:cnt.field Example: IP.src or IP:1.src"


@dataclass(frozen=True)
class LayerInfo:
    class_name: str
    display_name: str  # Scapy's layer name (`Ethernet`, `802.1Q`), which layer descriptors use
    offset: int
    fields: dict[str, int]  # first field of each name -> offset in the layer


def layer_table(pkt: Packet, result: dict[str, Any]) -> list[LayerInfo]:
    """One LayerInfo per layer of `pkt`, outside-in, from `result` (its packet result);
    a trailing Padding layer is not offered."""
    infos = []
    for layer, entry in zip(layer_list(pkt), result["data"]):
        fields: dict[str, int] = {}
        for fld in entry["fields"]:
            fields.setdefault(fld["id"], fld["offset"])
        infos.append(LayerInfo(type(layer).__name__, str(layer.name), entry["offset"], fields))
    if infos and infos[-1].display_name == "Padding":
        infos.pop()
    return infos


class Layout:
    """Resolves descriptors against one packet and its packet result."""

    def __init__(self, pkt: Packet, result: dict[str, Any]) -> None:
        self.layers = layer_table(pkt, result)

    def field_offset(self, desc: str) -> int:
        """`Layer[:i].field` -> absolute byte offset; the layer matches by class or display name."""
        parts = desc.split(".")
        if len(parts) != 2:
            raise FEError(BAD_FIELD_DESC)
        layer_part, field_name = parts
        name, index = _split_index(layer_part.replace("|", "."), desc)
        layer = self._find(name, index, by_class=True)
        if field_name not in layer.fields:
            raise FEError(f"No layer {field_name}-{index}.")
        return layer.offset + layer.fields[field_name]

    def layer_offset(self, desc: str) -> int:
        """`Name[:i]` -> the layer's start offset; only the display name matches (`Ethernet`, `802.1Q`)."""
        name, index = _split_index(desc, desc)
        return self._find(name, index, by_class=False).offset

    def _find(self, name: str, index: int, by_class: bool) -> LayerInfo:
        count = 0
        for layer in self.layers:
            if layer.display_name == name or (by_class and layer.class_name == name):
                if count == index:
                    return layer
                count += 1
        raise FEError(f"no layer {name}-{index}")


def _split_index(text: str, desc: str) -> tuple[str, int]:
    pieces = text.split(":")
    if len(pieces) == 1:
        return pieces[0], 0
    try:
        return pieces[0], int(pieces[1])
    except ValueError:
        raise FEError(f"invalid layer index '{pieces[1]}' in '{desc}' (expected a number, as in IP:1.src)") from None
