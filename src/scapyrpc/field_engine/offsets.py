"""Symbolic offsets: `IP.src`, `IP:1.dst`, `802|1Q.vlan` (fields) and `IP`, `IP:1` (layers).

Offsets are byte positions in the frame as built. Differences from the
reference (TRex-patched Scapy), both deliberate: a layer's offset is its real
position on the wire (the reference ignored IPv4 option padding added at
post-build time), and field offsets are computed per layer instance (the
reference shared them per class for repeated layers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import FEError

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

BAD_FIELD_DESC = "Field desription should be layer:cnt.field Example: IP.src or IP:1.src"


@dataclass
class LayerInfo:
    class_name: str
    display_name: str
    offset: int
    fields: dict[str, int] = field(default_factory=dict)  # first field of each name -> offset in layer


def layers_of(pkt: Packet) -> list[LayerInfo]:
    """One LayerInfo per layer of `pkt`, outside-in; a trailing Padding layer is dropped."""
    from scapy.packet import NoPayload

    chain = []
    layer = pkt
    while layer is not None and not isinstance(layer, NoPayload):
        chain.append(layer)
        layer = layer.payload
    if chain and chain[-1].name == "Padding":
        chain.pop()
    parts = [_partial_build(layer, {}) for layer in chain]
    headers = [len(own) for own, _ in parts]
    if chain and _built_len(chain[0]) != sum(headers):
        # Some post_build changed a length (e.g. IPv4 option padding): measure each layer in place.
        totals = [_built_len(layer) for layer in chain] + [0]
        for i, header in enumerate(headers):
            if totals[i] is not None and totals[i + 1] is not None and totals[i] >= totals[i + 1]:
                headers[i] = totals[i] - totals[i + 1]
    infos, offset = [], 0
    for layer, (_, fields), header in zip(chain, parts, headers):
        infos.append(LayerInfo(type(layer).__name__, str(layer.name), offset, fields))
        offset += header
    return infos


def _built_len(layer: Packet) -> int | None:
    """Length of this layer and everything inside it, as built in place (with its underlayers)."""
    try:
        return len(layer.build())
    except Exception:  # noqa: BLE001 - any Scapy build failure: fall back to the layer's own fields
        return None


def _partial_build(layer: Packet, offsets: dict[str, int]) -> tuple[bytes, dict[str, int]]:
    """Serialise the layer's own fields one by one (as Packet.self_build does), noting where each starts.

    A bit field starts in the byte holding its first bit (reference: offsets round down).
    """
    from scapy.packet import RawVal

    built: object = b""
    for fld in layer.fields_desc:
        if isinstance(built, tuple):  # inside a run of bit fields: (bytes so far, bits pending, value)
            start = len(built[0]) + built[1] // 8
        else:
            start = len(built)
        offsets.setdefault(fld.name, start)
        value = layer.getfieldval(fld.name)
        try:
            built = built + bytes(value) if isinstance(value, RawVal) else fld.addfield(layer, built, value)
        except Exception:  # noqa: BLE001 - a field that cannot be serialised alone
            break  # later fields keep no offset
    return (built if isinstance(built, bytes) else built[0]), offsets


class Layout:
    """Resolves descriptors against one packet; the layer table is computed on first use."""

    def __init__(self, pkt: Packet | None) -> None:
        self._pkt = pkt
        self._layers: list[LayerInfo] | None = None

    @property
    def layers(self) -> list[LayerInfo]:
        if self._layers is None:
            self._layers = layers_of(self._pkt) if self._pkt is not None else []
        return self._layers

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
