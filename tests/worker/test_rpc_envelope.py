"""The envelope and error table (docs/api.md, "Envelope and errors", "Handshake and call shapes"), in
process (rpc.handle is bytes -> bytes)."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from scapyrpc.packets import service
from scapyrpc.wire import contract, jsonrpc
from scapyrpc.worker import rpc

from conftest import GUI_HANDLER


def call(payload: object) -> dict:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return orjson.loads(rpc.handle(raw).body)


def req(method: str, params: object = None, rid: object = "1") -> dict:
    message = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        message["params"] = params
    return call(message)


def test_handler_formula_matches_reference_values() -> None:
    assert contract.version_handler("1", "01") == "LKQXUsz029t22P6IxIj9RA=="
    assert contract.version_handler("1", "02") == GUI_HANDLER
    expected = base64.b64encode(hashlib.md5(b"7373").digest()).decode()
    assert req("get_version_handler", ["7", "3"])["result"] == expected


def test_get_version_without_params_key_echoes_string_id() -> None:
    reply = req("get_version", rid="abc")
    assert reply == {
        "jsonrpc": "2.0",
        "id": "abc",
        "result": {"version": "1.02", "built_by": f"scapyrpc {service.PACKAGE_VERSION}"},
    }


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00", b"", b'{"jsonrpc": "2.0", "id": 1,'])
def test_parse_error(raw: bytes) -> None:
    reply = call(raw)
    assert reply["error"] == {"code": -32700, "message": "Parse error"}
    assert reply["id"] is None


@pytest.mark.parametrize(
    "payload",
    [
        [{"jsonrpc": "2.0", "id": 1, "method": "get_version"}],
        [],
        "get_version",
        42,
        {"jsonrpc": "1.0", "id": 1, "method": "get_version"},
        {"id": 1, "method": "get_version"},
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": 1, "method": "get_version", "params": "x"},
        {"jsonrpc": "2.0", "id": [1], "method": "get_version"},
    ],
)
def test_invalid_request(payload: object) -> None:
    reply = call(payload)
    assert reply["error"] == {"code": -32600, "message": "Invalid Request"}


def test_invalid_request_keeps_a_valid_id() -> None:
    assert call({"jsonrpc": "1.0", "id": "7", "method": "x"})["id"] == "7"


def test_method_not_found_exact_text() -> None:
    reply = req("no_such_method", [GUI_HANDLER])
    assert reply["error"] == {"code": -32601, "message": "Method not found"}
    assert reply["id"] == "1"


def test_wrong_param_count_is_32603() -> None:
    reply = req("get_version_handler", ["1"])
    assert reply["error"] == {"code": -32603, "message": "Invalid params"}
    reply = req("build_pkt", [GUI_HANDLER, [], [], []])
    assert reply["error"]["code"] == -32603


def test_scapy_error_names_the_protocol() -> None:
    reply = req("build_pkt", [GUI_HANDLER, [{"id": "Ehter"}]])
    assert reply["error"]["code"] == -32098
    assert reply["error"]["message"].startswith("Scapy Server: ")
    assert "Ehter" in reply["error"]["message"]


def test_wrong_handler_is_rejected_with_version() -> None:
    reply = req("build_pkt", ["not-a-handler", [{"id": "Ether"}]])
    assert reply["error"]["code"] == -32098
    assert "1.02" in reply["error"]["message"] and "update" in reply["error"]["message"]


def test_both_call_shapes_and_old_handler() -> None:
    model = [{"id": "Ether"}, {"id": "IP"}]
    gui = req("build_pkt", [GUI_HANDLER, model])["result"]
    seed = req("build_pkt", [model])["result"]
    old = req("build_pkt", ["LKQXUsz029t22P6IxIj9RA==", model])["result"]
    assert gui["binary"] == seed["binary"] == old["binary"]


def test_request_without_id_is_answered_with_null_id() -> None:
    reply = call({"jsonrpc": "2.0", "method": "get_version"})
    assert reply["id"] is None and reply["result"]["version"] == "1.02"


def test_named_params_extension() -> None:
    reply = req("get_version_handler", {"client_v_major": "1", "client_v_minor": "02"})
    assert reply["result"] == GUI_HANDLER


def test_supported_methods() -> None:
    everything = req("supported_methods", ["all"])["result"]
    assert everything["build_pkt"] == [1, ["pkt_model_descriptor"]]
    assert everything["get_version"] == [0, []]
    assert req("supported_methods", ["build_pkt"])["result"] is True
    assert req("supported_methods", ["_private"])["result"] is False


def test_shut_down_reply_flags_the_stop() -> None:
    reply = rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "9", "method": "shut_down"}))
    assert reply.shutdown
    assert orjson.loads(reply.body)["result"]
    assert not rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "9", "method": "get_version"})).shutdown


def test_unexpected_exception_becomes_32096_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise KeyError("internal detail")

    monkeypatch.setitem(rpc._METHODS, "get_tree", rpc._wrap(boom))
    reply = req("get_tree", [GUI_HANDLER])
    assert reply["error"] == {"code": -32096, "message": "Scapy Server: Unknown Error"}


PAST_PARSING = b'"' + b"x" * jsonrpc.PEEK_PARSE_BYTES + b'"'  # makes a request too large to be parsed for its id


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"jsonrpc":"2.0","id":"x\\"y","method":"m"}', 'x"y'),
        (b'{"id": 17, "method":"m"}', 17),
        (b"garbage", None),
        # the request's own id, never one from its params, wherever the members are
        (b'{"jsonrpc":"2.0","method":"build_pkt","params":["h",[{"id":"IP"}]],"id":5}', 5),
        (b'{"params":[{"id":"IP"}],"id":"last","jsonrpc":"2.0"}', "last"),
        (b'{"jsonrpc":"2.0","method":"build_pkt","params":[[{"id":"IP"}]]}', None),
        # numbers as written: exponents, and integers past 64 bits exactly
        (b'{"jsonrpc":"2.0","id":1e+16,"method":"m"}', 1e16),
        (b'{"params":[1],"id":18446744073709551617}', 2**64 + 1),
        (b'{"id":9.5e+18,"params":[1]}', 9.5e18),
        # what is not an id is answered with null, as the worker would
        (b'{"id":true,"method":"m"}', None),
        (b'{"id":[1],"method":"m"}', None),
        (b'{"id":"\\ud800","method":"m"}', None),
        (b'[{"id":1}]', None),
        # too large to be parsed: found before or after every array and object member
        (b'{"jsonrpc":"2.0","id":"1","method":"build_pkt","params":["h",[{"id":"IP"}],' + PAST_PARSING + b"]}", "1"),
        (
            b'{"jsonrpc": "2.0", "method": "build_pkt", "params": ["h", [{"id": "IP"}], '
            + PAST_PARSING
            + b'], "id": 7}',
            7,
        ),
        (b'{"params":[' + PAST_PARSING + b'],"id":18446744073709551617,"jsonrpc":"2.0"}', 2**64 + 1),
        (b'{"method":"m","params":[{"id":"IP"},' + PAST_PARSING + b'],"x":{"id":3}}', None),
        (b'{"params":[' + PAST_PARSING + b', "a,\\"id\\":5}"]}', None),
        (b'{"params":[' + PAST_PARSING + b'],"id":1e999}', None),
        (b'{"a":' + PAST_PARSING + b',"params":[{"id":1}],"b":' + PAST_PARSING + b"}", None),
        # the worst cases for the patterns (benchmarks/README.md: under 0.5 ms)
        (b"[" + b',"id":1 ' * 12_000, None),
        (b'{"a":' + b"1" * 80_000, None),
        (b"{" + b'"a":1, ' * 12_000, None),
    ],
)
def test_peek_id_for_broker_made_replies(body: bytes, expected: object) -> None:
    got = jsonrpc.peek_id(body)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"method":"build_pkt"}', "build_pkt"),
        (b"\xff", "request"),
        (b'[{"method":"m"}]', "request"),
        (b'{"method":5}', "request"),
        (b'{"jsonrpc":"2.0","id":"1","method":"shut_down","params":[' + PAST_PARSING + b"]}", "shut_down"),
        (b'{"params":[' + PAST_PARSING + b'],"id":1,"method":"build_pkt"}', "build_pkt"),
        # never a method from inside params, and nothing that is not a string
        (b'{"params":[{"method":"shut_down"},' + PAST_PARSING + b"]}", "request"),
        (b'{"id":1,"params":[' + PAST_PARSING + b', "a,\\"method\\":\\"shut_down\\"}"]}', "request"),
        (b'{"method":"\\ud800","params":[' + PAST_PARSING + b"]}", "request"),
        (b'{"a":' + b"1" * 80_000, "request"),
    ],
)
def test_peek_method_for_broker_made_replies(body: bytes, expected: str) -> None:
    assert jsonrpc.peek_method(body) == expected


def test_peek_method_never_parses_a_large_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker names the method of a deadline's or a lost worker's request, and reads a
    request that names shut_down: a hostile 16 MiB one must not stall its loop in a parser."""

    def refuse(body: bytes) -> None:
        raise AssertionError(f"parsed {len(body)} bytes")

    monkeypatch.setattr(jsonrpc.orjson, "loads", refuse)
    body = b'{"jsonrpc":"2.0","id":1,"method":"shut_down","params":["' + b"x" * (16 * 2**20) + b'"]}'
    assert jsonrpc.peek_method(body) == "shut_down"
    assert jsonrpc.peek_id(body) == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc":"2.0","id":1,"method":"shut_down"}',
        b'{"jsonrpc":"2.0","id":1,"method":"shut\\u005fdown"}',
        b'{"jsonrpc":"2.0","id":1,"method":"\\u0073hut_down","params":[]}',
    ],
)
def test_shut_down_from_a_remote_peer_is_refused_however_it_is_spelled(body: bytes) -> None:
    refused = rpc.handle(body, remote=True)
    assert not refused.shutdown
    assert orjson.loads(refused.body) == {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32098, "message": "Scapy Server: shut_down is only accepted from this host"},
    }
    assert (refused.method, refused.code) == ("shut_down", -32098)
    honoured = rpc.handle(body)
    assert honoured.shutdown and "result" in orjson.loads(honoured.body)


