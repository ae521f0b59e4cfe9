"""JSON layer model -> Scapy packet (first version: numbers and plain strings)."""

from __future__ import annotations

from typing import Any

from scapy.layers.l2 import Ether
from scapy.packet import Packet

from .errors import ServiceError
from .layers import layer_class


def _layer(spec: Any) -> Packet:
    if not isinstance(spec, dict) or "id" not in spec:
        raise ServiceError("each layer must be an object with an 'id'")
    cls = layer_class(spec["id"])
    layer = cls()
    for field in spec.get("fields") or []:
        name, value = field.get("id"), field.get("value")
        if name not in layer.fields_desc and not any(f.name == name for f in layer.fields_desc):
            raise ServiceError(f"field '{name}' not in layer {spec['id']}")
        try:
            layer.setfieldval(name, value)
        except Exception as exc:
            raise ServiceError(f"bad value for {spec['id']}.{name}: {exc}") from None
    return layer


def build_packet(layers_model: list) -> Packet:
    """Stack the model's layers into one packet."""
    if not isinstance(layers_model, list) or not layers_model:
        raise ServiceError("packet model must be a non-empty list of layers")
    pkt = _layer(layers_model[0])
    for spec in layers_model[1:]:
        pkt = pkt / _layer(spec)
    return pkt


def reconstruct_packet(data: bytes, layers_model: list) -> tuple[Packet | None, list]:
    """Dissect `data` from Ether and apply the model (first version: no edits)."""
    pkt = Ether(data)
    return pkt, layers_model


def last_layer_class(layers_model: list) -> type[Packet]:
    if not isinstance(layers_model, list) or not layers_model:
        raise ServiceError("packet model must be a non-empty list of layers")
    return build_packet(layers_model).lastlayer().__class__
