"""A stream's packet as a Scapy expression that TRex's own Scapy (2.4.3) builds into the same
bytes: `Ether(dst=...) / IP(src=...) / UDP() / Raw(load=b'...')`.

Each layer is written with the fields the user set (`Layer.fields`), rendered by the EXPRESSION
renderer. Fields the user left alone are written too where TRex's Scapy has another default
(TRex pins Ether's addresses and IP's, ours computes them), and where ours holds a random value:
their values are read from the frame as built. From the first layer TRex's Scapy cannot
express (a class or a field it lacks, a value with no literal form) the rest of the frame is
written as bytes, `Raw(load=b'...')`, with the reason. The expression is then built here and
must give the frame's bytes; if it does not, the bytes start one layer earlier.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Any

from scapy.packet import Packet, Raw
from scapy.volatile import RandField

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.expressions import scapy_dialect
from scapyrpc.packets.model import dissect_frame, frame_bytes, is_implicit
from scapyrpc.packets.profiles.trex_scapy import API_MODULE, Catalogue, catalogue, default_key, same_default
from scapyrpc.packets.registry import registry
from scapyrpc.packets.unwrap import layer_list

_EMPTY: tuple[Any, ...] = ([], b"", "")
# Defaults Scapy copies into every new layer's `fields` (Packet.prepare_cached_fields): such a
# field is in `fields` whether or not the user set it.
_COPIED = (list, dict, set, RandField, Packet)


_Imports = dict[tuple[str, str], None]  # (module, class name), in the order first needed


class _NotExpressible(Exception):
    """Why a layer cannot be written as an expression for TRex's Scapy."""


@dataclass
class LayerCode:
    """One layer written out: its class, and each field written with its value and text."""

    cls: type
    values: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return f"{self.cls.__name__}({', '.join(f'{k}={v}' for k, v in self.texts.items())})"

    def build(self) -> Packet:
        layer: Packet = self.cls(**{k: copy.deepcopy(v) for k, v in self.values.items()})
        return layer


@dataclass(frozen=True)
class PacketCode:
    """The expression's layers (texts), the imports it needs beyond `trex_stl_lib.api`, and,
    when the end of the frame is written as bytes, why."""

    layers: tuple[str, ...]
    imports: tuple[tuple[str, str], ...]  # (module, class name)
    note: str | None

    def expression(self) -> str:
        return " / ".join(self.layers)


def packet_code(pkt: Packet, binary: bytes, result: dict[str, Any]) -> PacketCode:
    """The expression of `pkt`, whose frame is `binary` and packet result `result`."""
    layers = layer_list(pkt)
    frame = layer_list(dissect_frame(binary, type(pkt)))
    offsets = [entry["offset"] for entry in result["data"]]
    table = catalogue()
    codes: list[LayerCode] = []
    imports: _Imports = {}
    note = None
    for depth, layer in enumerate(layers):
        seen = frame[depth] if depth < len(frame) and type(frame[depth]) is type(layer) else None
        absent = {f["id"] for f in result["data"][depth]["fields"] if f.get("ignored")}
        try:
            codes.append(_layer_code(layer, seen, absent, table, imports))
        except _NotExpressible as exc:
            note = f"{type(layer).__name__} and what follows are written as bytes: {exc}"
            break
    for cut in range(len(codes), -1, -1):
        kept = codes[:cut]
        if 0 < cut < len(layers):
            _pin_overloads(layers[cut - 1], kept[-1])
        tail = binary[offsets[cut] :] if cut < len(layers) else b""
        if _builds(kept, tail, binary):
            texts = [code.text() for code in kept]
            if tail or not kept:
                texts.append(f"Raw(load={scapy_dialect.render(tail)})")
            wanted = {name for code in kept for name in _called(code.text())}
            return PacketCode(tuple(texts), tuple(k for k in imports if k[1] in wanted), note)
        note = (
            f"{type(layers[cut - 1]).__name__} and what follows are written as bytes: "
            "written as an expression it gives other bytes"
        )
    raise AssertionError("the frame as bytes always builds")  # pragma: no cover - cut 0 is Raw(binary)


