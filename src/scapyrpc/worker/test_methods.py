"""Methods that exist only when a server is started with `--test-methods` (reliability tests).

They let a test make a request slow or learn which worker served it; they are
never registered in a normal server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

__all__ = ["METHODS", "UnusualExit", "test_allocate", "test_pid", "test_raise", "test_sleep"]


def test_sleep(seconds: float) -> int:
    """Hold the worker for `seconds` (bounded to 60), then return its pid."""
    time.sleep(max(0.0, min(float(seconds), 60.0)))
    return os.getpid()


def test_pid() -> int:
    """The pid of the worker that served this request."""
    return os.getpid()


def test_allocate(megabytes: int) -> int:
    """Keep `megabytes` of memory alive in this worker (for the RSS recycling test); returns the pid."""
    _hoard.append(bytearray(max(0, min(int(megabytes), 512)) * 1024 * 1024))
    return os.getpid()


class UnusualExit(BaseException):
    """A BaseException that is neither KeyboardInterrupt nor SystemExit (test_raise)."""


_RAISABLE: dict[str, type[BaseException]] = {
    "RecursionError": RecursionError,
    "MemoryError": MemoryError,
    "BaseException": UnusualExit,
}


def test_raise(kind: str) -> int:
    """Raise `kind` out of a method (RecursionError, MemoryError or BaseException): the worker must
    answer with an error reply and live on."""
    raise _RAISABLE[kind]()


_hoard: list[bytearray] = []

METHODS: dict[str, Callable[..., int]] = {
    "test_sleep": test_sleep,
    "test_pid": test_pid,
    "test_allocate": test_allocate,
    "test_raise": test_raise,
}
