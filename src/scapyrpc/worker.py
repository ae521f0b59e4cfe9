"""A worker process: a DEALER on the broker's back end that answers JSON-RPC requests.

Two threads: the main thread does the packet work (`rpc.handle`), an I/O
thread owns the ZeroMQ socket, so heartbeats keep flowing while a long build
runs. They talk over an inproc PAIR. A worker serves one request at a time;
the broker never sends it a second one before the reply.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

import zmq

from . import limits as limits_mod
from . import protocol as p
from .limits import Limits

log = logging.getLogger(__name__)

_PAIR = "inproc://scapyrpc-worker-compute"


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker joins a broker and when it retires."""

    backend: str
    limits: Limits = field(default_factory=Limits)
    max_requests: int = 0  # 0: never recycle by count
    max_rss_bytes: int = 0  # 0: never recycle by memory
    reconnect: bool = False  # remote workers rejoin a broker that went silent; local ones exit
    test_methods: bool = False  # register scapyrpc.testing (reliability tests only)


def resident_bytes() -> int:
    """Current resident set size of this process."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(options: WorkerOptions) -> None:
    """Serve requests until retired, told to stop, or (local workers) the broker goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the broker's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limits_mod.configure(**vars(options.limits))
    from . import rpc, service

    service.warm_up()
    if options.test_methods:
        rpc.enable_test_methods()
    ctx = zmq.Context()
    compute = ctx.socket(zmq.PAIR)
    compute.bind(_PAIR)
    io_thread = threading.Thread(target=_io_loop, args=(ctx, options), name="scapyrpc-io", daemon=True)
    io_thread.start()
    served = 0
    try:
        while True:
            frames = compute.recv_multipart()
            if frames == [p.GONE]:
                break
            tag, body = frames
            reply = rpc.handle(body)
            served += 1
            kind = p.REPLY
            if reply.shutdown:
                kind = p.SHUTDOWN
            elif _should_retire(options, served):
                kind = p.RETIRE
            compute.send_multipart([kind, tag, reply.body])
            if kind == p.RETIRE:
                break
    finally:
        io_thread.join(timeout=2)
        compute.close(linger=0)
        ctx.term()


def _should_retire(options: WorkerOptions, served: int) -> bool:
    if options.max_requests and served >= options.max_requests:
        return True
    return bool(options.max_rss_bytes) and resident_bytes() > options.max_rss_bytes


def _connect(ctx: zmq.Context, backend: str) -> zmq.Socket:
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.IDENTITY, uuid.uuid4().hex.encode())
    dealer.setsockopt(zmq.LINGER, 1000)
    dealer.connect(backend)
    dealer.send_multipart([p.READY, str(os.getpid()).encode(), socket.gethostname().encode()])
    return dealer


def _io_loop(ctx: zmq.Context, options: WorkerOptions) -> None:
    """Relay requests to the compute thread and replies to the broker; heartbeat both ways."""
    compute = ctx.socket(zmq.PAIR)
    compute.connect(_PAIR)
    dealer = _connect(ctx, options.backend)
    poller = zmq.Poller()
    poller.register(dealer, zmq.POLLIN)
    poller.register(compute, zmq.POLLIN)
    interval = p.HEARTBEAT_INTERVAL
    broker_seen = time.monotonic()
    next_beat = broker_seen + interval
    busy = False
    try:
        while True:
            events = dict(poller.poll(max(0.0, next_beat - time.monotonic()) * 1000))
            now = time.monotonic()
            if dealer in events:
                frames = dealer.recv_multipart()
                broker_seen = now
                if frames[0] == p.REQUEST and len(frames) == 3 and not busy:
                    busy = True
                    compute.send_multipart(frames[1:])
            if compute in events:
                frames = compute.recv_multipart()
                dealer.send_multipart(frames)
                busy = False
                if frames[0] == p.RETIRE:
                    return
            if now >= next_beat:
                dealer.send(p.HEARTBEAT)
                next_beat = now + interval
            if not busy and now - broker_seen > interval * p.HEARTBEAT_LIVENESS:
                if not options.reconnect:
                    log.warning("broker silent for %.1f s; worker %d exits", now - broker_seen, os.getpid())
                    compute.send_multipart([p.GONE])
                    return
                log.warning("broker silent; reconnecting to %s", options.backend)
                poller.unregister(dealer)
                dealer.close(linger=0)
                dealer = _connect(ctx, options.backend)
                poller.register(dealer, zmq.POLLIN)
                broker_seen = now
    finally:
        dealer.close()
        compute.close(linger=0)
