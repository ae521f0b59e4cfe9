"""scapyrpc: a fast, safe, drop-in replacement for the TRex Scapy Server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ScapyClient", "ScapyRpcError", "ScapyServer", "Scapy_server"]

if TYPE_CHECKING:  # what __getattr__ hands out, for type checkers
    from scapyrpc.client import ScapyClient, ScapyRpcError
    from scapyrpc.server import Scapy_server, ScapyServer


def __getattr__(name: str) -> Any:  # lazy: importing the package must not import Scapy or zmq
    if name in ("ScapyServer", "Scapy_server"):
        from scapyrpc.server import ScapyServer

        return ScapyServer
    if name in ("ScapyClient", "ScapyRpcError"):
        from scapyrpc import client

        return getattr(client, name)
    raise AttributeError(name)
