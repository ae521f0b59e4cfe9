"""Scapy packet -> the packet result of API.md section 6, with exact field positions.

The frame is built once and dissected back once. Each reported layer takes
its values and positions from a dissected layer: the re-dissection while it
agrees with the model, or a dissection of the model's own bytes from where
they diverge. Positions come from a per-class layout plan (the fixed-size
prefix of `fields_desc`, computed once per class) and, for the variable part
only, a replay of the fields' `getfield` over the layer's header bytes —
Scapy 2.8 keeps no per-field offsets of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from scapy.fields import _BitField, Field
from scapy.packet import NoPayload, Packet, Padding

from .definitions import display_name
from .encoding import encode_base64
from .model import dissect_frame, frame_bytes
from .values_out import bytes_value, render
from .walk import encoding_field, layers, unemphasised_field

# ---------------------------------------------------------------- layout plans


@dataclass(frozen=True)
class _Fixed:
    name: str
    fld: Any  # the encoding field (Emph unwrapped)
    offset: int
    length: int
    bit_offset: int
    bit_length: int


@dataclass(frozen=True)
class _Plan:
    fixed: tuple[_Fixed, ...]  # the fixed-size prefix of fields_desc
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
    fixed: list[_Fixed] = []
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
            fixed.append(_Fixed(fld.name, enc, bits // 8, 0, bits % 8, nbits))
        else:
            fixed.append(_Fixed(fld.name, enc, bits // 8, nbits // 8, 0, 0))
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


# ---------------------------------------------------------------- one layer


def _safe_repr(value: Any) -> str:
    """repr() that cannot fail: an integer past Python's 4300 decimal digits is shown in hex."""
    try:
        return repr(value)
    except Exception:
        return hex(value) if isinstance(value, int) else f"<{type(value).__name__}>"


def _field_entry(layer: Packet, name: str, fld: Any, present: bool,
                 offset: int, length: int, bit_offset: int, bit_length: int) -> dict:
    value = layer.fields[name] if present else layer.getfieldval(name)
    if name == "load" and isinstance(value, (bytes, bytearray)):
        jvalue, hvalue = bytes_value(bytes(value))
    else:
        try:
            jvalue, hvalue = render(layer, fld, value)
        except Exception:  # a field whose own repr fails still gets a JSON-safe entry
            jvalue = hvalue = _safe_repr(value)
    entry = {"id": name, "value": jvalue, "hvalue": hvalue, "offset": offset, "length": length}
    if bit_length:
        entry["bit_offset"] = bit_offset
        entry["bit_length"] = bit_length
    if not present:
        entry["ignored"] = True
    return entry


def _replay(layer: Packet, raw: bytes, start: int, start_offset: int, out: list) -> int:
    """Walk the variable fields over `raw` once, recording positions; returns bytes consumed."""
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
        present = name in fields
        try:
            enc = encoding_field(layer, fld)
        except Exception:
            enc = fld
        if not present or broken:
            out.append(_field_entry(layer, name, enc, present, pos, 0, 0, 0))
            continue
        try:
            s, _ = fld.getfield(layer, s)
        except Exception:  # cannot replay further: keep the values, positions unknown
            broken = True
            out.append(_field_entry(layer, name, enc, present, pos, 0, 0, 0))
            continue
        if isinstance(enc, _BitField):
            out.append(_field_entry(layer, name, enc, present, pos, 0, bit, enc.size))
        else:
            end = total - len(s[0] if isinstance(s, tuple) else s)
            out.append(_field_entry(layer, name, enc, present, pos, end - pos, 0, 0))
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


def _header_bytes(layer: Packet) -> tuple[bytes, bool]:
    """The layer's header bytes, and whether their length is known (else: replay decides)."""
    raw = layer.raw_packet_cache
    if raw is not None:
        return raw[:_header_length(layer, raw)], True
    # a dissector that changed its own fields afterwards (BOOTP) dropped the cache:
    # the header is what it was dissected from, minus what its payload took
    original = layer.original or b""
    payload = layer.payload
    if not isinstance(payload, (NoPayload, Padding)) and payload.original and len(payload.original) <= len(original):
        return original[:len(original) - len(payload.original)], True
    return original, False


