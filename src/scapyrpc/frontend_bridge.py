"""A `RequestSink` over the server's own ZeroMQ frontend: one DEALER socket per gateway client.

This is the adapter that lets the HTTP gateway (`http_gateway.py`) run today: it
forwards each request to the broker's ROUTER port as a ZeroMQ client would, so
fairness, deadlines, size limits and `busy` apply unchanged. It is meant to be
replaced by the broker's own `submit`/`disconnect`, which saves the loopback hop.

Each request carries a tag frame before the REQ-style empty delimiter; the
broker echoes the envelope, so replies are matched by tag even when a client's
requests finish on different workers out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import TYPE_CHECKING, Callable

import zmq
import zmq.asyncio

if TYPE_CHECKING:
    from .http_gateway import GatewayOptions, RunningGateway

log = logging.getLogger(__name__)


class _Connection:
    """One gateway client: its DEALER socket, its reader task and its replies still to come."""

    def __init__(self, sock: zmq.asyncio.Socket) -> None:
        self.sock = sock
        self.pending: dict[bytes, Callable[[bytes], None]] = {}
        self.reader: asyncio.Task | None = None


class FrontendBridge:
    """`RequestSink` for `http_gateway`: requests go to `endpoint` (the broker's frontend)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.ctx = zmq.asyncio.Context()
        self._conns: dict[bytes, _Connection] = {}
        self._tags = itertools.count(1)

    def submit(self, client: bytes, body: bytes, reply: Callable[[bytes], None]) -> None:
        """Queue one request for `client`; `reply(body)` is called once, on the event loop."""
        conn = self._conns.get(client)
        if conn is None:
            conn = self._connect(client)
        tag = next(self._tags).to_bytes(8, "big")
        conn.pending[tag] = reply
        conn.sock.send_multipart([tag, b"", body], copy=False)

    def disconnect(self, client: bytes) -> None:
        """Forget `client`: replies still to come are discarded with its socket."""
        conn = self._conns.pop(client, None)
        if conn is None:
            return
        conn.pending.clear()
        if conn.reader is not None:
            conn.reader.cancel()
        conn.sock.close(linger=0)

    def close(self) -> None:
        for client in list(self._conns):
            self.disconnect(client)
        self.ctx.term()

    def _connect(self, client: bytes) -> _Connection:
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        conn = self._conns[client] = _Connection(sock)
        conn.reader = asyncio.get_running_loop().create_task(self._read(conn))
        return conn

    @staticmethod
    async def _read(conn: _Connection) -> None:
        with contextlib.suppress(asyncio.CancelledError, zmq.ZMQError):
            while True:
                frames = await conn.sock.recv_multipart()
                if len(frames) != 3:
                    log.warning("unexpected reply of %d frames from the frontend", len(frames))
                    continue
                callback = conn.pending.pop(frames[0], None)
                if callback is not None:
                    callback(frames[2])


async def start_bridged_gateway(options: GatewayOptions, frontend: str) -> tuple[RunningGateway, FrontendBridge]:
    """The HTTP gateway in this event loop, its requests sent to the broker's frontend `frontend`."""
    from .http_gateway import start_gateway

    bridge = FrontendBridge(frontend)
    try:
        return await start_gateway(bridge, options), bridge
    except BaseException:
        bridge.close()
        raise