def _layer_code(layer: Packet, seen: Packet | None, absent: set[str], table: Catalogue, imports: _Imports) -> LayerCode:
    """The layer's fields to write: `seen` is the layer dissected from the frame (None when the
    frame does not dissect back to this class here), `absent` the fields the frame does not carry."""
    cls = type(layer)
    name = cls.__name__
    theirs = table.packet_class(name, cls.__module__)
    if theirs is None:
        raise _NotExpressible(f"TRex's Scapy (2.4.3) has no layer {name}")
    code = LayerCode(cls)
    for fld in cls.fields_desc:
        fname = fld.name
        default = getattr(fld, "default", None)
        ours = default_key(default)
        value = layer.fields.get(fname)
        if fname in layer.fields and not (isinstance(default, _COPIED) and same_default(default_key(value), ours)):
            if is_implicit(value, fld):
                value = _as_built(seen, name, fname)
            if fname not in theirs.defaults:
                if fname in absent or same_default(default_key(value), ours):
                    continue  # not in the frame, or our default: TRex's Scapy makes the same bytes without it
                raise _NotExpressible(f"TRex's Scapy (2.4.3) has no field '{fname}' in {name}")
        elif fname in absent or fname not in theirs.defaults or same_default(ours, theirs.defaults[fname]):
            continue  # the same default there (None: computed by both)
        else:
            value = _as_built(seen, name, fname)
            if value is None or (theirs.defaults[fname] is None and value in _EMPTY):
                continue
        if isinstance(value, list) and fname in theirs.defaults and fname not in theirs.lists:
            if not value:
                continue  # nothing, which the field holds by default there
            value = _one_value(value, name, fname)
        code.values[fname] = value
        try:
            code.texts[fname] = scapy_dialect.render(value)
        except ServiceError:
            raise _NotExpressible(f"{name}.{fname} has no expression form") from None
    _check_calls(code.text(), cls, table, imports)
    return code


def _one_value(values: list[Any], name: str, fname: str) -> Any:
    """A list for a field that holds one value in TRex's Scapy: its packet, or its packets chained
    (Scapy 2.4.3's form of DNS records)."""
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, Packet) for v in values):
        chain = values[0].copy()
        for item in values[1:]:
            chain = chain / item
        return chain
    raise _NotExpressible(f"TRex's Scapy (2.4.3) takes no list in {name}.{fname}")


def _as_built(seen: Packet | None, name: str, fname: str) -> Any:
    """A field's value in the frame as built: where TRex's Scapy would pick another value."""
    if seen is None:
        raise _NotExpressible(f"the frame does not dissect back as {name}, to read {name}.{fname} from it")
    return seen.getfieldval(fname)


def _called(text: str) -> list[str]:
    return [
        node.func.id
        for node in ast.walk(ast.parse(text, mode="eval"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]


def _check_calls(text: str, outer: type, table: Catalogue, imports: _Imports) -> None:
    """Every class the layer's text calls (itself, and packets inside its values) exists in
    TRex's Scapy with the fields given; the modules to import them from are collected."""
    for node in ast.walk(ast.parse(text, mode="eval")):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        name = node.func.id
        if name in table.values:
            continue
        ours = registry().get(name)
        theirs = table.packet_class(name, (ours or outer).__module__)
        if theirs is None:
            raise _NotExpressible(f"TRex's Scapy (2.4.3) has no class {name}")
        for keyword in node.keywords:
            if keyword.arg not in theirs.defaults:
                raise _NotExpressible(f"TRex's Scapy (2.4.3) has no field '{keyword.arg}' in {name}")
            if isinstance(keyword.value, ast.List) and keyword.arg not in theirs.lists:
                raise _NotExpressible(f"TRex's Scapy (2.4.3) takes no list in {name}.{keyword.arg}")
        if theirs.module != API_MODULE:
            imports[(theirs.module, name)] = None


def _pin_overloads(layer: Packet, code: LayerCode) -> None:
    """Fields the next layer set on `layer` (IP's proto under UDP), kept when that layer is bytes."""
    for fname, value in (layer.overloaded_fields or {}).items():
        if fname not in layer.fields and fname not in code.values:
            try:
                code.texts[fname] = scapy_dialect.render(value)
            except ServiceError:  # then the bytes will differ, and start one layer earlier
                continue
            code.values[fname] = value


def _builds(codes: list[LayerCode], tail: bytes, binary: bytes) -> bool:
    """Whether the layers, then `tail` as Raw, build exactly `binary` (with our Scapy)."""
    try:
        layers = [code.build() for code in codes]
    except Exception:  # noqa: BLE001 - Scapy refuses values in many ways
        return False
    if tail or not layers:
        layers.append(Raw(load=tail))
    for outer, inner in zip(layers, layers[1:]):
        outer.add_payload(inner)
    try:
        return frame_bytes(layers[0]) == binary
    except ServiceError:  # a value our Scapy takes from a model but cannot encode alone
        return False
