"""What the broker's core asks its shell to do, in order: one type per action, `Action` the union.

Actions are dataclasses, so two of different types never compare equal (`Kill(5)` is not
`Terminate(5)`).

The core queues them and hands them out with `Scheduler.drain()`; the shell performs each (a
send, a signal, a reply) and may feed the core events while it does, which queue more. Routes
are opaque to the core: whatever the shell needs to answer a client (a ZeroMQ envelope, or the
HTTP gateway's callback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

from scapyrpc.broker.reasons import Departure, Refusal

__all__ = [
    "Action",
    "Kill",
    "Ping",
    "PoolReady",
    "Refuse",
    "Route",
    "StartWorker",
    "Stopped",
    "Stopping",
    "Terminate",
    "ToClient",
    "ToWorker",
    "WorkerGone",
]

Route: TypeAlias = Any  # the shell's: a list of envelope frames, or a callable taking the reply


@dataclass(slots=True)
class ToWorker:
    """Send request `tag` with `body` to worker `ident` (`remote`: from beyond this host)."""

    ident: bytes
    tag: int
    body: bytes
    remote: bool = False


@dataclass(slots=True)
class Ping:
    """Send a heartbeat to worker `ident`."""

    ident: bytes


@dataclass(slots=True)
class ToClient:
    """Deliver a worker's reply `body` on `route`. The rest describes the reply and is not
    compared: when the request was accepted, the worker's note on it (see `wire/frames.py`) and
    the worker's pid, for metrics and logs; the request and the worker's version, for the reply
    cache (when the note says the reply may be kept)."""

    route: Route
    body: bytes | memoryview
    accepted: float = field(default=0.0, compare=False)
    note: bytes = field(default=b"", compare=False)
    pid: int = field(default=0, compare=False)
    request: bytes = field(default=b"", compare=False)
    version: str = field(default="", compare=False)


@dataclass(slots=True)
class Refuse:
    """Answer the request `body` on `route` with a broker-made error for `reason`; `detail` is
    what its message needs (a size, seconds; the method is peeked from `body`); `accepted` (not
    compared) when the request arrived."""

    route: Route
    body: bytes
    reason: Refusal
    detail: float = 0
    accepted: float = field(default=0.0, compare=False)


@dataclass(slots=True)
class StartWorker:
    """Start one local worker process; report it with `started` (or `start_failed`)."""


@dataclass(slots=True)
class Kill:
    """SIGKILL local process `pid`."""

    pid: int


@dataclass(slots=True)
class Terminate:
    """SIGTERM local process `pid` (the server is stopping)."""

    pid: int


@dataclass(slots=True)
class WorkerGone:
    """Worker process `pid` on `host` left the pool, for `reason` (to log)."""

    pid: int
    host: str
    reason: Departure
    local: bool


@dataclass(slots=True)
class PoolReady:
    """Every local worker has said READY once (emitted once)."""


@dataclass(slots=True)
class Stopping:
    """The stop has begun (emitted once): new requests are refused from now on."""


@dataclass(slots=True)
class Stopped:
    """Nothing is left to answer and every local process has exited (or was given up on)."""

    shutdown_requested: bool


Action: TypeAlias = (
    ToWorker | Ping | ToClient | Refuse | StartWorker | Kill | Terminate | WorkerGone | PoolReady | Stopping | Stopped
)
