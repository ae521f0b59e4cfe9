"""Supervision by pid, with real processes: any helper may die under load, every process the
server started is reaped before it exits, and a broker killed with -9 leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import orjson
import pytest

from conftest import GUI_HANDLER, ServerProcess, join_threads, start_threads, wait_for, zmq_socket

PROBE = Path(__file__).resolve().parents[1] / "reaper_probe.py"
BUILD = [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}]


def probe(action: str, *args: str, env: dict | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, str(PROBE), action, *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_killing_the_zygote_under_load_costs_no_request() -> None:
    srv = ServerProcess(workers=2)
    try:
        replies: list[dict] = []
        stop = threading.Event()

        def client(n: int) -> None:
            sock = zmq_socket(__import__("zmq").REQ, srv.endpoint)
            try:
                i = 0
                while not stop.is_set():
                    i += 1
                    sock.send(
                        orjson.dumps(
                            {"jsonrpc": "2.0", "id": f"{n}-{i}", "method": "build_pkt", "params": [GUI_HANDLER, BUILD]}
                        )
                    )
                    replies.append(orjson.loads(sock.recv()))
            finally:
                sock.close()

        threads = start_threads(client, [(n,) for n in range(4)])
        assert wait_for(lambda: len(replies) > 50, 30)
        [zygote] = srv.zygote_pids()
        workers = srv.worker_pids()
        os.kill(zygote, signal.SIGKILL)
        assert wait_for(lambda: srv.zygote_pids() not in ([], [zygote]), 30)  # a new one, warming up aside
        count = len(replies)
        assert wait_for(lambda: len(replies) > count + 50, 30)  # served all along
        assert sorted(srv.worker_pids()) == sorted(workers)  # no worker was touched
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)  # and the new zygote forks the replacement
        assert wait_for(lambda: len(srv.worker_pids()) == 2 and victim not in srv.worker_pids(), 30)
        stop.set()
        join_threads(threads, 30)
        errors = [r["error"]["message"] for r in replies if "error" in r]
        assert errors in ([], ["Scapy Server: worker lost while handling build_pkt"])  # only the killed worker's
        assert "Traceback" not in srv.stderr_text()
    finally:
        srv.stop()


@pytest.mark.parametrize("action", ["sigterm", "sigint", "shutdown"])
def test_every_process_is_reaped_before_the_server_exits(action: str) -> None:
    report = probe(action)
    assert report["code"] == 0
    assert sorted(report["tree"].values()) == ["scapyrpc-worker", "scapyrpc-worker", "scapyrpc-zygote"]
    assert report["left_at_exit"] == []  # nothing orphaned, running or zombie, when the server was gone
    assert "Traceback" not in report["stderr"]


def test_broker_killed_with_9_leaves_nothing_and_its_ipc_directory_is_swept(tmp_path: Path) -> None:
    env = dict(os.environ, TMPDIR=str(tmp_path))
    report = probe("kill9", env=env)
    assert report["code"] == -signal.SIGKILL
    assert report["left_after_10s"] == []
    assert report["gone_after"] < 3.0  # every worker and the zygote, within 3 s
    stale = [p for p in tmp_path.glob("scapyrpc-*") if p.is_dir()]
    assert len(stale) == 1 and (stale[0] / "backend").exists()
    srv = ServerProcess(workers=1, env=env)  # the next start removes it
    try:
        assert not stale[0].exists()
        assert len(list(tmp_path.glob("scapyrpc-*"))) == 1  # its own
    finally:
        srv.stop()
    assert not list(tmp_path.glob("scapyrpc-*"))  # and removes its own on the way out


def test_tempdir_default_is_private() -> None:
    srv = ServerProcess(workers=1)
    try:
        path = Path(srv.backend[len("ipc://") :]).parent
        assert path.parent == Path(tempfile.gettempdir())
        assert (path.stat().st_mode & 0o777) == 0o700
    finally:
        srv.stop()


def test_a_server_whose_workers_cannot_start_still_stops_at_once(tmp_path: Path) -> None:
    """A zygote that cannot import Scapy dies and is restarted with back-off while the core waits
    for its workers: SIGTERM then ends the server (the starts never made are given up)."""
    broken = tmp_path / "scapy"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('no Scapy here (test)')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    srv = ServerProcess(workers=2, env=env, wait_for_workers=False)
    try:
        assert wait_for(lambda: "worker zygote gone" in srv.stderr_text(), 30)
        srv.proc.send_signal(signal.SIGTERM)
        code = srv.proc.wait(timeout=10)
        assert code == 0
        assert srv.tree() == []
    finally:
        srv.stop()
