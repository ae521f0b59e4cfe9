"""The per-worker memory ceiling: a request past it is answered 'out of memory' and its worker
recycled; a worker that cannot even start under it is retried with back-off, not in a spin."""

from __future__ import annotations

import re
import time

import orjson
import psutil
import zmq

from conftest import GUI_HANDLER, ServerProcess, zmq_socket


def call(endpoint: str, method: str, *params: object) -> dict:
    sock = zmq_socket(zmq.REQ, endpoint)
    try:
        sock.send(orjson.dumps({"jsonrpc": "2.0", "id": "m", "method": method, "params": [GUI_HANDLER, *params]}))
        return orjson.loads(sock.recv())
    finally:
        sock.close()


def test_request_past_the_ceiling_is_answered_and_the_worker_recycled() -> None:
    srv = ServerProcess("--test-methods", "--max-worker-memory-mb", "500", workers=1)
    try:
        before = call(srv.endpoint, "test_pid")["result"]
        reply = call(srv.endpoint, "test_allocate", 400)  # Scapy's ~280 MB + 400 MB > 500 MB
        assert reply["error"] == {"code": -32098, "message": "Scapy Server: out of memory"}
        after = call(srv.endpoint, "test_pid")["result"]
        assert after != before  # retired after its reply, replaced by a warm worker
        assert call(srv.endpoint, "build_pkt", [{"id": "Ether"}, {"id": "IP"}])["result"]["binary"]
    finally:
        srv.stop()


def test_an_address_space_too_small_to_start_a_worker_is_refused_at_start() -> None:
    """A worker needs about 256 MB of address space to import Scapy: less would make every worker
    die while starting, forever, so the server refuses it in one line (0 still means no limit)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "scapyrpc", "serve", "--max-worker-memory-mb", "100"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "scapyrpc serve: --max-worker-memory-mb 100: must be 256 or more (or 0: no limit)"


def test_worker_that_cannot_start_is_retried_with_back_off() -> None:
    """Every worker dies while starting (a test server's fault injection; an address space too
    small to start in is refused by the configuration now): the pool backs off, never spins."""
    from scapyrpc.worker.main import FAIL_START_ENV

    srv = ServerProcess(
        "--test-methods", "--request-timeout", "1", "-v", workers=1, wait_for_workers=False, env={FAIL_START_ENV: "1"}
    )
    try:
        reply = call(srv.endpoint, "get_version")
        assert reply["error"]["message"] == "Scapy Server: no worker became available within 1 s"
        starts = lambda: len(re.findall(r"worker pid \d+ ended", srv.stderr_text()))  # noqa: E731
        broker = psutil.Process(srv.pid)
        until = time.monotonic() + 60  # the zygote starts first (slow on a loaded machine)
        while starts() == 0 and time.monotonic() < until:
            time.sleep(0.05)
        first, cpu0 = starts(), sum(broker.cpu_times()[:2])
        assert first >= 1, srv.stderr_text()
        time.sleep(4.0)
        deaths = starts() - first
        assert 1 <= deaths <= 8, deaths  # backing off (0.25, 0.5, 1, 2 s ...), not hundreds a second
        assert sum(broker.cpu_times()[:2]) - cpu0 < 1.0  # no spin
    finally:
        srv.stop()
