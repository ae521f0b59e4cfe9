"""Closed-loop load: N client processes, each a plain ZMQ REQ socket sending back to back.

Clients are started with the 'spawn' context (never fork a process that holds
a zmq context), do the GUI handshake and a few untimed warm-up requests, wait
at a common barrier, then send prepared frames until the window closes or
their share of `--requests` is done. Each reports its latencies (an array of
floats), its error kinds and its CPU time back to the parent.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

import orjson

from scapyrpc.wire import contract

__all__ = [
    "TIMEOUT_KIND",
    "BenchError",
    "ClientResult",
    "Plan",
    "RunResult",
    "classify",
    "connect",
    "run_clients",
    "timed_loop",
]

HANDSHAKE_TIMEOUT_MS = 5000
BIG_REPLY = 64 * 1024  # error replies are small: a bigger reply is a result, not parsed
TIMEOUT_KIND = "no reply (client timeout)"


class BenchError(Exception):
    """A problem reported as a message and an exit code, never a traceback.

    Code 2 (the default) is a user error: endpoint unreachable, not a Scapy Server.
    """

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Plan:
    """What every client of one run does."""

    endpoint: str
    frames: list[bytes]
    duration: float = 5.0  # seconds of timed window, used when requests == 0
    requests: int = 0  # total requests over all clients (0: run for `duration`)
    warmup: int = 20  # untimed requests per client before the barrier
    timeout_ms: int = 15000  # receive timeout; a timeout counts as a lost reply
    check_field_engine: bool = False
    curve: tuple[bytes, bytes, bytes] | None = None  # (server's public key, ours, our secret)


@dataclass
class ClientResult:
    """What one client (or the in-process loop) measured in the timed window."""

    sent: int = 0
    received: int = 0
    latencies: array[float] = field(default_factory=lambda: array("d"))
    errors: Counter[str] = field(default_factory=Counter)
    fe_errors: Counter[str] = field(default_factory=Counter)
    start: float = 0.0
    end: float = 0.0
    cpu: float = 0.0
    failure: str = ""  # set when the client could not run at all


# ---- reply classification ------------------------------------------------------------------


def error_kind(message: str) -> str:
    """A short, stable name for an error message (ids and numbers vary, the kind does not)."""
    text = message.removeprefix("Scapy Server: ")
    return text if len(text) <= 80 else text[:77] + "..."


def classify(reply: bytes, request_id: bytes, check_fe: bool) -> tuple[str, str]:
    """('', '') for a good reply, else (rpc error kind, '') or ('', field-engine error)."""
    if len(reply) > BIG_REPLY and not check_fe:
        return "", ""
    try:
        obj = orjson.loads(reply)
    except orjson.JSONDecodeError:
        return "reply is not JSON", ""
    if not isinstance(obj, dict):
        return "reply is not an object", ""
    err = obj.get("error")
    if err is not None:
        message = err.get("message", "") if isinstance(err, dict) else str(err)
        return error_kind(f"{message}"), ""
    if "result" not in obj:
        return "reply without result or error", ""
    if orjson.dumps(obj.get("id")) != request_id:
        return "reply id does not match the request", ""
    if check_fe:
        result = obj["result"]
        fe = result.get("field_engine") if isinstance(result, dict) else None
        fe_error = fe.get("error") if isinstance(fe, dict) else "no field_engine in result"
        if fe_error:
            return "", error_kind(str(fe_error))
    return "", ""


def record(result: ClientResult, reply: bytes, request_id: bytes, check_fe: bool) -> None:
    """Count one reply as good, an RPC error, or a field-engine error."""
    kind, fe_kind = classify(reply, request_id, check_fe)
    if kind:
        result.errors[kind] += 1
    elif fe_kind:
        result.fe_errors[fe_kind] += 1


def request_ids(frames: list[bytes]) -> list[bytes]:
    """The JSON text of each frame's id, to compare with the reply without re-serialising."""
    return [orjson.dumps(orjson.loads(f).get("id")) for f in frames]


# ---- one client --------------------------------------------------------------------------------


def _socket(ctx: Any, endpoint: str, timeout_ms: int, curve: tuple[bytes, bytes, bytes] | None = None) -> Any:
    import zmq

    sock = ctx.socket(zmq.REQ)
    if curve is not None:
        sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = curve
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
    sock.setsockopt(zmq.SNDTIMEO, timeout_ms)
    try:
        sock.connect(endpoint)
    except zmq.ZMQError:
        sock.close(linger=0)  # an open socket would block Context.term() forever
        raise
    return sock


def handshake(sock: Any) -> str:
    """The GUI handshake: get_version (no params), then get_version_handler(major, minor)."""
    import zmq

    try:
        sock.send(contract.VERSION_REQUEST)
        major, minor = contract.split_version(orjson.loads(sock.recv())["result"]["version"])
        sock.send(contract.handler_request(major, minor))
        handler = orjson.loads(sock.recv())["result"]
    except zmq.Again:
        raise BenchError(
            "no answer to get_version within "
            f"{sock.getsockopt(zmq.RCVTIMEO) / 1000:g} s (is a Scapy Server running there?)"
        ) from None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise BenchError("the peer does not answer the Scapy Server handshake") from None
    if not isinstance(handler, str):
        raise BenchError("the peer returned a version handler that is not a string")
    return handler


