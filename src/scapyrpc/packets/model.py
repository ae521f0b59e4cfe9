"""JSON layer model -> Scapy packet (docs/api.md, Packet model), and reconstruct_pkt's edits.

Layers are chained with `add_payload` rather than `/` (which copies both
sides every time); the packet is not built here except when a `total_size`
payload needs the length of the rest of the frame.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scapy.base_classes import Gen
from scapy.config import conf
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.volatile import VolatileValue

from scapyrpc.packets import limits
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.registry import layer_class
from scapyrpc.packets.unwrap import layer_list
from scapyrpc.packets.values_in import RESET, Internal, TotalSize, field_value, total_size_bytes

__all__ = ["build_packet", "dissect_frame", "frame_bytes", "last_layer_class", "reconstruct_packet"]

RAW_DEFAULT_LOAD = b"dummy"  # reference: a Raw layer without load still shows in the bytes

Pending = list[tuple[Packet, str, TotalSize]]


def frame_bytes(pkt: Packet) -> bytes:
    """Build `pkt`; a value Scapy cannot encode is the client's mistake, not a crash."""
    try:
        return bytes(pkt)
    except ServiceError:
        raise
    except Exception as exc:  # Scapy raises many types for unencodable values
        raise ServiceError(f"cannot build packet: {_short(exc)}") from None


