"""A scapyrpc server in a child process, for the benchmark, the soak and the tests.

`python -m scapyrpc serve` on 127.0.0.1 and an ephemeral port (or any command
that prints the server banner); ready when the banner's `Workers:` line
appears. Stopped with a signal by pid, then whatever is left of its process
tree is killed by pid. Its stderr goes to a temporary file and its stdout is
read continuously, so a chatty server can never block on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

__all__ = ["LaunchError", "ManagedServer"]


class LaunchError(RuntimeError):
    """The server did not start: it exited, or printed no banner in time."""


class ManagedServer:
    """`with ManagedServer(workers=2) as srv: srv.endpoint`."""

    def __init__(
        self,
        workers: int = 2,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 120.0,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        wait_for_workers: bool = True,
    ) -> None:
        self.workers = workers
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        self._stderr_final = ""
        cmd = command or [
            sys.executable,
            "-m",
            "scapyrpc",
            "serve",
            "-p",
            "0",
            "--bind",
            "127.0.0.1",
            "--workers",
            str(workers),
            *extra_args,
        ]
        env = dict(env or os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)
        self.pid = self.proc.pid
        self.port = 0
        self.backend = ""
        self.banner: list[str] = []
        self.output: list[str] = []  # what it printed after the banner
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        try:
            self._await_banner(startup_timeout, "Workers:" if wait_for_workers else "Server IP address:")
        except BaseException:
            self.stop()
            raise
        self.endpoint = f"tcp://127.0.0.1:{self.port}"

    def _await_banner(self, timeout: float, last: str) -> None:
        """Take banner lines until the one starting with `last` (the port is known from the second)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                code = self.proc.wait(5)
                raise LaunchError(f"the server exited during start-up (code {code}): {self.stderr_tail()}")
            self.banner.append(line)
            if line.startswith("Listening on port:"):
                self.port = int(line.split(":", 1)[1])
            if line.startswith("Workers:"):
                self.backend = line.rsplit(" ", 1)[-1].strip()
            if line.startswith(last):
                return
        raise LaunchError(f"the server did not become ready within {timeout:g} s")

    def _read_stdout(self) -> None:
        """Every line the server prints: to the banner until it is complete, then to `output`."""
        stream = self.proc.stdout
        try:
            while stream and (line := stream.readline()):
                self._lines.put(line.rstrip("\n"))
        except (OSError, ValueError):
            pass
        self._lines.put(None)

    def _collect_output(self) -> None:
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                (self.output if self.banner and self.banner[-1].startswith("Workers:") else self.banner).append(line)

    def stdout_text(self) -> str:
        """Everything printed after the banner (complete once the server has exited)."""
        if self.proc.poll() is not None:
            self._reader.join(5)
        self._collect_output()
        return "\n".join(self.output)

    def stderr_text(self) -> str:
        """Everything the server wrote to stderr so far (kept after stop())."""
        if self._stderr.closed:
            return self._stderr_final
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def stderr_tail(self, chars: int = 1500) -> str:
        return self.stderr_text()[-chars:].strip()

    def descendants(self) -> list[Any]:
        """The live processes below the server (the zygote, workers), via psutil when available."""
        try:
            import psutil
        except ImportError:  # psutil is optional: then only the server itself is stopped
            return []
        try:
            children: list[Any] = psutil.Process(self.pid).children(recursive=True)
            return children
        except psutil.Error:
            return []

    def cpu_seconds(self) -> tuple[float, float] | None:
        """(broker, everything below it) CPU seconds so far, zmq I/O threads included; None without psutil."""
        try:
            import psutil
        except ImportError:
            return None
        try:
            root = psutil.Process(self.pid)
            broker = sum(root.cpu_times()[:2])
            children = root.children(recursive=True)
        except psutil.Error:  # the server is already gone
            return None
        workers = 0.0
        for child in children:
            try:
                workers += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                continue
        return broker, workers

    def stop(self, timeout: float = 30.0, sig: int = signal.SIGTERM) -> int | None:
        """Signal by pid (SIGTERM), wait; kill by pid anything of its tree that survives."""
        tree = self.descendants()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        for child in tree:  # psutil.Process objects, so psutil is there
            import psutil

            try:
                child.wait(5)
            except psutil.TimeoutExpired:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            except psutil.Error:
                continue
        if not self._stderr.closed:
            self._stderr_final = self.stderr_text()
            self._stderr.close()
        return code

    def __enter__(self) -> ManagedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
