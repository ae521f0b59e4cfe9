"""Fuzzing over the wire (issue 11, item 6): hostile requests against a real server.

Every generated request (tests/hostile_requests.py) goes to one server with two
workers, from one DEALER socket that tags each message with its own envelope
frame, so a reply is matched to its request and a second reply would be seen.
For each one:
- exactly one reply comes back, with the request's envelope frames, unless the
  message has more frames than the broker takes (then none: the next request is
  answered first);
- the reply is a well-formed JSON-RPC 2.0 response (strict JSON, valid UTF-8,
  `jsonrpc`, `id`, and `result` or an `error` with an integer code and a text);
- it echoes the request's id when the request had a valid one, and otherwise has
  id null (the broker's reply to a request too large for it to parse may have null
  too, never another id: replies.peek_id); its code is the one the contract gives for
  what was wrong (parse error, invalid request, unknown method, too large, nested too
  deeply), and never -32096;
- afterwards the same two workers serve, the server lives, and nothing new in its
  stderr is a traceback.
No reason is listed under which -32096, a traceback or a new worker would be
accepted: none was met. The count of requests sent is printed in the pytest summary.

The server takes requests up to LIMIT bytes so that oversized ones are cheap to make.
Example counts come from the hypothesis profile (tests/hypothesis_profiles.py):
`--hypothesis-profile nightly` runs ten times as many.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

import orjson
import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scapyrpc.packets import service
from scapyrpc.wire import contract
from scapyrpc.wire.jsonrpc import PEEK_PARSE_BYTES

import hostile_requests as hostile
from conftest import WIRE_FUZZ, ServerProcess, wait_for, zmq_socket

LIMIT = 32 * 1024  # --max-request-bytes of the fuzz server: below PEEK_PARSE_BYTES, so most refused ones are parsed
REPLY_TIMEOUT_MS = 30_000  # the request deadline (10 s) and then some: a reply that takes longer is lost
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

PARSE_ERROR = {"code": -32700, "message": "Parse error"}
INVALID_REQUEST = {"code": -32600, "message": "Invalid Request"}
METHOD_NOT_FOUND = {"code": -32601, "message": "Method not found"}
TOO_DEEP = {"code": -32098, "message": "Scapy Server: request is nested too deeply to be read"}
TOO_LARGE = re.compile(rf"Scapy Server: request of \d+ bytes exceeds the limit of {LIMIT} bytes")
CODES = {-32700, -32600, -32601, -32603, -32097, -32098}  # -32096 is not among them
DEEP = 900  # nesting past which this process's json module may give up before the server's parser does


# ---------------------------------------------------------------- what the contract says of one request

UNREADABLE = object()
MISSING = object()


def nesting(raw: bytes) -> int:
    """How deep the brackets of `raw` go, outside strings (for any bytes, JSON or not)."""
    brackets = re.sub(rb'"(?:[^"\\]|\\.)*"?', b"", raw).translate(None, delete=bytes(set(range(256)) - set(b"[]{}")))
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)


def read_request(raw: bytes) -> Any:
    """The JSON value of `raw` as the contract reads it (UTF-8, no NaN or Infinity, no lone
    surrogate), or UNREADABLE."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except (ValueError, RecursionError):
        return UNREADABLE
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate in any string or key
    except UnicodeEncodeError:
        return UNREADABLE
    return value


def _not_json(name: str) -> Any:
    raise ValueError(name)


def valid_id(request: Any) -> Any:
    """The id a reply must echo, or MISSING when the request has none a reply can carry."""
    if not isinstance(request, dict) or "id" not in request:
        return MISSING
    rid = request["id"]
    if rid is None or isinstance(rid, bool) or not isinstance(rid, (str, int, float)):
        return MISSING
    return rid if not isinstance(rid, float) or math.isfinite(rid) else MISSING