def layer_fields(layer: Packet) -> tuple[list, int]:
    """Field entries of a dissected layer and the length of its header in the frame."""
    plan = plan_for(type(layer))
    fields = layer.fields
    out = [
        _field_entry(layer, f.name, f.fld, f.name in fields, f.offset, f.length, f.bit_offset, f.bit_length)
        for f in plan.fixed
    ]
    raw, known = _header_bytes(layer)
    desc = layer.fields_desc
    if plan.rest == len(desc):
        return out, len(raw) if known else min(plan.rest_offset, len(raw))
    if plan.tail_only and known:
        fld = desc[-1]
        name = fld.name
        pos = plan.rest_offset
        out.append(_field_entry(layer, name, unemphasised_field(fld), name in fields,
                                pos, max(len(raw) - pos, 0), 0, 0))
        return out, len(raw)
    consumed = _replay(layer, raw, plan.rest, plan.rest_offset, out)
    return out, len(raw) if known else consumed


# ---------------------------------------------------------------- the packet result


def _related(a: type, b: type) -> bool:
    return a is b or issubclass(a, b) or issubclass(b, a)


def _shown_id(layer: Packet) -> str:
    return "Raw" if isinstance(layer, Padding) else type(layer).__name__


def _shown_name(layer: Packet) -> str:
    """The protocol's display name from the definitions (`IP` is `IPv4`), as the GUI lists it."""
    if isinstance(layer, Padding):
        return "Raw"
    return display_name(type(layer).__name__) or layer.name


def _tail_offset(frame_len: int, model_layer: Packet, fallback: int) -> int:
    """Where the model's layer starts: its own bytes (with what follows) end the frame."""
    try:
        return max(frame_len - len(frame_bytes(model_layer)), 0)
    except Exception:
        return fallback


def packet_result(pkt: Packet, dissection: bool = False) -> dict:
    """`{"binary", "data"}` for `pkt`, one entry per layer of `pkt`.

    `dissection` means `pkt` was itself dissected from bytes (pcap, unedited
    reconstruct): it is reported as is, from the bytes it was read from, with
    no rebuild. Otherwise the frame is built and dissected back once.
    """
    if dissection:
        binary = pkt.original if pkt.original else frame_bytes(pkt)
        frame = pkt
    else:
        binary = frame_bytes(pkt)
        frame = dissect_frame(binary, type(pkt))
    model = layers(pkt)
    structure = _structure(model, layers(frame))
    placed = _placed_fields(model, frame, binary)
    data = [
        {
            "id": _shown_id(layer),
            "name": _shown_name(layer),
            "offset": offset,
            "real_id": real_id,
            "valid_structure": valid,
            "fields": fields,
        }
        for layer, (real_id, valid), (offset, fields) in zip(model, structure, placed)
    ]
    return {"binary": encode_base64(binary), "data": data}


def _structure(model: list[Packet], frame: list[Packet]) -> list[tuple[str | None, bool]]:
    """`(real_id, valid_structure)` of each model layer against the frame's dissection.

    While the two chains agree, `real_id` is the class Scapy sees at that depth;
    at the first layer where they part (or the dissection ends) `valid` turns
    false, and from the layer after it `real_id` is null.
    """
    out: list[tuple[str | None, bool]] = []
    valid = True
    for depth, layer in enumerate(model):
        if not valid or depth >= len(frame):
            valid = False
            out.append((None, False))
            continue
        seen = frame[depth]
        valid = _related(type(layer), type(seen))
        out.append((_shown_id(seen), valid))
    return out


def _placed_fields(model: list[Packet], frame: Packet, binary: bytes) -> list[tuple[int, list]]:
    """The offset and field entries of each model layer.

    Values and positions come from the frame's dissection while it follows the
    model; from a layer where it does not, they come from a dissection of that
    model layer's own bytes (and its payloads'), found at the end of the frame.
    """
    out: list[tuple[int, list]] = []
    source: Packet = frame  # the dissected layer whose values are reported
    offset = 0
    for layer in model:
        if isinstance(source, NoPayload) or not _related(type(layer), type(source)):
            offset = _tail_offset(len(binary), layer, offset)
            source = dissect_frame(binary[offset:], type(layer))
            if not _related(type(layer), type(source)):
                source = layer
        fields, header_len = layer_fields(source)
        out.append((offset, fields))
        offset += header_len
        source = source.payload
    return out


def warm_up() -> None:
    """Layout plans for every registered layer class, once per process."""
    from .layers import registry

    for cls in registry().values():
        try:
            plan_for(cls)
        except Exception:  # a class whose fields cannot be planned is replayed instead
            continue
