"""Scenarios: what one client sees while others load the server (`python -m scapyrpc.bench -s NAME`).

Each scenario starts its own server (`--workers` workers, `--request-timeout 60` so that nothing
of the load is refused for its wait), loads it from other processes (spawned, never forked), and
measures one probe client, a plain REQ socket in this process:

- `busy_cached`: every worker busy with 5-second requests (`test_sleep`, the server gets
  `--test-methods`; one sleeper client per worker and one more, so a request also waits), while
  the probe asks, back to back, calls the broker answers itself (`get_version`, and
  `get_definitions` of one class, in the GUI's shape; asked once before the load starts).
- `flood`: four identities (DEALER sockets, four requests in flight each) send `read_pcap` of a
  3000-packet pcap; the probe sends one `build_pkt` every 100 ms once each identity has had an
  answer (the steady state: before, a flooder that never ran has had less worker time than the
  probe and goes first). One heavy request alone is timed first (three of them, the median): the
  yardstick of the probe's wait.
- `frame_bomb`: three peers each send one message of 1,000,000 empty frames (and a body), while
  the probe sends `build_pkt` back to back; the figures are over the probe's requests sent from
  the start of the first bomb until 1 s after the last one was sent (the broker drops the frames
  meanwhile). The bombers must get no answer.

Latencies are send to receive, percentiles nearest-rank, as in the closed-loop workloads.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from scapyrpc.bench import workloads
from scapyrpc.bench.loadgen import BenchError, classify, connect
from scapyrpc.bench.report import PERCENTILES, percentile
from scapyrpc.testing import ManagedServer

__all__ = ["DESCRIPTIONS", "SCENARIOS", "ScenarioResult", "render", "run", "to_json"]

SLEEP_SECONDS = 5.0  # busy_cached: how long each background request holds its worker
FLOOD_IDENTITIES = 4
FLOOD_IN_FLIGHT = 4  # requests each flooding identity keeps outstanding
FLOOD_PACKETS = 3000
PROBE_INTERVAL = 0.1  # flood: the light client's pace
BOMBS = 3
BOMB_FRAMES = 1_000_000
BOMB_TAIL = 1.0  # frame_bomb: seconds after the last bomb is sent still counted as "during"
SERVER_ARGS = ("--request-timeout", "60")
FIRST_ANSWER = "first answer"  # what a flooder reports when its first request is answered

DESCRIPTIONS = {
    "busy_cached": f"cached calls (get_version, get_definitions of one class) back to back while every worker "
    f"runs {SLEEP_SECONDS:g}-second requests",
    "flood": f"one build_pkt every {PROBE_INTERVAL * 1000:g} ms while {FLOOD_IDENTITIES} identities flood read_pcap "
    f"of {FLOOD_PACKETS} packets ({FLOOD_IN_FLIGHT} in flight each)",
    "frame_bomb": f"build_pkt back to back while {BOMBS} peers each send a message of {BOMB_FRAMES:,} empty frames",
}
SCENARIOS = tuple(DESCRIPTIONS)


@dataclass
class ScenarioResult:
    """The probe's figures in one scenario, and what the load did."""

    scenario: str
    workers: int
    probe: str
    requests: int
    lost: int
    errors: dict[str, int]
    latency_ms: dict[str, float]
    reference: dict[str, float] = field(default_factory=dict)  # yardsticks, e.g. one heavy request alone (ms)
    load: dict[str, int] = field(default_factory=dict)  # what the loading clients got


def run(name: str, workers: int, duration: float, timeout: float = 15.0) -> ScenarioResult:
    """Run scenario `name` against a server with `workers` workers; the probe runs `duration` seconds."""
    extra = (*SERVER_ARGS, "--test-methods") if name == "busy_cached" else SERVER_ARGS
    with ManagedServer(workers, extra_args=extra) as server:
        endpoint = server.endpoint
        handler = connect(endpoint)
        if name == "busy_cached":
            return _busy_cached(endpoint, handler, workers, duration, timeout)
        if name == "flood":
            return _flood(endpoint, handler, workers, duration, timeout)
        if name == "frame_bomb":
            return _frame_bomb(endpoint, handler, workers, duration, timeout)
    raise BenchError(f"no scenario {name!r}")


# ---- the scenarios -------------------------------------------------------------------------------


def _busy_cached(endpoint: str, handler: str, workers: int, duration: float, timeout: float) -> ScenarioResult:
    frames = [workloads.frame(i, "get_version", None) for i in range(4)]
    frames += workloads.prepare("definitions", handler)
    probe = _Probe(endpoint, timeout)
    try:
        for body in frames:  # once each while the workers are free: now the broker keeps the answers
            probe.call(body)
        sleep = workloads.frame(0, "test_sleep", [handler, SLEEP_SECONDS])
        with _background(_sleeper, [(endpoint, sleep)] * (workers + 1)) as load:
            time.sleep(1.0)  # every sleeper has connected and its request is running or waiting
            samples = probe.run(frames, duration)
        result = _result("busy_cached", workers, "get_version, get_definitions (one class)", probe, samples)
        result.load = {"background requests answered": _counts(load)}
        result.reference = {"background request (ms)": SLEEP_SECONDS * 1000}
        return result
    finally:
        probe.close()


