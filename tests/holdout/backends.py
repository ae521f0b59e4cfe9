"""The two ways the hold-out calls simulate_vm: in this process, or over the wire.

Over the wire, a real `python -m scapyrpc serve` is started on 127.0.0.1 and an ephemeral port
(`scapyrpc.testing.ManagedServer`) and spoken to as the TRex GUI speaks to it (`ScapyClient`); it
is stopped by its pid when the run ends, whatever happened.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

WIRE_TIMEOUT_MS = 120_000  # a 9 KB packet 100 times, over the wire, with room to spare


class Simulate(Protocol):
    def __call__(self, packet: bytes, program: dict[str, Any], options: dict[str, Any]) -> list[bytes]: ...


def _packets(reply: dict[str, Any]) -> list[bytes]:
    return [base64.b64decode(p) for p in reply["packets"]]


@contextlib.contextmanager
def in_process() -> Iterator[Simulate]:
    """simulate_vm as the server's workers run it (`scapyrpc.packets.service`)."""
    from scapyrpc.packets import service

    def simulate(packet: bytes, program: dict[str, Any], options: dict[str, Any]) -> list[bytes]:
        return _packets(service.simulate_vm(base64.b64encode(packet).decode(), program, options))

    yield simulate


@contextlib.contextmanager
def over_the_wire(started: list[str]) -> Iterator[Simulate]:
    """simulate_vm over ZeroMQ from a server of our own; a line saying which is appended to `started`."""
    from scapyrpc.client import ScapyClient
    from scapyrpc.testing import ManagedServer

    with ManagedServer(workers=1) as server:
        started.append(f"python -m scapyrpc serve, pid {server.pid}, {server.endpoint}, {server.workers} worker")
        with ScapyClient(server.endpoint, timeout_ms=WIRE_TIMEOUT_MS) as client:

            def simulate(packet: bytes, program: dict[str, Any], options: dict[str, Any]) -> list[bytes]:
                return _packets(client.call("simulate_vm", base64.b64encode(packet).decode(), program, options))

            yield simulate
