"""Shared fixtures: real scapyrpc servers in subprocesses on ephemeral ports, and clients."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import zmq

from scapyrpc.client import ScapyClient, ScapyRpcError  # noqa: F401  (re-exported for tests)
from scapyrpc.packets.errors import InputSyntaxError, ServiceError
from scapyrpc.testing import ManagedServer

import hypothesis_profiles  # noqa: F401  (registered before pytest's --hypothesis-profile is read)

ROOT = Path(__file__).resolve().parents[1]  # the repository
CAPTURES = ROOT / "tests" / "captures"  # the real-traffic corpus (tests/captures/README.md)
SHARED = ROOT.parent / "shared"
GUI_HANDLER = "gCpT7kGF+TG7Jmm90XmxdQ=="  # base64(md5("1021" + "02")) for API 1.02

# The hold-out against TRex's simulator needs a TRex checkout, which CI has not: `make holdout`.
collect_ignore = ["holdout"]


class ServerProcess(ManagedServer):
    """`python -m scapyrpc serve` on 127.0.0.1 and a free port, with what tests ask of it."""

    def __init__(
        self,
        *args: str,
        workers: int = 2,
        startup_timeout: float = 90.0,
        env: dict[str, str] | None = None,
        wait_for_workers: bool = True,
    ) -> None:
        super().__init__(workers, tuple(args), startup_timeout, env=env, wait_for_workers=wait_for_workers)

    def tree(self) -> list[psutil.Process]:
        """The server process and every descendant still alive."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def worker_pids(self) -> list[int]:
        """Pids of the live local worker processes (the broker's children named scapyrpc-worker)."""
        return self._named("scapyrpc-worker")

    def zygote_pids(self) -> list[int]:
        return self._named("scapyrpc-zygote")

    def _named(self, name: str) -> list[int]:
        pids = []
        for proc in self.tree()[1:]:
            try:
                if proc.name() == name and proc.status() != psutil.STATUS_ZOMBIE:
                    pids.append(proc.pid)
            except psutil.NoSuchProcess:
                continue
        return pids

    def client(self, timeout_ms: int = 10000) -> ScapyClient:
        return ScapyClient(self.endpoint, timeout_ms=timeout_ms)


def zmq_socket(kind: int, endpoint: str, timeout_ms: int = 20000) -> zmq.Socket:
    """A connected REQ or DEALER test client socket that never blocks a test forever."""
    sock = zmq.Context.instance().socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
    sock.connect(endpoint)
    return sock


def start_threads(target: Any, args: list[tuple]) -> list[threading.Thread]:
    """One started thread per argument tuple (concurrent test clients)."""
    threads = [threading.Thread(target=target, args=a) for a in args]
    for thread in threads:
        thread.start()
    return threads


def join_threads(threads: list[threading.Thread], timeout: float) -> None:
    for thread in threads:
        thread.join(timeout)


class socket_port:
    """A free TCP port on 127.0.0.1 (released before use)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until it is truthy or `timeout` passes."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class WireService:
    """The service functions called over a real socket, failures re-raised as the service's own
    exceptions, so one test body checks the in-process call and the wire alike."""

    def __init__(self, client: ScapyClient) -> None:
        self.client = client

    def __getattr__(self, method: str) -> Any:
        def call(*params: Any) -> Any:
            try:
                return self.client.call(method, *params)
            except ScapyRpcError as err:
                if err.code == -32098:
                    raise ServiceError(err.message.removeprefix("Scapy Server: ")) from None
                if err.code == -32097:
                    raise InputSyntaxError(err.message.removeprefix("Syntax Error: ")) from None
                raise

        return call


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """One shared server with 2 workers for tests that do not disturb it."""
    srv = ServerProcess(workers=2)
    yield srv
    srv.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[ScapyClient]:
    """A handshaken GUI-like client of the shared server."""
    with server.client() as cli:
        yield cli


@pytest.fixture
def rpc(client: ScapyClient) -> Any:
    """`rpc(method, *params)`: a handler-first call; raises ScapyRpcError with .code/.message."""
    return client.call


@pytest.fixture(scope="session")
def wire_service(server: ServerProcess) -> Iterator[WireService]:
    cli = server.client(timeout_ms=60000)
    yield WireService(cli)
    cli.close()


@pytest.fixture(scope="module", params=["in-process", "wire"])
def api(request: pytest.FixtureRequest) -> Any:
    """`scapyrpc.service` itself, then the same methods through a running server."""
    if request.param == "in-process":
        from scapyrpc.packets import service

        return service
    return request.getfixturevalue("wire_service")


WIRE_FUZZ = pytest.StashKey[dict]()  # what test_wire_fuzz sent, for the summary


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    tally = config.stash.get(WIRE_FUZZ, None)
    if tally:
        terminalreporter.write_line(
            f"wire fuzz: {tally['sent']} generated requests ({tally['dropped']} with too many frames, "
            f"rightly unanswered) in {tally['seconds']:.1f} s"
        )


os.environ.setdefault("PYTHONUNBUFFERED", "1")
