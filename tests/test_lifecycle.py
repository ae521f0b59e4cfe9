"""Start-up, shut_down and signals stop every process of the server; the banner is the seed's."""

from __future__ import annotations

import signal

import psutil
import pytest

from conftest import ServerProcess, wait_for


def _all_gone(pids: list[int]) -> bool:
    return not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids)


def test_banner_and_remote_shut_down_stop_everything() -> None:
    srv = ServerProcess(workers=2)
    try:
        assert srv.banner[0] == "***Scapy Server Started***"
        assert srv.banner[1] == f"Listening on port: {srv.port}"
        assert srv.banner[2].startswith("Server IP address: ")
        assert srv.banner[3].startswith("Workers: 2 local")
        pids = [p.pid for p in srv.tree()]
        assert len(srv.worker_pids()) == 2
        with srv.client() as cli:
            assert "shut down" in cli.shut_down()
        assert srv.proc.wait(30) == 0
        assert wait_for(lambda: _all_gone(pids), 10)
        assert "Server: Shut down by remote user" in srv.proc.stdout.read()
    finally:
        srv.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly(sig: int) -> None:
    srv = ServerProcess(workers=2)
    try:
        with srv.client() as cli:
            assert cli.build_pkt([{"id": "Ether"}, {"id": "IP"}])["binary"]
        pids = [p.pid for p in srv.tree()]
        assert len(pids) >= 3
        srv.proc.send_signal(sig)
        assert srv.proc.wait(30) == 0
        assert wait_for(lambda: _all_gone(pids), 10)
        assert "Traceback" not in srv.proc.stderr.read()
    finally:
        srv.stop()


def test_port_in_use_is_a_clear_error() -> None:
    srv = ServerProcess(workers=1)
    try:
        import subprocess
        import sys

        out = subprocess.run([sys.executable, "-m", "scapyrpc", "-p", str(srv.port), "--bind", "127.0.0.1",
                              "--workers", "1"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 2
        assert "cannot serve" in out.stderr and "Traceback" not in out.stderr
    finally:
        srv.stop()
