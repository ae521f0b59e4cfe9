"""Soak test: GUI-like clients and a hostile one while workers are SIGKILLed; every request must get its reply.

    python benchmarks/soak.py                     # the minute: 60 s, a worker SIGKILLed every 2 s
    python benchmarks/soak.py --profile 10min     # ten minutes, a worker SIGKILLed every 3 s
    python benchmarks/soak.py --duration 300 --kill-every 1 --clients 4

Starts `scapyrpc serve` with 2 workers and runs 8 GUI-like client processes
(plain REQ sockets, GUI handshake, the bench's `mixed` requests) and one hostile
client (benchmarks/hostile_client.py: malformed JSON, invalid Unicode, requests
past the size limit, deep nesting, a wrong handler, bad models and expressions)
while, every few seconds, a random worker — a child of the server named
`scapyrpc-worker`, found with psutil — is SIGKILLed by pid. Every half second it
notes the worker pids (to count restarts) and the RSS of the broker, the workers
and the zygote.

Reports, for the GUI-like clients and the hostile client apart: requests sent,
replies received, errors by kind and latency percentiles; then workers killed,
started, and exited without being killed, the server's own count of lost workers
and any other warning it logged, and memory at the start and the end of the load.
Exit status 1 when a reply was lost (sent != received; a client timeout of 15 s
counts as lost: that is a bug to report, not to hide), when the hostile client got
a reply the contract does not give, when a worker exited that was not killed, when
the server logged a traceback or a warning other than a lost worker, when it died,
or when the pool did not grow back to its size.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import psutil
from hostile_client import HostileClient, HostileResult, hostile_requests

from scapyrpc.bench import workloads
from scapyrpc.bench.loadgen import TIMEOUT_KIND, BenchError, Plan, RunResult, connect, run_clients
from scapyrpc.bench.report import percentile
from scapyrpc.config.options import BrokerConfig
from scapyrpc.testing import ManagedServer

KINDS = ("worker lost", "deadline", "busy")
PROFILES = {"minute": (60.0, 2.0), "10min": (600.0, 3.0)}  # name -> (seconds of load, seconds between kills)
MB = 1024 * 1024


def error_bucket(kind: str) -> str:
    """The issue's buckets: worker lost, deadline, busy, lost reply (timeout), other."""
    if kind == TIMEOUT_KIND:
        return "lost reply (timeout)"
    lowered = kind.lower()
    return next((name for name in KINDS if name in lowered), "other")


def named_children(server_pid: int, name: str) -> list[psutil.Process]:
    """The server's live child processes called `name` (workers are its direct children)."""
    try:
        children = psutil.Process(server_pid).children()
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if child.name() == name and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def worker_pids(server_pid: int) -> list[int]:
    return [proc.pid for proc in named_children(server_pid, "scapyrpc-worker")]


