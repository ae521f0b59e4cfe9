"""Where each field of a dissected layer sits in its header bytes.

Positions come from a per-class layout plan (the fixed-size prefix of `fields_desc`,
computed once per class) and, for the variable part only, a replay of the fields'
`getfield` over the layer's header bytes: Scapy 2.8 keeps no per-field offsets of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from scapy.fields import Field, _BitField
from scapy.packet import NoPayload, Packet, Padding

from scapyrpc.packets.unwrap import encoding_field, unemphasised_field

__all__ = ["Position", "header_bytes", "plan_for", "positions", "warm_up"]


class Position(NamedTuple):
    """One field of a layer: its name, encoding field and place in the layer's header.
    A bit field has length 0 and its bits; a field whose place is unknown has length 0."""

    name: str
    fld: Any
    offset: int
    length: int
    bit_offset: int
    bit_length: int


@dataclass(frozen=True)
class _Plan:
    fixed: tuple[Position, ...]  # the fixed-size prefix of fields_desc
    rest: int  # index in fields_desc where the variable part starts
    rest_offset: int  # byte offset of that part
    tail_only: bool  # the variable part is one plain last field: no replay needed


def _fixed_size(fld: Any) -> tuple[int, bool] | None:
    """(size in bits, is_bit_field) when `fld` always takes the same room, else None."""
    getfield = getattr(type(fld), "getfield", None)
    if getfield is _BitField.getfield and not fld.rev:
        return fld.size, True
    if getfield is Field.getfield:
        return fld.sz * 8, False
    return None


@cache
def plan_for(cls: type[Packet]) -> _Plan:
    """The layout plan of `cls`, computed once per class."""
    fixed: list[Position] = []
    bits = 0
    aligned_count, aligned_bits = 0, 0
    desc = cls.fields_desc
    for fld in desc:
        enc = unemphasised_field(fld)
        size = _fixed_size(enc)
        if size is None:
            break
        nbits, is_bit = size
        if is_bit:
            fixed.append(Position(fld.name, enc, bits // 8, 0, bits % 8, nbits))
        else:
            fixed.append(Position(fld.name, enc, bits // 8, nbits // 8, 0, 0))
        bits += nbits
        if bits % 8 == 0:
            aligned_count, aligned_bits = len(fixed), bits
    # a bit group cut by a variable field is replayed from its first byte
    fixed = fixed[:aligned_count]
    rest = aligned_count
    last = desc[-1] if desc else None
    tail_only = (
        rest == len(desc) - 1
        and last is not None
        and not getattr(last, "isconditional", False)
        and not getattr(last, "ismayend", False)
        and not isinstance(unemphasised_field(last), _BitField)
    )
    return _Plan(tuple(fixed), rest, aligned_bits // 8, tail_only)


def _replay(layer: Packet, raw: bytes, start: int, start_offset: int, out: list[Position]) -> int:
    """Walk the variable fields over `raw` once, recording positions; returns bytes consumed.
    A field the layer does not hold, or past a field that cannot be replayed, has length 0."""
    fields = layer.fields
    total = len(raw)
    s: Any = raw[start_offset:]
    broken = False
    for fld in layer.fields_desc[start:]:
        name = fld.name
        if isinstance(s, tuple):
            pos, bit = total - len(s[0]), s[1]
        else:
            pos, bit = total - len(s), 0
        try:
            enc = encoding_field(layer, fld)
        except Exception:
            enc = fld
        if name not in fields or broken:
            out.append(Position(name, enc, pos, 0, 0, 0))
            continue
        try:
            s, _ = fld.getfield(layer, s)
        except Exception:  # cannot replay further: positions unknown from here
            broken = True
            out.append(Position(name, enc, pos, 0, 0, 0))
            continue
        if isinstance(enc, _BitField):
            out.append(Position(name, enc, pos, 0, bit, enc.size))
        else:
            end = total - len(s[0] if isinstance(s, tuple) else s)
            out.append(Position(name, enc, pos, end - pos, 0, 0))
    if isinstance(s, tuple):
        return total - len(s[0])
    return total - len(s)


def _header_length(layer: Packet, raw: bytes) -> int:
    """Header bytes of a dissected layer: its cached bytes, unless its payload overlaps them.

    A layer that moves bytes to its payload after dissecting (BOOTP hands the
    DHCP options to DHCP) keeps them in its cache; the payload's own bytes
    tell where the header really ends.
    """
    payload = layer.payload
    if isinstance(payload, (NoPayload, Padding)) or not payload.original or not layer.original:
        return len(raw)
    if len(raw) + len(payload.original) > len(layer.original):
        return max(len(layer.original) - len(payload.original), 0)
    return len(raw)


def header_bytes(layer: Packet) -> tuple[bytes, bool]:
    """The layer's header bytes, and whether their length is known (else: replay decides)."""
    raw = layer.raw_packet_cache
    if raw is not None:
        return raw[: _header_length(layer, raw)], True
    # a dissector that changed its own fields afterwards (BOOTP) dropped the cache:
    # the header is what it was dissected from, minus what its payload took
    original = layer.original or b""
    payload = layer.payload
    if not isinstance(payload, (NoPayload, Padding)) and payload.original and len(payload.original) <= len(original):
        return original[: len(original) - len(payload.original)], True
    return original, False


def positions(layer: Packet) -> tuple[list[Position], int]:
    """Every field of a dissected layer with its place, and the length of its header."""
    plan = plan_for(type(layer))
    out = list(plan.fixed)
    raw, known = header_bytes(layer)
    desc = layer.fields_desc
    if plan.rest == len(desc):
        return out, len(raw) if known else min(plan.rest_offset, len(raw))
    if plan.tail_only and known:
        fld = desc[-1]
        pos = plan.rest_offset
        out.append(Position(fld.name, unemphasised_field(fld), pos, max(len(raw) - pos, 0), 0, 0))
        return out, len(raw)
    consumed = _replay(layer, raw, plan.rest, plan.rest_offset, out)
    return out, len(raw) if known else consumed


def warm_up() -> None:
    """Layout plans for every registered layer class, once per process."""
    from scapyrpc.packets.registry import registry

    for cls in registry().values():
        try:
            plan_for(cls)
        except Exception:  # a class whose fields cannot be planned is replayed instead
            continue
