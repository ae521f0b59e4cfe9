"""The HTTP gateway without a browser: POST /rpc and the WebSocket answer byte for byte as the ZeroMQ
port does, through the same broker queue; same-origin and token checks; static files and definitions
cached and compressed; a WebSocket client that leaves mid-request costs the others nothing."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
import zmq
from aiohttp.test_utils import TestClient, TestServer

from scapyrpc.config.options import HttpConfig
from scapyrpc.gateway.app import Gateway, GatewayConfigError
from scapyrpc.gateway.assets import load_assets
from scapyrpc.server import _server_ip

from conftest import GUI_HANDLER, ServerProcess, zmq_socket

REQUESTS = [
    b'{"jsonrpc":"2.0","id":"1","method":"get_version"}',
    b'{"jsonrpc":"2.0","id":7,"method":"build_pkt","params":["'
    + GUI_HANDLER.encode()
    + b'",[{"id":"Ether"},{"id":"IP","fields":[{"id":"ttl","value":"32"}]},'
    b'{"id":"TCP","fields":[{"id":"flags","value":"S"}]}]]}',
    b'{"jsonrpc":"2.0","id":"x","method":"build_pkt","params":[[{"id":"Ehter"}]]}',
    b'{"jsonrpc":"2.0","id":"2","method":"no_such_method","params":[]}',
    b'{"jsonrpc":"2.0","id":"3","method":"get_payload_classes","params":[[{"id":"Ether"}]]}',
    b'{"jsonrpc":"2.0","id":"4","method":"reconstruct_pkt","params":["not base64!"]}',
    b'[{"jsonrpc":"2.0","id":"5","method":"get_version"}]',
    b'{"jsonrpc":"2.0","id":"6","method":"get_template","params":[{"id":"../../etc/passwd"}]}',
    b"this is not json",
    b'{"jsonrpc":"2.0","method":"get_version"}',
]


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    server = ServerProcess("--http", "0", "--test-methods", "--max-request-bytes", "200000", workers=2)
    server.http = next(line.split(" ", 1)[1] for line in server.banner if line.startswith("Editor: "))
    yield server
    server.stop()


def run(coro_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return asyncio.run(coro_fn(*args, **kwargs))


def zmq_reply(srv: ServerProcess, body: bytes) -> bytes:
    sock = zmq_socket(zmq.REQ, srv.endpoint)
    try:
        sock.send(body)
        return sock.recv()
    finally:
        sock.close()


async def post(url: str, body: bytes, **headers: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "rpc", data=body, headers={"Content-Type": "application/json", **headers}) as resp,
    ):
        return resp.status, await resp.read()


async def ws_call(url: str, body: bytes, **headers: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "ws", headers=headers) as ws:
        await ws.send_str(body.decode())
        return (await ws.receive(timeout=30)).data.encode()


async def ws_replies(url: str, bodies: list[bytes]) -> list[bytes]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "ws") as ws:
        replies = []
        for body in bodies:  # one at a time: id-less requests cannot be matched otherwise
            await ws.send_str(body.decode())
            replies.append((await ws.receive(timeout=30)).data.encode())
        return replies


def test_post_and_websocket_answer_byte_for_byte_as_zeromq(srv: ServerProcess) -> None:
    expected = [zmq_reply(srv, body) for body in REQUESTS]
    posted = [run(post, srv.http, body) for body in REQUESTS]
    assert [status for status, _ in posted] == [200] * len(REQUESTS)
    assert [body for _, body in posted] == expected
    assert run(ws_replies, srv.http, REQUESTS) == expected
    ttl = next(f for f in json.loads(expected[1])["result"]["data"][1]["fields"] if f["id"] == "ttl")
    assert ttl["hvalue"] == "32"  # a real build


async def many_in_flight(url: str, count: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "ws") as ws:
        await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": "slow", "method": "test_sleep", "params": [0.5]}))
        for i in range(count):
            await ws.send_str(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": i,
                        "method": "get_payload_classes",
                        "params": [[{"id": "Ether"}, {"id": "IP"}]],
                    }
                )
            )
        replies = {}
        while len(replies) < count + 1:
            reply = json.loads((await ws.receive(timeout=30)).data)
            replies[str(reply["id"])] = reply
        return replies


def test_websocket_keeps_several_requests_in_flight_matched_by_id(srv: ServerProcess) -> None:
    replies = run(many_in_flight, srv.http, 20)
    assert set(replies) == {"slow", *map(str, range(20))}
    assert all("TCP" in replies[str(i)]["result"] for i in range(20))
    assert isinstance(replies["slow"]["result"], int)  # a worker pid


async def leave_mid_request_while_another_works(url: str) -> tuple[list[Any], Any]:
    async with aiohttp.ClientSession() as session:
        leaver = await session.ws_connect(url + "ws")
        for i in range(4):
            await leaver.send_str(json.dumps({"jsonrpc": "2.0", "id": i, "method": "test_sleep", "params": [0.3]}))
        await asyncio.sleep(0.1)
        await leaver.close()  # replies still owed to it are dropped
        async with session.ws_connect(url + "ws") as ws:
            for i in range(10):
                await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": i, "method": "get_version"}))
            ids = sorted([json.loads((await ws.receive(timeout=30)).data)["id"] for _ in range(10)])
        status, body = await post(url, b'{"jsonrpc":"2.0","id":"after","method":"test_pid"}')
        return ids, (status, json.loads(body))


def test_websocket_client_leaving_mid_request_loses_nothing_for_others(srv: ServerProcess) -> None:
    ids, (status, after) = run(leave_mid_request_while_another_works, srv.http)
    assert ids == list(range(10))
    assert status == 200 and isinstance(after["result"], int)


def test_broker_limits_apply_to_http_clients(srv: ServerProcess) -> None:
    big = b'{"jsonrpc":"2.0","id":"big","method":"get_version","params":["' + b"x" * 300_000 + b'"]}'
    status, body = run(post, srv.http, big)
    reply = json.loads(body)
    assert status == 200 and reply["id"] == "big" and reply["error"]["code"] == -32098
    assert "exceeds the limit of 200000 bytes" in reply["error"]["message"]


async def get(url: str, path: str, **headers: str) -> tuple[int, Any, bytes]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.get(url + path, headers=headers, allow_redirects=False) as resp:
            return resp.status, resp.headers.copy(), await resp.read()  # case-insensitive


def test_cross_origin_requests_are_refused(srv: ServerProcess) -> None:
    port = srv.http.rsplit(":", 1)[1].strip("/")
    body = REQUESTS[0]
    assert run(post, srv.http, body, Origin="http://evil.example")[0] == 403
    assert run(post, srv.http, body, Origin="null")[0] == 403
    assert run(post, srv.http, body, Origin=f"http://127.0.0.1:{port}")[0] == 200
    assert run(post, srv.http, body, Host="evil.example")[0] == 421  # DNS rebinding to a loopback server
    assert run(get, srv.http, "", Host=f"rebind.example:{port}")[0] == 421

    async def ws_from(origin: str) -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(srv.http + "ws", origin=origin):
                    return 101
            except aiohttp.WSServerHandshakeError as err:
                return err.status

    assert run(ws_from, "http://evil.example") == 403
    assert run(ws_from, f"http://127.0.0.1:{port}") == 101
    status, headers, _ = run(get, srv.http, "")
    assert (
        "Access-Control-Allow-Origin" not in headers and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    )
    status, _ = run(post, srv.http, body, **{"Content-Type": "text/plain"})
    assert status == 415  # a form cannot post without a CORS preflight


def test_static_files_are_gzip_compressed_and_revalidated(srv: ServerProcess) -> None:
    status, headers, body = run(get, srv.http, "", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    page = gzip.decompress(body).decode()
    assert '<script type="module" src="/static/js/main.js">' in page
    assert "http://" not in page and "https://" not in page  # nothing from outside the server
    assert run(get, srv.http, "", **{"If-None-Match": headers["ETag"]})[0] == 304
    status, headers, body = run(get, srv.http, "static/js/app.js", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert len(body) < len(gzip.decompress(body)) / 2
    for path in ("static/../http_gateway.py", "static/%2e%2e/server.py", "static/nope.js", "static/"):
        assert run(get, srv.http, path)[0] == 404


def test_definitions_are_served_compressed_and_cached_by_md5(srv: ServerProcess) -> None:
    reference = json.loads(zmq_reply(srv, b'{"jsonrpc":"2.0","id":"d","method":"get_definitions","params":[null]}'))
    status, headers, body = run(get, srv.http, "definitions", **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert len(body) < 500_000  # about 3 MB of JSON
    assert orjson.loads(gzip.decompress(body))["result"] == reference["result"]
    etag = headers["ETag"]
    status, headers, body = run(get, srv.http, "definitions", **{"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["ETag"] == etag


# ---- policy, in process with a recording sink ---------------------------------------------


class EchoSink:
    """A RequestSink that answers every request with its own body, recording what it saw."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.gone: list[bytes] = []

    def submit(self, client: bytes, body: bytes, reply: Callable[[bytes], None], remote: bool = False) -> None:
        self.seen.append(body)
        asyncio.get_running_loop().call_soon(reply, body)

    def disconnect(self, client: bytes) -> None:
        self.gone.append(client)


