"""Import TRex's Python (and, through its loader, its bundled Scapy 2.4.3) on Python 3.11.

TRex's code is imported as it is; three shims, applied here only, let it load:

- `inspect.getargspec`, gone in 3.11, is aliased to `getfullargspec` (TRex's code calls it);
- the venv's pyzmq is kept: TRex's loader (`trex/__init__.py`) evicts the `zmq` package to load
  its own ctypes binding, which then half-imports against pyzmq and fails;
- profiles import `trex_stl_lib.api`, a package that only some TRex trees carry: where it is
  missing, a module of that name re-exporting `trex.stl.api` stands in.

Run in a child process of its own: TRex's loader puts its bundled libraries first on `sys.path`.
"""

from __future__ import annotations

import inspect
import sys
import types
from pathlib import Path


def load_trex(interactive: Path) -> None:
    """Make `import trex` and `import trex_stl_lib.api` work from the directory holding `trex/`."""
    if not hasattr(inspect, "getargspec"):
        setattr(inspect, "getargspec", inspect.getfullargspec)  # noqa: B010  (absent from 3.11's stubs)
    sys.path.insert(0, str(interactive))
    import zmq  # noqa: F401  (the venv's pyzmq, loaded before TRex's loader can evict it)

    kept = {name: module for name, module in sys.modules.items() if name == "zmq" or name.startswith("zmq.")}
    import trex  # noqa: F401  (TRex's loader: its external_libs, its Scapy, go on sys.path)

    sys.modules.update(kept)
    if not (interactive / "trex_stl_lib").is_dir():
        _alias_stl_lib()


def _alias_stl_lib() -> None:
    """`trex_stl_lib` and `trex_stl_lib.api` as aliases of `trex.stl.api`."""
    from trex.stl import api

    package = types.ModuleType("trex_stl_lib")
    package.__path__ = []  # a package, so `trex_stl_lib.api` can be imported from it
    package.api = api  # type: ignore[attr-defined]
    sys.modules["trex_stl_lib"] = package
    sys.modules["trex_stl_lib.api"] = api
