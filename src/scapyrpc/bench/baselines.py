"""The two yardsticks a server is measured against, each in its own spawned process.

- In-process: `rpc.handle(frame)` in a loop on one core, the same frames the
  clients send. That is exactly a worker's work (JSON parse, dispatch, Scapy,
  serialise) without any transport: the per-core limit.
- Bare REP: a single-process zmq REP loop around the same `rpc.handle`, the
  cheapest possible server; what the broker hop is compared with.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

from scapyrpc.bench.loadgen import BenchError, ClientResult, Plan, RunResult, timed_loop

__all__ = ["bare_rep", "run_inprocess"]


def _load_service() -> Callable[[bytes], Any]:
    from scapyrpc.packets import registry, service
    from scapyrpc.worker import rpc

    registry.load()
    service.warm_up()
    return rpc.handle


def inprocess_main(plan: Plan, progress: Any, out: Any) -> None:
    """Body of the in-process process: warm up, then call the service back to back."""
    handle = _load_service()
    for k in range(plan.warmup):
        handle(plan.frames[k % len(plan.frames)])
    result = ClientResult()
    timed_loop(lambda body: handle(body).body, plan, plan.requests, progress, 0, result)
    out.put(result)


def run_inprocess(plan: Plan, on_progress: Callable[[int, float], None] | None = None) -> RunResult:
    """The in-process limit, measured in a fresh spawned process (one core)."""
    ctx = mp.get_context("spawn")
    progress = ctx.RawArray("q", 1)
    out = ctx.Queue()
    proc = ctx.Process(target=inprocess_main, args=(plan, progress, out), daemon=True)
    proc.start()
    started = time.monotonic()
    try:
        while True:
            try:
                return RunResult(1, [out.get(timeout=0.1)])
            except queue.Empty:
                if not proc.is_alive():
                    raise BenchError(f"the in-process run died (exit code {proc.exitcode})", 1) from None
            if on_progress and progress[0]:
                on_progress(progress[0], time.monotonic() - started)
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()


def rep_main(ready: Any, stop: Any) -> None:
    """Body of the bare REP server: bind an ephemeral port, report it, answer until told to stop."""
    import zmq

    handle = _load_service()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REP)
    sock.setsockopt(zmq.LINGER, 0)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    ready.put(port)
    while not stop.is_set():
        if sock.poll(100):
            sock.send(handle(sock.recv()).body)
    ctx.destroy(linger=0)


@contextlib.contextmanager
def bare_rep(startup_timeout: float = 60.0) -> Iterator[str]:
    """A bare single-process REP server for the duration of the block; yields its endpoint."""
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=rep_main, args=(ready, stop), daemon=True)
    proc.start()
    try:
        try:
            port = ready.get(timeout=startup_timeout)
        except queue.Empty:
            raise BenchError("the bare REP baseline did not start", 1) from None
        yield f"tcp://127.0.0.1:{port}"
    finally:
        stop.set()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(1)
