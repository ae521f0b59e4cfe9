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

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scapyrpc.packets.field_engine.errors import FEError
from scapyrpc.packets.unwrap import layer_list

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["Layout"]

BAD_FIELD_DESC = "Field desription should be layer:cnt.field Example: IP.src or IP:1.src"


@dataclass(frozen=True)
class Span:
    """Where one field of the packet sits: `label` as the GUI names it (`IP.src`), absolute bytes."""

    label: str
    start: int
    length: int
    bit_length: int = 0


@dataclass(frozen=True)
class LayerInfo:
    class_name: str
    display_name: str  # Scapy's layer name (`Ethernet`, `802.1Q`), which layer descriptors use
    offset: int
    fields: dict[str, int]  # first field of each name -> offset in the layer
    header_length: int = 0  # bytes from this layer's start to the next layer's (or the frame's end)
    spans: tuple[Span, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)  # first field of each name -> its value


def layer_table(pkt: Packet, result: dict[str, Any]) -> list[LayerInfo]:
    """One LayerInfo per layer of `pkt`, outside-in, from `result` (its packet result);
    a trailing Padding layer is not offered."""
    entries = list(zip(layer_list(pkt), result["data"]))
    frame_length = frame_length_of(result)
    infos = []
    for position, (layer, entry) in enumerate(entries):
        fields: dict[str, int] = {}
        values: dict[str, Any] = {}
        spans = []
        for fld in entry["fields"]:
            fields.setdefault(fld["id"], fld["offset"])
            values.setdefault(fld["id"], fld.get("value"))
            if not fld.get("ignored"):
                spans.append(
                    Span(
                        f"{entry['id']}.{fld['id']}",
                        entry["offset"] + fld["offset"],
                        fld.get("length", 0),
                        fld.get("bit_length", 0),
                    )
                )
        end = entries[position + 1][1]["offset"] if position + 1 < len(entries) else frame_length
        infos.append(
            LayerInfo(
                type(layer).__name__,
                str(layer.name),
                entry["offset"],
                fields,
                max(end - entry["offset"], 0),
                tuple(spans),
                values,
            )
        )
    if infos and infos[-1].display_name == "Padding":
        infos.pop()
    return infos


def frame_length_of(result: dict) -> int:
    binary = result.get("binary") or ""
    return len(base64.b64decode(binary)) if binary else 0


class Layout:
    """Resolves descriptors against one packet and its packet result, and says which fields
    a byte range touches (for pre-flight warnings)."""

    def __init__(self, pkt: Packet, result: dict[str, Any]) -> None:
        self.layers = layer_table(pkt, result)
        self.frame_length = frame_length_of(result)

    def _byte_spans(self) -> list[Span]:
        return [span for layer in self.layers for span in layer.spans if span.length and not span.bit_length]

    def field_at(self, offset: int) -> Span | None:
        """The narrowest whole-byte field holding byte `offset`, if any."""
        holding = [s for s in self._byte_spans() if s.start <= offset < s.start + s.length]
        return min(holding, key=lambda s: s.length) if holding else None

    def fields_between(self, start: int, end: int) -> list[Span]:
        """The fields (whole-byte or bit) that bytes start..end-1 touch, in packet order."""
        touched = []
        for layer in self.layers:
            for span in layer.spans:
                length = span.length or (1 if span.bit_length else 0)
                if length and span.start < end and span.start + length > start and span not in touched:
                    touched.append(span)
        return touched

    def layers_named(self, class_name: str) -> list[LayerInfo]:
        return [layer for layer in self.layers if layer.class_name == class_name]

    def layers_after(self, layer: LayerInfo, classes: tuple[str, ...]) -> list[LayerInfo]:
        """The layer right after `layer`, when it is one of `classes` (its transport)."""
        at = self.layers.index(layer)
        following = self.layers[at + 1 : at + 2]
        return [nxt for nxt in following if nxt.class_name in classes]

    def pseudo_header(self, ip: LayerInfo) -> list[Span]:
        """The IPv4 fields a TCP or UDP checksum also covers."""
        return [span for span in ip.spans if span.label.rpartition(".")[2] in ("src", "dst", "proto", "len")]

    @staticmethod
    def l4_checksum_on(layer: LayerInfo) -> bool:
        """False for a UDP datagram sent without a checksum (0), which needs no fixing."""
        return not (layer.class_name == "UDP" and layer.values.get("chksum") == 0)

    def field_offset(self, desc: str) -> int:
        """`Layer[:i].field` -> absolute byte offset; the layer matches by class or display name."""
        parts = desc.split(".")
        if len(parts) != 2:
            raise FEError(
                BAD_FIELD_DESC,
                detail=f"'{desc}' is not a field: write Layer.field (IP.src), or IP:1.src for the second IP",
            )
        layer_part, field_name = parts
        name, index = _split_index(layer_part.replace("|", "."), desc)
        layer = self._find(name, index, by_class=True)
        if field_name not in layer.fields:
            fields = ", ".join(layer.fields)
            raise FEError(
                f"No layer {field_name}-{index}.",
                detail=f"{layer_part} has no field '{field_name}' (its fields: {fields})",
            )
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
        names = ", ".join(layer.class_name for layer in self.layers)
        which = f"a layer {name}" if index == 0 else f"{index + 1} layers {name}"
        raise FEError(f"no layer {name}-{index}", detail=f"the packet has no {which} (its layers: {names})")


def _split_index(text: str, desc: str) -> tuple[str, int]:
    pieces = text.split(":")
    if len(pieces) == 1:
        return pieces[0], 0
    try:
        return pieces[0], int(pieces[1])
    except ValueError:
        raise FEError(f"invalid layer index '{pieces[1]}' in '{desc}' (expected a number, as in IP:1.src)") from None
