"""Linux process controls the pool relies on, behind plain functions (prctl through libc).

The broker becomes a *child subreaper*, so the workers a zygote forks (and
orphans on purpose) become the broker's own children: it reaps them and
watches each by its pid. Workers and the zygote ask for a signal when their
parent dies, so a broker killed with -9 leaves nothing running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["SUPPORTED", "become_subreaper", "describe", "die_with_parent", "pidfd", "reap", "set_name"]

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
_PR_SET_CHILD_SUBREAPER = 36

SUPPORTED = sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


def _prctl(option: int, value: int | bytes) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        status: int = libc.prctl(option, value, 0, 0, 0)
        return status == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Orphans of our descendants are re-parented to this process instead of init."""
    return SUPPORTED and _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> bool:
    """Have `sig` sent to this process when `parent` (our parent now) exits; False if it is gone already."""
    if SUPPORTED:
        _prctl(_PR_SET_PDEATHSIG, sig)
    return os.getppid() == parent  # checked after: the parent may have died before the request


def set_name(name: str) -> None:
    """The process name `ps` and psutil show (15 bytes at most)."""
    if SUPPORTED:
        _prctl(_PR_SET_NAME, name.encode()[:15])


def pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits; None if it has already been reaped."""
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


def reap() -> list[tuple[int, int]]:
    """Every child that has exited, as (pid, wait status), without blocking."""
    out: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return out
        if pid == 0:
            return out
        out.append((pid, status))


def describe(status: int) -> str:
    """'exit 0', 'killed by SIGKILL' for a wait status."""
    if os.WIFSIGNALED(status):
        try:
            return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
        except ValueError:
            return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"
