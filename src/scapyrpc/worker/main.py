"""A worker process: a DEALER on the broker's back end that answers JSON-RPC requests.

The main thread owns the socket and does the packet work (`rpc.handle`); a
small heartbeat thread with a socket of its own keeps the broker informed
while a long build runs. A worker serves one request at a time, in the order
they arrive; the broker may hand it the next one before the reply (prefetch),
which then waits in its socket.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypeAlias

import zmq

from scapyrpc.config.options import MiB, WorkerConfig
from scapyrpc.packets import limits
from scapyrpc.version import answers_version
from scapyrpc.wire import curve
from scapyrpc.wire import frames as p

__all__ = ["FAIL_START_ENV", "WorkerOptions", "run"]

log = logging.getLogger("scapyrpc.worker")
_Handler: TypeAlias = "Callable[[int, FrameType | None], Any] | int | signal.Handlers | None"  # signal.signal's

WAKE_MS = 200  # an idle worker looks at signals and the broker's silence this often
_GONE_LINGER_MS = 200  # how long a worker stopping while idle tries to say GONE (the broker may be gone)


@dataclass(frozen=True)
class WorkerOptions:
    """Where a worker joins, how it serves, and whether it outlives a silent broker."""

    backend: str
    config: WorkerConfig = field(default_factory=WorkerConfig)
    reconnect: bool = False  # remote workers rejoin a broker that went silent; local ones exit
    curve: tuple[bytes, bytes, bytes] | None = None  # (broker's public key, ours, our secret): join over CurveZMQ
    stop_on_interrupt: bool = False  # Ctrl+C stops it too (started by hand); in a pool Ctrl+C is the broker's


def resident_bytes() -> int:
    """Current resident set size of this process."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


FAIL_START_ENV = "TEST_SCAPYRPC_WORKERS_FAIL_START"  # read only with --test-methods (not a setting)


def run(options: WorkerOptions) -> str:
    """Serve requests until retired, told to stop, or (local workers) the broker goes away.

    Returns why: "retired" (recycled), "stopped" (SIGTERM, or SIGINT with `stop_on_interrupt`;
    the request in hand is finished and answered first) or "broker silent".
    """
    stop = _StopSignals(options.stop_on_interrupt)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked by the zygote until now
    limits.configure(options.config.limits)
    from scapyrpc.packets import service
    from scapyrpc.worker import rpc

    service.warm_up()
    version = _answers(options.config, service.get_all())
    if options.config.test_methods:
        rpc.enable_test_methods()
        if os.environ.get(FAIL_START_ENV):  # a worker that cannot start, for the back-off test
            os._exit(70)
    gc.freeze()  # the warm caches never die: keep the collector from walking them on every request
    _limit_memory(options.config.max_worker_memory_mb)
    ctx = zmq.Context()
    served = 0
    silence_limit = p.HEARTBEAT_INTERVAL * p.HEARTBEAT_LIVENESS
    dealer, beats = _join(ctx, options, version)
    broker_seen = time.monotonic()
    linger = 1000
    try:
        while not stop.requested:
            try:  # a blocking receive is the cheapest wait; it times out to look at signals and silence
                frames = dealer.recv_multipart()
            except zmq.Again:
                if stop.requested or time.monotonic() - broker_seen <= silence_limit:
                    continue
                if not options.reconnect:  # is the broker still there?
                    log.warning("broker silent; worker %d exits", os.getpid())
                    return "broker silent"
                log.warning("broker silent; worker %d rejoins %s", os.getpid(), options.backend)
                beats.stop()
                dealer.close(linger=0)
                dealer, beats = _join(ctx, options, version)
                broker_seen = time.monotonic()
                continue
            broker_seen = time.monotonic()
            frame = frames[0]
            head = frame[:1]
            if len(frames) != 1 or head not in (p.REQUEST, p.REMOTE_REQUEST) or len(frame) < p.HEAD_BYTES:
                continue  # a broker heartbeat
            reply = rpc.handle(frame[p.HEAD_BYTES :], remote=head == p.REMOTE_REQUEST)
            served += 1
            kind = p.REPLY
            if reply.shutdown:
                kind = p.SHUTDOWN
            elif stop.requested or reply.exhausted or _should_retire(options, served):
                kind = p.RETIRE  # the broker requeues anything else it had handed this worker
            dealer.send(p.reply(kind, frame, p.note(reply.method, reply.code, reply.cacheable), reply.body))
            if kind == p.RETIRE:
                return "stopped" if stop.requested else "retired"
        try:  # told to stop while idle: the broker forgets this worker now, not after missed heartbeats
            dealer.send(p.GONE, zmq.NOBLOCK)
        except zmq.ZMQError:
            pass
        linger = _GONE_LINGER_MS
        return "stopped"
    finally:
        beats.stop()
        dealer.close(linger=linger)
        ctx.term()
        stop.close()


