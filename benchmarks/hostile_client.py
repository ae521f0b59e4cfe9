"""A hostile client for the soak: bad requests back to back, each reply checked.

One plain REQ socket, like the GUI's, sending requests no GUI would send: malformed
JSON, invalid UTF-8 and lone surrogates, requests past the size limit, JSON nested
far too deep, a wrong version handler, bad packet models and expressions, batches,
unknown methods, wrong parameter counts. Each kind has the one reply the contract
(docs/api.md) gives it; a reply made by the broker for a worker that was killed or too
slow (`worker lost`, `deadline`, `busy`) is accepted for any kind, as for a GUI
client. Everything else — no reply within the timeout, a reply that is not a
JSON-RPC 2.0 response, a wrong id, another code, -32096 — is counted as unexpected.
"""

from __future__ import annotations

import random
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import zmq

BROKER_MADE = (
    "Scapy Server: worker lost while handling",
    "Scapy Server: request deadline of",
    "Scapy Server: server busy",
    "Scapy Server: no worker became available",
)
PARSE_ERROR = (-32700, "Parse error")
INVALID_REQUEST = (-32600, "Invalid Request")
TOO_DEEP = (-32098, "Scapy Server: request is nested too deeply to be read")


@dataclass(frozen=True)
class Hostile:
    """One hostile request and what the contract answers it: (code, start of the message), and the id."""

    kind: str
    body: bytes
    code: int
    message: str
    reply_id: Any = None


