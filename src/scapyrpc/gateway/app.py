"""HTTP + WebSocket gateway: the browser editor and plain HTTP clients, through the broker's own queue.

- `POST /rpc`: one JSON-RPC request in the body, the reply the ZeroMQ port gives.
- `GET /ws`: a WebSocket; each message is one request, replies are sent as they are
  ready (matched by id by the client), several in flight per connection.
- `GET /definitions`: `get_definitions(null)`, cached while `check_update_of_dbs`
  says the protocol DB (md5s from `get_all`) is current; ETag = md5 of the body.
- `GET /` and `/static/...`: the editor, gzip-compressed, from `assets`.

Requests are handed as bytes to a `RequestSink` (the broker); one HTTP request or
one WebSocket connection is one client. Nothing here knows about ZeroMQ or Scapy.
Security: only same-origin browser requests (Origin and Host checked, no CORS); beyond
loopback a token or a session it opened is required (`auth`), checked before anything
else is read. Bounds (docs/behaviour.md, "The HTTP side"): bodies are read by this
module, never inflated, counted against one `budget` with the replies not yet sent;
connections are counted, capped and timed by `connections`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
from aiohttp import WSMsgType, web
from aiohttp.web_protocol import RequestPayloadError

from scapyrpc.config.options import HttpConfig, MiB
from scapyrpc.gateway import auth
from scapyrpc.gateway.assets import Asset, load_assets
from scapyrpc.gateway.budget import Budget, LogOnce, Reason
from scapyrpc.gateway.connections import (
    SECURITY_HEADERS,
    SERVER_NAME,
    ConnectionTable,
    Served,
    loopback_host_only,
    open_listener,
    serve,
)
from scapyrpc.wire.endpoints import is_loopback
from scapyrpc.wire.jsonrpc import peek_id, reply_id, scapy_error_body

__all__ = [
    "Bounds",
    "Gateway",
    "GatewayConfigError",
    "RequestSink",
    "RunningGateway",
    "call",
    "check_options",
    "start_gateway",
]

log = logging.getLogger("scapyrpc.gateway")

_DEFINITIONS_CLIENT = b"gateway:definitions"
_CHUNK = 64 * 1024
_ID_HEAD = 4096  # bytes of a refused body read to find the id its error reply echoes

Reply = bytes | memoryview  # a large reply is a view of the worker's frame, not a copy


class RequestSink(Protocol):
    """Where the gateway queues requests (`broker.Broker`)."""

    def submit(self, client: bytes, body: bytes, reply: Callable[[Reply], None], remote: bool = False) -> None: ...
    def disconnect(self, client: bytes) -> None: ...


class GatewayConfigError(ValueError):
    """The gateway options are unsafe or inconsistent (e.g. no token beyond loopback)."""


def check_options(options: HttpConfig) -> str | None:
    """The token in force; refuse to serve beyond loopback without one, or with a bad one."""
    try:
        token = auth.load_token(options)
    except auth.TokenError as exc:
        raise GatewayConfigError(str(exc)) from None
    if not is_loopback(options.http_bind) and not token:
        raise GatewayConfigError(
            f"--http-bind {options.http_bind} is beyond loopback: --http-token-file (or --http-token) is required"
        )
    return token


@dataclass(frozen=True)
class Bounds:
    """The broker's bounds the gateway applies to its own clients too."""

    max_request_bytes: int = 16 * MiB
    max_client_backlog_bytes: int = 64 * MiB


async def call(sink: RequestSink, client: bytes, body: bytes, remote: bool = False) -> Reply:
    """Submit one request and wait for its reply; a cancelled wait disconnects the client."""
    future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()

    def reply(data: Reply) -> None:
        if not future.done():
            future.set_result(data)

    sink.submit(client, body, reply, remote)
    try:
        return await future
    except asyncio.CancelledError:
        sink.disconnect(client)
        raise


def _importmap_hash(index: Asset | None) -> str:
    """CSP source for the page's inline import map (the only inline script)."""
    if index is None:
        return ""
    match = re.search(rb'<script type="importmap">(.*?)</script>', index.body, re.S)
    if not match:
        return ""
    return f" 'sha256-{base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode()}'"


class _Refused(Exception):
    """A request the gateway answers itself (its body need not be read further)."""

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response