def dissect_frame(data: bytes, cls: type[Packet] = Ether) -> Packet:
    """Dissect `data` as `cls`; bytes too short or malformed for it become Raw."""
    try:
        return cls(data)
    except Exception:
        return conf.raw_layer(data)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _layer_spec(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or "id" not in spec:
        raise ServiceError("each layer must be an object with an 'id'")
    return spec


def _check_model(layers_model: Any) -> list[Any]:
    if not isinstance(layers_model, list) or not layers_model:
        raise ServiceError("packet model must be a non-empty list of layers")
    return layers_model


def apply_fields(layer: Packet, fields: Any, pending: Pending) -> None:
    """Set the model's field values on `layer` (a new layer or a dissected one)."""
    if not fields:
        return
    if not isinstance(fields, list):
        raise ServiceError(f"fields of layer {type(layer).__name__} must be a list")
    lname = type(layer).__name__
    for item in fields:
        if not isinstance(item, dict) or "id" not in item:
            raise ServiceError(f"each field of layer {lname} must be an object with an 'id'")
        name = item["id"]
        if not isinstance(name, str):
            raise ServiceError(f"field id in layer {lname} must be a string")
        if name in layer.deprecated_fields:
            name = layer._resolve_alias(name)
        fld = layer.fieldtype.get(name)
        if fld is None:
            raise ServiceError(f"field '{name}' not in layer {lname}")
        where = f"{lname}.{name}"
        value = field_value(layer, fld, item.get("value"), where)
        if value is RESET:
            layer.delfieldval(name)
            continue
        if isinstance(value, TotalSize):
            pending.append((layer, name, value))
            value = b""
        try:
            if isinstance(value, Internal):
                layer.setfieldval(name, value.value)
                layer.fields[name] = value.value
            elif not _unchanged(layer, fld, name, value):
                layer.setfieldval(name, value)
        except ServiceError:
            raise
        except Exception as exc:
            raise ServiceError(f"bad value for {where}: {_short(exc)}") from None


def _unchanged(layer: Packet, fld: Any, name: str, value: Any) -> bool:
    """An edit that sets a dissected field to what it already holds keeps its bytes.

    The GUI re-sends every field of an imported packet; rewriting equal values
    would re-encode fields whose encoding is not canonical (PPP's compressed
    protocol number) and change bytes nobody edited.
    """
    if layer.raw_packet_cache is None or name not in layer.fields:
        return False
    current = layer.fields[name]
    if isinstance(value, (VolatileValue, Gen)) or isinstance(current, (list, dict)):
        return False
    try:
        converted = fld.any2i(layer, value)
        return type(converted) is type(current) and converted == current
    except Exception:
        return False


def _new_layer(spec: dict[str, Any], pending: Pending) -> Packet:
    cls = layer_class(spec["id"])
    try:
        layer = cls()
    except Exception as exc:  # a few contrib classes cannot be made with defaults
        raise ServiceError(f"cannot create layer {spec['id']}: {_short(exc)}") from None
    if isinstance(layer, Raw):
        layer.load = RAW_DEFAULT_LOAD
    apply_fields(layer, spec.get("fields"), pending)
    return layer


def _chain(specs: list[Any], pending: Pending) -> Packet:
    """The model's layers stacked in order, without copying."""
    top = last = None
    for spec in specs:
        layer = _new_layer(_layer_spec(spec), pending)
        if last is None:
            top = layer
        else:
            last.add_payload(layer)
        last = layer
    assert top is not None
    return top


def _fill_total_sizes(top: Packet, pending: Pending) -> None:
    """Size each `total_size` payload so the finished frame (plus FCS) has that length."""
    for layer, name, request in pending:
        layer.setfieldval(name, b"")
        layer.setfieldval(name, total_size_bytes(request, len(frame_bytes(top))))


def is_implicit(value: Any, fld: Any) -> bool:
    """Whether a field value is random or a set of values: each build picks one."""
    return isinstance(value, (VolatileValue, Gen)) or (isinstance(value, list) and not fld.islist)


@cache
def _has_implicit_defaults(cls: type[Packet]) -> bool:
    """Whether a default of `cls` is random or a value set (read from an instance:
    some classes, such as Kpasswd, declare their fields when instantiated)."""
    try:
        layer = cls()
    except Exception:  # a class that cannot be made with defaults: its declared fields
        return any(is_implicit(fld.default, fld) for fld in cls.fields_desc)
    fieldtype = layer.fieldtype
    return any(is_implicit(v, fieldtype[k]) for k, v in layer.default_fields.items() if k in fieldtype)


def _mark_explicit(top: Packet) -> None:
    """Let Scapy build layers in place when no field holds a random or multi-value.

    A non-explicit packet is cloned layer by layer at build time (to pin random
    values and pick the first of a value set); that costs as much as the
    build itself and changes nothing for plain values.
    """
    for layer in layer_list(top):
        if layer.explicit or _has_implicit_defaults(type(layer)):
            continue
        fieldtype = layer.fieldtype
        if not any(is_implicit(v, fieldtype[k]) for k, v in layer.fields.items() if k in fieldtype):
            layer.explicit = 1


def build_packet(layers_model: list[Any]) -> Packet:
    """Stack the model's layers into one packet (not yet built)."""
    pending: Pending = []
    with limits.payload_budget():
        top = _chain(_check_model(layers_model), pending)
        _fill_total_sizes(top, pending)
    _mark_explicit(top)
    return top


def _same_layer(model_id: Any, layer: Packet) -> bool:
    name = type(layer).__name__
    return model_id == name or (model_id == "Raw" and isinstance(layer, Raw))


def reconstruct_packet(data: bytes, layers_model: list[Any] | None) -> tuple[Packet | None, bool]:
    """Dissect `data` and apply the model by depth (delete / edit / append).

    The bytes are dissected as the model's first layer (a frame of another link
    type than Ethernet, as a capture may hold), or from Ether without a model.
    Returns the packet (None when depth 0 is deleted) and whether the model
    changed it; an unchanged packet is a plain dissection and needs no rebuild.
    """
    if layers_model is None or layers_model == []:
        return dissect_frame(data), False
    if not isinstance(layers_model, list):
        raise ServiceError("model must be a list of layers")
    first = _layer_spec(layers_model[0])["id"]
    pkt = dissect_frame(data, Ether if first == "Raw" else layer_class(first))
    with limits.payload_budget():
        return _reconstruct(pkt, layers_model)


def _reconstruct(pkt: Packet, layers_model: list[Any]) -> tuple[Packet | None, bool]:
    chain = layer_list(pkt)
    pending: Pending = []
    changed = False
    for depth, spec in enumerate(layers_model):
        spec = _layer_spec(spec)
        if spec.get("delete") is True:
            if depth == 0:
                return None, True
            if depth < len(chain):
                chain[depth - 1].remove_payload()
                changed = True
            break
        if depth >= len(chain):
            chain[-1].add_payload(_chain(layers_model[depth:], pending))
            changed = True
            break
        layer = chain[depth]
        if not _same_layer(spec["id"], layer):
            raise ServiceError(f"layer {depth} is {type(layer).__name__} in the packet, not {spec['id']!r}")
        if spec.get("fields"):
            apply_fields(layer, spec["fields"], pending)
            changed = True
    _fill_total_sizes(pkt, pending)
    _mark_explicit(pkt)
    return pkt, changed


def last_layer_class(layers_model: list[Any]) -> type[Packet]:
    """Class of the model's last layer; every layer id is checked, nothing is built."""
    for spec in _check_model(layers_model):
        layer_class(_layer_spec(spec)["id"])
    return layer_class(layers_model[-1]["id"])
