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
import resource
import socket
import struct

import zmq
from zmq.utils.monitor import parse_monitor_message

log = logging.getLogger("scapyrpc.broker")

_SO_ATTACH_FILTER = 26
_SO_DETACH_FILTER = 27
_DROP_ALL = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))  # BPF_RET|BPF_K 0: drop
_DROP_PROGRAM = struct.pack("HL", 1, ctypes.addressof(_DROP_ALL))  # struct sock_fprog
_REFUSED = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH
RESERVED_FDS = 256  # descriptors kept for workers, pidfds, logs and ZeroMQ's own


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
    if not endpoint.startswith("tcp://"):
        return None
    host, _, port = endpoint[len("tcp://"):].rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    address = {"*": "0.0.0.0", "": "0.0.0.0"}.get(host, host)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, 0 if port in ("*", "0") else int(port)))
        sock.listen(100)
    except OSError:
        sock.close()
        raise
    return sock


class ConnectionGate:
    """Counts the frontend's connections; closes the door at `limit`, opens it at 90 % of it."""

    def __init__(self, front: zmq.Socket[bytes], listener: socket.socket | None, limit: int, peer: str = "client") -> None:
        self.listener = listener
        self.peer = peer  # what its peers are, for the log
        self.limit = limit
        self.connections = 0
        self.closed = False
        self.monitor = front.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED | _REFUSED)
        self._refused_peers: set[str] = set()

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
            elif event == zmq.EVENT_DISCONNECTED:
                self.connections -= 1
            else:
                self._refused(message["endpoint"].decode(errors="replace"), event)
        if not self.closed and self.connections >= self.limit:
            self._filter(True)
            log.warning("%d client connections: new ones are refused until fewer than %d remain",
                        self.connections, int(self.limit * 0.9))
        elif self.closed and self.connections < self.limit * 0.9:
            self._filter(False)
            log.warning("%d client connections: accepting new ones again", self.connections)

    def _refused(self, endpoint: str, event: int) -> None:
        """A peer failed the handshake (a plain client of a CurveZMQ server, an unknown key): log once
        per host. For an accepted connection libzmq names the remote end in the event."""
        peer = endpoint.rpartition(":")[0] or endpoint
        if peer in self._refused_peers:
            return
        if len(self._refused_peers) > 10_000:
            self._refused_peers.clear()
        self._refused_peers.add(peer)
        why = "its key is not admitted" if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH else "no CurveZMQ handshake"
        log.warning("refused a %s at %s: %s (logged once per host)", self.peer, endpoint, why)

    def _filter(self, drop: bool) -> None:
        if self.listener is None:
            return
        if drop:
            self.listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, _DROP_PROGRAM)
        else:
            self.listener.setsockopt(socket.SOL_SOCKET, _SO_DETACH_FILTER, 0)
        self.closed = drop

    def close(self) -> None:
        self.monitor.close(linger=0)
        if self.listener is not None:
            self.listener.close()
