"""Protocol metadata: what the GUI loads at connect time and on every layer menu.

Everything here is derived from Scapy's own classes, merged with the shipped
override file (`data/protocols.json`: display names, regexes, preferred payload
order), and built once per process by `warm_up()`. A request only looks up
the prepared, JSON-ready values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.registry import registry
from scapyrpc.packets.unwrap import declared_field

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["check_update", "display_name", "get_all", "get_definitions", "get_tree", "payload_classes", "warm_up"]

# The GUI parses min/max as Java `Integer` (a wider value would break the whole
# definitions load) and only enforces a range when both ends are present.
JAVA_INT_MIN, JAVA_INT_MAX = -(2**31), 2**31 - 1
# Enums bigger than this are sent as plain numbers: a drop-down of thousands of
# entries is useless and bloats the connect-time payload.
MAX_ENUM_VALUES = 1024
MAC_REGEX = "^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$"

# The seed document's suggested hierarchy (the GUI never calls get_tree).
TREE = {"ALL": {"Ether": {"ARP": {}, "IP": {"TCP": {"RAW": "payload"}, "UDP": {"RAW": "payload"}}}}}

_TYPE_SPECIFIC_KEYS = {"ENUM": ("values_dict",), "BITMASK": ("bits",), "NUMBER": ("min", "max")}
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_TIME_FIELD = re.compile(r"time|seconds", re.IGNORECASE)


@dataclass(frozen=True)
class _Cache:
    protocols: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]]
    payloads: dict[type[Packet], list[str]]
    overrides: dict[str, dict[str, Any]]
    get_all: dict[str, Any]


def warm_up() -> None:
    """Build every metadata cache of this process (idempotent)."""
    _state()


@cache
def _state() -> _Cache:
    return _build()


# ---------------------------------------------------------------- public API


def get_definitions(def_filter: list[Any] | None) -> dict[str, Any]:
    """`{"protocols": [...]}` for every registered class, or for the named ones in order."""
    state = _state()
    if def_filter is None or def_filter == []:
        return {"protocols": state.protocols}
    if not isinstance(def_filter, list):
        raise ServiceError("protocol filter must be null or a list of class names")
    protocols = []
    for name in def_filter:
        if not isinstance(name, str) or name not in state.by_id:
            raise ServiceError(f"unknown protocol {_short(name)}")
        protocols.append(state.by_id[name])
    return {"protocols": protocols}


def payload_classes(cls: type[Packet]) -> list[str]:
    """Class names that can follow `cls`, most useful first, `Raw` last."""
    found = _state().payloads.get(cls)
    return found if found is not None else _unregistered_payload_classes(cls)


@cache
def _unregistered_payload_classes(cls: type[Packet]) -> list[str]:
    """`payload_classes` of a class outside the registry (e.g. shadowed by name)."""
    return _payload_classes(cls, _state().overrides.get(cls.__name__, {}), registry())


def display_name(class_name: str) -> str | None:
    """The protocol's display name (`IP` -> `IPv4`), or None for an unknown class."""
    proto = _state().by_id.get(class_name)
    return proto["name"] if proto else None


def get_tree() -> dict[str, Any]:
    return TREE


def get_all() -> dict[str, Any]:
    """The deprecated `{db, fields, db_md5, fields_md5}` view, identical in every process."""
    return _state().get_all


def check_update(db_md5: Any, field_md5: Any) -> bool:
    """True when the client's md5s match ours; the reference's error texts otherwise."""
    current = _state().get_all
    if _md5_text(field_md5) != current["fields_md5"]:
        raise ServiceError("Fields DB is not up to date")
    if _md5_text(db_md5) != current["db_md5"]:
        raise ServiceError("Protocol DB is not up to date")
    return True


def _md5_text(value: Any) -> str | None:
    # The seed's md5s end in "\n" (base64.encodestring); accept them too.
    return value.strip() if isinstance(value, str) else None


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return "'" + (text if len(text) <= 60 else text[:57] + "...") + "'"


# ---------------------------------------------------------------- building


def _build() -> _Cache:
    reg = registry()
    overrides = _overrides()
    protocols = [_protocol(name, cls, overrides.get(name, {})) for name, cls in reg.items()]
    payloads = {cls: _payload_classes(cls, overrides.get(name, {}), reg) for name, cls in reg.items()}
    return _Cache(
        protocols=protocols,
        by_id={p["id"]: p for p in protocols},
        payloads=payloads,
        overrides=overrides,
        get_all=_get_all(reg),
    )


