"""Scapy packet -> the packet result (docs/api.md, Packet result), with exact field positions.

The frame is built once and dissected back once. Each reported layer takes
its values and positions from a dissected layer: the re-dissection while it
agrees with the model, or a dissection of the model's own bytes from where
they diverge; `positions` tells where each field sits. A dissection's values
rebuild its bytes exactly (`exact`).
"""

from __future__ import annotations

from typing import Any

from scapy.fields import _PacketField
from scapy.packet import NoPayload, Packet, Padding

from scapyrpc.packets.definitions import display_name
from scapyrpc.packets.encoding import encode_base64
from scapyrpc.packets.exact import exact_dissection, values_rebuild
from scapyrpc.packets.expressions import scapy_dialect
from scapyrpc.packets.model import dissect_frame, frame_bytes
from scapyrpc.packets.positions import Position, header_bytes, positions
from scapyrpc.packets.unwrap import layer_list
from scapyrpc.packets.values_out import bytes_value, render

__all__ = ["packet_result", "warm_up"]

# ---------------------------------------------------------------- one layer


def _safe_repr(value: Any) -> str:
    """repr() that cannot fail: an integer past Python's 4300 decimal digits is shown in hex."""
    try:
        return repr(value)
    except Exception:
        return hex(value) if isinstance(value, int) else f"<{type(value).__name__}>"


def _field_entry(layer: Packet, pos: Position) -> dict[str, Any]:
    name = pos.name
    present = name in layer.fields
    value = layer.fields[name] if present else layer.getfieldval(name)
    jvalue: Any  # a JSON value: a number, text, or a value object
    if name == "load" and isinstance(value, (bytes, bytearray)):
        jvalue, hvalue = bytes_value(bytes(value))
    else:
        try:
            jvalue, hvalue = render(layer, pos.fld, value)
        except Exception:  # a field whose own repr fails still gets a JSON-safe entry
            jvalue = hvalue = _safe_repr(value)
        if isinstance(jvalue, dict) and _too_large_to_read_back(jvalue, pos):
            jvalue, hvalue = bytes_value(header_bytes(layer)[0][pos.offset : pos.offset + pos.length])
    entry: dict[str, Any] = {"id": name, "value": jvalue, "hvalue": hvalue, "offset": pos.offset, "length": pos.length}
    if pos.bit_length:
        entry["bit_offset"] = pos.bit_offset
        entry["bit_length"] = pos.bit_length
    if not present:
        entry["ignored"] = True
    return entry


_SHORT_EXPRESSION = 1000  # characters: no shorter text reaches the evaluator's size limits


def _too_large_to_read_back(value: dict[str, Any], pos: Position) -> bool:
    """A list of packets too large for an EXPRESSION (a DNS zone transfer, a BGP update of
    thousands of prefixes) is given as its bytes, which a packet-list field takes as they are."""
    expr = value.get("expr")
    return (
        isinstance(expr, str)
        and len(expr) >= _SHORT_EXPRESSION
        and pos.length > 0
        and isinstance(pos.fld, _PacketField)
        and not scapy_dialect.accepted(expr)
    )


def layer_fields(layer: Packet) -> tuple[list[dict[str, Any]], int]:
    """Field entries of a dissected layer and the length of its header in the frame."""
    places, header_len = positions(layer)
    return [_field_entry(layer, pos) for pos in places], header_len


# ---------------------------------------------------------------- the packet result


def _related(a: type, b: type) -> bool:
    return a is b or issubclass(a, b) or issubclass(b, a)


def _shown_id(layer: Packet) -> str:
    return "Raw" if isinstance(layer, Padding) else type(layer).__name__


def _shown_name(layer: Packet) -> str:
    """The protocol's display name from the definitions (`IP` is `IPv4`), as the GUI lists it."""
    if isinstance(layer, Padding):
        return "Raw"
    return display_name(type(layer).__name__) or str(layer.name)  # Scapy names every instance


def _tail_offset(frame_len: int, model_layer: Packet, fallback: int) -> int:
    """Where the model's layer starts: its own bytes (with what follows) end the frame."""
    try:
        return max(frame_len - len(frame_bytes(model_layer)), 0)
    except Exception:
        return fallback


def packet_result(pkt: Packet, dissection: bool = False, exact: bool = False) -> dict[str, Any]:
    """`{"binary", "data"}` for `pkt`, one entry per layer of `pkt`.

    `dissection` means `pkt` was itself dissected from bytes (pcap, unedited
    reconstruct): it is reported as is, from the bytes it was read from, with
    no rebuild. Otherwise the frame is built and dissected back once.
    A dissection's values (and with `exact`, the values of the frame dissected
    back) rebuild `binary` exactly: where Scapy's own values would not, the
    frame is dissected again by `exact.exact_dissection`.
    """
    if dissection:
        binary = pkt.original if pkt.original else frame_bytes(pkt)
        frame = pkt
    else:
        binary = frame_bytes(pkt)
        frame = dissect_frame(binary, type(pkt))
    result = _result(frame if dissection else pkt, frame, binary)
    if (dissection or exact) and not values_rebuild(frame):
        cls = type(frame)
        frame = exact_dissection(binary, lambda data: dissect_frame(data, cls))
        result = _result(frame if dissection else pkt, frame, binary)
    return result


def _result(pkt: Packet, frame: Packet, binary: bytes) -> dict[str, Any]:
    model = layer_list(pkt)
    structure = _structure(model, layer_list(frame))
    placed = _placed_fields(model, frame, binary)
    data = []
    for layer, (real_id, valid), (offset, fields) in zip(model, structure, placed):
        entry = {
            "id": _shown_id(layer),
            "name": _shown_name(layer),
            "offset": offset,
            "real_id": real_id,
            "valid_structure": valid,
            "fields": fields,
        }
        if isinstance(layer, Padding):
            entry["padding"] = True  # reported as Raw, as the GUI expects; this tells it apart
        data.append(entry)
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


def _placed_fields(model: list[Packet], frame: Packet, binary: bytes) -> list[tuple[int, list[dict[str, Any]]]]:
    """The offset and field entries of each model layer.

    Values and positions come from the frame's dissection while it follows the
    model; from a layer where it does not, they come from a dissection of that
    model layer's own bytes (and its payloads'), found at the end of the frame.
    """
    out: list[tuple[int, list[dict[str, Any]]]] = []
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
    from scapyrpc.packets import positions as field_positions

    field_positions.warm_up()
