"""Dissections whose field values rebuild the bytes they were read from, byte for byte.

An editor rebuilds a packet from the values a dissection reports (`build_pkt` with
every field's value or hvalue), so a value that Scapy decodes lossily would change
bytes nobody edited. Scapy decodes a few things lossily: DNS names behind compression
pointers come back expanded, and malformed records (a label longer than the message,
counts that do not match) come back as values that encode differently.

`values_rebuild` tells whether a dissection's values alone build its bytes (asking only the
layers whose classes can decode lossily). For one that does not, `exact_dissection` dissects
again and keeps what cannot be decoded exactly in the form it had on the wire:
1. a field whose decoded value encodes differently, but whose wire bytes the field writes back
   as they are (a DNS name given as its labels and pointer), holds its wire bytes;
2. an item of a packet list that still does not rebuild becomes a Raw item of its bytes;
3. from the deepest layer that still does not rebuild, the rest of the frame is one Raw layer.
Nothing is ever dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from scapy.config import conf
from scapy.fields import StrField
from scapy.packet import Packet

from scapyrpc.packets.positions import header_bytes, plan_for, positions
from scapyrpc.packets.unwrap import layer_list, unemphasised_field

__all__ = ["exact_dissection", "values_rebuild"]


@cache
def _fixed_or_plain(cls: type[Packet]) -> bool:
    """Whether every field of `cls` is fixed-size or one plain byte string at the end: such a
    layer's values always encode to the bytes they were decoded from."""
    plan = plan_for(cls)
    desc = cls.fields_desc
    if plan.rest == len(desc):
        return True
    if not plan.tail_only:
        return False
    last = type(unemphasised_field(desc[-1]))
    return all(getattr(last, name) is getattr(StrField, name) for name in ("getfield", "addfield", "i2m", "m2i"))


def _layer_rebuilds(layer: Packet) -> bool:
    """Whether one dissected layer's values encode its header bytes (as `Packet.self_build`
    writes them, its held packets without their cached bytes). Drops those cached bytes."""
    if _fixed_or_plain(type(layer)):
        return True
    header, known = header_bytes(layer)
    if not known:
        return False
    plan = plan_for(type(layer))
    out: Any = header[: plan.rest_offset]
    try:
        for fld in layer.fields_desc[plan.rest :]:
            value = layer.getfieldval(fld.name)
            if isinstance(value, Packet):
                value.clear_cache()
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, Packet):
                        item.clear_cache()
            out = fld.addfield(layer, out, value)
    except Exception:
        return False
    same: bool = out == header
    return same


def values_rebuild(pkt: Packet) -> bool:
    """Whether a dissection's values alone build the bytes it was read from. Drops the
    cached bytes of the packets its fields hold."""
    return all(_layer_rebuilds(layer) for layer in layer_list(pkt))


def rebuilds(pkt: Packet, binary: bytes) -> bool:
    """Whether `pkt`'s field values alone build `binary`. Drops `pkt`'s cached bytes."""
    pkt.clear_cache()
    try:
        return bytes(pkt) == binary
    except Exception:
        return False


def exact_dissection(binary: bytes, dissect: Callable[[bytes], Packet]) -> Packet:
    """A dissection of `binary` (made by `dissect(binary)`) whose values rebuild it."""
    pkt = dissect(binary)
    for layer in layer_list(pkt):
        _keep_wire_forms(layer)
    if rebuilds(pkt.copy(), binary):
        return pkt
    chain = layer_list(pkt)
    for depth in range(len(chain) - 1, 0, -1):
        candidate = dissect(binary)
        kept = layer_list(candidate)
        for layer in kept[:depth]:
            _keep_wire_forms(layer)
        start = sum(positions(layer)[1] for layer in kept[:depth])
        kept[depth - 1].remove_payload()
        kept[depth - 1].add_payload(conf.raw_layer(binary[start:]))
        if rebuilds(candidate.copy(), binary):
            return candidate
    return conf.raw_layer(binary)


def _encodes(layer: Packet, fld: Any, value: Any) -> bytes | None:
    try:
        out = fld.addfield(layer, b"", value)
    except Exception:
        return None
    return out if isinstance(out, bytes) else None


def _keep_wire_forms(layer: Packet) -> None:
    """Repair one dissected layer (or list item) in place: steps 1 and 2 above."""
    header = layer.raw_packet_cache
    if header is None:  # not dissected: nothing to keep
        return
    for pos in positions(layer)[0]:
        name = pos.name
        if name not in layer.fields:
            continue
        value = layer.fields[name]
        if isinstance(value, Packet):
            layer.fields[name] = _keep_item(value)
            continue
        if isinstance(value, list) and any(isinstance(v, Packet) for v in value):
            layer.fields[name] = [_keep_item(v) if isinstance(v, Packet) else v for v in value]
            continue
        if pos.bit_length or not pos.length:
            continue
        wire = header[pos.offset : pos.offset + pos.length]
        if _encodes(layer, pos.fld, value) != wire and _encodes(layer, pos.fld, wire) == wire:
            layer.fields[name] = wire


def _keep_item(item: Packet) -> Packet:
    """A packet held in a field: repaired in place, or Raw bytes when it still does not rebuild."""
    original = bytes(item)
    for part in layer_list(item):
        _keep_wire_forms(part)
    if rebuilds(item.copy(), original):
        return item
    return conf.raw_layer(load=original)