def gateway_client(options: HttpConfig, sink: EchoSink) -> TestClient:
    gateway = Gateway(sink, options, assets=load_assets())
    return TestClient(TestServer(gateway.app, host="127.0.0.1"))


def test_token_is_required_beyond_loopback() -> None:
    with pytest.raises(GatewayConfigError, match="--http-token-file \\(or --http-token\\) is required"):
        Gateway(EchoSink(), HttpConfig(http_bind="0.0.0.0"), assets={})
    done = subprocess.run(
        [sys.executable, "-m", "scapyrpc", "serve", "--http", "0", "--http-bind", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "(or --http-token) is required" in done.stderr


def test_token_is_checked_on_every_request() -> None:
    async def scenario() -> None:
        sink = EchoSink()
        async with gateway_client(HttpConfig(http_bind="0.0.0.0", http_token="s3cret-s3cret-s3cret"), sink) as client:
            body = b'{"jsonrpc":"2.0","id":1,"method":"get_version"}'
            json_type = {"Content-Type": "application/json"}
            for path in ("/", "/static/app.css", "/definitions", "/ws"):
                assert (await client.get(path)).status == 401
            assert (await client.post("/rpc", data=body, headers=json_type)).status == 401
            wrong = {**json_type, "Authorization": "Bearer nope"}
            assert (await client.post("/rpc", data=body, headers=wrong)).status == 401
            assert sink.seen == []
            right = {**json_type, "Authorization": "Bearer s3cret-s3cret-s3cret"}
            resp = await client.post("/rpc", data=body, headers=right)
            assert resp.status == 200 and await resp.read() == body
            assert (await client.get("/?token=nope", allow_redirects=False)).status == 401
            login = await client.get("/?token=s3cret-s3cret-s3cret", allow_redirects=False)
            assert login.status == 303 and login.headers["Location"] == "/"
            assert "HttpOnly" in login.headers["Set-Cookie"] and "SameSite=Strict" in login.headers["Set-Cookie"]
            assert (await client.get("/")).status == 200  # the cookie now rides along
            async with client.ws_connect("/ws") as ws:
                await ws.send_str(body.decode())
                assert (await ws.receive(timeout=5)).data == body.decode()
            assert len(sink.gone) == 1  # the closed socket was disconnected from the sink

    asyncio.run(scenario())


def test_without_a_token_loopback_is_open_and_any_host_is_refused() -> None:
    async def scenario() -> None:
        async with gateway_client(HttpConfig(http_bind="127.0.0.1"), EchoSink()) as client:
            assert (await client.get("/")).status == 200
            assert (await client.get("/", headers={"Host": "attacker.example"})).status == 421

    asyncio.run(scenario())


def test_shutdown_over_http_stops_the_server() -> None:
    server = ServerProcess("--http", "0", workers=1)
    try:
        url = next(line.split(" ", 1)[1] for line in server.banner if line.startswith("Editor: "))
        status, body = run(post, url, b'{"jsonrpc":"2.0","id":"bye","method":"shut_down"}')
        assert status == 200 and "result" in json.loads(body)
        assert server.proc.wait(30) == 0
    finally:
        server.stop()


@pytest.mark.skipif(_server_ip() == "127.0.0.1", reason="this host has no address beyond loopback to call from")
def test_shutdown_over_http_from_another_host_is_refused_however_it_is_spelled() -> None:
    other = _server_ip()
    server = ServerProcess("--http", "0", "--http-bind", "0.0.0.0", "--http-token", "t0ken-t0ken-t0ken", workers=1)
    try:
        url = next(line.split(" ", 1)[1] for line in server.banner if line.startswith("Editor: "))
        port = url.rstrip("/").rsplit(":", 1)[1]
        remote = f"http://{other}:{port}/"
        refusal = {"code": -32098, "message": "Scapy Server: shut_down is only accepted from this host"}
        for body in (
            b'{"jsonrpc":"2.0","id":"bye","method":"shut_down"}',
            b'{"jsonrpc":"2.0","id":"bye","method":"shut\\u005fdown"}',
        ):
            status, reply = run(post, remote, body, Authorization="Bearer t0ken-t0ken-t0ken")
            assert status == 200 and json.loads(reply) == {"jsonrpc": "2.0", "id": "bye", "error": refusal}
            ws_reply = run(ws_call, remote, body, Authorization="Bearer t0ken-t0ken-t0ken")
            assert json.loads(ws_reply)["error"] == refusal
        assert server.proc.poll() is None
        status, reply = run(
            post,
            url,
            b'{"jsonrpc":"2.0","id":"bye","method":"shut\\u005fdown"}',
            Authorization="Bearer t0ken-t0ken-t0ken",
        )
        assert "result" in json.loads(reply)  # from this host it is honoured
        assert server.proc.wait(30) == 0
    finally:
        server.stop()