def _overrides() -> dict[str, dict[str, Any]]:
    text = resources.files("scapyrpc.packets").joinpath("data/protocols.json").read_text(encoding="utf-8")
    return {entry["id"]: entry for entry in json.loads(text)}


def _protocol(name: str, cls: type[Packet], override: dict[str, Any]) -> dict[str, Any]:
    field_overrides = {f["id"]: f for f in override.get("fields", ())}
    fields = [_merge(_field(fld), field_overrides.get(fld.name)) for fld in cls.fields_desc]
    return {"id": name, "name": override.get("name") or _class_title(cls), "fields": fields}


def _class_title(cls: type) -> str:
    """Scapy's own display name (its metaclass moves `name` into `_name`)."""
    for klass in cls.__mro__:
        for attr in ("_name", "name"):
            value = klass.__dict__.get(attr)
            if isinstance(value, str) and value:
                return value
    return cls.__name__


def _merge(derived: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    if not override:
        return derived
    new_type = override.get("type")
    if new_type and new_type != derived.get("type"):
        for key in _TYPE_SPECIFIC_KEYS.get(derived.get("type", ""), ()):
            derived.pop(key, None)
    return {**derived, **override}


def _field(fld: Any) -> dict[str, Any]:
    inner = declared_field(fld)
    info = {"id": fld.name, "name": fld.name, **_type_info(inner)}
    if _is_auto(inner, info["type"]):
        info["auto"] = True
    return info


def _type_info(fld: Any) -> dict[str, Any]:
    from scapy import fields as F

    if isinstance(fld, F.FlagsField):
        return {"type": "BITMASK", "bits": _bits(fld)}
    if isinstance(fld, F.MACField):
        return {"type": "MAC_ADDRESS", "regex": MAC_REGEX}
    if isinstance(fld, F.IPField):
        return {"type": "IP_ADDRESS"}
    if isinstance(fld, (F.IP6Field, F.UTCTimeField)):
        # The GUI's IP_ADDRESS editor is IPv4-only, so IPv6 stays free text; times are text too.
        return {"type": "STRING"}
    if isinstance(fld, F.MultiFlagsField):
        return {"type": "EXPRESSION"}
    if isinstance(fld, F._EnumField):
        values = _enum_values(fld)
        if values:
            return {"type": "ENUM", "values_dict": values}
    if getattr(fld, "holds_packets", 0) or getattr(fld, "islist", 0):
        return {"type": "EXPRESSION"}
    if isinstance(fld, F._StrField):
        binary = isinstance(fld, F._XStrField) or fld.name == "load"
        return {"type": "BYTES" if binary else "STRING"}
    return _number_info(fld)


def _number_info(fld: Any) -> dict[str, Any]:
    from scapy import fields as F

    if isinstance(fld, (F.IEEEFloatField, F.IEEEDoubleField, F.BCDFloatField, F._ScalingField, F.FixedPointField)):
        return {"type": "NUMBER"}
    if isinstance(fld, F._BitField):
        width, signed = fld.size, False
    elif isinstance(fld, (F.ThreeBytesField, F.LEThreeBytesField)):
        width, signed = 24, False
    elif isinstance(fld, F.Field) and isinstance(getattr(fld, "fmt", None), str) and fld.fmt[-1:] in "bBhHiIlLqQ":
        width, signed = int(fld.sz) * 8, fld.fmt[-1].islower()
    else:
        return {"type": "STRING"}
    lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    # The GUI checks a min/max range with Integer.valueOf(text): only fields shown
    # in decimal (no hex `X...Field`, no custom repr) may carry one.
    decimal = type(fld).i2repr is F.Field.i2repr
    if decimal and lo >= JAVA_INT_MIN and hi <= JAVA_INT_MAX:
        return {"type": "NUMBER", "min": lo, "max": hi}
    return {"type": "NUMBER"}


def _enum_values(fld: Any) -> dict[str, int | str]:
    """name -> value, JSON-ready; empty when the enum is callable-based or too large."""
    table = getattr(fld, "s2i_all", None) or getattr(fld, "s2i", None)
    if not isinstance(table, dict) or len(table) > MAX_ENUM_VALUES:
        return {}
    values: dict[str, int | str] = {}
    for name, value in table.items():
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, (int, str)):
            values[str(name)] = value
    return values


