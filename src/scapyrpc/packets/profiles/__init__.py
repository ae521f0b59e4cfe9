"""TRex STL profiles: the editor's streams out as Python, JSON or YAML (`export_profile`), and
JSON or YAML profiles back in (`import_profile`); docs/api.md, Profiles.

`streams` reads and checks a stream's settings, `stream_json` is TRex's stream JSON,
`text_formats` the profile text, `packet_code` a packet as an expression for TRex's Scapy
(whose classes `trex_scapy` knows), `python_profile` the Python text.
"""

from __future__ import annotations

from scapyrpc.packets.profiles import trex_scapy
from scapyrpc.packets.profiles.export import export_profile
from scapyrpc.packets.profiles.importer import import_profile

__all__ = ["export_profile", "import_profile", "warm_up"]


def warm_up() -> None:
    """Read the catalogue of TRex's Scapy once per process."""
    trex_scapy.catalogue()
