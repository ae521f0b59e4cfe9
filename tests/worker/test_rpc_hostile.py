"""Hostile frames and failing methods (issue 11, item 1): always exactly one well-formed error
reply, never an exception out of rpc.handle, never a dead worker.

Each case runs in process (`rpc.handle`) and over the wire against a real server, whose
worker must have the same pid afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
import zmq

from scapyrpc.packets import service
from scapyrpc.worker import rpc

from conftest import GUI_HANDLER, ServerProcess, zmq_socket

DEEP_PARAMS = b'{"jsonrpc":"2.0","id":1,"method":"build_pkt","params":' + b"[" * 3000 + b"]" * 3000 + b"}"
VERY_DEEP_PARAMS = b'{"jsonrpc":"2.0","id":1,"method":"build_pkt","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_OBJECTS = b'{"jsonrpc":"2.0","id":1,"method":"build_pkt","params":' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}"
# within orjson's depth, but with a number orjson refuses first: read by the standard library
DEEP_PAST_A_DOUBLE = (
    b'{"jsonrpc":"2.0","method":"build_pkt","params":[1e999,' + b"[" * 1010 + b"]" * 1010 + b'],"id":1}'
)
BIG = str(2**70).encode()


def frame(text: str) -> bytes:
    """A request frame written by hand: JSON escapes such as \\ud800 stay as written."""
    return text.encode("utf-8")


TOO_DEEP = (-32098, "Scapy Server: request is nested too deeply to be read")
PARSE = (-32700, "Parse error")
INVALID = (-32600, "Invalid Request")

# name -> (frame, (code, message), id expected in the reply)
CASES: dict[str, tuple[bytes, tuple[int, str], object]] = {
    "params 3000 arrays deep": (DEEP_PARAMS, TOO_DEEP, None),
    "params 100 000 arrays deep": (VERY_DEEP_PARAMS, TOO_DEEP, None),
    "params 3000 objects deep": (DEEP_OBJECTS, TOO_DEEP, None),
    "1010 deep after a number past a double": (DEEP_PAST_A_DOUBLE, TOO_DEEP, None),
    "lone surrogate in the id": (frame('{"jsonrpc":"2.0","id":"\\ud800","method":"get_version"}'), PARSE, None),
    "lone surrogate in the method": (frame('{"jsonrpc":"2.0","id":1,"method":"get_\\udc00version"}'), PARSE, None),
    "lone surrogate in a key": (
        frame('{"jsonrpc":"2.0","id":1,"method":"build_pkt","params":[[{"\\ud800":1}]]}'),
        PARSE,
        None,
    ),
    "lone surrogate in a value": (
        frame('{"jsonrpc":"2.0","id":1,"method":"build_pkt","params":[[{"id":"\\udfff"}]]}'),
        PARSE,
        None,
    ),
    "lone surrogate next to a big integer": (
        frame('{"jsonrpc":"2.0","id":"\\ud800","method":"build_pkt","params":[' + str(2**70) + "]}"),
        PARSE,
        None,
    ),
    "surrogate encoded as UTF-8 bytes": (b'{"jsonrpc":"2.0","id":"\xed\xa0\x80","method":"get_version"}', PARSE, None),
    "id 1e999": (frame('{"jsonrpc":"2.0","id":1e999,"method":"get_version"}'), INVALID, None),
    "id -1e999 next to a big integer": (
        frame('{"jsonrpc":"2.0","id":-1e999,"method":"get_version_handler","params":[' + str(2**70) + ",1]}"),
        INVALID,
        None,
    ),
    "id NaN": (frame('{"jsonrpc":"2.0","id":NaN,"method":"get_version"}'), PARSE, None),
    "id Infinity": (frame('{"jsonrpc":"2.0","id":Infinity,"method":"get_version"}'), PARSE, None),
    "id -Infinity": (frame('{"jsonrpc":"2.0","id":-Infinity,"method":"get_version"}'), PARSE, None),
    "id true": (frame('{"jsonrpc":"2.0","id":true,"method":"get_version"}'), INVALID, None),
    "NaN in params": (frame('{"jsonrpc":"2.0","id":7,"method":"get_version_handler","params":[NaN,1]}'), PARSE, None),
    "id past 64 bits, invalid params": (
        frame('{"jsonrpc":"2.0","id":' + str(2**70) + ',"method":"get_version_handler","params":[1]}'),
        (-32603, "Invalid params"),
        2**70,
    ),
    "id past 64 bits, wrong handler": (
        frame('{"jsonrpc":"2.0","id":' + str(2**70) + ',"method":"build_pkt","params":["nope",[{"id":"IP"}]]}'),
        (-32098, "Scapy Server: " + rpc.WRONG_HANDLER_MESSAGE),
        2**70,
    ),
    "nothing at all": (b"", PARSE, None),
    "a lone brace": (b"{", PARSE, None),
    "binary": (bytes(range(256)), PARSE, None),
}


def check(reply: bytes, expected: tuple[int, str], expected_id: object) -> None:
    message = orjson.loads(reply)  # strict JSON: valid UTF-8, no NaN
    code, text = expected
    assert message == {"jsonrpc": "2.0", "id": expected_id, "error": {"code": code, "message": text}}


@pytest.mark.parametrize("name", CASES)
def test_hostile_frame_in_process(name: str) -> None:
    raw, expected, expected_id = CASES[name]
    check(rpc.handle(raw).body, expected, expected_id)


def test_big_integer_id_is_echoed_exactly_on_success() -> None:
    reply = rpc.handle(frame('{"jsonrpc":"2.0","id":' + str(2**70) + ',"method":"get_version"}')).body
    assert orjson.loads(reply.replace(BIG, b'"big"'))["id"] == "big" and BIG in reply


@pytest.mark.parametrize(
    "kind, code, message",
    [
        ("RecursionError", -32098, "Scapy Server: input is nested too deeply"),
        ("MemoryError", -32098, "Scapy Server: out of memory"),
        ("BaseException", -32096, "Scapy Server: Unknown Error"),
    ],
)
def test_whatever_a_method_raises_is_an_error_reply(
    monkeypatch: pytest.MonkeyPatch, kind: str, code: int, message: str
) -> None:
    from scapyrpc.worker import test_methods

    monkeypatch.setitem(rpc._METHODS, "test_raise", rpc._wrap(test_methods.test_raise))
    reply = rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "r", "method": "test_raise", "params": [kind]}))
    check(reply.body, (code, message), "r")


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_only_a_stop_of_the_process_itself_gets_through(monkeypatch: pytest.MonkeyPatch, stop: type) -> None:
    def halt() -> None:
        raise stop()

    monkeypatch.setitem(rpc._METHODS, "get_tree", rpc._wrap(halt))
    with pytest.raises(stop):
        rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "s", "method": "get_tree"}))


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "result", [object(), "\ud800 not text", {"deep": nested(5000)}], ids=["object", "surrogate", "deep"]
)
def test_a_result_json_cannot_carry_is_an_error_reply(monkeypatch: pytest.MonkeyPatch, result: object) -> None:
    monkeypatch.setitem(rpc._METHODS, "get_tree", rpc._wrap(lambda: result))
    reply = rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "t", "method": "get_tree"})).body
    check(reply, (-32096, "Scapy Server: Unknown Error"), "t")


def test_an_error_message_that_is_not_text_is_repaired(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise service.ServiceError("bad \udc80 byte")

    monkeypatch.setitem(rpc._METHODS, "get_tree", rpc._wrap(fail))
    reply = rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "u", "method": "get_tree"})).body
    check(reply, (-32098, "Scapy Server: bad ? byte"), "u")


# ------------------------------------------------------------------------------ over the wire


@pytest.fixture(scope="module")
def one_worker() -> Iterator[ServerProcess]:
    srv = ServerProcess("--test-methods", workers=1)
    yield srv
    srv.stop()


def exchange(endpoint: str, payload: bytes) -> bytes:
    sock = zmq_socket(zmq.REQ, endpoint, 30000)
    try:
        sock.send(payload)
        return sock.recv()
    finally:
        sock.close()


def worker_pid(endpoint: str) -> int:
    return orjson.loads(exchange(endpoint, b'{"jsonrpc":"2.0","id":"p","method":"test_pid"}'))["result"]


@pytest.mark.parametrize("name", CASES)
def test_hostile_frame_over_the_wire_leaves_the_worker_alive(one_worker: ServerProcess, name: str) -> None:
    raw, expected, expected_id = CASES[name]
    before = worker_pid(one_worker.endpoint)
    check(exchange(one_worker.endpoint, raw), expected, expected_id)
    assert worker_pid(one_worker.endpoint) == before


@pytest.mark.parametrize(
    "kind, code, message",
    [
        ("RecursionError", -32098, "Scapy Server: input is nested too deeply"),
        ("BaseException", -32096, "Scapy Server: Unknown Error"),
    ],
)
def test_a_raising_method_over_the_wire_leaves_the_worker_alive(
    one_worker: ServerProcess, kind: str, code: int, message: str
) -> None:
    before = worker_pid(one_worker.endpoint)
    reply = exchange(
        one_worker.endpoint, orjson.dumps({"jsonrpc": "2.0", "id": "w", "method": "test_raise", "params": [kind]})
    )
    check(reply, (code, message), "w")
    assert worker_pid(one_worker.endpoint) == before


def test_a_method_out_of_memory_is_answered_and_its_worker_recycled(one_worker: ServerProcess) -> None:
    before = worker_pid(one_worker.endpoint)
    reply = exchange(
        one_worker.endpoint,
        orjson.dumps({"jsonrpc": "2.0", "id": "m", "method": "test_raise", "params": ["MemoryError"]}),
    )
    check(reply, (-32098, "Scapy Server: out of memory"), "m")
    assert worker_pid(one_worker.endpoint) != before  # retired after the reply, replaced warm


def test_the_worker_still_builds_after_the_hostile_frames(one_worker: ServerProcess) -> None:
    for raw, _, _ in CASES.values():
        exchange(one_worker.endpoint, raw)
    reply = orjson.loads(
        exchange(
            one_worker.endpoint,
            orjson.dumps(
                {"jsonrpc": "2.0", "id": "b", "method": "build_pkt", "params": [GUI_HANDLER, [{"id": "Ether"}]]}
            ),
        )
    )
    assert reply["result"]["data"][0]["id"] == "Ether"
