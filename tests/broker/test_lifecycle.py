"""Start-up, shut_down and signals stop every process of the server; the banner is the seed's."""

from __future__ import annotations

import re
import signal

import psutil
import pytest

from scapyrpc.client import ScapyClient, ScapyTimeout
from scapyrpc.testing import ManagedServer

from conftest import ServerProcess, wait_for


def _all_gone(pids: list[int]) -> bool:
    return not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


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
        assert "Server: Shut down by remote user" in srv.stdout_text()
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
        assert "Traceback" not in srv.stderr_text()
    finally:
        srv.stop()


def test_port_in_use_is_a_clear_error() -> None:
    srv = ServerProcess(workers=1)
    try:
        import subprocess
        import sys

        out = subprocess.run(
            [sys.executable, "-m", "scapyrpc", "-p", str(srv.port), "--bind", "127.0.0.1", "--workers", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 2
        assert "cannot serve" in out.stderr and "Traceback" not in out.stderr
    finally:
        srv.stop()


def test_seed_python_api(tmp_path) -> None:
    """`Scapy_server(port).activate()` from a script, as the seed document shows it."""
    import sys

    script = tmp_path / "serve.py"  # at module level, as in the seed: no __main__ guard needed
    script.write_text("from scapyrpc import Scapy_server\n\nScapy_server(0).activate()\n")
    srv = ManagedServer(command=[sys.executable, str(script)])
    try:
        with ScapyClient(srv.endpoint, timeout_ms=20000) as cli:
            assert cli.get_version()["version"] == "1.02"
            cli.shut_down()
        assert srv.proc.wait(30) == 0
    finally:
        srv.stop()


def test_client_timeout_rebuilds_its_socket() -> None:
    srv = ServerProcess("--test-methods", workers=2)
    try:
        with ScapyClient(srv.endpoint, timeout_ms=300) as cli:
            with pytest.raises(ScapyTimeout):
                cli.call("test_sleep", 1.0)
            assert cli.call("test_pid") in srv.worker_pids()  # a fresh REQ socket, same handler
    finally:
        srv.stop()


def test_verbose_log_file_records_requests_and_replies(tmp_path) -> None:
    log_file = tmp_path / "scapy_server.log"
    srv = ServerProcess("-v", "-l", str(log_file), workers=1)
    try:
        with srv.client() as cli:
            cli.build_pkt([{"id": "Ether"}, {"id": "IP"}])
    finally:
        srv.stop()
    text = log_file.read_text()
    assert "<- " in text and '"method":"build_pkt"' in text  # -v is debug: the bodies
    assert "-> " in text and '"result":{"binary"' in text
    assert "joined (local)" in text
    assert re.search(
        r' scapyrpc\.broker INFO build_pkt id="\d+" ok \d+\.\d{3} ms worker \d+\n', text
    )  # and info's line


def test_backend_on_all_interfaces_still_reaches_local_workers() -> None:
    srv = ServerProcess("--backend", "tcp://*:*", workers=1)
    try:
        assert srv.backend.startswith("tcp://0.0.0.0:")
        with srv.client() as cli:
            assert cli.build_pkt([{"id": "Ether"}, {"id": "IP"}])["binary"]
    finally:
        srv.stop()
