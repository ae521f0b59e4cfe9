"""Large replies on every path that carries one: ZeroMQ, POST /rpc and the editor's WebSocket carry
replies of megabytes byte for byte, and a reply larger than a client may hold becomes an error reply
to that request on each path, never a dead connection."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator

import aiohttp
import pytest
import zmq

from conftest import GUI_HANDLER, ServerProcess, zmq_socket

MiB = 1 << 20


def payload_request(request_id: str, size: int) -> bytes:
    """build_pkt of an Ethernet frame carrying a generated payload of `size` bytes: a reply of about
    2.7 x size (the frame and the payload, each in base64)."""
    load = {"vtype": "BYTES", "generate": "random_bytes", "size": size, "seed": 7}
    model = [{"id": "Ether"}, {"id": "Raw", "fields": [{"id": "load", "value": load}]}]
    return json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": "build_pkt", "params": [GUI_HANDLER, model]}
    ).encode()


VERSION = b'{"jsonrpc":"2.0","id":"after","method":"get_version"}'


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    server = ServerProcess("--http", "0", "--max-client-backlog-bytes", str(2 * MiB), workers=2)
    server.http = next(line.split(" ", 1)[1] for line in server.banner if line.startswith("Editor: "))
    yield server
    server.stop()


def over_zmq(srv: ServerProcess, bodies: list[bytes]) -> list[bytes]:
    sock = zmq_socket(zmq.REQ, srv.endpoint)
    try:
        replies = []
        for body in bodies:
            sock.send(body)
            replies.append(sock.recv())
        return replies
    finally:
        sock.close()


async def over_post(url: str, bodies: list[bytes]) -> list[bytes]:
    async with aiohttp.ClientSession() as session:
        replies = []
        for body in bodies:
            async with session.post(url + "rpc", data=body, headers={"Content-Type": "application/json"}) as resp:
                assert resp.status == 200
                replies.append(await resp.read())
        return replies


async def over_websocket(url: str, bodies: list[bytes]) -> list[bytes]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "ws", max_msg_size=0) as ws:
        replies = []
        for body in bodies:
            await ws.send_str(body.decode())
            message = await ws.receive(timeout=60)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            replies.append(message.data.encode())
        return replies


def every_path(srv: ServerProcess, bodies: list[bytes]) -> dict[str, list[bytes]]:
    return {
        "zeromq": over_zmq(srv, bodies),
        "post": asyncio.run(over_post(srv.http, bodies)),
        "websocket": asyncio.run(over_websocket(srv.http, bodies)),
    }


@pytest.mark.parametrize("size", [40_000, 600_000], ids=["40 kB payload", "600 kB payload"])
def test_a_large_reply_is_carried_byte_for_byte_by_every_path(srv: ServerProcess, size: int) -> None:
    replies = every_path(srv, [payload_request("big", size), VERSION])
    expected = replies["zeromq"][0]
    assert len(expected) > 64 * 1024
    result = json.loads(expected)["result"]
    frame = base64.b64decode(result["binary"])
    assert len(frame) == 14 + size
    for path, (big, after) in replies.items():
        assert big == expected, path
        assert json.loads(after)["result"]["version"], path  # the connection goes on serving


def test_a_reply_larger_than_a_client_may_hold_is_an_error_reply_on_every_path(srv: ServerProcess) -> None:
    replies = every_path(srv, [payload_request("huge", 1_000_000), VERSION])
    for path, (huge, after) in replies.items():
        error = json.loads(huge)
        assert error["id"] == "huge", path
        assert error["error"]["code"] == -32098, path
        assert "exceeds the limit of 2097152 bytes" in error["error"]["message"], path
        assert json.loads(after)["id"] == "after", path


def test_replies_of_megabytes_in_flight_together_on_one_websocket(srv: ServerProcess) -> None:
    async def several() -> list[dict]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(srv.http + "ws", max_msg_size=0) as ws:
                for i in range(4):
                    await ws.send_str(payload_request(f"r{i}", 600_000).decode())
                return [json.loads((await ws.receive(timeout=60)).data) for _ in range(4)]

    replies = asyncio.run(several())
    assert sorted(r["id"] for r in replies) == ["r0", "r1", "r2", "r3"]
    assert all(len(base64.b64decode(r["result"]["binary"])) == 14 + 600_000 for r in replies)
