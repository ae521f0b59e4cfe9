"""The broker's I/O shell: two ROUTER sockets, one pump, the timer, and the core's actions performed.

Everything the broker decides is in `scheduler.py`; this module only moves
bytes. `_pump` is the one place input is read: it drains the socket that woke
it (frame counts capped, sizes counted), feeds each message to the core with
the time, performs the actions the core returned, and drains again any socket
it sent on — ZeroMQ's descriptors are edge-triggered and a send can take the
edge — until no input is left. Every other entry point (timer, pool event,
signal, the HTTP gateway) feeds its event and then pumps both sockets. It never
imports Scapy and reads JSON only to write the error replies it makes and for
requests whose bytes name shut_down. Frames to and from workers: `protocol.py`.

What it answered is observed after each reply, when asked for: counted for
the metrics (`metrics.Recorder`, with the worker's note and the time since the
request was accepted) and, at log level info, one line per request (method,
id, outcome, duration, worker; the id peeked from the reply's first bytes).
At debug level request and reply bodies are logged, truncated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import time
from typing import Any, Callable, Protocol

import zmq
from zmq.auth.asyncio import AsyncioAuthenticator

from scapyrpc.wire import curve
from scapyrpc.wire import frames as p
from scapyrpc.broker import core
from scapyrpc.wire import endpoints
from scapyrpc.wire.endpoints import is_loopback
from scapyrpc.config.options import BrokerConfig
from scapyrpc.broker.connections import RESERVED_FDS, ConnectionGate, listening_socket, raise_fd_limit
from scapyrpc.ops.metrics import Recorder
from scapyrpc.pool.local import LocalPool
from scapyrpc.wire.jsonrpc import peek_id, peek_method, reply_id, scapy_error_body

log = logging.getLogger("scapyrpc.broker")

LOGGED_BYTES = 300  # how much of a message debug logging shows
TRACKED_BYTES = 64 * 1024  # replies this large are counted until the client has read them
DISCARD_BATCH = 20_000  # frames of an oversized message dropped per pump, so others are not starved
_MORE = int(zmq.SNDMORE | zmq.NOBLOCK)  # plain ints: pyzmq's flag enums cost more than the send
_LAST = int(zmq.NOBLOCK)
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)

_MESSAGES: dict[str, Callable[[BrokerConfig, bytes, float], str]] = {
    "busy": lambda c, body, n: "server busy, try again later",
    "too_large": lambda c, body, n: f"request of {n:.0f} bytes exceeds the limit of {c.max_request_bytes} bytes",
    "stopping": lambda c, body, n: "server is shutting down",
    "deadline": lambda c, body, n: f"request deadline of {n:g} s exceeded while handling {peek_method(body)}",
    "no_worker": lambda c, body, n: f"no worker became available within {n:g} s",
    "worker_lost": lambda c, body, n: f"worker lost while handling {peek_method(body)}",
}


class Broker:
    """The sockets and timer around a `scheduler.Scheduler`; `serve()` runs it."""

    def __init__(self, config: BrokerConfig, frontend: str, backend: str, local_workers: int = 0,
                 admission: curve.Admission | None = None, recorder: Recorder | None = None) -> None:
        self.config = config
        self.admission = admission
        self.endpoints = (frontend, backend)
        self.core = core.Scheduler(config, local_workers)
        self.pool: LocalPool | None = None
        self.gate: ConnectionGate | None = None
        self.worker_gate: ConnectionGate | None = None  # logs refused workers on a CurveZMQ backend
        self.authenticator: AsyncioAuthenticator | None = None
        self.ctx = zmq.Context()
        self.front = self.ctx.socket(zmq.ROUTER)
        self.back = self.ctx.socket(zmq.ROUTER)
        self._configure_sockets()
        self.ready = asyncio.Event()  # every local worker has said READY once
        self.listener: BrokerListener | None = None  # told of pool changes and the stop
        # requests and replies, their bytes, and refusals by reason (read by metrics.Collector)
        self.stats: dict[str, int] = {"requests": 0, "replies": 0, "bytes_in": 0, "bytes_out": 0}
        self.gone: dict[tuple[str, bool], int] = {}  # workers that left the pool: (reason, local) -> count
        self.recorder = recorder
        self._perform = {
            core.ToWorker: self._to_worker, core.ToClient: self._to_client, core.Refuse: self._refuse,
            core.Ping: self._ping, core.StartWorker: self._start_worker, core.Kill: self._kill,
            core.Terminate: self._terminate, core.PoolReady: self._pool_ready, core.Stopping: self._stopping,
            core.WorkerGone: self._worker_gone,
            core.Stopped: self._stopped,
        }
        self._done: asyncio.Future[bool] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._discarding: dict[zmq.Socket, bytes] = {}  # socket -> peer whose oversized message is being dropped
        self._warned: set[bytes] = set()  # peers already logged for a dropped message
        self._remote_peers: dict[str, bool] = {}  # Peer-Address -> beyond this host
        self._backlog: dict[bytes, list[tuple[zmq.MessageTracker, int]]] = {}  # unread large replies per client
        self._backlog_bytes = 0
        self._log_requests = log.isEnabledFor(logging.INFO)
        self._log_bodies = log.isEnabledFor(logging.DEBUG)
        self._observing = recorder is not None or self._log_requests
        self._sent_front = self._sent_back = False  # set by sends: their edge must be looked at again
        self._host = socket.gethostname()

    def _configure_sockets(self) -> None:
        cfg = self.config
        front, back = self.front, self.back
        front.setsockopt(zmq.LINGER, 2000)
        # per frame: a larger one closes the connection unanswered; below it, too large is answered
        front.setsockopt(zmq.MAXMSGSIZE, max(2 * cfg.max_request_bytes, 64 * 1024 * 1024))
        front.setsockopt(zmq.SNDHWM, 64)  # replies queued per client (REQ: 1); past it they are dropped
        front.setsockopt(zmq.RCVHWM, 64)
        front.setsockopt(zmq.HANDSHAKE_IVL, 5000)  # a connection that never speaks ZMTP is closed
        front.setsockopt(zmq.HEARTBEAT_IVL, 10_000)  # ZMTP pings: a peer that vanished is closed
        front.setsockopt(zmq.HEARTBEAT_TIMEOUT, 30_000)
        back.setsockopt(zmq.LINGER, 0)
        back.setsockopt(zmq.ROUTER_MANDATORY, 1)
        back.setsockopt(zmq.SNDHWM, 0)
        back.setsockopt(zmq.RCVHWM, 0)
        back.setsockopt(zmq.MAXMSGSIZE, -1)

    # ---- lifecycle -------------------------------------------------------------------

    def bind(self) -> None:
        """Bind both sockets; raises OSError or zmq.ZMQError if an endpoint is taken."""
        frontend, backend = self.endpoints
        descriptors = raise_fd_limit() - RESERVED_FDS - 4 * self.core.local_workers
        limit = min(self.config.max_connections or descriptors, descriptors)
        log.info("at most %d client connections (--max-connections %d, %d descriptors to spare)",
                 limit, self.config.max_connections, descriptors)
        listener = listening_socket(frontend)
        if listener is not None:  # our own listening socket, so the gate can close it (gate.py)
            self.front.setsockopt(zmq.USE_FD, os.dup(listener.fileno()))  # libzmq closes its copy
            frontend = str(endpoints.parse(frontend).with_port(listener.getsockname()[1]))
        self.gate = ConnectionGate(self.front, listener, max(1, limit))
        if self.admission is not None:  # CurveZMQ: a ZAP handler on this loop admits the peers
            self.authenticator = curve.start_authenticator(self.ctx, self.admission)
            curve.as_server(self.front, self.admission.pair, curve.CLIENTS)
            if self.admission.workers is not None:
                curve.as_server(self.back, self.admission.pair, curve.WORKERS)
                self.worker_gate = ConnectionGate(self.back, None, 1 << 30, peer="worker")
        self.front.bind(frontend)
        self.back.bind(backend)

    @property
    def frontend_endpoint(self) -> str:
        return self.front.getsockopt(zmq.LAST_ENDPOINT).decode()

    @property
    def backend_endpoint(self) -> str:
        return self.back.getsockopt(zmq.LAST_ENDPOINT).decode()

    def attach(self, pool: LocalPool) -> None:
        self.pool = pool

    # in-process clients (the HTTP gateway): the same queue, bounds and deadlines as ZeroMQ ones
    def submit(self, client: bytes, body: bytes, reply: Callable[[bytes], None], remote: bool = False) -> None:
        """Queue one request for `client`; `reply(body)` is called once, on this event loop.
        `remote`: from beyond this host (shut_down is then refused unless allowed)."""
        self.stats["requests"] += 1
        self.stats["bytes_in"] += len(body)
        self.core.request(client, reply, body, len(body), time.monotonic(),
                          remote and not self.config.allow_remote_shutdown)
        self.pump()

    def disconnect(self, client: bytes) -> None:
        """`client` went away: what it waits for is dropped, replies still to come are discarded."""
        self.core.client_gone(client)
        self.pump()

    # the pool's events (PoolEvents)
    def started(self, pid: int) -> None:
        self.step(self.core.started, pid)

    def start_failed(self) -> None:
        self.step(self.core.start_failed)

    def exited(self, pid: int) -> None:
        self.step(self.core.exited, pid)

    async def serve(self) -> bool:
        """Run until the core says everything has stopped; True if a client asked for shut_down."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        loop.add_reader(self.front.FD, self._pump, self.front)
        loop.add_reader(self.back.FD, self._pump, self.back)
        for gate in (self.gate, self.worker_gate):
            if gate is not None:
                loop.add_reader(gate.monitor.FD, gate.drain)
                gate.drain()  # edge-triggered: take what came before the reader was added
        self._timer = loop.call_later(self.config.tick, self._on_tick)
        self.step(self.core.tick)  # asks for the local workers
        try:
            return await self._done
        finally:
            for sock in (self.front, self.back):
                loop.remove_reader(sock.FD)
            if self._timer is not None:
                self._timer.cancel()
            for gate in (self.gate, self.worker_gate):
                if gate is not None:
                    loop.remove_reader(gate.monitor.FD)
                    gate.close()
            if self.authenticator is not None:
                self.authenticator.stop()
            self.front.close(linger=2000)
            self.back.close(linger=0)
            self.ctx.term()

    def stop(self) -> None:
        """Graceful stop: refuse new requests, finish queued and running ones, end the workers."""
        self.step(self.core.stop)

    def _on_tick(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.config.tick, self._on_tick)
        if self.pool is not None:
            self.pool.reap()
        self._sweep_backlog()
        self.step(self.core.tick)

    # ---- the pump ----------------------------------------------------------------------

    def step(self, event: Callable[..., None], *args: Any) -> None:
        """Feed one event to the core (with the time), then pump."""
        event(*args, time.monotonic())
        self.pump()

    def pump(self) -> None:
        """Read every waiting message on both sockets, feed the core, perform its actions; until idle."""
        self._pump(None)

    def _pump(self, readable: zmq.Socket | None) -> None:
        """`pump` for one socket that became readable (None: both)."""
        front, back = self.front, self.back
        check = (front, back) if readable is None else (readable,)
        while check:
            now = time.monotonic()
            for sock in check:
                if sock is front:
                    self._read_front(now)
                else:
                    self._read_back(now)
            self._sent_front = self._sent_back = False
            self._flush()
            # a send may have taken the edge of its socket's descriptor: look at those again
            check = tuple(sock for sock, sent in ((front, self._sent_front), (back, self._sent_back))
                          if sent and sock.getsockopt(_EVENTS) & _POLLIN)
        if self._discarding:  # give the rest of the loop a turn between batches of junk frames
            for sock in self._discarding:
                asyncio.get_running_loop().call_soon(self._pump, sock)

    def _flush(self) -> None:
        outbox = self.core.outbox
        perform = self._perform
        while outbox:
            actions = outbox[:]
            outbox.clear()
            for action in actions:
                perform[type(action)](action)

    def _recv(self, sock: zmq.Socket, cap: int) -> list[zmq.Frame] | None:
        """One message of at most `cap` frames, or None (nothing waiting, or a message dropped)."""
        if sock in self._discarding and not self._discard(sock):
            return None
        recv = sock.recv
        try:
            frame = recv(_LAST, copy=False)
        except zmq.Again:
            return None
        frames = [frame]
        while frame.more:
            if len(frames) == cap:
                self._discarding[sock] = frames[0].bytes
                self._discard(sock)
                return None
            frame = recv(copy=False)
            frames.append(frame)
        return frames

    def _discard(self, sock: zmq.Socket) -> bool:
        """Drop the rest of an oversized message, a batch at a time; True once it is all gone."""
        recv = sock.recv
        for _ in range(DISCARD_BATCH):
            if not recv(copy=False).more:
                peer = self._discarding.pop(sock)
                self._warn_once(peer, f"dropped a message of more than the allowed frames from peer {peer.hex()}")
                return True
        return False

    def _warn_once(self, peer: bytes, message: str) -> None:
        if peer not in self._warned:
            if len(self._warned) > 10_000:
                self._warned.clear()
            self._warned.add(peer)
            log.warning(message)

    # ---- frontend ----------------------------------------------------------------------

    def _read_front(self, now: float) -> None:
        request = self.core.request
        cap = self.config.max_frames
        stats = self.stats
        log_bodies = self._log_bodies
        check_peer = not self.config.allow_remote_shutdown
        while (frames := self._recv(self.front, cap)) is not None:
            envelope = [frame.bytes for frame in frames]
            client, body = envelope[0], envelope.pop()
            stats["requests"] += 1
            stats["bytes_in"] += len(body)
            if log_bodies:
                log.debug("<- %s %s", client.hex(), body[:LOGGED_BYTES].decode(errors="replace"))
            if client in self._backlog and self._over_backlog(client, 0):
                self._warn_once(client, f"dropped requests of peer {client.hex()}: it does not read its replies")
                continue
            remote = check_peer and self._from_afar(frames[-1])
            request(client, envelope, body, sum(map(len, frames)), now, remote)

    def _from_afar(self, frame: zmq.Frame) -> bool:
        """Whether a message came from beyond this host (its worker then refuses shut_down; the
        worker decides, on the method it parsed). Loopback and ipc peers are this host."""
        try:
            peer = frame.get("Peer-Address")
        except zmq.ZMQError:
            return False  # inproc: this process
        remote = self._remote_peers.get(peer)
        if remote is None:
            if len(self._remote_peers) > 10_000:
                self._remote_peers.clear()
            remote = self._remote_peers[peer] = not is_loopback(peer)
        return remote

    def _send_front(self, envelope: list[bytes], body: bytes | memoryview) -> None:
        self._sent_front = True
        client = envelope[0]
        tracked = len(body) >= TRACKED_BYTES
        if tracked:
            body = self._deliverable(body)
            tracked = len(body) >= TRACKED_BYTES
            if tracked and self._over_backlog(client, len(body)):
                self._warn_once(client, f"dropped a {len(body)}-byte reply to peer {client.hex()}: "
                                        "its unread replies exceed the backlog limit")
                return
        send = self.front.send
        try:
            for frame in envelope:
                send(frame, _MORE)
            if tracked:  # counted against its client's and the total backlog until ZeroMQ has sent it
                tracker = send(body, _LAST, copy=False, track=True)
                self._backlog.setdefault(client, []).append((tracker, len(body)))
                self._backlog_bytes += len(body)
            else:
                send(body, _LAST)
        except zmq.ZMQError as exc:  # the client is gone or its queue is full: nobody reads this
            log.debug("reply dropped: %s", exc)
            return
        stats = self.stats
        stats["replies"] += 1
        stats["bytes_out"] += len(body)
        if self._log_bodies:
            log.debug("-> %s %s", client.hex(), bytes(body[:LOGGED_BYTES]).decode(errors="replace"))

    def _over_backlog(self, client: bytes, more: int) -> bool:
        self._sweep_backlog(client)
        held = sum(size for _, size in self._backlog.get(client, ()))
        return (held + more > self.config.max_client_backlog_bytes
                or self._backlog_bytes + more > self.config.max_backlog_bytes)

    def _sweep_backlog(self, only: bytes | None = None) -> None:
        """Forget replies ZeroMQ has handed to the kernel (read, or at least on their way)."""
        for client in [only] if only is not None else list(self._backlog):
            entries = self._backlog.get(client)
            if entries is None:
                continue
            left = [(t, n) for t, n in entries if not t.done]
            self._backlog_bytes -= sum(n for t, n in entries if t.done)
            if left:
                self._backlog[client] = left
            else:
                del self._backlog[client]

    # ---- backend -----------------------------------------------------------------------

    def _read_back(self, now: float) -> None:
        c = self.core
        while (frames := self._recv(self.back, 5)) is not None:
            if len(frames) < 2:
                continue
            ident = frames[0].bytes
            if len(frames) == 2 and len(frames[1]) > p.HEAD_BYTES and frames[1].buffer[0:1] in p.REPLY_KINDS:
                kind, tag, note, body = p.split_reply(frames[1])
                c.reply(ident, tag, body, kind == p.RETIRE, kind == p.SHUTDOWN, now, note)
                continue
            head = frames[1].bytes
            if head == p.HEARTBEAT and len(frames) == 3:
                c.heartbeat(frames[2].bytes, now)
            elif head == p.READY and len(frames) == 5 and frames[4].bytes == p.VERSION:
                self._ready(ident, frames[2].bytes, frames[3].bytes, now)
                if self.listener is not None:
                    self.listener.pool_changed()
            elif head == p.READY:  # once per process: it rejoins every few seconds
                who = b" ".join(frame.bytes[:255] for frame in frames[2:4])
                self._warn_once(who, f"worker {who.decode(errors='replace')} speaks another frame layout and was "
                                     "not admitted: run the same scapyrpc version on the broker and its workers")
            elif head == p.GONE:
                c.left(ident, now)

    def _ready(self, ident: bytes, pid: bytes, host: bytes, now: float) -> None:
        pid_number = int(pid) if pid.isdigit() and len(pid) <= 10 else 0  # int() refuses 4300+ digits
        name = host.decode(errors="replace")[:255]
        self.core.ready(ident, pid_number, name, self.pool is not None and name == self._host, now)
        worker = self.core.workers.get(ident)
        log.info("worker %s pid %d on %s joined (%s)", ident.decode(errors="replace"), pid_number,
                 name, "local" if worker is not None and worker.local else "remote")

    # ---- actions -----------------------------------------------------------------------

    def _to_worker(self, a: core.ToWorker) -> None:
        self._sent_back = True
        send = self.back.send
        try:
            send(a.ident, _MORE)
            send(p.request(a.tag, a.body, a.remote), _LAST)
        except zmq.ZMQError:  # it disconnected: the request never left
            self.core.unreachable(a.ident, a.tag, time.monotonic())

    def _ping(self, a: core.Ping) -> None:
        self._sent_back = True
        try:
            self.back.send_multipart([a.ident, p.HEARTBEAT], zmq.NOBLOCK)
        except zmq.ZMQError:
            self.core.unreachable(a.ident, 0, time.monotonic())

    def _to_client(self, a: core.ToClient) -> None:
        self._deliver(a.route, a.body)
        if self._observing:
            seconds = time.monotonic() - a.accepted
            if self.recorder is not None:
                self.recorder.replied(a.note, seconds)
            if self._log_requests:
                method, _, outcome = a.note.decode("ascii", "replace").partition(" ")
                self._log_request(method, a.body, outcome, seconds, a.pid)

    def _deliver(self, route: Any, body: bytes | memoryview) -> None:
        if type(route) is list:
            self._send_front(route, body)
        else:  # an in-process client (the HTTP gateway)
            body = self._deliverable(body)
            stats = self.stats
            stats["replies"] += 1
            stats["bytes_out"] += len(body)
            route(body)

    def _deliverable(self, body: bytes | memoryview) -> bytes | memoryview:
        """`body`, or an error reply to its request when it is larger than a client may ever hold."""
        limit = min(self.config.max_client_backlog_bytes, self.config.max_backlog_bytes)
        if len(body) <= limit:
            return body
        return scapy_error_body(reply_id(body),
                                f"reply of {len(body)} bytes exceeds the limit of {limit} bytes")

    def _refuse(self, a: core.Refuse) -> None:
        message = _MESSAGES[a.reason](self.config, a.body, a.detail)
        self.stats[a.reason] = self.stats.get(a.reason, 0) + 1
        reply = scapy_error_body(peek_id(a.body), message)
        self._deliver(a.route, reply)
        if self._log_requests:
            self._log_refusal(a.reason, reply, a.accepted)

    def _log_refusal(self, reason: str, reply: bytes, accepted: float) -> None:
        self._log_request("-", reply, reason, time.monotonic() - accepted, None)

    @staticmethod
    def _log_request(method: str, reply: bytes | memoryview, outcome: str, seconds: float, pid: int | None) -> None:
        """The info line of one answered request (`pid`: the worker's; None: the broker answered)."""
        request_id = reply_id(reply)
        milliseconds = round(seconds * 1000, 3)
        log.info("%s id=%s %s %.3f ms %s", method, json.dumps(request_id), outcome, milliseconds,
                 "broker" if pid is None else f"worker {pid}",
                 extra={"fields": {"method": method, "id": request_id, "outcome": outcome,
                                   "duration_ms": milliseconds, "worker": pid}})

    def _start_worker(self, a: core.StartWorker) -> None:
        if self.pool is None:
            self.core.start_failed(time.monotonic())
        else:
            self.pool.start_worker()

    def _kill(self, a: core.Kill) -> None:
        if self.pool is not None:
            self.pool.signal(a.pid, signal.SIGKILL)

    def _terminate(self, a: core.Terminate) -> None:
        if self.pool is not None:
            self.pool.signal(a.pid, signal.SIGTERM)

    def _worker_gone(self, a: core.WorkerGone) -> None:
        quiet = self.core.stopping or a.reason in ("retired", "left")
        log.log(logging.INFO if quiet else logging.WARNING, "worker pid %d on %s lost (%s)", a.pid, a.host, a.reason)
        key = (a.reason, a.local)
        self.gone[key] = self.gone.get(key, 0) + 1
        if self.listener is not None:
            self.listener.pool_changed()

    def _pool_ready(self, a: core.PoolReady) -> None:
        self.ready.set()

    def _stopping(self, a: core.Stopping) -> None:
        log.info("stopping: %d queued, %d in flight", self.core.queue.count, len(self.core.inflight))
        if self.pool is not None:
            self.pool.stop_starting()
        if self.listener is not None:
            self.listener.stopping()

    def _stopped(self, a: core.Stopped) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(a.shutdown_requested)


class BrokerListener(Protocol):
    """Told what an outside observer (systemd's notification, `service_status.py`) wants to hear."""

    def pool_changed(self) -> None:
        """A worker joined or left the pool."""

    def stopping(self) -> None:
        """The stop has begun: from now on new requests are refused."""
