"""CurveZMQ: key files, encrypted clients admitted (all, or by key), plain and unknown ones refused
and logged once per host, workers admitted by key on a tcp backend; and shut_down only from this host."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import zmq
import zmq.auth

from scapyrpc.client import ScapyClient, ScapyTimeout
from scapyrpc.server import _server_ip
from scapyrpc.wire.curve import keygen

from conftest import ServerProcess, socket_port, wait_for


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """server, alice (admitted client), mallory (not admitted), worker (admitted), rogue (not)."""
    root = tmp_path_factory.mktemp("keys")
    for name in ("server", "alice", "mallory", "worker", "rogue"):
        keygen(root / "all", name)
    for group, names in (("clients", ["alice"]), ("workers", ["worker"])):
        (root / group).mkdir()
        for name in names:
            (root / group / f"{name}.key").write_bytes((root / "all" / f"{name}.key").read_bytes())
    return root


def scapyrpc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scapyrpc", *args], capture_output=True, text=True, timeout=120)


def test_keygen_writes_a_zmq_auth_certificate_pair(tmp_path: Path) -> None:
    out = scapyrpc("keygen", str(tmp_path / "k"), "--name", "broker")
    assert out.returncode == 0, out.stderr
    public, secret = tmp_path / "k" / "broker.key", tmp_path / "k" / "broker.key_secret"
    assert zmq.auth.load_certificate(str(public))[1] is None
    pub, sec = zmq.auth.load_certificate(str(secret))
    assert pub == zmq.auth.load_certificate(str(public))[0] and len(sec) == 40
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600


def test_curve_server_serves_keyed_clients_and_refuses_plain_ones(keys: Path) -> None:
    server_key = keys / "all" / "server.key"
    srv = ServerProcess("--curve-secret-key", str(keys / "all" / "server.key_secret"), workers=1)
    try:
        with ScapyClient(srv.endpoint, curve_server_key=server_key) as cli:  # a throwaway key: any is admitted
            assert cli.build_pkt([{"id": "Ether"}, {"id": "IP"}])["binary"]
        for _ in range(2):
            with pytest.raises(ScapyTimeout):
                ScapyClient(srv.endpoint, timeout_ms=700)  # plain: no service
        assert wait_for(lambda: "no CurveZMQ handshake" in srv.stderr_text(), 10)
        assert srv.stderr_text().count("refused a client from 127.0.0.1:") == 1  # once per host, named by its address
        ping = scapyrpc("ping", "-e", srv.endpoint, "--curve-server-key", str(server_key))
        assert ping.returncode == 0 and "API 1.02" in ping.stdout, ping.stderr
    finally:
        srv.stop()


def test_only_admitted_client_keys_are_served(keys: Path) -> None:
    srv = ServerProcess(
        "--curve-secret-key",
        str(keys / "all" / "server.key_secret"),
        "--curve-clients",
        str(keys / "clients"),
        workers=1,
    )
    try:
        server_key = keys / "all" / "server.key"
        with ScapyClient(
            srv.endpoint, curve_server_key=server_key, curve_secret_key=keys / "all" / "alice.key_secret"
        ) as cli:
            assert cli.get_version()["version"] == "1.02"
        with pytest.raises(ScapyTimeout):
            ScapyClient(
                srv.endpoint,
                timeout_ms=700,
                curve_server_key=server_key,
                curve_secret_key=keys / "all" / "mallory.key_secret",
            )
        assert wait_for(lambda: "its key is not admitted" in srv.stderr_text(), 10)
        bench = scapyrpc(
            "bench",
            "-e",
            srv.endpoint,
            "-w",
            "version",
            "-n",
            "40",
            "-c",
            "2",
            "--plain",
            "--no-progress",
            "--curve-server-key",
            str(server_key),
            "--curve-secret-key",
            str(keys / "all" / "alice.key_secret"),
        )
        assert bench.returncode == 0, bench.stderr
    finally:
        srv.stop()


def test_a_tcp_backend_admits_only_keyed_workers(keys: Path) -> None:
    with socket_port() as port:
        backend = f"tcp://127.0.0.1:{port}"
    secret = str(keys / "all" / "server.key_secret")
    refused = scapyrpc("serve", "-p", "0", "--backend", backend, "--curve-secret-key", secret)
    assert refused.returncode == 2 and "needs --curve-workers" in refused.stderr
    srv = ServerProcess(
        "--test-methods",
        "--backend",
        backend,
        "--curve-secret-key",
        secret,
        "--curve-workers",
        str(keys / "workers"),
        workers=1,
    )
    remotes = []
    try:
        server_key = keys / "all" / "server.key"
        with ScapyClient(srv.endpoint, curve_server_key=server_key) as cli:  # local workers use their own key
            assert cli.call("test_pid") in srv.worker_pids()
        for name in ("worker", "rogue"):
            remotes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "scapyrpc",
                        "worker",
                        "--connect",
                        backend,
                        "--test-methods",
                        "--curve-server-key",
                        str(server_key),
                        "--curve-secret-key",
                        str(keys / "all" / f"{name}.key_secret"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        admitted, rogue = remotes[0].pid, remotes[1].pid

        def served() -> set[int]:
            with ScapyClient(srv.endpoint, curve_server_key=server_key, timeout_ms=5000) as cli:
                return {cli.call("test_sleep", 0.2) for _ in range(2)} | {cli.call("test_pid")}

        assert wait_for(lambda: admitted in served(), 30, interval=0.2)
        pids = set().union(*(served() for _ in range(5)))
        assert rogue not in pids
        assert "its key is not admitted" in srv.stderr_text()
    finally:
        for proc in remotes:
            proc.kill()
            proc.wait(10)
        srv.stop()


def test_open_ports_without_curve_are_warned_about() -> None:
    srv = ServerProcess("--bind", "0.0.0.0", workers=1)
    try:
        assert "open to other hosts without CurveZMQ" in srv.stderr_text()
    finally:
        srv.stop()
    quiet = ServerProcess(workers=1)  # loopback only
    try:
        assert "without CurveZMQ" not in quiet.stderr_text()
    finally:
        quiet.stop()


SHUT_DOWN = orjson.dumps({"jsonrpc": "2.0", "id": "s", "method": "shut_down"})
# the same request spelled so that no look at its bytes finds the method (the worker decides)
SHUT_DOWN_SPELLINGS = [
    b'{"jsonrpc":"2.0","id":"s","method":"shut\\u005fdown"}',
    b'{"pad":"' + b"x" * 5000 + b'","jsonrpc":"2.0","id":"s","method":"shut_down","pad2":"' + b"y" * 70_000 + b'"}',
    b'{"jsonrpc":"2.0","id":"s","params":["' + b"x" * 70_000 + b'"],"method":"shut_down","params":[]}',
]


def shut_down_from(ip: str, port: int, body: bytes = SHUT_DOWN) -> dict:
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 20000)
    sock.connect(f"tcp://{ip}:{port}")
    try:
        sock.send(body)
        return orjson.loads(sock.recv())
    finally:
        sock.close()


@pytest.mark.skipif(_server_ip() == "127.0.0.1", reason="this host has no address beyond loopback to call from")
def test_shut_down_is_honoured_only_from_this_host() -> None:
    other = _server_ip()
    srv = ServerProcess("--bind", "0.0.0.0", workers=1)
    try:
        for body in [SHUT_DOWN, *SHUT_DOWN_SPELLINGS]:
            reply = shut_down_from(other, srv.port, body)  # the peer address is not loopback
            assert reply == {
                "jsonrpc": "2.0",
                "id": "s",
                "error": {"code": -32098, "message": "Scapy Server: shut_down is only accepted from this host"},
            }, body[:80]
            assert srv.proc.poll() is None
        with ScapyClient(f"tcp://{other}:{srv.port}") as cli:
            assert cli.get_version()["version"] == "1.02"  # everything else still served
        assert "result" in shut_down_from("127.0.0.1", srv.port)
        assert srv.proc.wait(30) == 0
    finally:
        srv.stop()
    allowed = ServerProcess("--bind", "0.0.0.0", "--allow-remote-shutdown", workers=1)
    try:
        assert "result" in shut_down_from(other, allowed.port)
        assert allowed.proc.wait(30) == 0
    finally:
        allowed.stop()
