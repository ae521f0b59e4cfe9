"""The HTTP side against hostile clients, over real sockets: every attack with its bound asserted
(memory, CPU, time, descriptors) and another client's latency measured while it runs."""

from __future__ import annotations

import asyncio
import gzip
import json
import select
import socket
import threading
import time
from collections.abc import Iterator

import aiohttp
import psutil
import pytest
import zmq

from conftest import ServerProcess, wait_for, zmq_socket

MiB = 1 << 20
TOKEN = "a-token-of-thirty-two-characters"
VERSION = b'{"jsonrpc":"2.0","id":"v","method":"get_version"}'
DEFINITIONS = b'{"jsonrpc":"2.0","id":"d","method":"get_definitions","params":[null]}'


def http_url(server: ServerProcess) -> str:
    return next(line.split(" ", 1)[1] for line in server.banner if line.startswith("Editor: "))


def http_port(server: ServerProcess) -> int:
    return int(http_url(server).rstrip("/").rsplit(":", 1)[1])


def zmq_rtt(server: ServerProcess) -> float:
    """How long another client, on the ZeroMQ port, waits for get_version now."""
    sock = zmq_socket(zmq.REQ, server.endpoint, 20000)
    try:
        start = time.monotonic()
        sock.send(VERSION)
        assert json.loads(sock.recv())["result"]["version"]
        return time.monotonic() - start
    finally:
        sock.close()


def raw_request(port: int, head: bytes, body: bytes = b"", rcvbuf: int | None = None) -> socket.socket:
    """A connected socket that has sent `head` (and `body`) and reads nothing yet."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall(head + body)
    return sock


def read_response(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        pass
    return b"".join(chunks)


def post_head(port: int, length: int, extra: str = "") -> bytes:
    return (
        f"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


class Broker:
    """The server process's CPU time and memory, before and after an attack."""

    def __init__(self, server: ServerProcess) -> None:
        self.proc = psutil.Process(server.pid)
        self.cpu0 = self.cpu()
        self.rss0 = self.proc.memory_info().rss

    def cpu(self) -> float:
        times = self.proc.cpu_times()
        return times.user + times.system

    @property
    def cpu_spent(self) -> float:
        return self.cpu() - self.cpu0

    @property
    def grown(self) -> int:
        return self.proc.memory_info().rss - self.rss0


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    server = ServerProcess(
        "--http",
        "0",
        "--http-max-held-bytes",
        str(16 * MiB),
        "--http-max-connections",
        "40",
        "--http-idle-timeout",
        "2",
        "--http-body-timeout",
        "3",
        "--http-send-timeout",
        "3",
        workers=1,
    )
    zmq_rtt(server)
    yield server
    server.stop()


# ---- 1. compressed bodies ----------------------------------------------------------------------------


def test_a_compressed_body_is_refused_unread_and_never_inflated(srv: ServerProcess) -> None:
    bomb = gzip.compress(b" " * (256 * MiB), 9)  # a quarter of a gigabyte in a quarter of a megabyte
    port = http_port(srv)
    broker = Broker(srv)
    socks = [raw_request(port, post_head(port, len(bomb), "Content-Encoding: gzip\r\n"), bomb) for _ in range(4)]
    rtt = zmq_rtt(srv)
    replies = [read_response(sock) for sock in socks]
    for sock in socks:
        sock.close()
    assert all(reply.startswith(b"HTTP/1.1 415 ") for reply in replies), replies[0][:200]
    assert broker.cpu_spent < 1.0 and broker.grown < 40 * MiB, (broker.cpu_spent, broker.grown)
    assert rtt < 2.0


def test_with_a_token_a_compressed_body_without_credentials_costs_nothing() -> None:
    server = ServerProcess("--http", "0", "--http-token", TOKEN, workers=1)
    try:
        bomb = gzip.compress(b" " * (128 * MiB), 9)
        port = http_port(server)
        broker = Broker(server)
        sock = raw_request(port, post_head(port, len(bomb), "Content-Encoding: gzip\r\n"), bomb)
        reply = read_response(sock)
        sock.close()
        assert reply.startswith(b"HTTP/1.1 401 ")
        assert broker.cpu_spent < 0.5 and broker.grown < 20 * MiB
    finally:
        server.stop()