def _flood(endpoint: str, handler: str, workers: int, duration: float, timeout: float) -> ScenarioResult:
    packets = [workloads._frame_bytes(i) for i in range(FLOOD_PACKETS)]
    heavy = workloads.frame(0, "read_pcap", [handler, workloads._b64(workloads.pcap_file(packets))])
    frames = workloads.prepare("build", handler)
    probe = _Probe(endpoint, 120.0)
    try:
        alone = sorted(probe.timed(heavy) for _ in range(3))[1]
        probe.set_timeout(timeout)
        for body in frames[:20]:
            probe.call(body)  # warm
        with _background(_flooder, [(endpoint, heavy, FLOOD_IN_FLIGHT)] * FLOOD_IDENTITIES) as load:
            deadline = time.monotonic() + 300
            while load.count(FIRST_ANSWER) < FLOOD_IDENTITIES:  # the steady state: each has had worker time
                if time.monotonic() > deadline:
                    raise BenchError("a flooding identity got no answer within 5 minutes", 1)
                time.sleep(0.05)
            samples = probe.run(frames, duration, interval=PROBE_INTERVAL)
        result = _result("flood", workers, f"build_pkt every {PROBE_INTERVAL * 1000:g} ms", probe, samples)
        result.reference = {"one heavy request alone (ms)": alone * 1000}
        result.load = {"heavy requests answered": _counts(load)}
        return result
    finally:
        probe.close()


def _frame_bomb(endpoint: str, handler: str, workers: int, duration: float, timeout: float) -> ScenarioResult:
    frames = workloads.prepare("build", handler)
    probe = _Probe(endpoint, timeout)
    try:
        for body in frames[:20]:
            probe.call(body)
        with _background(_bomber, [(endpoint, BOMB_FRAMES)] * BOMBS) as reports:
            samples = probe.run(
                frames, duration, until=lambda: sum(isinstance(r, tuple) for r in reports) == BOMBS, tail=BOMB_TAIL
            )
        times = [r for r in reports if isinstance(r, tuple)]
        if len(times) < BOMBS:
            raise BenchError("the bombers did not finish sending within two minutes", 1)
        start, sent = min(t[0] for t in times), max(t[1] for t in times)
        during = [(at, seconds) for at, seconds in samples if start <= at <= sent + BOMB_TAIL]
        result = _result("frame_bomb", workers, "build_pkt back to back", probe, during)
        result.reference = {"bombs sent over (ms)": (sent - start) * 1000}
        result.load = {"bomb messages answered": _counts(reports)}
        return result
    finally:
        probe.close()


# ---- the probe -----------------------------------------------------------------------------------


class _Probe:
    """One REQ client: (send time, latency) of each request, errors and lost replies counted."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        import zmq

        self.endpoint = endpoint
        self.ctx = zmq.Context()
        self.timeout_ms = int(timeout * 1000)
        self.sock = self._socket()
        self.errors: Counter[str] = Counter()
        self.lost = 0

    def _socket(self) -> Any:
        import zmq

        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)
        sock.connect(self.endpoint)
        return sock

    def set_timeout(self, seconds: float) -> None:
        import zmq

        self.timeout_ms = int(seconds * 1000)
        self.sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)

    def call(self, body: bytes) -> bytes | None:
        import zmq

        self.sock.send(body)
        try:
            return self.sock.recv()
        except zmq.Again:  # a REQ socket is wedged after a timeout: a new one, as the GUI does
            self.sock.close(linger=0)
            self.sock = self._socket()
            return None

    def timed(self, body: bytes) -> float:
        t0 = time.perf_counter()
        if self.call(body) is None:
            raise BenchError("no answer to a request of the load while the server was idle", 1)
        return time.perf_counter() - t0

    def run(
        self,
        frames: list[bytes],
        duration: float,
        interval: float = 0.0,
        until: Callable[[], bool] | None = None,
        tail: float = 0.0,
    ) -> list[tuple[float, float]]:
        """Send `frames` in turn for `duration` s (and, with `until`, until it holds and `tail` s
        more), every `interval` s or back to back; (monotonic send time, latency) per answer."""
        ids = [orjson.dumps(orjson.loads(f).get("id")) for f in frames]
        samples: list[tuple[float, float]] = []
        clock = time.perf_counter
        end = time.monotonic() + duration
        done_at = None
        i = 0
        while True:
            now = time.monotonic()
            if until is not None and done_at is None and until():
                done_at = now
            if now >= end and (until is None or (done_at is not None and now >= done_at + tail)):
                return samples
            if until is not None and now >= end + 120:
                return samples
            t0 = clock()
            reply = self.call(frames[i])
            t1 = clock()
            if reply is None:
                self.lost += 1
            else:
                samples.append((now, t1 - t0))
                kind, _ = classify(reply, ids[i], False)
                if kind:
                    self.errors[kind] += 1
            i = (i + 1) % len(frames)
            if interval:
                time.sleep(max(0.0, interval - (clock() - t0)))

    def close(self) -> None:
        self.ctx.destroy(linger=0)


def _result(
    name: str, workers: int, probe_text: str, probe: _Probe, samples: list[tuple[float, float]]
) -> ScenarioResult:
    latencies = sorted(seconds for _, seconds in samples)
    lat = {label: percentile(latencies, pct) * 1000 for label, pct in PERCENTILES}
    lat["max"] = latencies[-1] * 1000 if latencies else 0.0
    return ScenarioResult(name, workers, probe_text, len(latencies), probe.lost, dict(probe.errors), lat)


# ---- the load, in spawned processes --------------------------------------------------------------


@contextmanager
def _background(target: Callable[..., None], args: list[tuple[Any, ...]]) -> Iterator[list[Any]]:
    """Run `target(*args[k], stop, out)` in one spawned process per entry; yields the list of what
    they put in `out`, filled as it comes (each puts its count of answers last, once stopped)."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, stop, out), daemon=True) for a in args]
    for proc in procs:
        proc.start()
    reports: list[Any] = []
    stopped = threading.Event()

    def collect() -> None:
        deadline = None
        while sum(1 for r in reports if isinstance(r, int)) < len(procs):
            if stopped.is_set():
                deadline = deadline or time.monotonic() + 15
                if time.monotonic() > deadline:
                    return
            try:
                reports.append(out.get(timeout=0.1))
            except queue.Empty:
                continue

    watcher = threading.Thread(target=collect, daemon=True)
    watcher.start()
    try:
        yield reports
    finally:
        stop.set()
        stopped.set()
        for proc in procs:
            proc.join(15)
            if proc.is_alive():
                proc.kill()  # our own child, by its Process handle
                proc.join(1)
        watcher.join(20)


