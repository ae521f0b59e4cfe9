"""A worker told to stop (SIGTERM; Ctrl+C when started by hand) answers the request in hand, then exits 0.

This is what lets `docker stop` end a worker container at once instead of after the grace period,
and the pool stop its workers without cutting a request short.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from scapyrpc.client import ScapyRpcError

from conftest import ServerProcess, join_threads, socket_port, start_threads, wait_for

SLEEP = 3.0  # seconds the request in hand takes; the signal arrives in the middle of it


@pytest.fixture(scope="module")
def broker() -> Iterator[ServerProcess]:
    """A server with no local workers, waiting for remote ones on a TCP backend."""
    with socket_port() as port:
        backend = f"tcp://127.0.0.1:{port}"
    srv = ServerProcess("-v", "--test-methods", "--backend", backend, workers=0)
    yield srv
    srv.stop()


def start_remote_worker(srv: ServerProcess, prefix: tuple[str, ...] = (), pid: int | None = None) -> subprocess.Popen:
    """`scapyrpc worker --connect` as a child process (after `prefix`), returned once it has served a
    request; `pid` is the one it reports for itself (default: the child's)."""
    worker = subprocess.Popen(
        [*prefix, sys.executable, "-m", "scapyrpc", "worker", "--connect", srv.backend, "--test-methods"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def serves() -> bool:
        try:
            with srv.client(timeout_ms=3000) as cli:
                return cli.call("test_pid") == (pid or worker.pid)
        except ScapyRpcError:
            return False

    assert wait_for(serves, 60, interval=0.2), "the remote worker never served"
    return worker


def sleep_in_background(srv: ServerProcess) -> tuple[list, dict]:
    """Start a `test_sleep` call in a thread; return (threads, outcome) once the broker has taken it."""
    outcome: dict = {}
    taken = srv.stderr_text().count('"method":"test_sleep"')

    def call() -> None:
        with srv.client(timeout_ms=30000) as cli:
            try:
                outcome["result"] = cli.call("test_sleep", SLEEP)
            except ScapyRpcError as err:
                outcome["error"] = err

    threads = start_threads(call, [()])
    assert wait_for(lambda: srv.stderr_text().count('"method":"test_sleep"') > taken, 10)
    time.sleep(SLEEP / 3)  # the worker is now inside the request
    return threads, outcome


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_remote_worker_finishes_the_request_in_hand_then_exits_0(broker: ServerProcess, sig: int) -> None:
    worker = start_remote_worker(broker)
    try:
        threads, outcome = sleep_in_background(broker)
        worker.send_signal(sig)
        join_threads(threads, 30)
        assert outcome == {"result": worker.pid}  # answered by the worker that was told to stop
        assert worker.wait(30) == 0
        assert "Traceback" not in worker.stderr.read()
    finally:
        worker.kill()
        worker.wait(10)
        worker.stderr.close()


def test_idle_remote_worker_leaves_at_once_and_says_so(broker: ServerProcess) -> None:
    worker = start_remote_worker(broker)
    try:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        # GONE: the broker forgets it now rather than after three missed heartbeats
        assert wait_for(
            lambda: f"worker pid {worker.pid} on " in broker.stderr_text() and "lost (left)" in broker.stderr_text(), 10
        )
    finally:
        worker.kill()
        worker.wait(10)
        worker.stderr.close()


def _pid_namespaces() -> str | None:
    """Why a worker cannot be run as PID 1 of a new pid namespace here, or None if it can."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True, text=True, timeout=30)
    return None if probe.returncode == 0 else f"unshare --pid is not permitted here: {probe.stderr.strip()}"


@pytest.mark.skipif(_pid_namespaces() is not None, reason=str(_pid_namespaces()))
def test_worker_as_pid_1_finishes_the_request_then_exits_0(broker: ServerProcess) -> None:
    """As in a container without init: the kernel drops SIGTERM to a PID 1 that has no handler for it."""
    unshare = start_remote_worker(broker, prefix=("unshare", "--pid", "--fork", "--kill-child"), pid=1)
    try:
        [worker] = psutil.Process(unshare.pid).children()  # PID 1 inside its namespace
        threads, outcome = sleep_in_background(broker)
        worker.send_signal(signal.SIGTERM)
        join_threads(threads, 30)
        assert outcome == {"result": 1}
        assert unshare.wait(30) == 0  # unshare --fork exits with its child's status
    finally:
        unshare.kill()
        unshare.wait(10)
        unshare.stderr.close()


def test_pool_worker_sigterm_finishes_the_request_then_exits_0() -> None:
    """The pool stops workers with SIGTERM: busy ones answer first, idle ones leave; both exit 0."""
    srv = ServerProcess("-v", "--test-methods", workers=1)
    try:
        [busy] = srv.worker_pids()
        threads, outcome = sleep_in_background(srv)
        os.kill(busy, signal.SIGTERM)
        join_threads(threads, 30)
        assert outcome == {"result": busy}
        assert wait_for(lambda: f"worker pid {busy} ended (exit 0)" in srv.stderr_text(), 10)
        assert wait_for(lambda: len(srv.worker_pids()) == 1 and busy not in srv.worker_pids(), 30)
        [idle] = srv.worker_pids()
        os.kill(idle, signal.SIGTERM)
        assert wait_for(lambda: f"worker pid {idle} ended (exit 0)" in srv.stderr_text(), 10)
        with srv.client() as cli:  # replaced, and served by the replacement
            assert cli.call("test_pid") not in (busy, idle)
    finally:
        srv.stop()