def _bits(fld: Any) -> list[dict[str, Any]]:
    """One entry per named flag, most significant first (the reference's order)."""
    names = list(fld.names)[: min(fld.size, 64)]
    bits = []
    for position in reversed(range(len(names))):
        mask = 1 << position
        label = str(names[position]) if names[position] else f"bit {position}"
        bits.append(
            {"name": label, "mask": mask, "values": [{"name": "Not Set", "value": 0}, {"name": "Set", "value": mask}]}
        )
    return bits


def _is_auto(fld: Any, kind: str) -> bool:
    """Scapy computes the value when unset: lengths, checksums, source addresses."""
    from scapy import fields as F

    if fld.default is not None:
        return False
    return kind in ("NUMBER", "ENUM", "MAC_ADDRESS", "IP_ADDRESS") or isinstance(fld, (F.LenField, F.FieldLenField))


# ---------------------------------------------------------------- payload classes


def _payload_classes(cls: type[Packet], override: dict[str, Any], reg: dict[str, type[Packet]]) -> list[str]:
    """Preferred classes first, then what Scapy's bindings would dissect after `cls`."""
    from scapy.packet import Raw

    exclude = set(override.get("payload_exclude", ()))
    ordered: dict[str, None] = {}
    for name in override.get("payload", ()):
        if name in reg:
            ordered[name] = None
    for follower in _bound_followers(cls):
        name = follower.__name__
        if reg.get(name) is follower and not name.startswith("_"):
            ordered[name] = None
    for name in exclude | {"Raw", "Padding"}:
        ordered.pop(name, None)
    return [*ordered, "Raw"] if Raw in reg.values() else list(ordered)


def _bound_followers(cls: type[Packet]) -> list[type[Packet]]:
    followers = [follower for alias in getattr(cls, "aliastypes", (cls,)) for _, follower in alias.payload_guess]
    return followers + _ipv6_followers(cls)


def _ipv6_followers(cls: type[Packet]) -> list[type[Packet]]:
    """IPv6 and its extension headers dispatch on `nh` outside `payload_guess`."""
    from scapy.layers import inet6

    if not (issubclass(cls, inet6.IPv6) or issubclass(cls, inet6._IPv6ExtHdr)):
        return []
    # Scapy declares these tables with the class names it writes in them, and puts the classes
    # in their place once the module has loaded (its _load_dict)
    found = [c for c in cast("dict[int, type[Packet] | str]", inet6.ipv6nhcls).values() if isinstance(c, type)]
    found += [c for c in cast("dict[int, type[Packet] | str]", inet6.icmp6typescls).values() if isinstance(c, type)]
    return found


# ---------------------------------------------------------------- get_all


def _get_all(reg: dict[str, type[Packet]]) -> dict[str, Any]:
    db = {
        name: [[fld.name, type(declared_field(fld)).__name__, _default_text(fld)] for fld in cls.fields_desc]
        for name, cls in reg.items()
    }
    fields = {kind: "empty" for kind in sorted({row[1] for rows in db.values() for row in rows})}
    # The md5 covers the schema (classes, field names, field classes) but not the
    # defaults: a few contrib layers take defaults from the clock or the RNG at import.
    schema = {name: [row[:2] for row in rows] for name, rows in db.items()}
    return {"db": db, "fields": fields, "db_md5": _md5(schema), "fields_md5": _md5(fields)}


def _default_text(fld: Any) -> str:
    """`(default)` as `ls()` shows it, made stable across processes and restarts."""
    value = fld.default
    if _TIME_FIELD.search(type(declared_field(fld)).__name__) or _TIME_FIELD.search(type(value).__name__):
        return "(<time>)"  # taken from the clock at import: would differ between processes
    if isinstance(value, (set, frozenset)):
        text = "{" + ", ".join(sorted(repr(v) for v in value)) + "}"
    else:
        try:
            text = repr(value)
        except Exception:  # a broken __repr__ in some contrib default
            text = f"<{type(value).__name__}>"
    return "(" + _ADDRESS.sub("", text) + ")"


def _md5(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return base64.b64encode(hashlib.md5(canonical.encode("ascii")).digest()).decode("ascii")