def _counts(reports: list[Any]) -> int:
    return sum(r for r in reports if isinstance(r, int))


def _sleeper(endpoint: str, body: bytes, stop: Any, out: Any) -> None:
    """Ask `body` (a long request) again and again until told to stop; report the answers."""
    import zmq

    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    answered = 0
    sock.send_multipart([b"", body])
    while not stop.is_set():
        if sock.poll(100):
            sock.recv_multipart()
            answered += 1
            sock.send_multipart([b"", body])
    ctx.destroy(linger=0)
    out.put(answered)


def _flooder(endpoint: str, body: bytes, in_flight: int, stop: Any, out: Any) -> None:
    """Keep `in_flight` copies of `body` outstanding from one identity until told to stop."""
    import zmq

    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    answered = 0
    for _ in range(in_flight):
        sock.send_multipart([b"", body])
    while not stop.is_set():
        if sock.poll(100):
            sock.recv_multipart()
            answered += 1
            if answered == 1:
                out.put(FIRST_ANSWER)
            sock.send_multipart([b"", body])
    ctx.destroy(linger=0)
    out.put(answered)


def _bomber(endpoint: str, frames: int, stop: Any, out: Any) -> None:
    """Send one message of `frames` empty frames and a body; report when, then whether it was answered."""
    import zmq

    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.connect(endpoint)
    time.sleep(0.5)
    start = time.monotonic()
    send = sock.send
    for _ in range(frames):
        send(b"", zmq.SNDMORE)
    send(workloads.frame(0, "get_version", None))
    out.put((start, time.monotonic()))
    answered = 0
    while not stop.is_set():
        if sock.poll(100):
            sock.recv_multipart()
            answered += 1
    ctx.destroy(linger=0)
    out.put(answered)


# ---- output --------------------------------------------------------------------------------------

HEADERS = ("scenario", "workers", "probe", "requests", "errors", "lost", "p50", "p90", "p99", "p99.9", "max")


def render(results: list[ScenarioResult]) -> None:
    """A plain table on stdout (latency in ms), then each scenario's yardsticks and load."""
    rows = [
        [
            r.scenario,
            str(r.workers),
            r.probe,
            str(r.requests),
            str(sum(r.errors.values())),
            str(r.lost),
            *(f"{r.latency_ms[name]:.2f}" for name in ("p50", "p90", "p99", "p99.9", "max")),
        ]
        for r in results
    ]
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(HEADERS)]
    print("scenarios - latency of the probe client in ms")
    for cells in (list(HEADERS), *rows):
        print("  ".join(c.ljust(w) if k < 3 else c.rjust(w) for k, (c, w) in enumerate(zip(cells, widths))))
    for r in results:
        figures = [f"{k}: {v:,.1f}" for k, v in r.reference.items()] + [f"{k}: {v}" for k, v in r.load.items()]
        if "one heavy request alone (ms)" in r.reference and r.reference["one heavy request alone (ms)"]:
            ratio = r.latency_ms["p99"] / r.reference["one heavy request alone (ms)"]
            figures.append(f"probe p99 / one heavy request: {ratio:.2f}")
        print(f"{r.scenario}: " + "; ".join(figures))
        for kind, count in r.errors.items():
            print(f"{r.scenario}: {count} x {kind}")


def to_json(results: list[ScenarioResult]) -> dict[str, Any]:
    return {r.scenario: asdict(r) for r in results}
