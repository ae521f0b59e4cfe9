"""The frontend's connection gate: a bounded number of client connections, refused in the kernel beyond it.

It also logs, once per host, a peer refused during the handshake (a plain client of a CurveZMQ
server, a key that is not admitted); the backend gets a gate of its own for that alone.

libzmq has no connection limit and no way to close one chosen peer; when
accept() fails for want of descriptors (EMFILE) its I/O thread retries at once,
forever, at full CPU, and no one else can connect. So the broker binds its own
listening socket (handed to libzmq with ZMQ_USE_FD), counts connections from
the socket monitor, and at the limit attaches a socket filter that makes the
kernel drop new connection attempts (clients see a connect that does not
complete, and retry) until the count falls below nine tenths of it. Peers
that vanish are closed by ZMTP heartbeats, and connections that never finish
the ZMTP handshake by the handshake interval (set on the socket by the broker).
"""

from __future__ import annotations

import ctypes
import logging
import os
import resource
import socket
import struct
from collections import deque

import zmq
from zmq.utils.monitor import parse_monitor_message

from scapyrpc.wire import endpoints

__all__ = ["RESERVED_FDS", "ConnectionGate", "ListenerDoor", "listening_socket", "raise_fd_limit"]

log = logging.getLogger("scapyrpc.broker")

_SO_ATTACH_FILTER = 26
_SO_DETACH_FILTER = 27
_DROP_ALL = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))  # BPF_RET|BPF_K 0: drop
_DROP_PROGRAM = struct.pack("HL", 1, ctypes.addressof(_DROP_ALL))  # struct sock_fprog
_REFUSED = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH
RESERVED_FDS = 256  # descriptors kept for workers, pidfds, logs, ZeroMQ's own and the limit's overshoot
LISTEN_BACKLOG = 100


def raise_fd_limit() -> int:
    """Lift the soft limit on open files to the hard one; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def listening_socket(endpoint: str) -> socket.socket | None:
    """A bound, listening TCP socket for `tcp://host:port`, or None for other transports."""
    parsed = endpoints.parse(endpoint)
    if parsed.transport != "tcp":
        return None
    address = parsed.bind_address
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, 0 if parsed.port == "*" else int(parsed.port)))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class ListenerDoor:
    """A listening socket's door: closed, the kernel drops new connection attempts (a socket filter
    that lets nothing in), so a full server spends nothing on them; open, they are accepted."""

    def __init__(self, listener: socket.socket | None) -> None:
        self.listener = listener
        self.closed = False

    def close_door(self) -> None:
        self._set(True)

    def open_door(self) -> None:
        self._set(False)

    def _set(self, drop: bool) -> None:
        if self.listener is not None and drop != self.closed:
            if drop:
                self.listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, _DROP_PROGRAM)
            else:
                self.listener.setsockopt(socket.SOL_SOCKET, _SO_DETACH_FILTER, 0)
        self.closed = drop


def _peer_host(fd: int) -> str:
    """The remote address of the connection on descriptor `fd` (libzmq's), without taking it over."""
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            return str(sock.getpeername()[0])
    except OSError:
        return "an unknown host"


class ConnectionGate:
    """Counts the frontend's connections; closes the door at `limit`, opens it at 90 % of it."""

    def __init__(
        self, front: zmq.Socket[bytes], listener: socket.socket | None, limit: int, peer: str = "client"
    ) -> None:
        self.listener = listener
        self.door = ListenerDoor(listener)
        self.peer = peer  # what its peers are, for the log
        self.limit = limit
        self.connections = 0
        self.monitor = front.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED | _REFUSED)
        self._refused_peers: set[str] = set()
        self._peer_of: dict[int, str] = {}  # descriptor of an accepted connection -> the peer's host
        self._failures: deque[int] = deque()  # handshake failures not yet matched to a connection

    @property
    def closed(self) -> bool:
        return self.door.closed

    def drain(self) -> None:
        """Take every waiting monitor event and open or close the door."""
        while True:
            try:
                message = parse_monitor_message(self.monitor.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                break
            event = message["event"]
            if event == zmq.EVENT_ACCEPTED:
                self.connections += 1
                self._peer_of[message["value"]] = _peer_host(message["value"])
            elif event == zmq.EVENT_DISCONNECTED:
                self.connections -= 1
                host = self._peer_of.pop(message["value"], "an unknown host")
                if self._failures:
                    self._refused(host, self._failures.popleft())
            else:
                self._failures.append(event)
        if not self.closed and self.connections >= self.limit:
            self.door.close_door()
            log.warning(
                "%d client connections: new ones are refused until fewer than %d remain",
                self.connections,
                int(self.limit * 0.9),
            )
        elif self.closed and self.connections < self.limit * 0.9:
            self.door.open_door()
            log.warning("%d client connections: accepting new ones again", self.connections)

    def _refused(self, host: str, event: int) -> None:
        """A peer failed the handshake (a plain client of a CurveZMQ server, an unknown key): log once
        per host. libzmq's failure event names only our own endpoint; the connection that failed is
        the next one to close (it is closed at once), whose peer was read when it was accepted."""
        if host in self._refused_peers:
            return
        if len(self._refused_peers) > 10_000:
            self._refused_peers.clear()
        self._refused_peers.add(host)
        why = "its key is not admitted" if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH else "no CurveZMQ handshake"
        log.warning("refused a %s from %s: %s (logged once per host)", self.peer, host, why)

    def close(self) -> None:
        self.monitor.close(linger=0)
        if self.listener is not None:
            self.listener.close()
