"""Local worker processes: started warm, watched, replaced.

Workers are forked by a multiprocessing *forkserver* whose preload already
imported Scapy and built every cache (`scapyrpc.preload`), so a new worker is
ready in milliseconds and shares those pages copy-on-write. The forkserver
never creates a ZeroMQ context, so no child inherits the broker's sockets.
A worker's exit is seen at once through its process sentinel.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import time
from typing import Callable

from .worker import WorkerOptions, run

log = logging.getLogger(__name__)

PRELOAD = ["scapyrpc.preload"]
_QUICK_DEATH = 1.0  # seconds: a worker dying younger than this counts towards a crash loop
_CRASH_LOOP = 3  # consecutive quick deaths before respawns back off


def forkserver_context() -> multiprocessing.context.BaseContext:
    """The process context that forks warm workers (started on first use)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class LocalPool:
    """Keeps `size` local workers alive until `stop()`."""

    def __init__(self, size: int, options: WorkerOptions, on_exit: Callable[[int, bool], None]) -> None:
        self.size = size
        self.options = options
        self.on_exit = on_exit
        self.ctx = forkserver_context()
        self.procs: dict[int, multiprocessing.process.BaseProcess] = {}
        self.started_at: dict[int, float] = {}
        self.host = socket.gethostname()
        self.stopping = False
        self.respawns = 0
        self._quick_deaths = 0

    def start(self) -> None:
        for _ in range(self.size):
            self.spawn()

    def spawn(self) -> None:
        if self.stopping:
            return
        proc = self.ctx.Process(target=run, args=(self.options,), name="scapyrpc-worker", daemon=False)
        proc.start()
        assert proc.pid is not None
        self.procs[proc.pid] = proc
        self.started_at[proc.pid] = time.monotonic()
        asyncio.get_running_loop().add_reader(proc.sentinel, self._exited, proc)

    def _exited(self, proc: multiprocessing.process.BaseProcess) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(proc.sentinel)
        proc.join(0)
        pid = proc.pid or 0
        self.procs.pop(pid, None)
        age = time.monotonic() - self.started_at.pop(pid, 0.0)
        log.info("worker pid %d exited with %s after %.1f s", pid, proc.exitcode, age)
        self.on_exit(pid, proc.exitcode == 0)
        if self.stopping:
            return
        self.respawns += 1
        # 0 is a retirement; SIGKILL is ours (deadline, lost heartbeat) or the OOM killer's
        crashed_young = age < _QUICK_DEATH and proc.exitcode not in (0, -signal.SIGKILL)
        self._quick_deaths = self._quick_deaths + 1 if crashed_young else 0
        if self._quick_deaths >= _CRASH_LOOP:  # e.g. a worker that cannot start: do not spin
            loop.call_later(min(0.25 * 2 ** (self._quick_deaths - _CRASH_LOOP), 5.0), self.spawn)
        else:
            self.spawn()

    def owns(self, pid: int, host: str) -> bool:
        return host == self.host and pid in self.procs

    def kill(self, pid: int) -> None:
        if pid in self.procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def stop(self, timeout: float = 3.0) -> None:
        """Terminate every worker; SIGKILL any that outlive `timeout`."""
        self.stopping = True
        for proc in list(self.procs.values()):
            if proc.is_alive():
                proc.terminate()
        end = time.monotonic() + timeout
        while self.procs and time.monotonic() < end:
            await asyncio.sleep(0.02)
        for pid in list(self.procs):
            self.kill(pid)
        while self.procs and time.monotonic() < end + 1.0:
            await asyncio.sleep(0.02)
