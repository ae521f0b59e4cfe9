"""The limits this worker process enforces (API.md section 9), set once before it serves."""

from __future__ import annotations

from dataclasses import replace

from .config import MiB, Limits

__all__ = ["Limits", "MiB", "current", "configure"]

_current = Limits()


def current() -> Limits:
    """The limits this process enforces."""
    return _current


def configure(limits: Limits | None = None, **changes: int) -> Limits:
    """Set this process's limits; called once before serving."""
    global _current
    _current = replace(limits or _current, **changes)
    return _current
