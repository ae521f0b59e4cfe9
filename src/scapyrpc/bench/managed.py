"""A scapyrpc server the benchmark starts and stops itself: `python -m scapyrpc serve` on 127.0.0.1.

Started on an ephemeral port; ready when the banner's `Workers:` line appears.
Stopped with SIGTERM by pid, then whatever is left of its process tree is
killed by pid. Its stderr goes to a temporary file, so a chatty server can
never block on a full pipe; the tail is shown if it fails to start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from .loadgen import BenchError


class ManagedServer:
    """`with ManagedServer(workers=2) as srv: srv.endpoint`."""

    def __init__(self, workers: int, extra_args: tuple[str, ...] = (), startup_timeout: float = 120.0) -> None:
        self.workers = workers
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        cmd = [sys.executable, "-m", "scapyrpc", "serve", "-p", "0", "--bind", "127.0.0.1",
               "--workers", str(workers), *extra_args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)
        self.pid = self.proc.pid
        self.port = 0
        try:
            self._await_banner(startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        # Keep reading stdout so the server can never block writing to it.
        threading.Thread(target=self._drain_stdout, daemon=True).start()

    def _await_banner(self, timeout: float) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                code = self.proc.wait(5)
                raise BenchError(f"the server exited during start-up (code {code}): {self.stderr_tail()}", 1)
            if line.startswith("Listening on port:"):
                self.port = int(line.split(":", 1)[1])
            if line.startswith("Workers:"):
                return
        raise BenchError(f"the server did not become ready within {timeout:g} s", 1)

    def _drain_stdout(self) -> None:
        stream = self.proc.stdout
        try:
            while stream and stream.readline():
                pass
        except (OSError, ValueError):
            pass

    def stderr_tail(self, chars: int = 1500) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-chars:].strip()

    def descendants(self) -> list:
        """The live processes below the server (forkserver, workers), via psutil when available."""
        try:
            import psutil
        except ImportError:  # psutil is optional: then only the server itself is stopped
            return []
        try:
            return psutil.Process(self.pid).children(recursive=True)
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

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM by pid, wait; kill by pid anything of its tree that survives."""
        tree = self.descendants()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
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
        self._stderr.close()
        return code

    def __enter__(self) -> ManagedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