def check_reply(raw: bytes, reply: bytes, size: int) -> dict:
    """Assert what the contract says of `reply` to request `raw` (`size`: every byte of the message)."""
    text = reply.decode("utf-8")  # valid UTF-8
    message = json.loads(text, parse_constant=_not_json)  # strict JSON
    assert isinstance(message, dict) and message.get("jsonrpc") == "2.0", message
    assert set(message) in ({"jsonrpc", "id", "result"}, {"jsonrpc", "id", "error"}), message
    error = message.get("error")
    if error is not None:
        assert isinstance(error, dict) and set(error) <= {"code", "message", "data"}, error
        assert type(error["code"]) is int and isinstance(error["message"], str), error
        assert error["code"] in CODES, f"{error} for {raw[:300]!r}"
    if error is not None and TOO_LARGE.fullmatch(error["message"]):
        assert size > LIMIT - 64, message  # the routing id and frames of the envelope count too
        _check_peeked_id(raw, message["id"])
        return message
    assert size < LIMIT + 64, message
    if nesting(raw) > DEEP:
        _check_deep(raw, message)
        return message
    request = read_request(raw)
    if request is UNREADABLE:
        assert error == PARSE_ERROR and message["id"] is None, message
        return message
    if not isinstance(request, dict):
        assert error == INVALID_REQUEST and message["id"] is None, message
        return message
    rid = valid_id(request)
    if rid is MISSING and request.get("id") is not None:  # an id no reply could carry
        assert error == INVALID_REQUEST and message["id"] is None, message
        return message
    assert _same_id(message["id"], None if rid is MISSING else rid), (message, rid)
    if (
        request.get("jsonrpc") != "2.0"
        or not isinstance(request.get("method"), str)
        or not isinstance(request.get("params", []), (list, dict))
    ):
        assert error == INVALID_REQUEST, message
    elif request["method"] not in service.METHODS:
        assert error == METHOD_NOT_FOUND, message
    return message


def flattened(raw: bytes) -> bytes:
    """`raw` with each array or object inside the outermost one replaced by 0, so that the members
    of a request nested past any parser's depth can be read."""
    out, depth = [], 0
    for token in re.finditer(rb'"(?:[^"\\]|\\.)*"|[^"\[\]{}]+|.', raw, re.DOTALL):
        text = token.group()
        if text in (b"[", b"{"):
            out.append(text if depth == 0 else b"0" if depth == 1 else b"")
            depth += 1
        elif text in (b"]", b"}"):
            depth -= 1
            out.append(text if depth == 0 else b"")
        elif depth <= 1:
            out.append(text)
    return b"".join(out)


def _check_peeked_id(raw: bytes, got: Any) -> None:
    """The broker's reply to a request it did not read (too large): the request's id, peeked at.
    It may be null where the broker does not parse the request (too deep, too large to parse:
    replies.peek_id), but it is never another id than the request's."""
    deep = nesting(raw) > DEEP
    request = read_request(flattened(raw) if deep else raw)
    if request is UNREADABLE:
        assert got is None or valid_id({"id": got}) is not MISSING, got
        return
    rid = valid_id(request)
    if not (got is None and (deep or len(raw) > PEEK_PARSE_BYTES)):
        assert _same_id(got, None if rid is MISSING else rid), (got, rid)


def _check_deep(raw: bytes, message: dict) -> None:
    """Past the nesting this process reads: the server's parser either refused it, or read it
    (then orjson reads the same id here)."""
    error = message.get("error")
    if error in (TOO_DEEP, PARSE_ERROR):
        assert message["id"] is None, message
        return
    try:
        request = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pytest.fail(f"a request no parser reads was answered {message}")
    rid = valid_id(request)
    assert _same_id(message["id"], None if rid is MISSING else rid), message


def _same_id(got: Any, expected: Any) -> bool:
    return type(got) is type(expected) and got == expected


# ---------------------------------------------------------------- the client


