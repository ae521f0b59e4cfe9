"""Write `src/scapyrpc/packets/data/trex_scapy.json`: the packet classes of TRex's Scapy.

Run inside TRex's Python library, with its bundled Scapy, so the facts are TRex's:

    python tools/trex_scapy_catalogue.py TREX_DIR > src/scapyrpc/packets/data/trex_scapy.json

TREX_DIR holds trex-core's `scripts/` (the STL library and `external_libs/`). For every packet
class it records where a profile gets it (`""`: `from trex_stl_lib.api import *` provides it,
else the module to import it from) and each field's name, default and whether it holds a list
(1) or one value (0); defaults as
`scapyrpc.packets.profiles.trex_scapy.default_key` writes it (that file is loaded by path, so
nothing of scapyrpc that imports our own Scapy is loaded here). Contrib modules that do not
load are left out. Python 3.11 needs the same shim as TRex's own tools: `inspect.getargspec`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_MODULE = os.path.join(HERE, os.pardir, "src", "scapyrpc", "packets", "profiles", "trex_scapy.py")


def _load_trex(trex_dir: str):
    if not hasattr(inspect, "getargspec"):
        inspect.getargspec = inspect.getfullargspec  # type: ignore[attr-defined]
    sys.path.insert(0, os.path.join(trex_dir, "scripts", "automation", "trex_control_plane", "interactive"))
    import trex  # noqa: F401  TRex's loader puts its external_libs (Scapy 2.4.3) first on sys.path
    import trex.stl.api as api

    return api


def _key_function():
    spec = importlib.util.spec_from_file_location("trex_scapy_keys", KEY_MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.default_key


def _subclasses(root: type) -> list[type]:
    seen: dict[type, None] = {}
    stack = [root]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen[sub] = None
                stack.append(sub)
    return list(seen)


def main(trex_dir: str) -> None:
    api = _load_trex(trex_dir)
    import scapy
    import scapy.contrib
    from scapy.asn1.asn1 import ASN1_Object
    from scapy.packet import Packet

    default_key = _key_function()
    for info in pkgutil.iter_modules(scapy.contrib.__path__):
        try:
            importlib.import_module("scapy.contrib." + info.name)
        except Exception:  # noqa: BLE001 - a contrib that does not load in TRex is not offered
            print(f"skipped scapy.contrib.{info.name}", file=sys.stderr)
    provided = vars(api)
    packets: dict[str, list] = {}
    for cls in _subclasses(Packet):
        name, module = cls.__name__, cls.__module__
        if name.startswith("_") or not module.startswith("scapy."):
            continue
        fields = getattr(cls, "fields_desc", None)
        if not isinstance(fields, list):
            continue
        if provided.get(name) is cls:
            where = ""
        elif getattr(sys.modules.get(module), name, None) is cls:
            where = module
        else:  # made at run time (OpenFlow's OXM classes): a profile cannot import it
            continue
        packets.setdefault(name, []).append(
            [where, [[f.name, default_key(getattr(f, "default", None)), int(bool(f.islist))] for f in fields]]
        )
    values = sorted(c.__name__ for c in _subclasses(ASN1_Object) if provided.get(c.__name__) is c)
    out = {
        "scapy": "Scapy 2.4.3 as TRex bundles it (trex-core scripts/external_libs/scapy-2.4.3)",
        "packets": {k: sorted(v) for k, v in sorted(packets.items())},
        "values": values,
    }
    json.dump(out, sys.stdout, separators=(",", ":"), sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
