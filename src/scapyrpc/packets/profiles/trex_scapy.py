"""What TRex's own Scapy (2.4.3, patched by TRex) offers a Python profile: its layer classes,
where a profile imports each from, their fields and the fields' defaults.

A Python profile is run by TRex with that Scapy, not ours; an expression is only written for a
layer whose class and fields exist there, and a field whose default differs there is written
out. The facts come from `data/trex_scapy.json`, made by `tools/trex_scapy_catalogue.py` inside
TRex's Python library; `default_key` is shared with that tool (it loads this file by path), so
this module imports nothing but the standard library at import time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

API_MODULE = ""  # a class `from trex_stl_lib.api import *` already provides


def default_key(value: Any) -> Any:
    """A JSON form of a field's default, equal in both Scapy versions for equal values.

    Text and bytes compare alike (Scapy 2.4.3 declares many byte defaults as text); a random
    default is `["random"]` and any other object `["object", type name]`: neither is ever
    taken to be the same in both.
    """
    kind = type(value).__name__
    if value is None:
        return None
    if kind == "FlagValue":
        value = value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, str):
        return ["bytes", value.encode("utf-8", "surrogateescape").hex()]
    if isinstance(value, (bytes, bytearray)):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, (list, tuple)):
        return ["list", [default_key(item) for item in value]]
    if any(base.__name__ == "VolatileValue" for base in type(value).__mro__):
        return ["random"]
    return ["object", kind]


def same_default(a: Any, b: Any) -> bool:
    """Whether two `default_key`s stand for the same fixed value."""
    return a == b and not _unstable(a)


def _unstable(key: Any) -> bool:
    if isinstance(key, list) and key[:1] in (["random"], ["object"]):
        return True
    return isinstance(key, list) and key[:1] == ["list"] and any(_unstable(k) for k in key[1])


@dataclass(frozen=True)
class TrexClass:
    """A packet class of TRex's Scapy: the module a profile imports it from (API_MODULE when
    `from trex_stl_lib.api import *` provides it), its fields' default keys in order, and the
    fields that hold a list of values."""

    name: str
    module: str
    defaults: dict[str, Any]
    lists: frozenset[str]


@dataclass(frozen=True)
class Catalogue:
    scapy: str  # which Scapy the facts describe
    classes: dict[str, tuple[TrexClass, ...]]  # by class name; several modules may define one
    values: frozenset[str]  # other classes the API provides (ASN.1 values)

    def packet_class(self, name: str, our_module: str) -> TrexClass | None:
        """The class `name` as a profile would get it: the API's, else the one in the module
        ours lives in, else the only one."""
        found = self.classes.get(name, ())
        for wanted in (API_MODULE, our_module):
            for cls in found:
                if cls.module == wanted:
                    return cls
        return found[0] if len(found) == 1 else None


@cache
def catalogue() -> Catalogue:
    """The shipped facts, read once per process."""
    raw = json.loads(resources.files("scapyrpc.packets").joinpath("data/trex_scapy.json").read_text("utf-8"))
    classes: dict[str, list[TrexClass]] = {}
    for name, entries in raw["packets"].items():
        for module, fields in entries:
            defaults = {f: key for f, key, _ in fields}
            lists = frozenset(f for f, _, is_list in fields if is_list)
            classes.setdefault(name, []).append(TrexClass(name, module, defaults, lists))
    return Catalogue(raw["scapy"], {k: tuple(v) for k, v in classes.items()}, frozenset(raw["values"]))
