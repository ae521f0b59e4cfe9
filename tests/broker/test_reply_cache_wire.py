"""The reply cache over real sockets: for every method a worker marks cacheable, in both call
shapes and with string, integer and big-integer ids, the broker's answer is the same bytes a
worker sends; errors are never kept; the HTTP gateway takes the same path; a worker of another
version neither fills nor is served another's entries. (In process: test_replycache.)"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import zmq

from scapyrpc.packets import service
from scapyrpc.wire import frames
from scapyrpc.wire.jsonrpc import result_body

from conftest import GUI_HANDLER, ServerProcess, wait_for, zmq_socket

IDS = ["s-1", 7, 2**64 + 1]  # a string, an integer, an integer past 64 bits


def body(request_id: object, method: str, params: list[Any] | None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message, separators=(",", ":")).encode()  # exact for every id


@pytest.fixture(scope="module")
def cached() -> Iterator[ServerProcess]:
    srv = ServerProcess("--log-level", "info", "--http", "0", workers=2)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def uncached() -> Iterator[ServerProcess]:
    srv = ServerProcess("--reply-cache-mb", "0", workers=1)
    yield srv
    srv.stop()


def ask(srv: ServerProcess, request: bytes) -> bytes:
    sock = zmq_socket(zmq.REQ, srv.endpoint, timeout_ms=30000)
    try:
        sock.send(request)
        return sock.recv()
    finally:
        sock.close()


def calls(uncached: ServerProcess) -> list[tuple[str, list[Any] | None, bool]]:
    """(method, params, handler first) for every cacheable method, in the GUI's shape (the version
    handler first) and the seed's; params None: no params member (as the GUI sends get_version)."""
    everything = orjson.loads(ask(uncached, body(1, "get_all", [])))["result"]
    template = orjson.loads(ask(uncached, body(1, "get_templates", [])))["result"][0]
    model = [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}]
    fe_model = {"field_engine": {"instructions": [{"id": "STLVmFlowVar", "parameters": {"name": "v"}}]}}
    with_handler = [
        ("get_definitions", [["IP", "TCP"]]),
        ("get_definitions", [None]),  # about 3 MB: kept from a view of the worker's frame
        ("get_payload_classes", [[{"id": "IP"}]]),
        ("get_tree", []),
        ("get_all", []),
        ("check_update_of_dbs", [everything["db_md5"], everything["fields_md5"]]),
        ("check_update", [everything["db_md5"], everything["fields_md5"]]),
        ("get_templates", []),
        ("get_template", [{"id": template["id"]}]),
        ("load_instruction_parameter_values", [model, fe_model, "name"]),
        ("load_instruction_parameter_values", [model, fe_model, "fv_name"]),
    ]
    without = [
        ("get_version", None),
        ("get_version", []),
        ("get_version_handler", ["1", "02"]),
        ("supported_methods", []),
        ("supported_methods", ["build_pkt"]),
        ("rpc.discover", None),
    ]
    shapes = [(m, p, False) for m, p in with_handler + without] + [
        (m, [GUI_HANDLER, *p], True) for m, p in with_handler
    ]
    assert {m for m, _, _ in shapes} == service.PURE  # every cacheable method, no other
    return shapes


def test_every_cacheable_reply_is_the_bytes_a_worker_sends(cached: ServerProcess, uncached: ServerProcess) -> None:
    shapes = calls(uncached)
    for method, params, _ in shapes:
        for request_id in IDS:
            request = body(request_id, method, params)
            expected = ask(uncached, request)  # a worker's bytes
            assert "result" in orjson.loads(expected), (method, params, expected[:200])
            first, again = ask(cached, request), ask(cached, request)
            assert first == expected and again == expected, (method, params, request_id)
    # the first request of each call was a worker's; every later one, whatever its id, the cache's
    expected_hits = len(shapes) * (2 * len(IDS) - 1)

    def hits() -> int:
        return sum(1 for line in cached.stderr_text().splitlines() if line.endswith(" cache"))

    assert wait_for(lambda: hits() == expected_hits, 10), (hits(), expected_hits)
    log = cached.stderr_text()
    for method in service.PURE:
        assert f"{method} id=" in log and " ok " in log