class Wire:
    """A DEALER client of the fuzz server that checks every exchange and the pool after it."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.sock = zmq_socket(zmq.DEALER, server.endpoint, REPLY_TIMEOUT_MS)
        self.workers = sorted(server.worker_pids())
        self.seq = 0
        self.sent = 0  # generated requests (not the sentinels sent after dropped messages)
        self.dropped = 0  # of which had too many frames to be answered
        self.elapsed = 0.0
        self._stderr_seen = len(server.stderr_text())

    def send(self, body: bytes, envelope: tuple[bytes, ...] = (b"",)) -> None:
        """Send one generated request, check its reply (or its absence), then the pool."""
        started = time.monotonic()
        self.sent += 1
        tag = self._next_tag()
        frames = [tag, *envelope, body]
        self.sock.send_multipart(frames)
        if 1 + len(frames) > hostile.MAX_FRAMES:  # the routing id the broker adds counts too
            self.dropped += 1
            self.sentinel()
        else:
            reply = self._receive(tag)
            assert reply[:-1] == [tag, *envelope]
            check_reply(body, reply[-1], sum(map(len, frames)) + 5)
        self.check_pool()
        self.elapsed += time.monotonic() - started

    def sentinel(self) -> None:
        """A get_version whose reply must be the next message: nothing answered what came before."""
        tag = self._next_tag()
        self.sock.send_multipart([tag, b"", b'{"jsonrpc":"2.0","id":"s","method":"get_version"}'])
        reply = self._receive(tag)
        assert orjson.loads(reply[-1])["result"]["version"] == contract.API_VERSION

    def _next_tag(self) -> bytes:
        self.seq += 1
        return b"#%d" % self.seq

    def _receive(self, tag: bytes) -> list[bytes]:
        try:
            reply = self.sock.recv_multipart()
        except zmq.Again:
            pytest.fail(f"no reply within {REPLY_TIMEOUT_MS / 1000:g} s")
        assert reply[0] == tag, f"a reply to {reply[0]!r} came while waiting for {tag!r}: a second or late reply"
        return reply

    def check_pool(self) -> None:
        """The server lives, with the same workers, and wrote no traceback. A failure is blamed on
        the request just sent: the pool is taken as it is now for the next one (so that shrinking
        finds the request that did it)."""
        assert self.server.proc.poll() is None, "the server exited"
        stderr = self.server.stderr_text()
        new, self._stderr_seen = stderr[self._stderr_seen :], len(stderr)
        workers = sorted(self.server.worker_pids())
        if workers != self.workers:
            wait_for(lambda: len(self.server.worker_pids()) == len(self.workers), 30)
            self.workers = sorted(self.server.worker_pids())
            pytest.fail(f"worker(s) replaced: {new[-3000:]}")
        assert "Traceback" not in new, new[-3000:]

    def quiet(self, seconds: float) -> None:
        """Nothing else arrives (no late or second reply)."""
        assert not self.sock.poll(int(seconds * 1000)), self.sock.recv_multipart()


@pytest.fixture(scope="module")
def wire(request: pytest.FixtureRequest) -> Iterator[Wire]:
    srv = ServerProcess("--max-request-bytes", str(LIMIT), workers=2)
    client = Wire(srv)
    try:
        yield client
        client.quiet(1.0)
        client.check_pool()
    finally:
        client.sock.close()
        tally = request.config.stash.setdefault(WIRE_FUZZ, {"sent": 0, "dropped": 0, "seconds": 0.0})
        tally["sent"] += client.sent
        tally["dropped"] += client.dropped
        tally["seconds"] += client.elapsed
        srv.stop()


# ---------------------------------------------------------------- the generators

GENERATORS = {
    "random bytes": hostile.RAW_BODIES,
    "JSON values": st.builds(hostile.dumps, hostile.ANY_JSON, st.booleans()),
    "envelopes": hostile.envelopes(),
    "packet models": hostile.packet_requests(),
    "field-engine programs": hostile.field_engine_requests(),
    "pcap files": hostile.pcap_requests(),
    "deep nesting and invalid Unicode": hostile.deep_requests() | hostile.broken_text_requests(),
}


@pytest.mark.parametrize("generator", GENERATORS)
@FUZZ
@given(data=st.data())
def test_one_well_formed_reply_each(wire: Wire, generator: str, data: st.DataObject) -> None:
    wire.send(data.draw(GENERATORS[generator], label="request"))


@FUZZ
@given(st.lists(st.binary(max_size=12), max_size=hostile.MAX_FRAMES), st.one_of(*GENERATORS.values()))
def test_random_frames(wire: Wire, envelope: list[bytes], body: bytes) -> None:
    """Multipart messages from a DEALER: empty frames, and frame counts up to and past the cap."""
    wire.send(body, tuple(envelope))


@FUZZ
@given(
    hostile.envelopes(),
    st.integers(-64, 4096) | st.sampled_from([PEEK_PARSE_BYTES, 2 * PEEK_PARSE_BYTES]),
    st.booleans(),
)
def test_oversized_requests(wire: Wire, body: bytes, beyond: int, first: bool) -> None:
    """A request padded to around the size limit, the padding before or after the id."""
    size = max(1, LIMIT - len(body) + beyond)
    pad = b'"pad":"' + b"x" * size + b'"'
    inner = body[1:-1]
    wire.send(b"{" + (pad + b"," + inner if first else inner + b"," + pad) + b"}" if inner else b"{" + pad + b"}")