def _should_retire(options: WorkerOptions, served: int) -> bool:
    config = options.config
    if config.max_requests_per_worker and served >= config.max_requests_per_worker:
        return True
    return bool(config.max_worker_rss_mb) and resident_bytes() > config.max_worker_rss_mb * MiB


def _limit_memory(megabytes: int) -> None:
    """Cap this process's address space: past it allocations fail (MemoryError) instead of the
    machine swapping; the request gets 'out of memory' and the worker retires."""
    if megabytes:
        import resource

        limit = megabytes * MiB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _socket(ctx: zmq.SyncContext, options: WorkerOptions) -> zmq.SyncSocket:
    """A DEALER for the broker's back end (CurveZMQ when the options carry keys)."""
    sock = ctx.socket(zmq.DEALER)
    if options.curve is not None:
        server, public, secret = options.curve
        curve.as_client(sock, server, (public, secret))
    return sock


def _answers(config: WorkerConfig, everything: dict[str, Any]) -> str:
    """What this worker's answers depend on besides the request (READY's `version`; the broker
    keeps the replies it may give again under it): scapyrpc's and Scapy's versions, the layers it
    serves (`get_all`'s digest) and the settings that change answers (limits, test methods)."""
    settings = hashlib.sha256(repr((config.limits, config.test_methods)).encode()).hexdigest()[:8]
    return f"{answers_version()} layers {str(everything.get('db_md5'))[:8]} settings {settings}"


def _join(ctx: zmq.SyncContext, options: WorkerOptions, version: str) -> tuple[zmq.SyncSocket, _Heartbeats]:
    """Connect a DEALER, announce READY (with `version`, what this worker's answers depend on), and
    start heartbeats on behalf of it."""
    backend = options.backend
    ident = uuid.uuid4().hex.encode()
    dealer = _socket(ctx, options)
    dealer.setsockopt(zmq.IDENTITY, ident)
    dealer.setsockopt(zmq.LINGER, 1000)
    dealer.setsockopt(zmq.RCVTIMEO, WAKE_MS)
    dealer.connect(backend)
    dealer.send_multipart(
        [p.READY, str(os.getpid()).encode(), socket.gethostname().encode(), p.VERSION, version.encode()[:255]]
    )
    return dealer, _Heartbeats(ctx, options, ident)


class _Heartbeats:
    """A thread with its own socket that says "worker `ident` is alive" every interval.

    It keeps beating while the main thread is deep in a long build, so the
    broker can tell a busy worker from a vanished one without a thread hop on
    the request path.
    """

    def __init__(self, ctx: zmq.SyncContext, options: WorkerOptions, ident: bytes) -> None:
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(ctx, options, ident), name="scapyrpc-heartbeat", daemon=True
        )
        self._thread.start()

    def _beat(self, ctx: zmq.SyncContext, options: WorkerOptions, ident: bytes) -> None:
        sock = _socket(ctx, options)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(options.backend)
        try:
            while not self._stopped.wait(p.HEARTBEAT_INTERVAL):
                sock.send_multipart([p.HEARTBEAT, ident], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass
        finally:
            sock.close(linger=0)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)


class _StopSignals:
    """SIGTERM (and SIGINT if asked) only set a flag: the request in hand is finished, then the worker leaves.

    An idle worker sees the flag within WAKE_MS (its receive times out that often). Installed in the
    main thread only (signal handlers cannot be set elsewhere).
    """

    def __init__(self, interrupt: bool) -> None:
        self.requested = False
        self._restore: dict[int, _Handler] = {}
        if threading.current_thread() is threading.main_thread():
            on_interrupt = self._on_signal if interrupt else signal.SIG_IGN
            self._restore = {
                signal.SIGTERM: signal.signal(signal.SIGTERM, self._on_signal),
                signal.SIGINT: signal.signal(signal.SIGINT, on_interrupt),
            }

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not self.requested:
            log.info("worker %d: %s, leaving after the request in hand", os.getpid(), signal.Signals(signum).name)
        self.requested = True

    def close(self) -> None:
        for signum, handler in self._restore.items():
            signal.signal(signum, handler)