def _request(request_id: Any, method: str, params: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def hostile_requests(handler: str, max_request_bytes: int, seed: int = 1) -> list[Hostile]:
    """The requests the client cycles through (`handler`: a valid version handler)."""
    rng = random.Random(seed)

    def build(rid: int, model: Any) -> bytes:
        return _request(rid, "build_pkt", [handler, model])

    def expression(rid: int, text: str) -> bytes:
        return build(rid, [{"id": "IP", "fields": [{"id": "options", "value": {"vtype": "EXPRESSION", "expr": text}}]}])

    deep = b"[" * 3000 + b"]" * 3000
    bad = "Scapy Server: "
    return [
        Hostile("malformed JSON", b'{"jsonrpc":"2.0","id":"m","method":"build_pkt","params":[', *PARSE_ERROR),
        Hostile("malformed JSON", b"{]", *PARSE_ERROR),
        Hostile("malformed JSON", b"", *PARSE_ERROR),
        Hostile("malformed JSON", bytes(rng.randrange(256) for _ in range(200)), *PARSE_ERROR),
        Hostile("invalid Unicode", b'{"jsonrpc":"2.0","id":"\xff","method":"get_version"}', *PARSE_ERROR),
        Hostile("invalid Unicode", b'{"jsonrpc":"2.0","id":"\\ud800","method":"get_version"}', *PARSE_ERROR),
        Hostile(
            "oversized",
            _request("big", "build_pkt", [handler, [{"id": "Raw"}], "x" * (max_request_bytes + 1024)]),
            -32098,
            f"{bad}request of ",
            "big",
        ),
        Hostile("deep nesting", b'{"jsonrpc":"2.0","id":"d","method":"build_pkt","params":' + deep + b"}", *TOO_DEEP),
        Hostile(
            "deep nesting",
            b'{"jsonrpc":"2.0","id":"o","method":"build_pkt","params":[' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"]}",
            *TOO_DEEP,
        ),
        Hostile(
            "wrong handler",
            _request("h", "build_pkt", ["not-a-handler", [{"id": "IP"}]]),
            -32098,
            f"{bad}Provided version handler does not correspond",
            "h",
        ),
        Hostile("bad model", build(1, [{"id": "Ehter"}]), -32098, f"{bad}unknown protocol 'Ehter'", 1),
        Hostile(
            "bad model",
            build(2, [{"id": "IP", "fields": [{"id": "foo", "value": 1}]}]),
            -32098,
            f"{bad}field 'foo' not in layer IP",
            2,
        ),
        Hostile(
            "bad model",
            build(3, [{"id": "IP", "fields": [{"id": "ttl", "value": "abc"}]}]),
            -32098,
            f"{bad}bad value 'abc' for IP.ttl",
            3,
        ),
        Hostile("bad model", build(4, {"id": "IP"}), -32098, f"{bad}packet model must be a non-empty list", 4),
        Hostile(
            "bad model",
            build(
                5,
                [
                    {
                        "id": "Raw",
                        "fields": [
                            {"id": "load", "value": {"vtype": "BYTES", "generate": "random_bytes", "size": 2**21}}
                        ],
                    }
                ],
            ),
            -32098,
            f"{bad}BYTES size 2097152 is too large",
            5,
        ),
        Hostile("bad expression", expression(6, "[IPOption_RR(("), -32097, "Syntax Error", 6),
        Hostile("bad expression", expression(7, "[" + "0," * 40_000 + "]"), -32098, f"{bad}expression: too long", 7),
        Hostile("bad expression", expression(8, "[" * 60 + "]" * 60), -32098, f"{bad}expression: nested too deeply", 8),
        Hostile(
            "bad expression",
            expression(9, "__import__('os').system('true')"),
            -32098,
            f"{bad}expression: attribute access is not allowed",
            9,
        ),
        Hostile("not a request", b"[1, 2]", *INVALID_REQUEST),
        Hostile("not a request", b'{"jsonrpc":"1.0","id":"v","method":"get_version"}', *INVALID_REQUEST, "v"),
        Hostile("unknown method", _request("u", "build_pkt2", [handler]), -32601, "Method not found", "u"),
        Hostile("wrong params", _request("p", "get_version_handler", [1]), -32603, "Invalid params", "p"),
    ]


@dataclass
class HostileResult:
    sent: int = 0
    received: int = 0
    latencies: array = field(default_factory=lambda: array("d"))
    kinds: Counter = field(default_factory=Counter)  # sent, per kind
    broker_made: Counter = field(default_factory=Counter)  # worker lost, deadline... (any kind may get one)
    unexpected: Counter = field(default_factory=Counter)  # what should not have happened, with an example


def check(request: Hostile, reply: bytes) -> str:
    """'' if `reply` is what the contract gives `request`; 'broker: ...' for a broker-made error; else why not."""
    try:
        message = orjson.loads(reply)
    except orjson.JSONDecodeError:
        return "reply is not JSON"
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or "id" not in message:
        return "reply is not a JSON-RPC 2.0 response"
    error = message.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return f"{request.kind}: no error in the reply"
    text = error["message"]
    if error.get("code") == -32098 and text.startswith(BROKER_MADE):
        return "broker: " + text.removeprefix("Scapy Server: ").split(" while ")[0].split(" of ")[0]
    if error.get("code") != request.code or not text.startswith(request.message):
        return f"{request.kind}: {error.get('code')} {text[:80]}"
    if message["id"] != request.reply_id:
        return f"{request.kind}: id {message['id']!r} instead of {request.reply_id!r}"
    return ""


class HostileClient(threading.Thread):
    """Sends `requests` in a seeded random order, back to back, until `stop` is set."""

    def __init__(
        self,
        endpoint: str,
        requests: list[Hostile],
        timeout_ms: int,
        seed: int = 1,
        weights: Callable[[Hostile], int] = lambda r: 1,
    ) -> None:
        super().__init__(daemon=True)
        self.endpoint, self.timeout_ms = endpoint, timeout_ms
        self.requests = requests
        self.order = random.Random(seed)
        self.weights = [weights(r) for r in requests]
        self.stop = threading.Event()
        self.result = HostileResult()

    def run(self) -> None:
        ctx = zmq.Context()
        sock = self._socket(ctx)
        result = self.result
        try:
            while not self.stop.is_set():
                request = self.order.choices(self.requests, self.weights)[0]
                result.sent += 1
                result.kinds[request.kind] += 1
                started = time.perf_counter()
                sock.send(request.body)
                try:
                    reply = sock.recv()
                except zmq.Again:  # a lost reply: the REQ socket is wedged, rebuild it as the GUI does
                    result.unexpected["no reply (client timeout)"] += 1
                    sock.close(linger=0)
                    sock = self._socket(ctx)
                    continue
                result.latencies.append(time.perf_counter() - started)
                result.received += 1
                verdict = check(request, reply)
                if verdict.startswith("broker: "):
                    result.broker_made[verdict.removeprefix("broker: ")] += 1
                elif verdict:
                    result.unexpected[verdict] += 1
        finally:
            sock.close(linger=0)
            ctx.term()

    def _socket(self, ctx: zmq.Context) -> zmq.Socket:
        sock = ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)
        sock.connect(self.endpoint)
        return sock
