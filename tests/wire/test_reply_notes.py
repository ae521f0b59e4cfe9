"""What a worker says about each reply (method and outcome, frames.py), and the one log record of a -32096."""

from __future__ import annotations

import logging

import orjson
import pytest
import zmq

from scapyrpc.wire import frames
from scapyrpc.worker import rpc

from conftest import GUI_HANDLER, ServerProcess, zmq_socket


def handled(request: bytes | dict) -> rpc.Reply:
    return rpc.handle(request if isinstance(request, bytes) else orjson.dumps(request))


def call(method: str, *params: object, request_id: object = 1) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}


@pytest.mark.parametrize(
    "request_, method, code",
    [
        (call("get_version"), "get_version", 0),
        (call("build_pkt", GUI_HANDLER, [{"id": "Ehter"}]), "build_pkt", -32098),
        (call("build_pkt", GUI_HANDLER, "not a model", 1, 2), "build_pkt", -32603),
        (call("get_tree", "not the handler"), "get_tree", -32098),
        (call("no_such_method"), "unknown", -32601),
        (call("a" * 10_000), "unknown", -32601),  # the client's text never becomes a label
        (b"{not json", "invalid", -32700),
        ({"jsonrpc": "2.0", "id": 1, "method": 7}, "invalid", -32600),
        (b"[" * 100_000, "invalid", -32098),
    ],
    ids=["ok", "scapy error", "params", "wrong handler", "unknown", "long name", "parse", "invalid", "deep"],
)
def test_the_reply_names_its_method_and_code(request_: bytes | dict, method: str, code: int) -> None:
    reply = handled(request_)
    assert (reply.method, reply.code) == (method, code)
    body = orjson.loads(reply.body)
    assert body.get("error", {}).get("code", 0) == code


def test_the_note_travels_in_the_reply_frame() -> None:
    class Frame:  # what the broker reads: a zmq.Frame's bytes or buffer
        def __init__(self, data: bytes) -> None:
            self.bytes, self.buffer = data, memoryview(data)

        def __len__(self) -> int:
            return len(self.bytes)

    request = frames.request(77, b"{}")
    for body in (b'{"result":1}', b"x" * 100_000):  # small replies are copied, large ones viewed
        frame = frames.reply(frames.RETIRE, request, frames.note("build_pkt", -32098), body)
        kind, tag, note, rest = frames.split_reply(Frame(frame))
        assert (kind, tag, note, bytes(rest)) == (frames.RETIRE, 77, b"build_pkt -32098", body)
    assert frames.note("get_version", 0) == b"\x0eget_version ok"


def test_an_unexpected_error_is_logged_once_with_its_request_id(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from scapyrpc.worker import test_methods

    monkeypatch.setitem(rpc._METHODS, "test_raise", rpc._wrap(test_methods.test_raise))
    with caplog.at_level(logging.ERROR):
        reply = handled(call("test_raise", "BaseException", request_id="req-42"))
    assert (reply.method, reply.code) == ("test_raise", -32096)
    assert [r.getMessage() for r in caplog.records] == ['unexpected error in test_raise, request id "req-42"']
    assert caplog.records[0].exc_info[0] is test_methods.UnusualExit  # the method's own traceback
    assert "Traceback" not in orjson.loads(reply.body)["error"]["message"]


def test_a_worker_of_another_frame_layout_gets_no_work() -> None:
    """A worker that says READY without the protocol version (an older scapyrpc) is named in the log once
    and never handed a request, so it cannot misread a reply frame."""
    srv = ServerProcess("--backend", "tcp://127.0.0.1:*", "--request-timeout", "1", workers=0)
    old = zmq_socket(zmq.DEALER, srv.backend)
    client = zmq_socket(zmq.REQ, srv.endpoint)
    try:
        old.send_multipart([frames.READY, b"4242", b"oldhost"])
        old.send_multipart([frames.READY, b"4242", b"oldhost"])
        client.send(orjson.dumps(call("get_version")))
        error = orjson.loads(client.recv())["error"]
        assert error["message"] == "Scapy Server: no worker became available within 1 s"
    finally:
        old.close()
        client.close()
        srv.stop()
    assert srv.stderr_text().count("worker 4242 oldhost speaks another frame layout") == 1