class Gateway:
    """The aiohttp application and its handlers, bound to one sink."""

    def __init__(
        self,
        sink: RequestSink,
        options: HttpConfig,
        bounds: Bounds | None = None,
        assets: dict[str, Asset] | None = None,
        port: int = 0,
        connections: ConnectionTable | None = None,
    ) -> None:
        self.token = check_options(options)
        self.sink = sink
        self.options = options
        self.bounds = bounds or Bounds()
        self.assets = load_assets() if assets is None else assets
        self.sessions = auth.Sessions(port)
        self.guesses = auth.Guesses()
        self.budget = Budget(options.http_max_held_bytes)
        self.connections = connections
        self.complaints = LogOnce()
        self.csp = (
            "default-src 'self'; script-src 'self'"
            + _importmap_hash(self.assets.get("index.html"))
            + "; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none';"
            " base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
        )
        self._definitions: tuple[bytes, bytes, str, tuple[str, str]] | None = None  # body, gzipped, etag, md5s
        self._definitions_lock = asyncio.Lock()
        self.app = web.Application(client_max_size=self.bounds.max_request_bytes, middlewares=[self._guard])
        self.app.on_response_prepare.append(self._headers)
        self.app.add_routes(
            [
                web.get("/", self._index),
                web.get("/static/{name:.+}", self._static),
                web.get("/definitions", self._get_definitions),
                web.post("/rpc", self._rpc),
                web.get("/ws", self._ws),
            ]
        )

    # ---- security --------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        """Whether the request carries the token (Bearer) or a session it opened (cookie)."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return auth.token_matches(header[len("Bearer ") :], self.token or "")
        return self.sessions.valid(request.cookies.get(self.sessions.cookie, ""))

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.connections is not None:
            self.connections.busy(request.transport)
        try:
            return await self._checked(request, handler)
        finally:
            if self.connections is not None:
                self.connections.idle(request.transport)

    async def _checked(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if not loopback_host_only(self.options.http_bind, host):
            return web.Response(status=421, text="unexpected Host header\n")
        origin = request.headers.get("Origin")
        if origin is not None and (urlsplit(origin).netloc.lower() != host.lower() or not host):
            return web.Response(status=403, text="cross-origin requests are refused\n")
        if self.token:
            peer = request.remote or "?"
            wait = self.guesses.wait(peer)
            if wait:
                return web.Response(
                    status=429, text="too many wrong tokens: wait\n", headers={"Retry-After": str(int(wait) + 1)}
                )
            if request.path == "/" and "token" in request.query:
                return self._login(request, peer)
            if not self._authorized(request):
                if request.headers.get("Authorization", "").startswith("Bearer "):
                    self.guesses.failed(peer)
                return web.Response(
                    status=401,
                    text="a valid token is required (open /?token=...)\n",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            return web.Response(status=415, text="compressed request bodies are not accepted\n")
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response

    def _login(self, request: web.Request, peer: str) -> web.Response:
        """`/?token=T` opens a session (a cookie of its own, never the token) and drops T from the address."""
        if not auth.token_matches(request.query.get("token", ""), self.token or ""):
            self.guesses.failed(peer)
            return web.Response(status=401, text="wrong token\n")
        self.guesses.succeeded(peer)
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(self.sessions.cookie, self.sessions.open(), httponly=True, samesite="Strict", path="/")
        return response

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """Every response, errors included, says the same about itself; a WebSocket upgrade is left alone."""
        response.headers["Server"] = SERVER_NAME
        if response.status == 101:
            return
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", self.csp)

    # ---- static files ----------------------------------------------------------------

    def _asset_response(self, request: web.Request, asset: Asset) -> web.Response:
        headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if request.headers.get("If-None-Match") == asset.etag:
            return web.Response(status=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = asset.content_type
        return web.Response(body=body, headers=headers)

    async def _index(self, request: web.Request) -> web.Response:
        asset = self.assets.get("index.html")
        if asset is None:
            raise web.HTTPNotFound(text="the editor is not installed\n")
        return self._asset_response(request, asset)

    async def _static(self, request: web.Request) -> web.Response:
        asset = self.assets.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound()
        return self._asset_response(request, asset)

    # ---- JSON-RPC ---------------------------------------------------------------------

    @staticmethod
    def _remote(request: web.Request) -> bool:
        """From beyond this host: its worker refuses shut_down (unless the server allows it)."""
        return not is_loopback(request.remote or "")

    def _refuse(self, request: web.Request, status: int, body: bytes, reason: Reason | None = None) -> _Refused:
        """Answer without reading the rest of the body (the connection is closed after)."""
        if reason is not None:
            peer = request.remote or "?"
            self.complaints.warning(peer, reason, "HTTP client %s refused: %s", peer, reason.value)
        response = web.Response(status=status, body=body, content_type="application/json")
        response.force_close()
        return _Refused(response)

    def _too_large(self, request: web.Request, head: bytes, size: str) -> _Refused:
        limit = self.bounds.max_request_bytes
        return self._refuse(
            request, 200, scapy_error_body(peek_id(head), f"request of {size} bytes exceeds the limit of {limit} bytes")
        )

    def _busy(self, request: web.Request, head: bytes) -> _Refused:
        return self._refuse(
            request, 503, scapy_error_body(peek_id(head), f"server busy: {Reason.FULL.value}"), Reason.FULL
        )

    async def _read_body(self, request: web.Request) -> bytes:
        """The whole body, counted against the budget while it is held, within the body timeout."""
        limit = self.bounds.max_request_bytes
        length = request.content_length
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.http_body_timeout
        if length is not None and length > limit:  # its head is read for the id the error reply echoes
            try:
                head = await asyncio.wait_for(request.content.read(_ID_HEAD), self.options.http_body_timeout)
            except TimeoutError:
                head = b""
            raise self._too_large(request, head, str(length))
        body = bytearray()
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                chunk = await asyncio.wait_for(request.content.read(_CHUNK), remaining)
                if not chunk:
                    return bytes(body)
                if len(body) + len(chunk) > limit:
                    raise self._too_large(request, bytes(body[:_ID_HEAD]), f"more than {limit}")
                if not self.budget.take(len(chunk)):
                    raise self._busy(request, bytes(body[:_ID_HEAD]))
                body += chunk
        except TimeoutError:
            raise self._refuse(request, 408, b"", Reason.SLOW_BODY) from None
        finally:
            self.budget.give(len(body))

    async def _rpc(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="POST /rpc takes Content-Type: application/json\n")
        try:
            body = await self._read_body(request)
        except (ConnectionError, RequestPayloadError):  # the client left mid-body: nobody to answer
            return web.Response(status=400)
        reply = await call(self.sink, b"http:" + uuid.uuid4().bytes, body, self._remote(request))
        if not self.budget.take(len(reply)):
            reply = scapy_error_body(reply_id(reply), f"server busy: {Reason.FULL.value}")
            self.budget.take(len(reply))  # small: holding it briefly past the limit is what answering costs
        try:
            return await self._send_reply(request, reply)
        finally:
            self.budget.give(len(reply))

    async def _send_reply(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(reply)
        try:
            await response.prepare(request)
            await asyncio.wait_for(response.write(reply), self.options.http_send_timeout)
            await response.write_eof()
        except TimeoutError:
            peer = request.remote or "?"
            self.complaints.warning(
                peer, Reason.SLOW_READER, "HTTP client %s closed: %s", peer, Reason.SLOW_READER.value
            )
            if request.transport is not None:
                request.transport.close()
        except ConnectionError:
            pass
        return response

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=self.options.http_max_message_bytes, heartbeat=30.0, compress=False)
        await ws.prepare(request)
        if self.connections is not None:
            self.connections.forever(request.transport)
        client = b"ws:" + uuid.uuid4().bytes
        remote = self._remote(request)
        slots = asyncio.Semaphore(self.options.max_inflight_per_socket)
        outbox = _Outbox(self, ws, request.remote or "?")
        writer = asyncio.create_task(outbox.run(slots))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    body = msg.data.encode()
                elif msg.type == WSMsgType.BINARY:
                    body = msg.data
                else:
                    continue
                await slots.acquire()  # backpressure: stop reading while too many replies are owed
                self.sink.submit(client, body, outbox.put, remote)
        finally:
            self.sink.disconnect(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            outbox.drop()
        return ws

    # ---- definitions -----------------------------------------------------------------

    async def _rpc_result(self, method: str, params: list[Any]) -> tuple[Reply, object]:
        body = orjson.dumps({"jsonrpc": "2.0", "id": method, "method": method, "params": params})
        reply = await call(self.sink, _DEFINITIONS_CLIENT + b":" + uuid.uuid4().bytes, body)
        return reply, orjson.loads(reply).get("result")

    async def _current_definitions(self) -> tuple[bytes, bytes, str] | Reply:
        """(body, gzipped, etag) of the cached `get_definitions(null)` reply, or an error reply to pass on."""
        async with self._definitions_lock:
            if self._definitions is not None:
                _, result = await self._rpc_result("check_update_of_dbs", list(self._definitions[3]))
                if result is True:
                    return self._definitions[:3]
                self._definitions = None
            reply, everything = await self._rpc_result("get_all", [])
            if not isinstance(everything, dict):
                return reply
            reply, result = await self._rpc_result("get_definitions", [None])
            if not isinstance(result, dict):
                return reply
            reply = bytes(reply)
            etag = f'"{hashlib.md5(reply).hexdigest()}"'
            gzipped = await asyncio.get_running_loop().run_in_executor(None, gzip.compress, reply, 6)
            self._definitions = (reply, gzipped, etag, (everything["db_md5"], everything["fields_md5"]))
            return self._definitions[:3]

    async def _get_definitions(self, request: web.Request) -> web.Response:
        current = await self._current_definitions()
        if not isinstance(current, tuple):
            return web.Response(status=503, body=current, content_type="application/json")
        body, gzipped, etag = current
        headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body, headers["Content-Encoding"] = gzipped, "gzip"
        return web.Response(body=body, content_type="application/json", headers=headers)


class _Outbox:
    """A WebSocket's replies waiting to be sent, in order: their bytes held against the gateway's
    budget and, for this socket, against the per-client backlog (past it the socket is closed)."""

    def __init__(self, gateway: Gateway, ws: web.WebSocketResponse, peer: str) -> None:
        self.gateway = gateway
        self.ws = ws
        self.peer = peer
        self.queue: asyncio.Queue[Reply] = asyncio.Queue()
        self.held = 0

    def put(self, body: Reply) -> None:
        gateway = self.gateway
        if self.held + len(body) > gateway.bounds.max_client_backlog_bytes:
            gateway.complaints.warning(
                self.peer, Reason.BACKLOG, "WebSocket of %s closed: %s", self.peer, Reason.BACKLOG.value
            )
            asyncio.get_running_loop().create_task(self.ws.close())
            return
        if not gateway.budget.take(len(body)):
            body = scapy_error_body(reply_id(body), f"server busy: {Reason.FULL.value}")
            gateway.budget.take(len(body))
        self.held += len(body)
        self.queue.put_nowait(body)

    async def run(self, slots: asyncio.Semaphore) -> None:
        """Send each reply as one text message; a reply that cannot be sent becomes an error reply
        to its request, so the socket goes on serving."""
        timeout = self.gateway.options.http_send_timeout
        while True:
            body = await self.queue.get()
            try:
                await asyncio.wait_for(self.ws.send_str(str(body, "utf-8", "replace")), timeout)
            except TimeoutError:
                self.gateway.complaints.warning(
                    self.peer, Reason.SLOW_READER, "WebSocket of %s closed: %s", self.peer, Reason.SLOW_READER.value
                )
                await self.ws.close()
                return
            except (ConnectionError, RuntimeError):
                return
            except Exception as exc:
                log.exception("a %d-byte reply could not be sent on a WebSocket", len(body))
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.ws.send_str(
                        scapy_error_body(reply_id(body), f"reply could not be sent ({type(exc).__name__})").decode()
                    )
            finally:
                self._release(len(body))
                slots.release()

    def _release(self, size: int) -> None:
        self.held -= size
        self.gateway.budget.give(size)

    def drop(self) -> None:
        """The socket is gone: what it still held is given back."""
        while not self.queue.empty():
            self._release(len(self.queue.get_nowait()))


@dataclass
class RunningGateway:
    served: Served
    url: str

    async def stop(self) -> None:
        await self.served.stop()


async def start_gateway(sink: RequestSink, options: HttpConfig, bounds: Bounds) -> RunningGateway:
    """Serve the gateway on the running event loop; `url` tells where (port 0 picks a free one)."""
    table = open_listener(options.http_bind, options.http or 0, options.http_max_connections, options.http_idle_timeout)
    try:
        gateway = Gateway(sink, options, bounds, port=table.port, connections=table)
        served = await serve(gateway.app, table, auto_decompress=False, lingering_time=2.0)
    except BaseException:
        table.close_listener()
        raise
    return RunningGateway(served, served.url(options.http_bind))
