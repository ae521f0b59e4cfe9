"""Soak test: a GUI-like load while workers are SIGKILLed; every request must still get its reply.

    python benchmarks/soak.py [--duration 60] [--clients 8] [--workers 2] [--kill-every 2]

Starts `scapyrpc serve` with 2 workers, runs 8 client processes (plain REQ
sockets, GUI handshake, the bench's `mixed` requests) and, every 2 s, SIGKILLs
a random worker: a grandchild of the server (server -> forkserver -> workers),
found with psutil and killed by pid. Reports requests sent, replies received,
errors by kind and the number of workers at the end. Exit status 1 when a reply
was lost (sent != received; a client timeout of 15 s counts as lost: that is a
bug to report, not to hide), when the server died, or when the pool did not
grow back to its size.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from collections import Counter

import psutil

from scapyrpc.bench import workloads
from scapyrpc.bench.loadgen import TIMEOUT_KIND, BenchError, Plan, connect, run_clients
from scapyrpc.launch import ManagedServer

KINDS = ("worker lost", "deadline", "busy")


def error_bucket(kind: str) -> str:
    """The issue's buckets: worker lost, deadline, busy, lost reply (timeout), other."""
    if kind == TIMEOUT_KIND:
        return "lost reply (timeout)"
    lowered = kind.lower()
    return next((name for name in KINDS if name in lowered), "other")


def worker_pids(server_pid: int) -> list[int]:
    """The server's grandchildren: the workers the forkserver started."""
    try:
        children = psutil.Process(server_pid).children()
    except psutil.NoSuchProcess:
        return []
    pids = []
    for child in children:
        try:
            pids.extend(p.pid for p in child.children())
        except psutil.NoSuchProcess:
            continue
    return pids


class Killer(threading.Thread):
    """SIGKILL a random worker every `period` seconds once `go` is set, until `stop` is set."""

    def __init__(self, server_pid: int, period: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.period = server_pid, period
        self.rng = random.Random(seed)
        self.go, self.stop = threading.Event(), threading.Event()
        self.kills = 0

    def run(self) -> None:
        self.go.wait()
        while not self.stop.wait(self.period):
            pids = worker_pids(self.server_pid)
            if not pids:
                continue
            try:
                os.kill(self.rng.choice(pids), signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:
                pass


def wait_for_workers(server_pid: int, expected: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(worker_pids(server_pid)) < expected:
        time.sleep(0.1)
    return len(worker_pids(server_pid))


def soak(args: argparse.Namespace) -> int:
    with ManagedServer(args.workers) as server:
        handler = connect(server.endpoint)
        plan = Plan(endpoint=server.endpoint, frames=workloads.prepare("mixed", handler),
                    duration=args.duration, warmup=5, timeout_ms=int(args.timeout * 1000))
        killer = Killer(server.pid, args.kill_every, args.seed)
        killer.start()
        last = [0.0]

        def on_progress(done: int, elapsed: float) -> None:
            killer.go.set()  # the timed window has begun: start killing
            if elapsed - last[0] >= 10:
                last[0] = elapsed
                print(f"  {elapsed:5.0f} s  {done} requests, {killer.kills} workers killed", flush=True)

        try:
            run = run_clients(plan, args.clients, on_progress)
        finally:
            killer.stop.set()
            killer.go.set()
            killer.join()
        workers_end = wait_for_workers(server.pid, args.workers, timeout=15)
        alive = server.proc.poll() is None
        answering = alive and _answers(server.endpoint)
    sent = sum(r.sent for r in run.results)
    received = sum(r.received for r in run.results)
    buckets: Counter = Counter()
    others: Counter = Counter()
    for r in run.results:
        for kind, count in r.errors.items():
            buckets[error_bucket(kind)] += count
            if error_bucket(kind) == "other":
                others[kind] += count
    print(f"duration {run.wall:.1f} s, {args.clients} clients, {args.workers} workers, "
          f"{killer.kills} workers killed")
    print(f"requests sent:     {sent}")
    print(f"replies received:  {received}")
    for bucket in ("worker lost", "deadline", "busy", "lost reply (timeout)", "other"):
        print(f"errors, {bucket + ':':22s}{buckets[bucket]}")
    for kind, count in others.most_common(10):
        print(f"    {count} x {kind}")
    print(f"workers at the end: {workers_end} of {args.workers}")
    print(f"server alive and answering: {answering}")
    ok = sent == received and answering and workers_end == args.workers
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def _answers(endpoint: str) -> bool:
    try:
        connect(endpoint)
    except BenchError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--kill-every", type=float, default=2.0, help="seconds between worker kills (default 2)")
    parser.add_argument("--timeout", type=float, default=15.0, help="client receive timeout, seconds (default 15)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the choice of worker to kill")
    args = parser.parse_args(argv)
    try:
        return soak(args)
    except BenchError as exc:
        print(f"soak: error: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
