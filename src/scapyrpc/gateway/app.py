"""HTTP + WebSocket gateway: the browser editor and plain HTTP clients, through the broker's own queue.

- `POST /rpc`: one JSON-RPC request in the body, the reply the ZeroMQ port gives.
- `GET /ws`: a WebSocket; each message is one request, replies are sent as they are
  ready (matched by id by the client), several in flight per connection.
- `GET /definitions`: `get_definitions(null)`, cached while `check_update_of_dbs`
  says the protocol DB (md5s from `get_all`) is current; ETag = md5 of the body.
- `GET /` and `/static/...`: the editor, gzip-compressed, from `assets`.

Requests are handed as bytes to a `RequestSink` (the broker); one HTTP request or
one WebSocket connection is one client. Nothing here knows about ZeroMQ or Scapy.
Security: only same-origin browser requests (Origin and Host checked, no CORS);
beyond loopback a token is required and checked on every request.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import hmac
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Callable, Protocol
from urllib.parse import urlsplit

import orjson
from aiohttp import WSMsgType, web

from scapyrpc.wire.endpoints import is_loopback
from scapyrpc.config.options import MiB, HttpConfig
from scapyrpc.wire.jsonrpc import reply_id, scapy_error_body
from scapyrpc.gateway.assets import Asset, load_assets

log = logging.getLogger("scapyrpc.gateway")

TOKEN_COOKIE = "scapyrpc_token"
_DEFINITIONS_CLIENT = b"gateway:definitions"


Reply = bytes | memoryview  # a large reply is a view of the worker's frame, not a copy


class RequestSink(Protocol):
    """Where the gateway queues requests (`broker.Broker`)."""

    def submit(self, client: bytes, body: bytes, reply: Callable[[Reply], None], remote: bool = False) -> None: ...
    def disconnect(self, client: bytes) -> None: ...


class GatewayConfigError(ValueError):
    """The gateway options are unsafe or inconsistent (e.g. no token beyond loopback)."""


def check_options(options: HttpConfig) -> None:
    """Refuse to serve beyond loopback without a token."""
    if not is_loopback(options.http_bind) and not options.http_token:
        raise GatewayConfigError(f"--http-bind {options.http_bind} is beyond loopback: --http-token is required")


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


class Gateway:
    """The aiohttp application and its handlers, bound to one sink."""

    def __init__(self, sink: RequestSink, options: HttpConfig, max_request_bytes: int = 16 * MiB,
                 assets: dict[str, Asset] | None = None) -> None:
        check_options(options)
        self.sink = sink
        self.options = options
        self.max_request_bytes = max_request_bytes  # the broker's; bodies up to 4x reach it and get its error
        self.assets = load_assets() if assets is None else assets
        self.csp = ("default-src 'self'; script-src 'self'" + _importmap_hash(self.assets.get("index.html"))
                    + "; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none';"
                    " base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
        self._definitions: tuple[bytes, bytes, str, tuple[str, str]] | None = None  # body, gzipped, etag, md5s
        self._definitions_lock = asyncio.Lock()
        self.app = web.Application(client_max_size=4 * max_request_bytes,
                                   middlewares=[self._guard])
        self.app.add_routes([
            web.get("/", self._index),
            web.get("/static/{name:.+}", self._static),
            web.get("/definitions", self._get_definitions),
            web.post("/rpc", self._rpc),
            web.get("/ws", self._ws),
        ])

    # ---- security --------------------------------------------------------------------

    def _host_allowed(self, host: str) -> bool:
        """Bound to loopback, only loopback names are valid Hosts (defeats DNS rebinding)."""
        if not is_loopback(self.options.http_bind):
            return True
        name = urlsplit(f"//{host}").hostname or ""
        return is_loopback(name)

    def _token_ok(self, request: web.Request) -> bool:
        token = self.options.http_token
        if not token:
            return True
        offered = request.cookies.get(TOKEN_COOKIE, "")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            offered = auth[len("Bearer "):]
        return hmac.compare_digest(offered.encode(), token.encode())

    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        if not self._host_allowed(host):
            return web.Response(status=421, text="unexpected Host header\n")
        origin = request.headers.get("Origin")
        if origin is not None and (urlsplit(origin).netloc.lower() != host.lower() or not host):
            return web.Response(status=403, text="cross-origin requests are refused\n")
        if self.options.http_token and request.path == "/" and "token" in request.query:
            return self._login(request)
        if not self._token_ok(request):
            return web.Response(status=401, text="a valid token is required (open /?token=...)\n",
                                headers={"WWW-Authenticate": "Bearer"})
        response = await handler(request)
        if not response.prepared:  # a WebSocket has sent its headers already
            response.headers.setdefault("Content-Security-Policy", self.csp)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    def _login(self, request: web.Request) -> web.Response:
        """`/?token=T` sets the token cookie and drops it from the address bar."""
        offered = request.query.get("token", "")
        if not hmac.compare_digest(offered.encode(), (self.options.http_token or "").encode()):
            return web.Response(status=401, text="wrong token\n")
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(TOKEN_COOKIE, offered, httponly=True, samesite="Strict", path="/")
        return response

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

    async def _rpc(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="POST /rpc takes Content-Type: application/json\n")
        body = await request.read()
        reply = await call(self.sink, b"http:" + uuid.uuid4().bytes, body, self._remote(request))
        return web.Response(body=reply, content_type="application/json")

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * self.max_request_bytes, heartbeat=30.0)
        await ws.prepare(request)
        client = b"ws:" + uuid.uuid4().bytes
        remote = self._remote(request)
        slots = asyncio.Semaphore(self.options.max_inflight_per_socket)
        outbox: asyncio.Queue[Reply] = asyncio.Queue()
        writer = asyncio.create_task(self._ws_writer(ws, outbox, slots))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    body = msg.data.encode()
                elif msg.type == WSMsgType.BINARY:
                    body = msg.data
                else:
                    continue
                await slots.acquire()  # backpressure: stop reading while too many replies are owed
                self.sink.submit(client, body, outbox.put_nowait, remote)
        finally:
            self.sink.disconnect(client)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    @staticmethod
    async def _ws_writer(ws: web.WebSocketResponse, outbox: asyncio.Queue[Reply], slots: asyncio.Semaphore) -> None:
        """Send each reply as one text message, in the order they come; a reply that cannot
        be sent becomes an error reply to its request, so the socket goes on serving."""
        while True:
            body = await outbox.get()
            try:
                await ws.send_str(str(body, "utf-8", "replace"))
            except (ConnectionError, RuntimeError):
                return
            except Exception as exc:
                log.exception("a %d-byte reply could not be sent on a WebSocket", len(body))
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(scapy_error_body(reply_id(body),
                                                       f"reply could not be sent ({type(exc).__name__})").decode())
            finally:
                slots.release()

    # ---- definitions -----------------------------------------------------------------

    async def _rpc_result(self, method: str, params: list) -> tuple[Reply, object]:
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


@dataclass
class RunningGateway:
    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_gateway(sink: RequestSink, options: HttpConfig, max_request_bytes: int) -> RunningGateway:
    """Serve the gateway on the running event loop; `url` tells where (port 0 picks a free one)."""
    gateway = Gateway(sink, options, max_request_bytes)
    runner = web.AppRunner(gateway.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, options.http_bind, options.http)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    port = runner.addresses[0][1]
    host = f"[{options.http_bind}]" if ":" in options.http_bind else options.http_bind
    return RunningGateway(runner, f"http://{host}:{port}/")