def connect(
    endpoint: str, timeout_ms: int = HANDSHAKE_TIMEOUT_MS, curve: tuple[bytes, bytes, bytes] | None = None
) -> str:
    """Handshake once from the parent: checks the endpoint and returns the version handler."""
    import zmq

    ctx = zmq.Context()
    try:
        try:
            sock = _socket(ctx, endpoint, timeout_ms, curve)
        except zmq.ZMQError as exc:
            raise BenchError(f"invalid endpoint {endpoint!r}: {exc}") from None
        try:
            return handshake(sock)
        finally:
            sock.close(linger=0)
    finally:
        ctx.term()


def client_main(plan: Plan, share: int, barrier: Any, progress: Any, slot: int, out: Any) -> None:
    """Body of a client process: handshake, warm up, wait at the barrier, run, report."""
    import zmq

    result = ClientResult()
    ctx = zmq.Context()
    try:
        try:
            sock = _socket(ctx, plan.endpoint, HANDSHAKE_TIMEOUT_MS, plan.curve)
            handshake(sock)
            sock.setsockopt(zmq.RCVTIMEO, plan.timeout_ms)
            for k in range(plan.warmup):
                sock.send(plan.frames[(slot * 7 + k) % len(plan.frames)])
                sock.recv()
        except (BenchError, zmq.ZMQError) as exc:
            reason: Exception | str = exc
            if isinstance(exc, zmq.Again):
                reason = f"no reply within {plan.timeout_ms / 1000:g} s during warm-up"
            result.failure = f"client {slot}: {reason}"
            barrier.abort()  # releases everyone: the parent reports this failure
            return
        try:
            barrier.wait(60)
        except threading.BrokenBarrierError:
            return  # another client failed; it reports why
        timed_loop(_requester(sock, ctx, plan), plan, share, progress, slot, result)
    finally:
        out.put(result)
        ctx.destroy(linger=0)  # closes whichever socket is open


def timed_loop(
    call: Callable[[bytes], bytes | None], plan: Plan, share: int, progress: Any, slot: int, result: ClientResult
) -> None:
    """Call back to back until the window closes or `share` requests are done; fill `result`.

    `call(frame)` returns the reply, or None for a lost one (client timeout).
    """
    frames, ids, n = plan.frames, request_ids(plan.frames), len(plan.frames)
    lat = result.latencies
    clock = time.perf_counter
    cpu0 = time.process_time()
    result.start = start = clock()
    end_at = start + plan.duration if not share else float("inf")
    i = slot * 7 % n  # clients start at different frames
    while True:
        result.sent += 1
        t0 = clock()
        reply = call(frames[i])
        t1 = clock()
        if reply is None:
            result.errors[TIMEOUT_KIND] += 1
        else:
            result.received += 1
            lat.append(t1 - t0)
            record(result, reply, ids[i], plan.check_field_engine)
        progress[slot] = result.sent
        i = i + 1 if i + 1 < n else 0
        if t1 >= end_at or result.sent == share:
            break
    result.end = t1
    result.cpu = time.process_time() - cpu0


def _requester(sock: Any, ctx: Any, plan: Plan) -> Callable[[bytes], bytes | None]:
    """send + recv on a REQ socket; after a timeout the socket is wedged: rebuild it, as the GUI does."""
    import zmq

    current = [sock]

    def call(body: bytes) -> bytes | None:
        current[0].send(body)
        try:
            reply: bytes = current[0].recv()
            return reply
        except zmq.Again:
            current[0].close(linger=0)
            current[0] = _socket(ctx, plan.endpoint, plan.timeout_ms, plan.curve)
            return None

    return call


# ---- the run -----------------------------------------------------------------------------------


@dataclass
class RunResult:
    """All clients of one configuration, merged."""

    clients: int
    results: list[ClientResult]

    @property
    def wall(self) -> float:
        starts = [r.start for r in self.results if r.end]
        ends = [r.end for r in self.results if r.end]
        return max(ends) - min(starts) if starts else 0.0


def run_clients(plan: Plan, clients: int, on_progress: Callable[[int, float], None] | None = None) -> RunResult:
    """Start `clients` processes on `plan`, wait for them, and merge what they measured."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(clients + 1)
    progress = ctx.RawArray("q", clients)
    out = ctx.Queue()
    shares = [plan.requests // clients + (1 if k < plan.requests % clients else 0) for k in range(clients)]
    procs = [
        ctx.Process(target=client_main, args=(plan, shares[k], barrier, progress, k, out), daemon=True)
        for k in range(clients)
    ]
    for proc in procs:
        proc.start()
    try:
        try:
            barrier.wait(120)
        except threading.BrokenBarrierError:
            failures = _collect(out, procs, timeout=10)
            reason = next((r.failure for r in failures if r.failure), "clients did not start")
            raise BenchError(reason, 1) from None  # the endpoint answered the parent: a run failure
        started = time.monotonic()
        results: list[ClientResult] = []
        while len(results) < clients:
            results.extend(_drain(out))
            if on_progress:
                on_progress(sum(progress[:]), time.monotonic() - started)
            if len(results) < clients and not any(p.is_alive() for p in procs) and out.empty():
                raise BenchError("a client process died during the run", 1)
            time.sleep(0.1)
        return RunResult(clients, results)
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.kill()  # our own child, by its Process handle
                proc.join(1)


def _drain(out: Any) -> list[ClientResult]:
    import queue

    got = []
    while True:
        try:
            got.append(out.get_nowait())
        except queue.Empty:
            return got


def _collect(out: Any, procs: Sequence[BaseProcess], timeout: float) -> list[ClientResult]:
    end = time.monotonic() + timeout
    got: list[ClientResult] = []
    while len(got) < len(procs) and time.monotonic() < end:
        got.extend(_drain(out))
        time.sleep(0.05)
    return got
