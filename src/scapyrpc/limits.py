"""Per-process limits (API.md section 9), set once at start-up from the command line."""

from __future__ import annotations

from dataclasses import dataclass, replace

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_request_bytes: int = 16 * MiB
    max_payload_bytes: int = 1 * MiB
    max_pcap_bytes: int = 64 * MiB
    max_pcap_packets: int = 100_000
    request_timeout: float = 10.0


_current = Limits()


def current() -> Limits:
    """The limits this process enforces."""
    return _current


def configure(**changes: float) -> Limits:
    """Set this process's limits; called once before serving."""
    global _current
    _current = replace(_current, **changes)
    return _current