def test_errors_are_never_kept(cached: ServerProcess) -> None:
    for request in (
        body("e", "get_template", [{"id": "no such template"}]),
        body("e", "get_definitions", [GUI_HANDLER, "not a list"]),
        body("e", "get_tree", ["not the handler"]),  # the wrong handler
        body(True, "get_version", None),  # an id a worker refuses
        body("e", "get_version", {"x": 1}),  # params a worker refuses
    ):
        replies = {ask(cached, request) for _ in range(3)}
        assert len(replies) == 1 and "error" in orjson.loads(replies.pop())
    lines = [line for line in cached.stderr_text().splitlines() if " -3" in line and "id=" in line]
    assert lines and not any(line.endswith(" cache") for line in lines)


def test_the_http_gateway_takes_the_same_path(cached: ServerProcess) -> None:
    [line] = [line for line in cached.banner if line.startswith("Editor: ")]
    url = line.split(" ", 1)[1].split("?")[0].rstrip("/") + "/rpc"
    request = body("http", "get_definitions", [GUI_HANDLER, ["UDP", "ICMP"]])  # a call not asked before

    def post() -> bytes:
        headers = {"Content-Type": "application/json"}
        with urllib.request.urlopen(urllib.request.Request(url, request, headers, method="POST"), timeout=30) as r:
            return r.read()

    def served() -> list[str]:
        return [line for line in cached.stderr_text().splitlines() if 'get_definitions id="http"' in line]

    first, second = post(), post()  # a worker's answer, then the cache's, both over HTTP
    assert first == second == ask(cached, request)
    assert wait_for(lambda: len(served()) == 3, 10), served()
    by = [line.rsplit(" ", 1)[1] for line in served()]
    assert by[0] != "cache" and by[1:] == ["cache", "cache"]


class FakeWorker:
    """A worker by hand on a tcp back end: READY with `version`, answers get_version with `name`,
    marking its reply cacheable, and counts what it was asked."""

    def __init__(self, backend: str, version: str, name: str) -> None:
        self.name = name
        self.asked = 0
        self.ident = f"fake-{name}".encode()
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.IDENTITY, self.ident)
        self.sock.setsockopt(zmq.RCVTIMEO, 200)
        self.sock.connect(backend)
        self.sock.send_multipart(
            [frames.READY, str(os.getpid()).encode(), b"elsewhere", frames.VERSION, version.encode()]
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        last_beat = 0.0
        while not self.stop.is_set():
            if time.monotonic() - last_beat > 0.5:
                self.sock.send_multipart([frames.HEARTBEAT, self.ident])
                last_beat = time.monotonic()
            try:
                [frame] = self.sock.recv_multipart()
            except zmq.Again:
                continue
            if frame[:1] not in (frames.REQUEST, frames.REMOTE_REQUEST):
                continue
            self.asked += 1
            request = orjson.loads(frame[frames.HEAD_BYTES :])
            reply = result_body(request.get("id"), {"version": "1.02", "built_by": self.name})
            self.sock.send(frames.reply(frames.REPLY, frame, frames.note("get_version", 0, True), reply))

    def leave(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.send(frames.GONE)
        self.sock.close(linger=500)


def built_by(srv: ServerProcess, request_id: object) -> str:
    reply = orjson.loads(ask(srv, body(request_id, "get_version", None)))
    return reply["result"]["built_by"]


def test_a_worker_of_another_version_neither_fills_nor_serves_anothers_entries() -> None:
    srv = ServerProcess("--backend", "tcp://127.0.0.1:*", "--request-timeout", "5", workers=0)
    try:
        one = FakeWorker(srv.backend, "scapyrpc 1 scapy 2.8.0", "one")
        assert built_by(srv, 1) == "one" and built_by(srv, 2) == "one"
        assert one.asked == 1  # the second came from the cache
        one.leave()
        two = FakeWorker(srv.backend, "scapyrpc 2 scapy 2.8.0", "two")
        assert wait_for(lambda: built_by(srv, 3) == "two", 10)  # not the entry of version 1: no such worker now
        assert built_by(srv, 4) == "two" and two.asked == 1
        two.leave()
        again = FakeWorker(srv.backend, "scapyrpc 1 scapy 2.8.0", "one again")
        assert wait_for(lambda: built_by(srv, 5) == "one", 10)  # version 1's entry, not version 2's
        assert again.asked == 0
        again.leave()
    finally:
        srv.stop()
