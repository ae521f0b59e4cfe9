"""Scapy packet -> the packet result of API.md section 6 (first version: no offsets)."""

from __future__ import annotations

from scapy.packet import NoPayload, Packet

from .encoding import encode_base64


def _json_value(value: object) -> object:
    if isinstance(value, (int, str)) or value is None:
        return value
    if isinstance(value, bytes):
        return {"vtype": "BYTES", "base64": encode_base64(value)}
    return {"vtype": "EXPRESSION", "expr": repr(value)}


def packet_result(pkt: Packet, layers_model: list | None) -> dict:
    """Bytes and per-layer fields of `pkt`."""
    binary = bytes(pkt)
    built = pkt.__class__(binary)
    data = []
    layer = built
    while not isinstance(layer, NoPayload):
        fields = [
            {"id": f.name, "value": _json_value(layer.getfieldval(f.name)),
             "hvalue": str(f.i2repr(layer, layer.getfieldval(f.name)))}
            for f in layer.fields_desc
        ]
        data.append({"id": type(layer).__name__, "name": layer.name, "fields": fields})
        layer = layer.payload
    return {"binary": encode_base64(binary), "data": data}
