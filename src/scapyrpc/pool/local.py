"""Local worker processes: forked warm by a zygote, adopted by the broker, watched by pid.

The broker is a child subreaper (`procctl`), and the zygote (`zygote.py`)
orphans each worker it forks, so every worker is the broker's own child: its
exit wakes the event loop through a pidfd, and the broker reaps it. Nothing
about a worker depends on the zygote staying alive. If the zygote dies, live
workers keep serving; a new zygote warms up in its own process (the event loop
never waits for Scapy to import) and starts asked for meanwhile wait for it.

The pool decides nothing: the broker's core says when to start, terminate or
kill, and hears what happened through the `PoolEvents` callbacks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import signal
import socket
import sys
from typing import Protocol

from scapyrpc.config.options import LogConfig, WorkerConfig
from scapyrpc.pool import procctl
from scapyrpc.pool.zygote import CONTROL_FD, READY

__all__ = ["LocalPool", "PoolEvents"]

log = logging.getLogger("scapyrpc.pool")

ZYGOTE_RESTART_DELAYS = (0.0, 0.5, 1.0, 2.0, 5.0)  # after consecutive zygote deaths


class PoolEvents(Protocol):
    def started(self, pid: int) -> None: ...
    def start_failed(self) -> None: ...
    def exited(self, pid: int) -> None: ...


class LocalPool:
    """Starts, signals and reaps local workers for the broker (Linux: pidfd and a subreaper)."""

    def __init__(
        self,
        backend: str,
        config: WorkerConfig,
        events: PoolEvents,
        curve: tuple[bytes, bytes, bytes] | None = None,
        log: LogConfig | None = None,
    ) -> None:
        if not procctl.SUPPORTED or not procctl.become_subreaper():
            raise RuntimeError(
                "local workers need Linux (pidfd_open and PR_SET_CHILD_SUBREAPER); "
                "elsewhere serve with --workers 0 and start `scapyrpc worker --connect` processes"
            )
        self.events = events
        self.spec = (
            json.dumps(
                {
                    "backend": backend,
                    "config": dataclasses.asdict(config),
                    "curve": [key.decode() for key in curve] if curve else None,
                    "log": dataclasses.asdict(log or LogConfig()),
                }
            ).encode()
            + b"\n"
        )
        self.workers: dict[int, int] = {}  # pid -> pidfd
        self._exited_early: set[int] = set()  # reaped before the zygote told us their pid
        self._zygote: int = 0
        self._zygote_fd: int | None = None
        self._control: socket.socket | None = None
        self._zygote_ready = False
        self._zygote_deaths = 0
        self._wanted = 0  # starts asked for and not yet sent to the zygote
        self._ordered = 0  # starts sent to the zygote and not yet answered
        self._buffer = b""
        self.closing = False  # set by stop_starting(): no new zygote, no new worker
        self._loop = asyncio.get_running_loop()

    # ---- the zygote --------------------------------------------------------------------

    def start(self) -> None:
        """Start the zygote (workers follow as the core asks for them)."""
        self._spawn_zygote()

    def _spawn_zygote(self) -> None:
        if self.closing:
            return
        ours, theirs = socket.socketpair()
        if theirs.fileno() == CONTROL_FD:  # dup2 onto itself would keep close-on-exec
            theirs.set_inheritable(True)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            pid = os.posix_spawn(
                sys.executable,
                [sys.executable, "-m", "scapyrpc.pool.zygote", str(os.getpid())],
                env,
                file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), CONTROL_FD)],
            )
            ours.sendall(self.spec)  # on the socket, not in argv: it may carry keys
        except OSError as exc:
            log.error("cannot start the worker zygote: %s", exc)
            ours.close()
            theirs.close()
            self._zygote_died()
            return
        theirs.close()
        ours.setblocking(False)
        self._zygote, self._control, self._zygote_ready, self._buffer = pid, ours, False, b""
        self._zygote_fd = self._watch(pid)
        self._loop.add_reader(ours.fileno(), self._on_control)
        log.info("worker zygote pid %d starting", pid)

    def _on_control(self) -> None:
        assert self._control is not None
        try:
            data = self._control.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the zygote is gone; its exit is reaped like any other
            self._drop_control()
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self._on_line(line + b"\n")

    def _on_line(self, line: bytes) -> None:
        if line == READY:
            self._zygote_ready = True
            self._zygote_deaths = 0
            log.info("worker zygote pid %d ready", self._zygote)
            self._order()
            return
        self._ordered -= 1
        text = line.decode(errors="replace").strip()
        if not text.isdigit():
            log.error("the zygote could not start a worker: %s", text)
            self.events.start_failed()
            return
        pid = int(text)
        fd = None if pid in self._exited_early else self._watch(pid)
        if fd is not None:
            self.workers[pid] = fd  # before `started`: the broker may signal it at once (stopping)
        self.events.started(pid)
        if fd is None:  # gone and reaped already
            self._exited_early.discard(pid)
            self.events.exited(pid)

    def _drop_control(self) -> None:
        if self._control is not None:
            self._loop.remove_reader(self._control.fileno())
            self._control.close()
            self._control = None
        self._zygote_ready = False

    def _zygote_died(self) -> None:
        self._drop_control()
        lost, self._ordered = self._ordered, 0
        self._wanted += lost  # asked of a zygote that died: ask the next one
        self._zygote = 0
        if self.closing:
            return self._abandon_wanted()
        delay = ZYGOTE_RESTART_DELAYS[min(self._zygote_deaths, len(ZYGOTE_RESTART_DELAYS) - 1)]
        self._zygote_deaths += 1
        log.warning("worker zygote gone; a new one starts in %.1f s (live workers keep serving)", delay)
        self._loop.call_later(delay, self._spawn_zygote)

    # ---- workers -----------------------------------------------------------------------

    def start_worker(self) -> None:
        """Fork one warm worker as soon as a zygote is ready."""
        self._wanted += 1
        self._order()

    def stop_starting(self) -> None:
        """The server is stopping: no new zygote, and the workers not yet ordered never will be
        (each is reported as a failed start, so the broker does not wait for it)."""
        self.closing = True
        self._abandon_wanted()

    def _abandon_wanted(self) -> None:
        abandoned, self._wanted = self._wanted, 0
        for _ in range(abandoned):  # after the action that stopped us: the broker is mid-step
            self._loop.call_soon(self.events.start_failed)

    def _order(self) -> None:
        if self.closing:
            return self._abandon_wanted()
        if not self._zygote_ready or not self._wanted or self._control is None:
            return
        try:
            self._control.sendall(b"F" * self._wanted)
        except OSError:
            return  # the zygote is dying; its exit re-orders these
        self._ordered += self._wanted
        self._wanted = 0

    def signal(self, pid: int, sig: int) -> None:
        """Signal a worker that has not been reaped (so the pid cannot have been reused)."""
        if pid in self.workers:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    # ---- reaping -----------------------------------------------------------------------

    def _watch(self, pid: int) -> int | None:
        fd = procctl.pidfd(pid)
        if fd is not None:
            self._loop.add_reader(fd, self.reap)
        return fd

    def reap(self) -> None:
        """Collect every child that exited: workers, the zygote, and any stray orphan."""
        for pid, status in procctl.reap():
            if pid == self._zygote:
                log.log(
                    logging.INFO if self.closing else logging.WARNING,
                    "worker zygote pid %d ended (%s)",
                    pid,
                    procctl.describe(status),
                )
                self._unwatch(self._zygote_fd)
                self._zygote_fd = None
                self._zygote_died()
            elif pid in self.workers:
                self._unwatch(self.workers.pop(pid))
                log.info("worker pid %d ended (%s)", pid, procctl.describe(status))
                self.events.exited(pid)
            else:  # a worker whose pid is still on its way from the zygote, or a stray orphan
                if len(self._exited_early) > 1024:
                    self._exited_early.clear()
                self._exited_early.add(pid)

    def _unwatch(self, fd: int | None) -> None:
        if fd is not None:
            self._loop.remove_reader(fd)
            os.close(fd)

    # ---- the end -----------------------------------------------------------------------

    async def close(self, timeout: float = 3.0) -> None:
        """End the zygote and reap it (workers were ended by the broker before this)."""
        self.closing = True
        if self._control is not None:
            self._drop_control()  # EOF on its control socket: it exits
        if self._zygote:
            with_signal = self._loop.time() + timeout
            os.kill(self._zygote, signal.SIGTERM)
            while self._zygote and self._loop.time() < with_signal:
                await asyncio.sleep(0.01)
                self.reap()
            if self._zygote:
                os.kill(self._zygote, signal.SIGKILL)
                while self._zygote:
                    await asyncio.sleep(0.01)
                    self.reap()
        for pid in list(self.workers):  # normally none: the broker waited for every worker
            os.kill(pid, signal.SIGKILL)
        while self.workers:
            await asyncio.sleep(0.01)
            self.reap()
        self.reap()