def test_broker_side_never_imports_scapy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, scapyrpc.server, scapyrpc.broker, scapyrpc.pool; "
        "print(sorted(m for m in sys.modules if m == 'scapy' or m.startswith('scapy.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_integers_past_64_bits_in_params_are_read_exactly() -> None:
    """BGP's 128-bit marker, sent back as the value the server gave: orjson would read it as a float."""
    model = [
        {"id": "Ether"},
        {"id": "IP"},
        {"id": "TCP"},
        {"id": "BGPHeader", "fields": [{"id": "marker", "value": 2**128 - 2}]},
    ]
    import json

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "build_pkt", "params": [GUI_HANDLER, model]}).encode()
    reply = json.loads(rpc.handle(body).body)
    marker = next(f for f in reply["result"]["data"][-1]["fields"] if f["id"] == "marker")
    assert marker["value"] == 2**128 - 2


def test_integers_past_64_bits_are_still_answered_as_json() -> None:
    import json

    model = [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}, {"id": "BGPHeader"}]
    body = rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "build_pkt", "params": [GUI_HANDLER, model]}))
    reply = json.loads(body.body)  # the standard library keeps big integers exact
    marker = next(f for f in reply["result"]["data"][-1]["fields"] if f["id"] == "marker")
    assert marker["value"] == 2**128 - 1


def test_the_handlerless_methods_are_methods_the_client_calls_without_a_handler() -> None:
    from scapyrpc import client

    assert client.HANDLERLESS is contract.HANDLERLESS and set(service.METHODS) >= contract.HANDLERLESS
