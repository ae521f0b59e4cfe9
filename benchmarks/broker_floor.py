"""What a two-hop ZeroMQ broker costs on this machine at the least, next to scapyrpc's broker.

The same closed-loop load (N REQ clients sending get_version back to back) goes through:

- `floor`: libzmq's own proxy (`zmq.proxy`, C, no Python per message) between a ROUTER on TCP
  and a DEALER on ipc, with one REP worker answering a canned reply: the CPU of the proxy
  process per request is the least any broker with the same two hops can spend here;
- `python`: the same proxy as a plain Python loop (poll both sockets, move each message with
  `recv_multipart`/`send_multipart`): what the Python calls alone add, with no logic at all;
- `scapyrpc`: `scapyrpc serve --workers 1`: the broker process's CPU per request (main thread
  and zmq I/O thread; the worker is another process and not counted).

    python benchmarks/broker_floor.py --duration 8 --clients 4 --rounds 3
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time

import psutil
import zmq

from scapyrpc.testing import ManagedServer

REQUEST = b'{"jsonrpc":"2.0","id":"1","method":"get_version","params":{}}'
CANNED = b'{"jsonrpc":"2.0","id":"1","result":{"version":"1.02","built_by":"floor"}}'


def proxy(front: str, back: str) -> None:
    """A ROUTER-DEALER proxy run entirely by libzmq."""
    ctx = zmq.Context()
    f, b = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    f.bind(front)
    b.bind(back)
    zmq.proxy(f, b)


def python_proxy(front: str, back: str) -> None:
    """The same proxy, every message moved by Python."""
    ctx = zmq.Context()
    f, b = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    f.bind(front)
    b.bind(back)
    poller = zmq.Poller()
    poller.register(f, zmq.POLLIN)
    poller.register(b, zmq.POLLIN)
    while True:
        for sock, _ in poller.poll():
            other = b if sock is f else f
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    break
                other.send_multipart(frames, copy=False)


def rep_worker(back: str) -> None:
    ctx = zmq.Context()
    s = ctx.socket(zmq.REP)
    s.connect(back)
    while True:
        s.recv()
        s.send(CANNED)


def client(endpoint: str, start: float, stop: float, counts: mp.Queue) -> None:
    """Send back to back until `stop`; report the replies received between `start` and `stop`."""
    ctx = zmq.Context()
    s = ctx.socket(zmq.REQ)
    s.connect(endpoint)
    done = 0
    while (now := time.time()) < stop:
        s.send(REQUEST)
        s.recv()
        if now >= start:
            done += 1
    counts.put(done)
    s.close(linger=0)
    ctx.term()


def load(endpoint: str, pid: int, clients: int, duration: float) -> tuple[float, float]:
    """Requests per second and CPU microseconds per request of process `pid` (all its threads)."""
    counts: mp.Queue = mp.Queue()
    warm = 1.0
    start = time.time() + warm
    stop = start + duration
    procs = [mp.Process(target=client, args=(endpoint, start, stop, counts)) for _ in range(clients)]
    for p in procs:
        p.start()
    proc = psutil.Process(pid)
    time.sleep(max(0.0, start - time.time()))
    before = sum(proc.cpu_times()[:2])
    time.sleep(max(0.0, stop - time.time()))
    after = sum(proc.cpu_times()[:2])
    total = sum(counts.get(timeout=30) for _ in procs)
    for p in procs:
        p.join(10)
    return total / duration, (after - before) / total * 1e6


def proxy_run(target, clients: int, duration: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        back = f"ipc://{tmp}/back"
        with zmq.Context() as ctx, ctx.socket(zmq.REQ) as probe:
            port = probe.bind_to_random_port("tcp://127.0.0.1")
            probe.unbind(probe.last_endpoint)
        front = f"tcp://127.0.0.1:{port}"
        helpers = [
            mp.Process(target=target, args=(front, back), daemon=True),
            mp.Process(target=rep_worker, args=(back,), daemon=True),
        ]
        for p in helpers:
            p.start()
        try:
            time.sleep(0.5)
            return load(front, helpers[0].pid, clients, duration)
        finally:
            for p in helpers:
                p.kill()
                p.join()


def scapyrpc_run(clients: int, duration: float) -> tuple[float, float]:
    with ManagedServer(workers=1) as server:
        return load(server.endpoint, server.pid, clients, duration)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of both (default 3)")
    args = ap.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"floor": [], "python": [], "scapyrpc": []}
    for _ in range(args.rounds):
        results["floor"].append(proxy_run(proxy, args.clients, args.duration))
        results["python"].append(proxy_run(python_proxy, args.clients, args.duration))
        results["scapyrpc"].append(scapyrpc_run(args.clients, args.duration))
    print(f"{args.clients} clients, {args.duration:g} s x {args.rounds} rounds, {os.cpu_count()} CPUs")
    for name, runs in results.items():
        rates = [r for r, _ in runs]
        cpus = [c for _, c in runs]
        print(
            f"{name:9} req/s median {statistics.median(rates):8,.0f}   broker CPU us/req median "
            f"{statistics.median(cpus):6.1f}  (runs: {', '.join(f'{c:.1f}' for c in cpus)})"
        )
    floor, python, ours = (statistics.median(c for _, c in results[k]) for k in ("floor", "python", "scapyrpc"))
    print(f"CPU per request against the libzmq proxy: Python loop {python / floor:.2f}, scapyrpc {ours / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
