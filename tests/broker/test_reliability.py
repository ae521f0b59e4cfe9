"""One reply per request, whatever the workers do: crashes, hangs, floods, big requests, stops."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import orjson
import pytest
import zmq

from scapyrpc.client import ScapyClient, ScapyRpcError

from conftest import GUI_HANDLER, ServerProcess, join_threads, socket_port, start_threads, wait_for, zmq_socket

BUILD = [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP", "fields": [{"id": "dport", "value": 443}]}]


def request(rid: str, method: str, params: list | None = None) -> bytes:
    message: dict = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        message["params"] = params
    return orjson.dumps(message)


def req_socket(endpoint: str, timeout_ms: int = 20000) -> zmq.Socket:
    return zmq_socket(zmq.REQ, endpoint, timeout_ms)


def test_kill_busy_worker_under_load_every_request_answered() -> None:
    srv = ServerProcess(workers=2)
    try:
        with srv.client() as cli:
            expected = cli.build_pkt(BUILD)["binary"]
        replies: list[dict] = []
        lost: list[str] = []
        lock = threading.Lock()

        def client_loop(n: int) -> None:
            sock = req_socket(srv.endpoint)
            try:
                for i in range(50):
                    rid = f"{n}-{i}"
                    sock.send(request(rid, "build_pkt", [GUI_HANDLER, BUILD]))
                    reply = orjson.loads(sock.recv())
                    with lock:
                        replies.append(reply)
                    assert reply["id"] == rid
            except zmq.Again:
                lost.append(f"client {n} got no reply")
            finally:
                sock.close()

        threads = start_threads(client_loop, [(n,) for n in range(4)])
        assert wait_for(lambda: len(replies) >= 20, 30)
        victim = random.choice(srv.worker_pids())
        os.kill(victim, signal.SIGKILL)
        join_threads(threads, 120)
        assert lost == []
        assert len(replies) == 200
        kinds = {"ok": 0, "lost": 0}
        for reply in replies:
            if "result" in reply:
                assert reply["result"]["binary"] == expected
                kinds["ok"] += 1
            else:
                assert reply["error"]["code"] == -32098
                assert reply["error"]["message"] == "Scapy Server: worker lost while handling build_pkt"
                kinds["lost"] += 1
        assert kinds["lost"] <= 1
        assert wait_for(lambda: len(srv.worker_pids()) == 2 and victim not in srv.worker_pids(), 10)
        with srv.client() as cli:  # the replacement serves
            assert cli.build_pkt(BUILD)["binary"] == expected
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def test_server():
    """Two workers, 1.5 s deadline, test methods on, a small queue."""
    srv = ServerProcess(
        "--test-methods", "--request-timeout", "1.5", "--max-queue", "8", "--max-request-bytes", "4096", workers=2
    )
    yield srv
    srv.stop()


def test_deadline_error_and_others_keep_being_served(test_server: ServerProcess) -> None:
    before = set(test_server.worker_pids())
    outcome: dict = {}

    def slow() -> None:
        with test_server.client(timeout_ms=20000) as cli:
            start = time.monotonic()
            try:
                cli.call("test_sleep", 30)
            except ScapyRpcError as err:
                outcome["error"] = err
            outcome["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.3)
    served = 0
    with test_server.client() as cli:
        while thread.is_alive():
            assert cli.get_version()["version"] == "1.02"
            served += 1
    thread.join()
    err = outcome["error"]
    assert err.code == -32098, outcome
    assert err.message == "Scapy Server: request deadline of 1.5 s exceeded while handling test_sleep"
    assert 1.4 < outcome["elapsed"] < 5, outcome
    assert served > 10, served  # the other worker kept answering during the stuck request
    # the stuck worker was replaced (SIGKILL is not instant: it may be listed a moment after the reply)
    pids = test_server.worker_pids
    assert wait_for(lambda: len(pids()) == 2 and set(pids()) != before, 10), (before, pids())


def test_oversized_request_refused_by_broker(test_server: ServerProcess) -> None:
    sock = req_socket(test_server.endpoint)
    try:
        sock.send(
            request(
                "big", "build_pkt", [GUI_HANDLER, [{"id": "Raw", "fields": [{"id": "load", "value": "x" * 10000}]}]]
            )
        )
        reply = orjson.loads(sock.recv())
        assert reply["id"] == "big"
        assert reply["error"]["code"] == -32098
        assert "exceeds the limit of 4096 bytes" in reply["error"]["message"]
        sock.send(request("small", "get_version"))
        assert orjson.loads(sock.recv())["result"]["version"] == "1.02"
    finally:
        sock.close()


def test_full_queue_refuses_at_once_yet_a_light_client_gets_in_before_the_flood_drains(
    test_server: ServerProcess,
) -> None:
    """Two flooding identities fill the queue (8); the light client is served in turn, not refused."""
    flooders = [zmq_socket(zmq.DEALER, test_server.endpoint) for _ in range(2)]
    light = test_server.client(timeout_ms=20000)  # handshake done before the flood
    try:
        for i in range(11):
            for n, flooder in enumerate(flooders):
                flooder.send_multipart([b"", request(f"f{n}-{i}", "test_sleep", [GUI_HANDLER, 0.3])])
        poller = zmq.Poller()
        for flooder in flooders:
            poller.register(flooder, zmq.POLLIN)
        replies: list[dict] = []

        def collect(until: float) -> None:
            while time.monotonic() < until:
                for sock, _ in poller.poll(50):
                    replies.append(orjson.loads(sock.recv_multipart()[-1]))

        collect(time.monotonic() + 0.2)  # long before the first 0.3 s sleep ends
        busy = [r for r in replies if "error" in r]
        assert len(busy) == len(replies) >= 22 - 12  # 2 running, up to 2 handed early, 8 waiting
        assert {r["error"]["message"] for r in busy} == {"Scapy Server: server busy, try again later"}
        assert light.call("test_pid") in test_server.worker_pids()  # let in, by evicting a flooder's newest
        served_before = sum("result" in r for r in replies)
        collect(time.monotonic() + 10)
        assert served_before < sum("result" in r for r in replies)  # the flood was still draining
        assert len(replies) == 22
    finally:
        light.close()
        for flooder in flooders:
            flooder.close()


def test_recycling_by_request_count() -> None:
    srv = ServerProcess("--test-methods", "--max-requests-per-worker", "5", workers=1)
    try:
        with srv.client() as cli:
            pids = [cli.call("test_pid") for _ in range(16)]
        assert len(set(pids)) >= 3  # 5 requests each, then a warm replacement
        assert all(pids[i] == pids[0] for i in range(3))
        assert wait_for(lambda: len(srv.worker_pids()) == 1, 10)
    finally:
        srv.stop()


def test_recycling_by_memory() -> None:
    srv = ServerProcess("--test-methods", "--max-worker-rss-mb", "300", workers=1)
    try:
        with srv.client() as cli:
            first = cli.call("test_allocate", 400)  # this reply still arrives, then the worker retires
            second = cli.call("test_pid")
        assert first != second
    finally:
        srv.stop()


def test_remote_worker_serves_and_its_loss_is_answered() -> None:
    with socket_port() as port:
        backend = f"tcp://127.0.0.1:{port}"
    srv = ServerProcess("--test-methods", "--backend", backend, workers=1)
    remote = subprocess.Popen(
        [sys.executable, "-m", "scapyrpc", "worker", "--connect", backend, "--test-methods"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # both workers busy at once: one of the two sleeps lands on the remote worker
        results: dict[str, object] = {}

        def sleeper(name: str) -> None:
            with srv.client(timeout_ms=30000) as cli:
                try:
                    results[name] = cli.call("test_sleep", 1.0)
                except ScapyRpcError as err:
                    results[name] = err

        def both() -> dict:
            results.clear()
            join_threads(start_threads(sleeper, [("a",), ("b",)]), 30)
            return dict(results)

        assert wait_for(lambda: remote.pid in both().values(), 30)  # the remote worker joined and served
        results.clear()
        threads = start_threads(sleeper, [("a",), ("b",)])
        time.sleep(0.4)
        remote.kill()
        join_threads(threads, 30)
        errors = [r for r in results.values() if isinstance(r, ScapyRpcError)]
        assert len(errors) == 1
        assert errors[0].message == "Scapy Server: worker lost while handling test_sleep"
        assert [r for r in results.values() if isinstance(r, int)] == srv.worker_pids()
        with srv.client() as cli:  # the local pool carries on
            assert cli.call("test_pid") in srv.worker_pids()
    finally:
        remote.kill()
        remote.wait(10)
        remote.stderr.close()
        srv.stop()


def test_sigterm_during_load_answers_every_request_sent_before() -> None:
    srv = ServerProcess(workers=2)
    try:
        sent_before: list[tuple[str, float]] = []
        answered: set[str] = set()
        signalled = threading.Event()
        signal_time: list[float] = []

        def client_loop(n: int) -> None:
            sock = req_socket(srv.endpoint, timeout_ms=15000)
            try:
                for i in range(10_000):
                    rid = f"{n}-{i}"
                    sent_at = time.monotonic()
                    sock.send(request(rid, "build_pkt", [GUI_HANDLER, BUILD]))
                    sent_before.append((rid, sent_at))
                    reply = orjson.loads(sock.recv())
                    answered.add(reply["id"])
                    if signalled.is_set() and "error" in reply:
                        break
            except zmq.Again:
                pass
            finally:
                sock.close()

        threads = start_threads(client_loop, [(n,) for n in range(4)])
        time.sleep(1.0)
        signal_time.append(time.monotonic())
        srv.proc.send_signal(signal.SIGTERM)
        signalled.set()
        assert srv.proc.wait(30) == 0
        join_threads(threads, 30)
        must = [rid for rid, at in sent_before if at < signal_time[0]]
        assert len(must) > 20
        assert [rid for rid in must if rid not in answered] == []
        assert wait_for(lambda: not srv.worker_pids(), 10)
    finally:
        srv.stop()


def test_broker_with_only_remote_workers() -> None:
    with socket_port() as port:
        backend = f"tcp://127.0.0.1:{port}"
    srv = ServerProcess("--backend", backend, "--request-timeout", "1", workers=0)
    remote = None
    try:
        sock = req_socket(srv.endpoint)
        try:  # no worker at all: the request still gets its one reply
            sock.send(request("w0", "get_version"))
            reply = orjson.loads(sock.recv())
            assert reply["id"] == "w0"
            assert reply["error"]["message"] == "Scapy Server: no worker became available within 1 s"
        finally:
            sock.close()
        remote = subprocess.Popen(
            [sys.executable, "-m", "scapyrpc", "worker", "--connect", backend],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def served() -> bool:
            try:
                with ScapyClient(srv.endpoint, timeout_ms=3000) as cli:
                    return cli.build_pkt([{"id": "Ether"}, {"id": "IP"}])["binary"] != ""
            except ScapyRpcError:
                return False

        assert wait_for(served, 30, interval=0.2)
    finally:
        if remote is not None:
            remote.kill()
            remote.wait(10)
        srv.stop()


def test_recycling_under_concurrency_loses_nothing() -> None:
    srv = ServerProcess("--test-methods", "--max-requests-per-worker", "3", workers=2)
    try:
        results: list[object] = []

        def client_loop() -> None:
            with srv.client(timeout_ms=30000) as cli:
                for _ in range(15):
                    results.append(cli.call("test_pid"))

        join_threads(start_threads(client_loop, [()] * 4), 60)
        assert len(results) == 60 and all(isinstance(r, int) for r in results)
        assert len(set(results)) >= 60 // 3  # every worker served at most 3
    finally:
        srv.stop()


def test_remote_worker_rejoins_a_restarted_broker() -> None:
    with socket_port() as port:
        backend = f"tcp://127.0.0.1:{port}"
    remote = subprocess.Popen(
        [sys.executable, "-m", "scapyrpc", "worker", "--connect", backend, "--test-methods"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def served_by_remote(srv: ServerProcess) -> bool:
        try:
            with ScapyClient(srv.endpoint, timeout_ms=3000) as cli:
                return cli.call("test_pid") == remote.pid
        except ScapyRpcError:
            return False

    try:
        for _ in range(2):  # the same worker process serves two brokers in turn
            srv = ServerProcess("--test-methods", "--backend", backend, workers=0)
            try:
                assert wait_for(lambda srv=srv: served_by_remote(srv), 30, interval=0.2)
            finally:
                srv.stop()
        assert remote.poll() is None
    finally:
        remote.kill()
        remote.wait(10)
