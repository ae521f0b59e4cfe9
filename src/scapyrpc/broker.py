"""The broker: a ROUTER for clients, a ROUTER for workers, least-recently-used dispatch.

It routes bytes and never imports Scapy or parses JSON on the hot path. Its
promise is one reply per request: a request that cannot be served (too
large, queue full, deadline passed, worker lost, server stopping) gets a
-32098 reply made here. Frames to and from workers: `protocol.py`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Protocol

import zmq
import zmq.asyncio

from . import protocol as p
from .limits import MiB
from .replies import peek_id, peek_method, scapy_error_body

log = logging.getLogger(__name__)

DEADLINE_TICK = 0.05  # seconds between deadline sweeps: how late a deadline reply may be
_MORE = int(zmq.SNDMORE | zmq.NOBLOCK)  # plain ints: pyzmq's flag enums cost more than the send
_LAST = int(zmq.NOBLOCK)
EXIT_GRACE = 1.0  # seconds the last reply of a worker that left on its own may take to arrive
PREFETCH_WINDOW = 0.05
LOGGED_BYTES = 300  # how much of a message -v logs  # a busy worker gets its next request early only if its current one is this young


def _peer(envelope: list[bytes]) -> str:
    return envelope[0].hex() if envelope else "-"


class LocalWorkers(Protocol):
    """What the broker needs from the pool of local worker processes (`pool.LocalPool`)."""

    def owns(self, pid: int, host: str) -> bool: ...
    def kill(self, pid: int) -> None: ...


@dataclass(frozen=True)
class BrokerOptions:
    frontend: str
    backend: str
    request_timeout: float = 10.0
    max_queue: int = 1000
    max_request_bytes: int = 16 * MiB
    drain_timeout: float | None = None  # graceful stop bound; default: request_timeout + 1 s


@dataclass(eq=False)
class Job:
    tag: bytes
    envelope: list[bytes]
    body: bytes
    worker: bytes | None = None
    expires: float = 0.0  # monotonic deadline: for waiting in the queue, then for running
    started: float = 0.0  # when its worker (probably) began it


@dataclass(eq=False)
class Worker:
    ident: bytes
    pid: int
    host: str
    local: bool
    last_seen: float
    jobs: deque[Job] = field(default_factory=deque)  # sent to it, oldest (running) first
    leaving: bool = False


@dataclass
class Stats:
    requests: int = 0
    replies: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Broker:
    """Load-balance client requests over workers; see the module docstring for the promise."""

    def __init__(self, options: BrokerOptions, local: LocalWorkers | None = None,
                 on_worker_ready: Callable[[Worker], None] | None = None) -> None:
        self.options = options
        self.local = local
        self.on_worker_ready = on_worker_ready
        self.ctx = zmq.asyncio.Context()
        self.front = self.ctx.socket(zmq.ROUTER)
        self.front.setsockopt(zmq.LINGER, 2000)
        self.front.setsockopt(zmq.MAXMSGSIZE, max(4 * options.max_request_bytes, 256 * MiB))
        self.front.setsockopt(zmq.SNDHWM, 0)
        self.front.setsockopt(zmq.RCVHWM, 0)
        self.back = self.ctx.socket(zmq.ROUTER)
        self.back.setsockopt(zmq.LINGER, 0)
        self.back.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.back.setsockopt(zmq.SNDHWM, 0)
        self.back.setsockopt(zmq.RCVHWM, 0)
        # Synchronous shadows of the same sockets: drain and send without awaiting per message.
        self._front = zmq.Socket.shadow(self.front.underlying)
        self._back = zmq.Socket.shadow(self.back.underlying)
        self.workers: dict[bytes, Worker] = {}
        self.idle: deque[bytes] = deque()
        self.queues: dict[bytes, deque[Job]] = {}
        self.turns: deque[bytes] = deque()
        self.queued = 0
        self.inflight: dict[bytes, Job] = {}
        self.stats = Stats()
        self._tag = 0
        self._stopping = False
        self._done = asyncio.Event()
        self._shutdown_requested = False
        self._closed = False
        self._verbose = log.isEnabledFor(logging.INFO)  # -v: every request and reply is logged
        self._client_share = max(1, (options.max_queue + 1) // 2)  # no client may fill the whole queue

    # ---- lifecycle -------------------------------------------------------------------

    def bind(self) -> None:
        """Bind both sockets; raises zmq.ZMQError if an endpoint is taken."""
        self.front.bind(self.options.frontend)
        self.back.bind(self.options.backend)

    @property
    def frontend_endpoint(self) -> str:
        return self.front.getsockopt(zmq.LAST_ENDPOINT).decode()

    @property
    def backend_endpoint(self) -> str:
        return self.back.getsockopt(zmq.LAST_ENDPOINT).decode()

    async def serve(self) -> bool:
        """Run until stopped; True if a client asked the server to shut down."""
        loop = asyncio.get_running_loop()
        for sock in (self._front, self._back):
            loop.add_reader(sock.FD, self._on_readable)
        timers = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._deadlines())]
        self._on_readable()  # anything that arrived before the readers were added
        try:
            await self._done.wait()
        finally:
            for sock in (self._front, self._back):
                loop.remove_reader(sock.FD)
            for timer in timers:
                timer.cancel()
            await asyncio.gather(*timers, return_exceptions=True)
            self._closed = True
            self.front.close(linger=2000)
            self.back.close(linger=0)
            self.ctx.term()
        return self._shutdown_requested

    def stop(self) -> None:
        """Graceful stop: refuse new requests, finish queued and in-flight ones, then return."""
        if self._stopping:
            return
        self._stopping = True
        log.info("stopping: %d queued, %d in flight", self.queued, len(self.inflight))
        asyncio.get_running_loop().create_task(self._drain_then_finish())

    async def _drain_then_finish(self) -> None:
        bound = self.options.drain_timeout
        if bound is None:
            bound = self.options.request_timeout + 1.0
        end = time.monotonic() + bound
        while (self.queued or self.inflight) and time.monotonic() < end:
            if self.queued and not self._dispatchable():
                for job in self._take_all_queued():
                    self._fail(job, "no worker available while the server is shutting down", "stopping")
                break
            await asyncio.sleep(0.01)
            self._on_readable()
        for job in list(self.inflight.values()):
            self._fail(job, "server stopped before the request finished", "stopping")
        for job in self._take_all_queued():
            self._fail(job, "server stopped before the request started", "stopping")
        self._on_readable()
        self._done.set()

    def _dispatchable(self) -> bool:
        return any(not w.leaving for w in self.workers.values())

    # ---- frontend ----------------------------------------------------------------------

    def _on_readable(self) -> None:
        """Drain both sockets until neither has input, then dispatch.

        ZeroMQ's descriptors are edge-triggered and a send can consume the edge,
        so this also runs after every send made outside it (timers, stop).
        """
        while True:
            self._drain_front()
            self._drain_back()
            self._dispatch()
            if not (self._front.getsockopt(zmq.EVENTS) & zmq.POLLIN
                    or self._back.getsockopt(zmq.EVENTS) & zmq.POLLIN):
                return

    def _drain_front(self) -> None:
        while True:
            try:
                frames = self._front.recv_multipart(_LAST)
            except zmq.Again:
                return
            self._accept(frames[:-1], frames[-1])
            if self.idle:  # idle workers take requests before the queue bound counts them
                self._dispatch()

    def _accept(self, envelope: list[bytes], body: bytes) -> None:
        self.stats.requests += 1
        if self._verbose:
            log.info("<- %s %s", _peer(envelope), body[:LOGGED_BYTES].decode(errors="replace"))
        if self._stopping:
            self._reply_error(envelope, body, "server is shutting down", "stopping")
            return
        if len(body) > self.options.max_request_bytes:
            limit = self.options.max_request_bytes
            self._reply_error(envelope, body, f"request of {len(body)} bytes exceeds the limit of {limit} bytes",
                              "too_large")
            return
        client = envelope[0] if envelope else b""
        queue = self.queues.get(client)
        if self.queued >= self.options.max_queue or (queue is not None and len(queue) >= self._client_share):
            self._reply_error(envelope, body, "server busy, try again later", "busy")
            return
        self._tag += 1
        job = Job(self._tag.to_bytes(p.TAG_BYTES, "big"), envelope, body,
                  expires=time.monotonic() + self.options.request_timeout)
        if queue is None:
            queue = self.queues[client] = deque()
            self.turns.append(client)
        queue.append(job)
        self.queued += 1

    def _send_front(self, envelope: list[bytes], body: bytes) -> None:
        try:
            send = self._front.send
            for frame in envelope:
                send(frame, _MORE)
            send(body, _LAST)
            self.stats.replies += 1
            if self._verbose:
                log.info("-> %s %s", _peer(envelope), body[:LOGGED_BYTES].decode(errors="replace"))
        except zmq.ZMQError as exc:  # the client is gone; nobody is waiting for this reply
            log.debug("reply dropped: %s", exc)

    def _reply_error(self, envelope: list[bytes], body: bytes, message: str, kind: str) -> None:
        self.stats.error(kind)
        self._send_front(envelope, scapy_error_body(peek_id(body), message))

    def _fail(self, job: Job, message: str, kind: str) -> None:
        """Answer a job with an error and forget it."""
        self.inflight.pop(job.tag, None)
        self._reply_error(job.envelope, job.body, message, kind)

    # ---- dispatch ----------------------------------------------------------------------

    def _next_job(self) -> Job | None:
        """Round-robin over clients with queued requests; FIFO within a client."""
        while self.turns:
            client = self.turns.popleft()
            queue = self.queues[client]
            job = queue.popleft()
            if queue:
                self.turns.append(client)
            else:
                del self.queues[client]
            self.queued -= 1
            return job
        return None

    def _requeue_front(self, job: Job) -> None:
        client = job.envelope[0] if job.envelope else b""
        queue = self.queues.get(client)
        if queue is None:
            queue = self.queues[client] = deque()
            self.turns.appendleft(client)
        queue.appendleft(job)
        self.queued += 1

    def _take_all_queued(self) -> list[Job]:
        jobs = []
        while (job := self._next_job()) is not None:
            jobs.append(job)
        return jobs

    def _dispatch(self) -> None:
        """Idle workers first (least recently used); then, while requests still wait, each busy
        worker whose request is young gets its next one, to start the moment it replies."""
        if not self.queued:
            return
        now = time.monotonic()
        while self.idle and self.queued:
            worker = self.workers.get(self.idle.popleft())
            if worker is not None and not worker.leaving and not worker.jobs:
                self._send_job(worker, now)
        if self.queued:
            for worker in list(self.workers.values()):
                if not self.queued:
                    break
                if len(worker.jobs) == 1 and not worker.leaving and now - worker.jobs[0].started < PREFETCH_WINDOW \
                        and worker.jobs[0].tag in self.inflight:
                    self._send_job(worker, now)

    def _send_job(self, worker: Worker, now: float) -> None:
        job = self._next_job()
        assert job is not None
        try:
            send = self._back.send
            send(worker.ident, _MORE)
            send(p.REQUEST + job.tag, _MORE)
            send(job.body, _LAST)
        except zmq.ZMQError:  # the worker vanished; the request never left: keep it
            self._requeue_front(job)
            self._lose_soon(worker, "unreachable")
            return
        job.worker = worker.ident
        if worker.jobs:  # prefetched: its clock starts when the one before it is answered
            job.expires = job.started = math.inf
        else:
            job.started = now
            job.expires = now + self.options.request_timeout
        worker.jobs.append(job)
        self.inflight[job.tag] = job

    def _take_back(self, jobs: list[Job], now: float) -> None:
        """Requests a worker was given but never started go back to the front of their queues."""
        for job in reversed(jobs):
            if self.inflight.pop(job.tag, None) is job:
                job.worker = None
                job.expires = now + self.options.request_timeout
                self._requeue_front(job)

    async def _deadlines(self) -> None:
        """Answer every request past its deadline, running or still waiting (every DEADLINE_TICK)."""
        while True:
            await asyncio.sleep(DEADLINE_TICK)
            now = time.monotonic()
            expired = [job for job in self.inflight.values() if job.expires <= now]
            for job in expired:
                self._expire(job)
            stale = self._take_stale_queued(now)
            for job in stale:
                self._fail(job, f"no worker became available within {self.options.request_timeout:g} s",
                           "no_worker")
            if expired or stale:
                self._on_readable()

    def _take_stale_queued(self, now: float) -> list[Job]:
        """Queued requests whose wait passed the deadline (each client's queue is oldest first)."""
        stale = []
        for client in list(self.turns):
            queue = self.queues[client]
            while queue and queue[0].expires <= now:
                stale.append(queue.popleft())
                self.queued -= 1
            if not queue:
                del self.queues[client]
                self.turns.remove(client)
        return stale

    def _expire(self, job: Job) -> None:
        worker = self.workers.get(job.worker or b"")
        method = peek_method(job.body)
        self._fail(job, f"request deadline of {self.options.request_timeout:g} s exceeded while handling {method}",
                   "deadline")
        if worker is not None:
            waiting = list(worker.jobs)[1:]
            for _ in waiting:
                worker.jobs.pop()
            self._take_back(waiting, time.monotonic())
            if worker.local and self.local is not None:
                worker.leaving = True
                self.local.kill(worker.pid)  # its exit is reported by the pool
            # a remote worker stays busy until it answers; its late reply is dropped

    # ---- backend -----------------------------------------------------------------------

    def _drain_back(self) -> None:
        now = time.monotonic()
        while True:
            try:
                frames = self._back.recv_multipart(_LAST)
            except zmq.Again:
                return
            self._from_worker(frames[0], frames[1:], now)

    def _from_worker(self, ident: bytes, frames: list[bytes], now: float) -> None:
        head = frames[0] if frames else b""
        kind = head[:1]
        if head == p.HEARTBEAT and len(frames) == 2:
            beating = self.workers.get(frames[1])
            if beating is not None:
                beating.last_seen = now
            return
        worker = self.workers.get(ident)
        if head == p.READY and len(frames) == 3:
            self._register(ident, frames, now)
            return
        if worker is None:
            return  # unknown peer (e.g. from before a restart): it will reconnect and say READY
        worker.last_seen = now
        if kind in p.REPLY_KINDS and len(frames) == 2 and len(head) == 1 + p.TAG_BYTES:
            self._on_reply(worker, kind, head[1:], frames[1], now)
        elif head == p.GONE:
            self._lose(worker, "left")

    def _register(self, ident: bytes, frames: list[bytes], now: float) -> None:
        pid = int(frames[1] or b"0")
        host = frames[2].decode(errors="replace")
        local = self.local is not None and self.local.owns(pid, host)
        old = self.workers.get(ident)
        if old is not None:
            self._lose(old, "re-registered")
        worker = Worker(ident, pid, host, local, now)
        self.workers[ident] = worker
        self.idle.append(ident)
        log.info("worker %s pid %d on %s joined (%s)", ident.decode(errors="replace"), pid, host,
                 "local" if local else "remote")
        if self.on_worker_ready is not None:
            self.on_worker_ready(worker)

    def _on_reply(self, worker: Worker, kind: bytes, tag: bytes, body: bytes, now: float) -> None:
        job = self.inflight.get(tag)
        if job is not None and job.worker == worker.ident:
            del self.inflight[tag]
            self._send_front(job.envelope, body)
        if worker.jobs and worker.jobs[0].tag == tag:
            worker.jobs.popleft()
            if worker.jobs:  # the prefetched request starts now
                worker.jobs[0].started = now
                worker.jobs[0].expires = now + self.options.request_timeout
        if kind == p.RETIRE:  # it exits without reading what else it was sent
            worker.leaving = True
            self._forget(worker)
            self._take_back(list(worker.jobs), now)
            worker.jobs.clear()
        elif not worker.leaving and not worker.jobs:
            self.idle.append(worker.ident)
        if kind == p.SHUTDOWN:
            self._shutdown_requested = True
            self.stop()

    def _forget(self, worker: Worker) -> None:
        self.workers.pop(worker.ident, None)

    def _lose(self, worker: Worker, reason: str) -> None:
        """A worker is gone: answer the request it was running, requeue the ones it had not begun."""
        self._forget(worker)
        jobs = list(worker.jobs)
        worker.jobs.clear()
        if jobs and self.inflight.get(jobs[0].tag) is jobs[0]:
            self._fail(jobs[0], f"worker lost while handling {peek_method(jobs[0].body)}", "worker_lost")
        self._take_back(jobs[1:], time.monotonic())
        log.log(logging.INFO if self._stopping else logging.WARNING,
                "worker pid %d on %s lost (%s)", worker.pid, worker.host, reason)

    def local_worker_exited(self, pid: int, clean: bool = False) -> None:
        """Called by the pool when a local worker process ends (crash, kill, retirement).

        A clean exit (a retirement) sent its last reply just before exiting, and that
        reply may still be on its way through the sockets when the exit is seen: such
        a worker gets no more requests and is dropped a moment later, so its reply is
        delivered rather than replaced by a `worker lost` error.
        """
        if self._closed:
            return
        self._on_readable()
        for worker in list(self.workers.values()):
            if worker.local and worker.pid == pid:
                if clean:
                    self._lose_soon(worker, "process exited")
                else:
                    self._lose(worker, "process exited")
        self._on_readable()

    def _lose_soon(self, worker: Worker, reason: str) -> None:
        """A worker that went away on its own (retired, disconnected) may have sent a last reply
        that is still crossing the sockets: send it nothing more, and drop it after EXIT_GRACE."""
        if worker.leaving and worker.ident not in self.workers:
            return
        worker.leaving = True
        asyncio.get_running_loop().call_later(EXIT_GRACE, self._lose_late, worker, reason)

    def _lose_late(self, worker: Worker, reason: str) -> None:
        if self.workers.get(worker.ident) is worker and not self._closed:
            self._lose(worker, reason)
            self._on_readable()

    # ---- liveness ----------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        interval = p.HEARTBEAT_INTERVAL
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for worker in list(self.workers.values()):
                if now - worker.last_seen > interval * p.HEARTBEAT_LIVENESS:
                    if worker.local and self.local is not None:
                        self.local.kill(worker.pid)
                    self._lose(worker, "heartbeat timeout")
                    continue
                try:
                    self._back.send_multipart([worker.ident, p.HEARTBEAT], zmq.NOBLOCK)
                except zmq.ZMQError:
                    self._lose_soon(worker, "unreachable")
            self._on_readable()

    def pool_size(self) -> int:
        return sum(1 for w in self.workers.values() if not w.leaving)
