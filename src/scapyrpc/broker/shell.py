"""The broker's I/O shell: two ROUTER sockets, one pump, the timer, and the core's actions performed.

Everything the broker decides is in `core.py`; this module only moves
bytes. `_pump` is the one place input is read: it drains the socket that woke
it (frame counts capped, sizes counted), feeds each message to the core with
the time, performs the actions it takes from the core (`drain`), and drains
again any socket it sent on — ZeroMQ's descriptors are edge-triggered and a
send can take the edge — until no input is left. Every other entry point
(timer, pool event, signal, the HTTP gateway) feeds its event and then pumps
both sockets. It never imports Scapy and reads JSON only to write the error
replies it makes (a request's id and method); whether a shut_down may be
honoured is the worker's decision, on the request it parsed (the shell only
marks requests from beyond this host). Frames to and from workers:
`wire/frames.py`.

Around it, through interfaces given to its constructor (`figures.py`,
`Pool`): the local pool, made by a factory once the backend is bound, which
reports to the broker; a `ReplyObserver` told of each worker's reply (the
metrics: its note and the time since the request was accepted); a
`BrokerListener` told when the pool changes and when the stop begins. Anyone
may read `figures()`. At log level info one line per request is logged
(method, id, outcome, duration, worker; the id peeked from the reply's first
bytes); at debug level request and reply bodies, truncated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, TypeAlias, cast, get_args

import zmq
from zmq.auth.asyncio import AsyncioAuthenticator

from scapyrpc.broker import actions
from scapyrpc.broker.connections import RESERVED_FDS, ConnectionGate, listening_socket, raise_fd_limit
from scapyrpc.broker.core import ReplyKind, Scheduler
from scapyrpc.broker.figures import BrokerListener, Figures, ReplyObserver, Traffic
from scapyrpc.broker.reasons import Refusal
from scapyrpc.broker.replycache import ReplyCache, read
from scapyrpc.config.options import BrokerConfig, MiB
from scapyrpc.wire import curve, endpoints
from scapyrpc.wire import frames as p
from scapyrpc.wire.endpoints import is_loopback
from scapyrpc.wire.jsonrpc import peek_id, peek_method, reply_id, scapy_error_body

__all__ = ["Broker", "Pool", "PoolFactory"]

log = logging.getLogger("scapyrpc.broker")

LOGGED_BYTES = 300  # how much of a message debug logging shows
TRACKED_BYTES = 64 * 1024  # replies this large are counted until the client has read them
DISCARD_BATCH = 20_000  # frames of an oversized message dropped per pump, so others are not starved
_MORE = int(zmq.SNDMORE | zmq.NOBLOCK)  # plain ints: pyzmq's flag enums cost more than the send
_LAST = int(zmq.NOBLOCK)
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)

_REPLY_KINDS = {p.REPLY: ReplyKind.STAY, p.RETIRE: ReplyKind.RETIRE, p.SHUTDOWN: ReplyKind.SHUTDOWN}

Socket: TypeAlias = "zmq.Socket[bytes]"


class Pool(Protocol):
    """The local worker processes (`pool/local.py`): it decides nothing, the core does."""

    def start(self) -> None:
        """Begin (warm up what workers are started from)."""

    def start_worker(self) -> None:
        """Start one worker; report it to the broker with `started` or `start_failed`."""

    def signal(self, pid: int, sig: int) -> None:
        """Signal a worker process not yet reaped."""

    def stop_starting(self) -> None:
        """The server is stopping: start nothing more (each start asked for is reported failed)."""

    def reap(self) -> None:
        """Collect exited processes (each reported to the broker with `exited`)."""

    async def close(self) -> None:
        """End what the pool itself runs (after its workers have exited)."""


PoolFactory: TypeAlias = "Callable[[str, Broker], Pool]"  # (bound backend endpoint, where to report) -> pool


class Broker:
    """The sockets and timer around a `core.Scheduler`; `serve()` runs it.

    `pool` makes the local pool once the backend is bound (None: no local workers), `recorder`
    is told of every worker's reply, `listener` of pool changes and the stop; `other_connections`
    is how many descriptors this process's other listeners (the HTTP side, metrics) may take:
    they come out of the same budget as the ZeroMQ clients' connections."""

    def __init__(
        self,
        config: BrokerConfig,
        frontend: str,
        backend: str,
        local_workers: int = 0,
        admission: curve.Admission | None = None,
        *,
        pool: PoolFactory | None = None,
        recorder: ReplyObserver | None = None,
        listener: BrokerListener | None = None,
        other_connections: int = 0,
    ) -> None:
        self.config = config
        self.other_connections = other_connections
        self.admission = admission
        self.endpoints = (frontend, backend)
        self._core = Scheduler(config, local_workers)
        self._cache = ReplyCache(config.reply_cache_mb * MiB)
        self._methods: set[str] = set()  # method names workers answered: a request's label if it is one
        self._notes: set[bytes] = set()  # notes seen, so each is looked at once
        self._traffic = Traffic()
        self.gate: ConnectionGate | None = None
        self.worker_gate: ConnectionGate | None = None  # logs refused workers on a CurveZMQ backend
        self.authenticator: AsyncioAuthenticator | None = None
        self.ctx: zmq.Context[Socket] = zmq.Context()
        self.front: Socket = self.ctx.socket(zmq.ROUTER)
        self.back: Socket = self.ctx.socket(zmq.ROUTER)
        self._configure_sockets()
        self.ready = asyncio.Event()  # every local worker has said READY once
        self._make_pool = pool
        self._pool: Pool | None = None  # made by bind()
        self._recorder = recorder
        self._listener = listener
        self._perform: dict[type[actions.Action], Callable[[Any], None]] = {
            actions.ToWorker: self._to_worker,
            actions.ToClient: self._to_client,
            actions.Refuse: self._refuse,
            actions.Ping: self._ping,
            actions.StartWorker: self._start_worker,
            actions.Kill: self._kill,
            actions.Terminate: self._terminate,
            actions.PoolReady: self._pool_ready,
            actions.Stopping: self._stopping,
            actions.WorkerGone: self._worker_gone,
            actions.Stopped: self._stopped,
        }
        assert set(self._perform) == set(get_args(actions.Action))  # every action has its performer
        self._done: asyncio.Future[bool] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._discarding: dict[Socket, bytes] = {}  # socket -> peer whose oversized message is being dropped
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
        """Bind both sockets, then make and start the local pool (its workers connect to the bound
        backend); raises OSError or zmq.ZMQError if an endpoint is taken."""
        frontend, backend = self.endpoints
        descriptors = raise_fd_limit() - RESERVED_FDS - 4 * self._core.local_workers - self.other_connections
        limit = min(self.config.max_connections or descriptors, descriptors)
        log.info(
            "at most %d client connections (--max-connections %d, %d descriptors to spare, %d kept for "
            "HTTP and metrics)",
            limit,
            self.config.max_connections,
            descriptors,
            self.other_connections,
        )
        listener = listening_socket(frontend)
        if listener is not None:  # our own listening socket, so the gate can close it (connections.py)
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
        if self._make_pool is not None:
            self._pool = self._make_pool(self.backend_endpoint, self)
            self._pool.start()

    async def close(self) -> None:
        """After `serve()`: end what the local pool itself runs (its workers have exited by then)."""
        if self._pool is not None:
            await self._pool.close()

    @property
    def frontend_endpoint(self) -> str:
        return cast(bytes, self.front.getsockopt(zmq.LAST_ENDPOINT)).decode()

    @property
    def backend_endpoint(self) -> str:
        return cast(bytes, self.back.getsockopt(zmq.LAST_ENDPOINT)).decode()

    def figures(self) -> Figures:
        """The broker now (`figures.Figures`); callable from any thread."""
        return self._core.figures(replace(self._traffic), self._cache.figures())

    # in-process clients (the HTTP gateway): the same queue, bounds and deadlines as ZeroMQ ones
    def submit(self, client: bytes, body: bytes, reply: Callable[[bytes], None], remote: bool = False) -> None:
        """Queue one request for `client`; `reply(body)` is called once, on this event loop.
        `remote`: from beyond this host (shut_down is then refused unless allowed)."""
        traffic = self._traffic
        traffic.requests += 1
        traffic.bytes_in += len(body)
        now = time.monotonic()
        label = self._answer_or_label(reply, body, len(body), now)
        if label is not None:
            self._core.request(
                client, reply, body, len(body), now, remote and not self.config.allow_remote_shutdown, label
            )
        self.pump()

    def disconnect(self, client: bytes) -> None:
        """`client` went away: what it waits for is dropped, replies still to come are discarded."""
        self.step(self._core.client_gone, client)

    # the pool's events (PoolEvents)
    def started(self, pid: int) -> None:
        self.step(self._core.started, pid)

    def start_failed(self) -> None:
        self.step(self._core.start_failed)

    def exited(self, pid: int) -> None:
        self.step(self._core.exited, pid)

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
        self.step(self._core.tick)  # asks for the local workers
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
        self.step(self._core.stop)

    def _on_tick(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.config.tick, self._on_tick)
        if self._pool is not None:
            self._pool.reap()
        self._sweep_backlog()
        self.step(self._core.tick)

    # ---- the pump ----------------------------------------------------------------------

    def step(self, event: Callable[..., None], *args: Any) -> None:
        """Feed one event to the core (with the time), then pump."""
        event(*args, time.monotonic())
        self.pump()

    def pump(self) -> None:
        """Read every waiting message on both sockets, feed the core, perform its actions; until idle."""
        self._pump(None)

    def _pump(self, readable: Socket | None) -> None:
        """`pump` for one socket that became readable (None: both)."""
        front, back = self.front, self.back
        check: tuple[Socket, ...] = (front, back) if readable is None else (readable,)
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
            check = tuple(
                sock
                for sock, sent in ((front, self._sent_front), (back, self._sent_back))
                if sent and cast(int, sock.getsockopt(_EVENTS)) & _POLLIN
            )
        if self._discarding:  # give the rest of the loop a turn between batches of junk frames
            for sock in self._discarding:
                asyncio.get_running_loop().call_soon(self._pump, sock)

    def _flush(self) -> None:
        drain, perform = self._core.drain, self._perform
        while actions := drain():
            for action in actions:
                perform[type(action)](action)

    def _recv(self, sock: Socket, cap: int) -> list[zmq.Frame] | None:
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

    def _discard(self, sock: Socket) -> bool:
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
        request = self._core.request
        cap = self.config.max_frames
        traffic = self._traffic
        log_bodies = self._log_bodies
        check_peer = not self.config.allow_remote_shutdown
        while (frames := self._recv(self.front, cap)) is not None:
            envelope = [frame.bytes for frame in frames]
            client, body = envelope[0], envelope.pop()
            traffic.requests += 1
            traffic.bytes_in += len(body)
            if log_bodies:
                log.debug("<- %s %s", client.hex(), body[:LOGGED_BYTES].decode(errors="replace"))
            if client in self._backlog and self._over_backlog(client, 0):
                self._warn_once(client, f"dropped requests of peer {client.hex()}: it does not read its replies")
                continue
            size = sum(map(len, frames))
            label = self._answer_or_label(envelope, body, size, now)
            if label is None:
                continue  # answered from the reply cache
            remote = check_peer and self._from_afar(frames[-1])
            request(client, envelope, body, size, now, remote, label)

    def _answer_or_label(self, route: actions.Route, body: bytes, size: int, now: float) -> str | None:
        """Answer the request from the reply cache (None), or say what kind it is for the core:
        its method, if a worker has answered that method before (else "")."""
        call = read(body)
        if call is None:
            return ""
        core = self._core
        if self._cache.enabled and core.versions and size <= self.config.max_request_bytes and not core.stopping:
            reply = self._cache.answer(call, core.versions)
            if reply is not None:
                self._deliver(route, reply)
                if self._log_requests:
                    self._log_request(call.method, reply, "ok", time.monotonic() - now, None, "cache")
                return None
        return call.method if call.method in self._methods else ""

    def _from_afar(self, frame: zmq.Frame) -> bool:
        """Whether a message came from beyond this host (its worker then refuses shut_down; the
        worker decides, on the method it parsed). Loopback and ipc peers are this host."""
        try:
            peer = cast(str, frame.get("Peer-Address"))
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
                self._warn_once(
                    client,
                    f"dropped a {len(body)}-byte reply to peer {client.hex()}: "
                    "its unread replies exceed the backlog limit",
                )
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
        traffic = self._traffic
        traffic.replies += 1
        traffic.bytes_out += len(body)
        if self._log_bodies:
            log.debug("-> %s %s", client.hex(), bytes(body[:LOGGED_BYTES]).decode(errors="replace"))

    def _over_backlog(self, client: bytes, more: int) -> bool:
        self._sweep_backlog(client)
        held = sum(size for _, size in self._backlog.get(client, ()))
        return (
            held + more > self.config.max_client_backlog_bytes
            or self._backlog_bytes + more > self.config.max_backlog_bytes
        )

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
        c = self._core
        while (frames := self._recv(self.back, 6)) is not None:
            if len(frames) < 2:
                continue
            ident = frames[0].bytes
            if len(frames) == 2 and len(frames[1]) > p.HEAD_BYTES and frames[1].buffer[0:1] in p.REPLY_KINDS:
                kind, tag, note, body = p.split_reply(frames[1])
                c.reply(ident, tag, body, _REPLY_KINDS[kind], now, note)
                continue
            head = frames[1].bytes
            if head == p.HEARTBEAT and len(frames) == 3:
                c.heartbeat(frames[2].bytes, now)
            elif head == p.READY and len(frames) == 6 and frames[4].bytes == p.VERSION:
                self._ready(ident, frames[2].bytes, frames[3].bytes, frames[5].bytes, now)
            elif head == p.READY:  # once per process: it rejoins every few seconds
                who = b" ".join(frame.bytes[:255] for frame in frames[2:4])
                self._warn_once(
                    who,
                    f"worker {who.decode(errors='replace')} speaks another frame layout and was "
                    "not admitted: run the same scapyrpc version on the broker and its workers",
                )
            elif head == p.GONE:
                c.left(ident, now)

    def _ready(self, ident: bytes, pid: bytes, host: bytes, version: bytes, now: float) -> None:
        pid_number = int(pid) if pid.isdigit() and len(pid) <= 10 else 0  # int() refuses 4300+ digits
        name = host.decode(errors="replace")[:255]
        answers = version.decode(errors="replace")[:255]
        self._core.ready(ident, pid_number, name, self._pool is not None and name == self._host, now, answers)
        worker = self._core.workers.get(ident)
        log.info(
            "worker %s pid %d on %s joined (%s), answering as %s",
            ident.decode(errors="replace"),
            pid_number,
            name,
            "local" if worker is not None and worker.local else "remote",
            answers,
        )
        if self._listener is not None:
            self._listener.pool_changed(self.figures())

    # ---- actions -----------------------------------------------------------------------

    def _to_worker(self, a: actions.ToWorker) -> None:
        self._sent_back = True
        send = self.back.send
        try:
            send(a.ident, _MORE)
            send(p.request(a.tag, a.body, a.remote), _LAST)
        except zmq.ZMQError:  # it disconnected: the request never left
            self._core.unreachable(a.ident, a.tag, time.monotonic())

    def _ping(self, a: actions.Ping) -> None:
        self._sent_back = True
        try:
            self.back.send_multipart([a.ident, p.HEARTBEAT], zmq.NOBLOCK)
        except zmq.ZMQError:
            self._core.unreachable(a.ident, 0, time.monotonic())

    def _to_client(self, a: actions.ToClient) -> None:
        self._deliver(a.route, a.body)
        note, keep = p.cacheable(a.note)
        if note not in self._notes:
            self._learn(note)
        if keep:
            self._cache.fill(a.version, note.partition(b" ")[0].decode("ascii", "replace"), a.request, a.body)
        if self._observing:
            seconds = time.monotonic() - a.accepted
            if self._recorder is not None:
                self._recorder.replied(note, seconds)
            if self._log_requests:
                method, _, outcome = note.decode("ascii", "replace").partition(" ")
                self._log_request(method, a.body, outcome, seconds, a.pid)

    def _learn(self, note: bytes) -> None:
        """A note not seen before: its method is one a worker has (requests of it get it as their
        label). Bounded: a worker's notes are few, but a worker is not trusted with memory."""
        if len(self._notes) < 10_000:
            self._notes.add(note)
            self._methods.add(note.partition(b" ")[0].decode("ascii", "replace"))

    def _deliver(self, route: actions.Route, body: bytes | memoryview) -> None:
        if type(route) is list:
            self._send_front(route, body)
        else:  # an in-process client (the HTTP gateway)
            body = self._deliverable(body)
            traffic = self._traffic
            traffic.replies += 1
            traffic.bytes_out += len(body)
            route(body)

    def _deliverable(self, body: bytes | memoryview) -> bytes | memoryview:
        """`body`, or an error reply to its request when it is larger than a client may ever hold."""
        limit = min(self.config.max_client_backlog_bytes, self.config.max_backlog_bytes)
        if len(body) <= limit:
            return body
        return scapy_error_body(reply_id(body), f"reply of {len(body)} bytes exceeds the limit of {limit} bytes")

    def _refuse(self, a: actions.Refuse) -> None:
        reply = scapy_error_body(peek_id(a.body), self._message(a.reason, a.body, a.detail))
        self._deliver(a.route, reply)
        if self._log_requests:
            self._log_request("-", reply, a.reason.label, time.monotonic() - a.accepted, None)

    def _message(self, reason: Refusal, body: bytes, detail: float) -> str:
        """The client's text of a refusal."""
        method = peek_method(body) if reason.names_method else ""
        return reason.template.format(n=detail, limit=self.config.max_request_bytes, method=method)

    @staticmethod
    def _log_request(
        method: str, reply: bytes | memoryview, outcome: str, seconds: float, pid: int | None, by: str = "broker"
    ) -> None:
        """The info line of one answered request (`pid`: the worker's; None: the broker answered,
        `by` saying how: "broker" for its own errors, "cache" for a kept reply)."""
        request_id = reply_id(reply)
        milliseconds = round(seconds * 1000, 3)
        log.info(
            "%s id=%s %s %.3f ms %s",
            method,
            json.dumps(request_id),
            outcome,
            milliseconds,
            by if pid is None else f"worker {pid}",
            extra={
                "fields": {
                    "method": method,
                    "id": request_id,
                    "outcome": outcome,
                    "duration_ms": milliseconds,
                    "worker": pid,
                }
            },
        )

    def _start_worker(self, a: actions.StartWorker) -> None:
        if self._pool is None:
            self._core.start_failed(time.monotonic())
        else:
            self._pool.start_worker()

    def _kill(self, a: actions.Kill) -> None:
        if self._pool is not None:
            self._pool.signal(a.pid, signal.SIGKILL)

    def _terminate(self, a: actions.Terminate) -> None:
        if self._pool is not None:
            self._pool.signal(a.pid, signal.SIGTERM)

    def _worker_gone(self, a: actions.WorkerGone) -> None:
        quiet = self._core.stopping or a.reason.routine
        log.log(
            logging.INFO if quiet else logging.WARNING, "worker pid %d on %s lost (%s)", a.pid, a.host, a.reason.label
        )
        if self._listener is not None:
            self._listener.pool_changed(self.figures())

    def _pool_ready(self, a: actions.PoolReady) -> None:
        self.ready.set()

    def _stopping(self, a: actions.Stopping) -> None:
        figures = self.figures()
        log.info("stopping: %d queued, %d in flight", figures.queued, figures.in_flight)
        if self._pool is not None:
            self._pool.stop_starting()
        if self._listener is not None:
            self._listener.stopping(figures)

    def _stopped(self, a: actions.Stopped) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(a.shutdown_requested)