# ---- 2. authentication is total ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b"Authorization: Bearer \xff\xfe\xfd" + b"x" * 40,
        b"Cookie: scapyrpc_session_1=\xff\xfe; a=\x80",
        b"Authorization: \xc3\x28 broken utf-8",
    ],
    ids=["bearer", "cookie", "scheme"],
)
def test_credentials_of_any_bytes_get_401_without_a_traceback(header: bytes) -> None:
    server = ServerProcess("--http", "0", "--http-token", TOKEN, workers=1)
    try:
        port = http_port(server)
        for _ in range(20):
            sock = raw_request(port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode() + header + b"\r\n\r\n")
            reply = sock.recv(4096)
            sock.close()
            assert reply.startswith((b"HTTP/1.1 401 ", b"HTTP/1.1 429 ")), reply[:100]  # wrong, then waiting
        assert "Traceback" not in server.stderr_text() and " 500 " not in server.stderr_text()
    finally:
        server.stop()


# ---- 3. memory in total ------------------------------------------------------------------------------


def test_replies_nobody_reads_are_held_only_up_to_the_total(srv: ServerProcess) -> None:
    """35 clients ask for the 3 MB definitions and never read: the server holds about 16 MiB for
    them (the total) and answers the others with a small 'server busy' error reply (as the ZeroMQ
    side does for a reply it cannot hold); other clients are served; after the send timeout the
    budget is free again."""
    port = http_port(srv)
    broker = Broker(srv)
    socks = [raw_request(port, post_head(port, len(DEFINITIONS)), DEFINITIONS, rcvbuf=4096) for _ in range(35)]
    time.sleep(2.0)
    rtt = zmq_rtt(srv)
    grown = broker.grown
    heads = [sock.recv(4096) for sock in socks]
    for sock in socks:
        sock.close()
    assert all(head.startswith(b"HTTP/1.1 200 ") for head in heads)
    busy = sum(b"Scapy Server: server busy: the HTTP side holds as much as it may" in head for head in heads)
    assert busy >= 25, busy
    assert grown < 60 * MiB, grown
    assert rtt < 2.0

    async def fetch() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(http_url(srv) + "rpc", data=DEFINITIONS, headers={"Content-Type": "application/json"}) as resp,
        ):
            return len(await resp.read())

    assert wait_for(lambda: asyncio.run(fetch()) > 1_000_000, 15)


def test_bodies_that_never_finish_are_held_only_up_to_the_total_and_the_timeout(srv: ServerProcess) -> None:
    """Clients announce 15 MB bodies and stall after 3 MB: past the 16 MiB total the next are refused
    at once (503); every stalled one is closed at the body timeout and the budget is free again."""
    port = http_port(srv)
    broker = Broker(srv)
    socks = [raw_request(port, post_head(port, 15 * MiB), b" " * (3 * MiB)) for _ in range(10)]
    time.sleep(1.0)
    grown = broker.grown
    rtt = zmq_rtt(srv)
    replies = [read_response(sock) for sock in socks]  # each ends: 503 at once, or 408 at the timeout
    for sock in socks:
        sock.close()
    assert sum(r.startswith(b"HTTP/1.1 503 ") for r in replies) >= 4
    assert all(r.startswith((b"HTTP/1.1 503 ", b"HTTP/1.1 408 ")) or r == b"" for r in replies)
    assert grown < 40 * MiB, grown
    assert rtt < 2.0
    sock = raw_request(port, post_head(port, len(VERSION)), VERSION)
    assert read_response(sock).split(b"\r\n")[0] == b"HTTP/1.1 200 OK"
    sock.close()


def test_a_websocket_message_over_the_limit_closes_only_that_socket(srv: ServerProcess) -> None:
    async def scenario() -> tuple[int | None, str]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(http_url(srv) + "ws") as big, session.ws_connect(http_url(srv) + "ws") as ok:
                await big.send_str(
                    json.dumps({"jsonrpc": "2.0", "id": 1, "method": "get_version", "params": ["x" * (2 * MiB)]})
                )
                closed = await big.receive(timeout=10)
                assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                await ok.send_str(VERSION.decode())
                answer = (await ok.receive(timeout=10)).data
                return big.close_code, answer

    code, answer = asyncio.run(scenario())
    assert code in (1009, 1006)  # message too big (1006: the close frame was lost when the server reset the rest)
    assert json.loads(answer)["id"] == "v"


