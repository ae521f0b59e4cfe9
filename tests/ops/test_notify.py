"""sd_notify messages arrive on a test-made NOTIFY_SOCKET, path or abstract, as systemd reads them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scapyrpc.ops.systemd_notify import Notifier


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(10)
    yield path, sock
    sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"scapyrpc-test-{uuid.uuid4().hex}"
    sock.bind(b"\0" + name.encode())
    sock.settimeout(10)
    yield "@" + name, sock
    sock.close()


def received(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_lifecycle_messages_on_a_path_socket(path_socket: tuple[str, socket.socket]) -> None:
    address, sock = path_socket
    notifier = Notifier({"NOTIFY_SOCKET": address})
    assert notifier.enabled and notifier.watchdog_interval is None
    assert notifier.ready("2 workers ready")
    assert received(sock) == "READY=1\nSTATUS=2 workers ready"
    assert notifier.status("serving: 2 workers, 10 requests\nsecond line")
    assert received(sock) == "STATUS=serving: 2 workers, 10 requests second line"  # one line, always
    assert notifier.stopping()
    assert received(sock) == "STOPPING=1"
    assert not notifier.watchdog()  # no WATCHDOG_USEC: nothing sent
    notifier.close()


def test_abstract_socket(abstract_socket: tuple[str, socket.socket]) -> None:
    address, sock = abstract_socket
    notifier = Notifier({"NOTIFY_SOCKET": address})
    assert notifier.ready()
    assert received(sock) == "READY=1"
    notifier.close()


def test_watchdog_interval_is_half_of_watchdog_usec(abstract_socket: tuple[str, socket.socket]) -> None:
    address, sock = abstract_socket
    notifier = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())})
    assert notifier.watchdog_interval == 15.0
    assert notifier.watchdog()
    assert received(sock) == "WATCHDOG=1"
    notifier.close()


def test_watchdog_meant_for_another_process_is_not_ours(abstract_socket: tuple[str, socket.socket]) -> None:
    address, _ = abstract_socket
    other = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    assert Notifier(other).watchdog_interval is None
    assert Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "soon"}).watchdog_interval is None
    assert Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "0"}).watchdog_interval is None


def test_run_watchdog_pings_until_cancelled(abstract_socket: tuple[str, socket.socket]) -> None:
    address, sock = abstract_socket
    notifier = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "20000"})  # a ping every 10 ms

    async def three_pings() -> list[str]:
        task = asyncio.create_task(notifier.run_watchdog())
        loop = asyncio.get_running_loop()
        pings = [await loop.run_in_executor(None, received, sock) for _ in range(3)]
        task.cancel()
        return pings

    assert asyncio.run(three_pings()) == ["WATCHDOG=1"] * 3
    notifier.close()


def test_run_watchdog_returns_when_not_asked_for(abstract_socket: tuple[str, socket.socket]) -> None:
    address, _ = abstract_socket
    assert asyncio.run(asyncio.wait_for(Notifier({"NOTIFY_SOCKET": address}).run_watchdog(), 10)) is None


def test_outside_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    assert not Notifier({}).enabled
    assert not Notifier({}).ready()
    assert not Notifier({"NOTIFY_SOCKET": "relative/path"}).enabled
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens.sock")})
    assert gone.enabled and not gone.ready()  # a socket nobody bound: reported, not raised
    gone.close()


def test_reads_the_process_environment(abstract_socket: tuple[str, socket.socket]) -> None:
    """As systemd starts a service: the variables in the environment of a fresh process."""
    address, sock = abstract_socket
    code = "from scapyrpc.ops.systemd_notify import Notifier; n = Notifier(); print(n.watchdog_interval); n.ready('up')"
    env = dict(os.environ, NOTIFY_SOCKET=address, WATCHDOG_USEC="4000000")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2.0"
    assert received(sock) == "READY=1\nSTATUS=up"


# ---- the server under a test-made service manager ---------------------------------------------------


def test_server_says_ready_when_it_answers_pings_the_watchdog_and_says_stopping(
    abstract_socket: tuple[str, socket.socket],
) -> None:
    """READY=1 comes once every worker is warm (a request is then answered at once), after STATUS lines
    of the start; WATCHDOG=1 keeps coming while the loop turns; SIGTERM is told as STOPPING=1."""
    from conftest import ServerProcess

    address, sock = abstract_socket
    env = dict(os.environ, NOTIFY_SOCKET=address, WATCHDOG_USEC="200000")  # a ping every 0.1 s
    srv = ServerProcess(workers=2, env=env, wait_for_workers=False)
    try:
        before: list[str] = []
        while not (message := received(sock)).startswith("READY=1"):
            before.append(message)
        assert message == "READY=1\nSTATUS=serving: 2 workers, 0 requests served, 0 queued"
        with srv.client() as cli:  # the handshake and a build, by the two workers READY counted
            assert cli.build_pkt([{"id": "Ether"}])["binary"]
        assert before[0] == "STATUS=starting: 0 of 2 local workers ready"  # sent before any worker can join
        assert all(
            m == "WATCHDOG=1" or re.fullmatch(r"STATUS=starting: [12] of 2 local workers ready", m) for m in before[1:]
        ), before
        pings = 0
        while pings < 3:
            pings += received(sock) == "WATCHDOG=1"
        srv.proc.send_signal(signal.SIGTERM)
        while not (message := received(sock)).startswith("STOPPING=1"):
            assert message.startswith(("WATCHDOG=1", "STATUS=")), message
        assert message.startswith("STOPPING=1\nSTATUS=stopping: ")
        assert srv.proc.wait(30) == 0
    finally:
        srv.stop()
