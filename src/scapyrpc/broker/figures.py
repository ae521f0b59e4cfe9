"""What observers of the broker see and what they must be: a snapshot, and the interfaces.

Observers (Prometheus metrics, systemd's status) never reach into the broker: they are handed
what they need through these Protocols, passed to them or to the broker when constructed. The
broker imports none of them. `Figures` is one moment of the broker, copied out of it; it may be
taken from another thread (each table is copied by one C-level call, atomic against the loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from scapyrpc.broker.reasons import Departure, Refusal, Restart
from scapyrpc.broker.replycache import CacheFigures

__all__ = ["BrokerListener", "Figures", "FiguresSource", "ReplyObserver", "Traffic"]


@dataclass(slots=True)
class Traffic:
    """What the shell read from and sent to clients."""

    requests: int = 0
    replies: int = 0
    bytes_in: int = 0
    bytes_out: int = 0


@dataclass(frozen=True, slots=True)
class Figures:
    """The broker at one moment."""

    pool_size: int  # local worker processes the pool keeps (--workers)
    local: int  # workers in the pool (not leaving) that are processes of ours
    remote: int  # workers in the pool from elsewhere (`scapyrpc worker --connect`)
    in_flight: int  # requests handed to a worker and not yet answered
    queued: int  # requests waiting for a worker
    queued_bytes: int
    served: int  # replies of workers to requests
    stopping: bool
    refused: Mapping[Refusal, int]  # every reason, in its enum's order
    restarts: Mapping[Restart, int]  # local processes replaced, by why the last one ended
    gone: Mapping[tuple[Departure, bool], int]  # workers that left the pool: (reason, local) -> count
    traffic: Traffic
    reply_cache: CacheFigures = field(default_factory=CacheFigures)  # replies the broker gave itself


class FiguresSource(Protocol):
    def figures(self) -> Figures:
        """The broker now (callable from any thread)."""
        ...


class BrokerListener(Protocol):
    """Told what an outside observer (systemd's notification, `ops/systemd_status.py`) wants to hear."""

    def pool_changed(self, figures: Figures) -> None:
        """A worker joined or left the pool."""

    def stopping(self, figures: Figures) -> None:
        """The stop has begun: from now on new requests are refused."""


class ReplyObserver(Protocol):
    """Told of each reply a worker made, on the event loop (`ops/metrics.py`'s Recorder): keep it cheap."""

    def replied(self, note: bytes, seconds: float) -> None:
        """`note` is the worker's (b"METHOD OUTCOME"); `seconds` since the request was accepted."""