class Killer(threading.Thread):
    """SIGKILL a random worker every `period` seconds once `go` is set, until `stop` is set."""

    def __init__(self, server_pid: int, period: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.period = server_pid, period
        self.rng = random.Random(seed)
        self.go, self.stop = threading.Event(), threading.Event()
        self.killed: list[int] = []

    def run(self) -> None:
        self.go.wait()
        while not self.stop.wait(self.period):
            pids = worker_pids(self.server_pid)
            if not pids:
                continue
            pid = self.rng.choice(pids)
            try:
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
            except ProcessLookupError:
                pass


@dataclass
class Memory:
    """RSS in bytes: the broker, each worker, the zygote."""

    broker: int = 0
    workers: list[int] = field(default_factory=list)
    zygote: int = 0


def memory(server_pid: int) -> Memory:
    def rss(proc: psutil.Process) -> int:
        try:
            return proc.memory_info().rss
        except psutil.NoSuchProcess:
            return 0

    try:
        broker = psutil.Process(server_pid).memory_info().rss
    except psutil.NoSuchProcess:
        return Memory()
    workers = [r for r in map(rss, named_children(server_pid, "scapyrpc-worker")) if r]
    zygote = sum(map(rss, named_children(server_pid, "scapyrpc-zygote")))
    return Memory(broker, workers, zygote)


class Monitor(threading.Thread):
    """Every `period` s: the worker pids seen (restarts) and the peak RSS of broker and workers."""

    def __init__(self, server_pid: int, period: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.period = server_pid, period
        self.stop = threading.Event()
        self.first = set(worker_pids(server_pid))
        self.seen = set(self.first)
        self.peak = Memory()

    def run(self) -> None:
        while not self.stop.wait(self.period):
            self.seen.update(worker_pids(self.server_pid))
            now = memory(self.server_pid)
            self.peak.broker = max(self.peak.broker, now.broker)
            self.peak.workers = [max(self.peak.workers + now.workers, default=0)]
            self.peak.zygote = max(self.peak.zygote, now.zygote)


def wait_for_workers(server_pid: int, expected: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(worker_pids(server_pid)) < expected:
        time.sleep(0.1)
    return len(worker_pids(server_pid))


@dataclass
class Soak:
    """What one soak run saw."""

    gui: RunResult
    hostile: HostileResult
    kills: int
    started: int  # workers that joined during the load (pids seen, less the first ones)
    unprovoked: list[int]  # workers that exited and were not killed by the soak
    lost_by_reason: Counter  # the server's warnings "worker ... lost (reason)"
    other_warnings: Counter  # its other warning and error lines, digits blanked; tracebacks counted
    start: Memory
    end: Memory
    peak: Memory
    workers_end: int
    answering: bool


def soak(args: argparse.Namespace) -> Soak:
    with ManagedServer(args.workers) as server:
        handler = connect(server.endpoint)
        plan = Plan(
            endpoint=server.endpoint,
            frames=workloads.prepare("mixed", handler),
            duration=args.duration,
            warmup=5,
            timeout_ms=int(args.timeout * 1000),
        )
        hostile = HostileClient(
            server.endpoint,
            hostile_requests(handler, BrokerConfig().max_request_bytes, args.seed),
            int(args.timeout * 1000),
            args.seed,
            weights=lambda r: 1 if r.kind == "oversized" else 20,
        )  # 16 MiB each: not too often
        killer = Killer(server.pid, args.kill_every, args.seed)
        monitor = Monitor(server.pid)
        start = memory(server.pid)
        killer.start()
        last = [0.0]

        def on_progress(done: int, elapsed: float) -> None:
            if not killer.go.is_set():  # the timed window has begun: hostile requests and kills too
                killer.go.set()
                hostile.start()
                monitor.start()
            if elapsed - last[0] >= 10:
                last[0] = elapsed
                print(
                    f"  {elapsed:5.0f} s  {done} GUI requests, {hostile.result.sent} hostile, "
                    f"{len(killer.killed)} workers killed",
                    flush=True,
                )

        try:
            gui = run_clients(plan, args.clients, on_progress)
        finally:
            killer.stop.set()
            killer.go.set()
            killer.join()
            hostile.stop.set()
            if hostile.is_alive():
                hostile.join(args.timeout + 5)
            monitor.stop.set()
        end = memory(server.pid)
        workers_end = wait_for_workers(server.pid, args.workers, timeout=15)
        alive = server.proc.poll() is None
        answering = alive and _answers(server.endpoint)
        if monitor.is_alive():
            monitor.join()
        first = monitor.first
        unprovoked = sorted(monitor.seen - set(killer.killed) - set(worker_pids(server.pid)))
        lost, others = server_log(server.stderr_text())
    return Soak(
        gui,
        hostile.result,
        len(killer.killed),
        len(monitor.seen - first),
        unprovoked,
        lost,
        others,
        start,
        end,
        monitor.peak,
        workers_end,
        answering,
    )


def server_log(text: str) -> tuple[Counter, Counter]:
    """The server's stderr: workers lost, by reason; every other warning or error, digits blanked
    (so alike lines count together), and tracebacks."""
    lost: Counter = Counter()
    others: Counter = Counter()
    for line in text.splitlines():
        if line.startswith("Traceback"):
            others["Traceback"] += 1
        elif (found := re.search(r" (WARNING|ERROR|CRITICAL) (.*)", line)) is not None:
            reason = re.search(r"worker pid \d+ on \S+ lost \(([^)]*)\)", found.group(2))
            if reason is not None:
                lost[reason.group(1)] += 1
            else:
                others[re.sub(r"\d+", "N", found.group(0).strip())[:120]] += 1
    return lost, others


def report(args: argparse.Namespace, run: Soak) -> bool:
    """Print the figures; True when nothing was lost or unexpected and the pool is whole."""
    results = run.gui.results
    sent = sum(r.sent for r in results)
    received = sum(r.received for r in results)
    buckets: Counter = Counter()
    others: Counter = Counter()
    for r in results:
        for kind, count in r.errors.items():
            buckets[error_bucket(kind)] += count
            if error_bucket(kind) == "other":
                others[kind] += count
    latencies = sorted(x for r in results for x in r.latencies)
    hostile = run.hostile
    print(
        f"duration {run.gui.wall:.1f} s, {args.clients} GUI-like clients + 1 hostile client, {args.workers} workers, "
        f"a worker SIGKILLed every {args.kill_every:g} s"
    )
    print(f"GUI-like clients:  sent {sent}, received {received}, {_latency(latencies)}")
    for bucket in ("worker lost", "deadline", "busy", "lost reply (timeout)", "other"):
        print(f"  errors, {bucket + ':':22s}{buckets[bucket]}")
    for kind, count in others.most_common(10):
        print(f"    {count} x {kind}")
    print(f"hostile client:    sent {hostile.sent}, received {hostile.received}, {_latency(sorted(hostile.latencies))}")
    print("  by kind: " + ", ".join(f"{kind} {count}" for kind, count in sorted(hostile.kinds.items())))
    print(
        "  broker-made errors (any kind may get one): "
        + (", ".join(f"{kind} {count}" for kind, count in hostile.broker_made.most_common()) or "none")
    )
    print(f"  unexpected replies: {sum(hostile.unexpected.values())}")
    for kind, count in hostile.unexpected.most_common(10):
        print(f"    {count} x {kind}")
    print(
        f"workers: {run.kills} killed, {run.started} started, {len(run.unprovoked)} exited without being killed"
        + (f" (pids {', '.join(map(str, run.unprovoked[:10]))})" if run.unprovoked else "")
    )
    print(
        "server log: "
        + (", ".join(f"worker lost ({why}) {n}" for why, n in run.lost_by_reason.most_common()) or "no worker lost")
    )
    for line, count in run.other_warnings.most_common(10):
        print(f"    {count} x {line}")
    print("memory (RSS, MB)   start   end    peak")
    print(f"  broker          {run.start.broker / MB:6.1f} {run.end.broker / MB:6.1f} {run.peak.broker / MB:6.1f}")
    peak_worker = max(run.peak.workers, default=0)
    print(f"  worker (each)   {_span(run.start.workers)} {_span(run.end.workers)} {peak_worker / MB:6.1f}")
    print(f"  zygote          {run.start.zygote / MB:6.1f} {run.end.zygote / MB:6.1f} {run.peak.zygote / MB:6.1f}")
    print(f"workers at the end: {run.workers_end} of {args.workers}")
    print(f"server alive and answering: {run.answering}")
    ok = (
        sent == received
        and hostile.sent == hostile.received
        and not hostile.unexpected
        and not run.unprovoked
        and not run.other_warnings
        and run.answering
        and run.workers_end == args.workers
    )
    print("PASS" if ok else "FAIL")
    return ok


def _latency(sorted_seconds: list[float]) -> str:
    ms = [percentile(sorted_seconds, p) * 1000 for p in (50, 99)]
    return f"latency p50 {ms[0]:.1f} ms, p99 {ms[1]:.1f} ms, max {max(sorted_seconds, default=0) * 1000:.0f} ms"


def _span(values: list[int]) -> str:
    """`min-max` of the workers' RSS, in MB (one figure when they agree to 0.1 MB)."""
    if not values:
        return "     -"
    low, high = min(values) / MB, max(values) / MB
    return f"{high:6.1f}" if high - low < 0.1 else f"{low:.0f}-{high:.0f}".rjust(6)


def _answers(endpoint: str) -> bool:
    try:
        connect(endpoint)
    except BenchError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="minute",
        help="minute: 60 s, a kill every 2 s; 10min: 600 s, a kill every 3 s (default minute)",
    )
    parser.add_argument("--duration", type=float, help="seconds of load (default: the profile's)")
    parser.add_argument("--kill-every", type=float, help="seconds between worker kills (default: the profile's)")
    parser.add_argument("--clients", type=int, default=8, help="GUI-like client processes (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--timeout", type=float, default=15.0, help="client receive timeout, seconds (default 15)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kills and of the hostile requests")
    args = parser.parse_args(argv)
    duration, kill_every = PROFILES[args.profile]
    args.duration = duration if args.duration is None else args.duration
    args.kill_every = kill_every if args.kill_every is None else args.kill_every
    try:
        return 0 if report(args, soak(args)) else 1
    except BenchError as exc:
        print(f"soak: error: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