def test_unfinished_websocket_messages_hold_at_most_the_message_limit_each(srv: ServerProcess) -> None:
    """Eight sockets each send 900 kB of a message that never ends (no final frame): at most the
    1 MiB message limit each."""
    port = http_port(srv)
    broker = Broker(srv)
    socks = []
    for _ in range(8):
        sock = raw_request(
            port,
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode(),
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 101 ")
        for i in range(9):  # a text frame, then continuations, none final, 100 kB each (masked, as from a client)
            payload = b"x" * 100_000
            sock.sendall(
                bytes([0x01 if i == 0 else 0x00, 0x80 | 127])
                + len(payload).to_bytes(8, "big")
                + b"\x00\x00\x00\x00"
                + payload
            )
        socks.append(sock)
    time.sleep(0.5)
    assert broker.grown < 40 * MiB, broker.grown
    assert zmq_rtt(srv) < 2.0
    for sock in socks:
        sock.close()


# ---- 4. connections -----------------------------------------------------------------------------------


def test_http_connections_are_capped_and_idle_ones_closed(srv: ServerProcess) -> None:
    """150 idle connections against a cap of 40: the door closes at the cap (later attempts are
    dropped by the kernel and time out; what the kernel completed before is closed at once), so at
    most 40 stay open; nothing spins, the ZeroMQ side is served; after the idle timeout every idle
    connection is closed and the door opens again."""
    port = http_port(srv)
    broker = Broker(srv)
    attempts = []
    for _ in range(150):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        attempts.append(sock)
    _, writable, _ = select.select([], attempts, [], 1.0)
    connected = [sock for sock in writable if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0]
    time.sleep(0.3)
    held = [sock for sock in connected if _open(sock)]
    for sock in attempts:
        if sock not in held:
            sock.close()
    proc = broker.proc
    proc.cpu_percent()
    time.sleep(1.0)
    assert proc.cpu_percent() < 30
    assert zmq_rtt(srv) < 2.0
    assert 30 <= len(held) <= 40, (len(held), len(connected))
    closed_by_server = 0
    for sock in held:
        sock.settimeout(5)
        try:
            closed_by_server += sock.recv(1) == b""
        except OSError:
            closed_by_server += 1
        sock.close()
    assert closed_by_server == len(held)
    sock = raw_request(port, post_head(port, len(VERSION)), VERSION)
    assert read_response(sock).startswith(b"HTTP/1.1 200 ")
    sock.close()


def _open(sock: socket.socket) -> bool:
    """Whether the server still holds this connection (it has neither closed nor reset it)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_a_connection_trickling_its_headers_is_closed_at_the_idle_timeout(srv: ServerProcess) -> None:
    port = http_port(srv)
    sock = socket.socket()
    sock.connect(("127.0.0.1", port))
    start = time.monotonic()
    closed = threading.Event()

    def trickle() -> None:
        try:
            for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
                sock.send(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            closed.set()

    thread = threading.Thread(target=trickle)
    thread.start()
    sock.settimeout(10)
    try:
        assert sock.recv(4096) == b""
    except ConnectionResetError:
        pass
    elapsed = time.monotonic() - start
    sock.close()
    thread.join(30)
    assert elapsed < 6.0  # the idle timeout (2 s) and the sweep, not the 20 s the trickle would take


# ---- 5. the token --------------------------------------------------------------------------------------


def test_the_session_cookie_is_not_the_token_and_is_named_for_the_port(tmp_path) -> None:  # noqa: ANN001
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    server = ServerProcess("--http", "0", "--http-token-file", str(token_file), workers=1)
    try:
        url, port = http_url(server), http_port(server)

        async def scenario() -> tuple[str, str, int, int]:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                async with session.get(url + f"?token={TOKEN}", allow_redirects=False) as login:
                    cookie = login.headers["Set-Cookie"]
                async with session.get(url) as page:
                    status = page.status
                async with session.post(url + "rpc", data=VERSION, headers={"Content-Type": "application/json"}) as r:
                    posted = r.status
                return cookie, login.cookies[f"scapyrpc_session_{port}"].value, status, posted

        cookie, value, status, posted = asyncio.run(scenario())
        assert cookie.startswith(f"scapyrpc_session_{port}=") and TOKEN not in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert len(value) >= 40 and status == 200 and posted == 200
    finally:
        server.stop()


def test_wrong_guesses_make_the_peer_wait() -> None:
    server = ServerProcess("--http", "0", "--http-token", TOKEN, workers=1)
    try:
        url = http_url(server)

        async def guesses() -> list[tuple[int, str | None]]:
            async with aiohttp.ClientSession() as session:
                out = []
                for i in range(8):
                    async with session.post(
                        url + "rpc",
                        data=VERSION,
                        headers={"Content-Type": "application/json", "Authorization": f"Bearer wrong-token-{i:020d}"},
                    ) as r:
                        out.append((r.status, r.headers.get("Retry-After")))
                async with session.post(
                    url + "rpc",
                    data=VERSION,
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
                ) as r:
                    out.append((r.status, r.headers.get("Retry-After")))
                return out

        out = asyncio.run(guesses())
        assert [s for s, _ in out[:5]] == [401] * 5
        assert all(s == 429 and after for s, after in out[6:])  # even the right token waits its turn
    finally:
        server.stop()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--http-token", "short"), "at least 16 characters"),
        (("--http-token", TOKEN, "--http-token-file", "/etc/hostname"), "not both"),
        (("--http-token-file", "/nonexistent/token"), "cannot read --http-token-file"),
    ],
)
def test_an_unusable_token_stops_the_server_at_start(args: tuple[str, ...], message: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "scapyrpc", "serve", "--http", "0", *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.splitlines()) == 1


# ---- 6. the small ones ----------------------------------------------------------------------------------


def test_every_status_carries_the_security_headers_and_names_no_software() -> None:
    server = ServerProcess("--http", "0", "--http-token", TOKEN, workers=1)
    try:
        url, port = http_url(server), http_port(server)

        async def statuses() -> list[tuple[int, dict[str, str]]]:
            async with aiohttp.ClientSession() as session:
                auth = {"Authorization": f"Bearer {TOKEN}"}
                cases = [
                    session.get(url),  # 401
                    session.get(url, headers={**auth, "Origin": "http://evil.example"}),  # 403
                    session.get(url + "static/nope.js", headers=auth),  # 404
                    session.post(url + "rpc", data=b"x", headers={**auth, "Content-Type": "text/plain"}),  # 415
                    session.get(url, headers={**auth, "Host": "evil.example"}),  # 421
                    session.get(url, headers=auth),  # 200
                ]
                out = []
                for case in cases:
                    async with case as resp:
                        out.append((resp.status, dict(resp.headers)))
                return out

        seen = asyncio.run(statuses())
        assert [status for status, _ in seen] == [401, 403, 404, 415, 421, 200]
        for status, headers in seen:
            assert headers["Server"] == "scapyrpc", status
            assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY", status
            assert "Content-Security-Policy" in headers, status
        sock = raw_request(port, b"GET /\x01\x02<script>EVIL</script> HTTP/1.1\r\nHost: \xff\r\n\r\n")
        reply = read_response(sock)
        sock.close()
        assert reply.startswith((b"HTTP/1.0 400 ", b"HTTP/1.1 400 ")) and b"EVIL" not in reply and b"\xff" not in reply
        assert b"Server: scapyrpc" in reply and b"aiohttp" not in reply and b"Python" not in reply
    finally:
        server.stop()


def test_a_client_leaving_mid_body_logs_no_error(srv: ServerProcess) -> None:
    port = http_port(srv)
    for _ in range(5):
        sock = raw_request(port, post_head(port, 100_000), b'{"jsonrpc":"2.0","id":1,' + b" " * 1000)
        time.sleep(0.1)
        sock.close()
    time.sleep(0.5)
    assert "Traceback" not in srv.stderr_text() and " ERROR " not in srv.stderr_text()
