"""The HTTP side's connections: counted, capped at the listening socket, and timed.

The gateway accepts on a listening socket of its own; every connection's protocol (aiohttp's
request handler) is wrapped by `Tracked`, which counts it and holds its deadline:
- a new connection must send a request's headers within the idle timeout, and so must a
  kept-alive one after each reply (so neither idle nor trickling connections live long);
- while a request is handled the handler's own timeouts apply (body, reading the reply);
- a WebSocket lives by its heartbeats.
At `--http-max-connections` the listening socket's door closes (the kernel drops new
attempts) until fewer than nine tenths remain, as the ZeroMQ side does; a connection the
kernel completed before the door closed is closed at once, unread, so never more than the
cap are served.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from scapyrpc.broker.connections import ListenerDoor
from scapyrpc.gateway.budget import LogOnce, Reason
from scapyrpc.wire.endpoints import is_loopback

__all__ = [
    "SECURITY_HEADERS",
    "SERVER_NAME",
    "ConnectionTable",
    "QuietRequestHandler",
    "Served",
    "Tracked",
    "loopback_host_only",
    "open_listener",
    "serve",
]

log = logging.getLogger("scapyrpc.gateway")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
SERVER_NAME = "scapyrpc"
SEND_BUFFER_BYTES = 256 * 1024


def listen(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A bound, listening, non-blocking TCP socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class QuietRequestHandler(RequestHandler):
    """aiohttp's handler, except that a request that is not HTTP gets a bare status line: no echo
    of its bytes, the same headers as every other response, one log line per peer a minute."""

    complaints = LogOnce()

    def handle_error(
        self, request: Any, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        peer = getattr(request, "remote", None) or "?"
        if status >= 500:
            log.error("error handling a request from %s", peer, exc_info=exc)
        else:
            self.complaints.warning(
                peer, Reason.BAD_REQUEST, "HTTP %d to %s: %s", status, peer, Reason.BAD_REQUEST.value
            )
        text = f"{status} {'Bad Request' if status == 400 else 'Error'}\n"
        response = web.Response(status=status, text=text, headers={**SECURITY_HEADERS, "Server": SERVER_NAME})
        response.force_close()
        return response


class Tracked(asyncio.Protocol):
    """One connection: aiohttp's protocol inside, counted by `table`, closed at its deadline."""

    def __init__(self, inner: RequestHandler, table: ConnectionTable) -> None:
        self.inner = inner
        self.table = table
        self.transport: Any = None  # an asyncio or uvloop transport
        self.deadline: float | None = None
        self.served = False  # False: turned away at the cap, aiohttp never saw it

    # asyncio.Protocol, forwarded
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if not self.table.opened(self):
            self.transport.abort()  # a stream transport, which BaseTransport does not say
            return
        self.served = True
        sock = transport.get_extra_info("socket")
        if sock is not None:  # what a client does not read stays here, counted, not in the kernel unseen
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.served:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self.served:
            self.inner.eof_received()  # aiohttp's returns None: the transport closes itself
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.served:
            self.table.closed(self)
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.served:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.served:
            self.inner.resume_writing()


class ConnectionTable:
    """Every open HTTP connection, their count against the cap, and their deadlines."""

    def __init__(self, listener: socket.socket, limit: int, idle_timeout: float) -> None:
        self.limit = limit
        self.idle_timeout = idle_timeout
        self.door = ListenerDoor(listener)
        self.open: dict[Any, Tracked] = {}  # transport -> its connection
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        return len(self.open)

    @property
    def port(self) -> int:
        assert self.door.listener is not None
        return int(self.door.listener.getsockname()[1])

    def close_listener(self) -> None:
        if self.door.listener is not None:
            self.door.listener.close()

    def factory(self, make_handler: Callable[[], RequestHandler]) -> Callable[[], Tracked]:
        return lambda: Tracked(make_handler(), self)

    def opened(self, conn: Tracked) -> bool:
        """Count a new connection; False (not counted) when the cap is already reached."""
        if self.count >= self.limit:
            return False
        self.open[conn.transport] = conn
        conn.deadline = time.monotonic() + self.idle_timeout
        if self.count >= self.limit and not self.door.closed:
            self.door.close_door()
            log.warning(
                "%d HTTP connections: new ones are refused until fewer than %d remain",
                self.count,
                int(self.limit * 0.9),
            )
        return True

    def closed(self, conn: Tracked) -> None:
        if conn.transport is not None:
            self.open.pop(conn.transport, None)
        if self.door.closed and self.count < self.limit * 0.9:
            self.door.open_door()
            log.warning("%d HTTP connections: accepting new ones again", self.count)

    def busy(self, transport: Any) -> None:
        """A request began on `transport`: its handler's own timeouts apply until it is answered."""
        conn = self.open.get(transport)
        if conn is not None:
            conn.deadline = None

    def idle(self, transport: Any) -> None:
        """A request on `transport` was answered: the next one must come within the idle timeout."""
        conn = self.open.get(transport)
        if conn is not None:
            conn.deadline = time.monotonic() + self.idle_timeout

    def forever(self, transport: Any) -> None:
        """`transport` became a WebSocket: its heartbeats keep it, not a deadline."""
        conn = self.open.get(transport)
        if conn is not None:
            conn.deadline = None

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except asyncio.CancelledError:
                pass
        self.door.listener = None

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.idle_timeout / 4))
            now = time.monotonic()
            for transport, conn in list(self.open.items()):
                if conn.deadline is not None and conn.deadline < now:
                    transport.close()


def loopback_host_only(bind: str, host: str) -> bool:
    """Whether a request's Host header is acceptable: bound to loopback, only loopback names are
    (a page on another site cannot reach the server by rebinding its own name to 127.0.0.1)."""
    if not is_loopback(bind):
        return True
    return is_loopback(urlsplit(f"//{host}").hostname or "")


@dataclass
class Served:
    """An aiohttp application served on a listening socket of its own, its connections tracked."""

    runner: web.AppRunner
    server: asyncio.base_events.Server
    table: ConnectionTable
    port: int

    def url(self, bind: str, path: str = "/") -> str:
        host = f"[{bind}]" if ":" in bind else bind
        return f"http://{host}:{self.port}{path}"

    async def stop(self) -> None:
        self.server.close()
        await self.table.stop()
        await self.runner.cleanup()


def open_listener(bind: str, port: int, limit: int, idle_timeout: float) -> ConnectionTable:
    """A listening socket on `bind`:`port` (0: a free port) and the table of its connections: at
    most `limit`, each closed when idle for `idle_timeout`."""
    return ConnectionTable(listen(bind, port, backlog=min(128, limit)), limit, idle_timeout)


async def serve(app: web.Application, table: ConnectionTable, **handler_options: Any) -> Served:
    """Serve `app` on the table's listening socket; `handler_options` go to aiohttp's request handler."""
    listener = table.door.listener
    assert listener is not None
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    try:
        await runner.setup()
    except BaseException:
        listener.close()
        raise
    loop = asyncio.get_running_loop()
    options = {"keepalive_timeout": table.idle_timeout, "access_log": None, **handler_options}

    def make_handler() -> QuietRequestHandler:
        assert runner.server is not None
        return QuietRequestHandler(runner.server, loop=loop, **options)

    server = await loop.create_server(table.factory(make_handler), sock=listener)
    table.start()
    return Served(runner, server, table, listener.getsockname()[1])
