"""The RPC contract over real sockets: the GUI handshake, every error code, concurrency."""

from __future__ import annotations

import orjson
import zmq

from conftest import GUI_HANDLER, ServerProcess, join_threads, start_threads, zmq_socket


def raw_exchange(endpoint: str, payload: bytes, timeout_ms: int = 10000) -> dict:
    sock = zmq_socket(zmq.REQ, endpoint, timeout_ms)
    try:
        sock.send(payload)
        return orjson.loads(sock.recv())
    finally:
        sock.close()


def test_gui_handshake_exactly(server: ServerProcess) -> None:
    first = raw_exchange(server.endpoint, b'{"jsonrpc":"2.0","id":"1","method":"get_version"}')
    assert first["id"] == "1" and first["result"]["version"] == "1.02"
    major, minor = first["result"]["version"].split(".")
    second = raw_exchange(
        server.endpoint,
        orjson.dumps({"jsonrpc": "2.0", "id": "2", "method": "get_version_handler", "params": [major, minor]}),
    )
    assert second == {"jsonrpc": "2.0", "id": "2", "result": GUI_HANDLER}


def test_every_error_code_over_the_wire(server: ServerProcess) -> None:
    cases = {
        -32700: b"\xc3\x28 not utf-8",
        -32600: b'[{"jsonrpc":"2.0","id":"1","method":"get_version"}]',
        -32601: b'{"jsonrpc":"2.0","id":"3","method":"nope","params":[]}',
        -32603: b'{"jsonrpc":"2.0","id":"4","method":"get_version_handler","params":["1"]}',
        -32098: orjson.dumps(
            {"jsonrpc": "2.0", "id": "5", "method": "build_pkt", "params": [GUI_HANDLER, [{"id": "NoSuchLayer"}]]}
        ),
    }
    for code, payload in cases.items():
        reply = raw_exchange(server.endpoint, payload)
        assert reply["error"]["code"] == code, (code, reply)
        assert "message" in reply["error"] and "message:" not in reply["error"]
    assert raw_exchange(server.endpoint, cases[-32601])["error"]["message"] == "Method not found"


def test_syntax_error_code_over_the_wire(server: ServerProcess) -> None:
    model = [
        {"id": "Ether"},
        {"id": "IP", "fields": [{"id": "options", "value": {"vtype": "EXPRESSION", "expr": "[1, 2"}}]},
    ]
    reply = raw_exchange(
        server.endpoint,
        orjson.dumps({"jsonrpc": "2.0", "id": "6", "method": "build_pkt", "params": [GUI_HANDLER, model]}),
    )
    assert reply["error"]["code"] == -32097


def test_eight_concurrent_clients_get_their_own_replies(server: ServerProcess) -> None:
    failures: list[str] = []

    def client_loop(n: int) -> None:
        sock = zmq_socket(zmq.REQ, server.endpoint)
        try:
            for i in range(50):
                rid = f"c{n}-{i}"
                major = str(n * 1000 + i)
                sock.send(
                    orjson.dumps({"jsonrpc": "2.0", "id": rid, "method": "get_version_handler", "params": [major, "0"]})
                )
                reply = orjson.loads(sock.recv())
                expected = orjson.loads(raw_local(major))
                if reply.get("id") != rid or reply.get("result") != expected:
                    failures.append(f"{rid}: {reply}")
        except zmq.Again:
            failures.append(f"client {n} timed out")
        finally:
            sock.close()

    join_threads(start_threads(client_loop, [(n,) for n in range(8)]), 60)
    assert failures == []


def raw_local(major: str) -> bytes:
    from scapyrpc.wire.contract import version_handler

    return orjson.dumps(version_handler(major, "0"))


def test_random_frames_each_get_one_reply(server: ServerProcess) -> None:
    import random

    rng = random.Random(7)
    sock = zmq_socket(zmq.REQ, server.endpoint)
    try:
        for i in range(200):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
            if i % 4 == 0:  # valid UTF-8 JSON of the wrong shapes too
                junk = orjson.dumps(rng.choice([[], {}, "x", 1, None, {"jsonrpc": "2.0"}, {"method": []}]))
            sock.send(junk)
            reply = orjson.loads(sock.recv())
            assert reply["error"]["code"] in (-32700, -32600), (junk, reply)
        sock.send(orjson.dumps({"jsonrpc": "2.0", "id": "after", "method": "get_version"}))
        assert orjson.loads(sock.recv())["id"] == "after"
    finally:
        sock.close()
