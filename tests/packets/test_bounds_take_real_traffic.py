"""Every bound against hostile input, tried with legitimate values at its edge: the numbers real
packets carry, a request and a pcap of exactly the allowed size, a packet list past what an
EXPRESSION may hold, a real capture read within the default deadline. Each bound's hostile side
is tested beside its own code (test_number_fields, test_bounds, test_expression_bounds, test_pcap,
test_large_replies); here is the side of the traffic it must never refuse."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import zmq

from scapyrpc.packets import limits, pcap, registry, service
from scapyrpc.packets.errors import ServiceError

from conftest import GUI_HANDLER, ServerProcess, zmq_socket

registry.load()

from scapy.layers.dns import DNS, DNSQR, DNSRR  # noqa: E402
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
CAP = limits.current().max_payload_bytes
LIMIT = 200_000  # --max-request-bytes of the server below


def options(expr: str) -> list:
    return [
        {"id": "Ether"},
        {"id": "IP"},
        {"id": "TCP", "fields": [{"id": "options", "value": {"vtype": "EXPRESSION", "expr": expr}}]},
    ]


def corpus_tcp_options() -> list[str]:
    """Every distinct TCP options list of the real-traffic corpus, as the server renders it."""
    found = set()
    for path in sorted(CAPTURES.glob("*.pcap")):
        for result in service.read_pcap(base64.b64encode(path.read_bytes()).decode()):
            for layer in result["data"]:
                for field in layer["fields"]:
                    if layer["id"] == "TCP" and field["id"] == "options" and isinstance(field["value"], dict):
                        found.add(field["value"]["expr"])
    return sorted(found)


# ---------------------------------------------------------------- the generated-payload budget


def test_the_payload_budget_takes_every_tcp_option_of_real_traffic() -> None:
    exprs = corpus_tcp_options()
    assert any("Timestamp" in e for e in exprs) and any("SAck" in e and "SAckOK" not in e for e in exprs)
    for expr in exprs:
        service.build_pkt(options(expr))


@pytest.mark.parametrize(
    "expr",
    [
        "[('Timestamp', (4294967295, 4294967295))]",
        "[('SAck', (4294967295, 4294967294, 1, 2))]",
        "[('MSS', 65535), ('WScale', 14), ('Timestamp', (114957379, 0))]",
    ],
    ids=["largest timestamps", "largest SACK edges", "the issue's timestamp"],
)
def test_the_payload_budget_takes_the_largest_option_numbers(expr: str) -> None:
    service.build_pkt(options(expr))


def test_the_payload_budget_refuses_an_option_that_would_make_bytes_beside_them() -> None:
    with pytest.raises(ServiceError, match=f"number {CAP + 1} for TCP.options would make as many bytes"):
        service.build_pkt(options(f"[('Timestamp', (4294967295, 0)), ('AO', {CAP + 1})]"))


def test_dhcp_options_take_real_numbers_and_refuse_a_byte_count() -> None:
    dhcp = [
        {
            "id": "DHCP",
            "fields": [
                {
                    "id": "options",
                    "value": {
                        "vtype": "EXPRESSION",
                        "expr": "[('message-type', 'ack'), ('lease_time', 4294967295), "
                        "('renewal_time', 2147483647), 'end']",
                    },
                }
            ],
        }
    ]
    service.build_pkt(dhcp)
    dhcp[0]["fields"][0]["value"]["expr"] = f"[('hostname', {CAP + 1}), 'end']"
    with pytest.raises(ServiceError, match="for DHCP.options would make as many bytes"):
        service.build_pkt(dhcp)


def test_an_integer_byte_count_of_exactly_the_budget_is_taken() -> None:
    load = lambda n: [{"id": "Raw", "fields": [{"id": "load", "value": n}]}]  # noqa: E731
    assert len(base64.b64decode(service.build_pkt(load(CAP))["binary"])) == CAP
    with pytest.raises(ServiceError, match="would make as many bytes"):
        service.build_pkt(load(CAP + 1))


# ---------------------------------------------------------------- EXPRESSION limits


def test_a_packet_list_past_the_expression_limits_still_rebuilds_exactly() -> None:
    """99 answers whose names are binary labels render to more text than an EXPRESSION may hold:
    the list is given as its bytes, and the packet still rebuilds byte for byte."""
    label = bytes(range(0x80, 0x80 + 62))
    name = b".".join([label] * 4) + b"."
    answers = [DNSRR(rrname=name, rdata=f"10.0.0.{i}") for i in range(99)]
    frame = bytes(Ether() / IP() / UDP(sport=53, dport=40000) / DNS(qr=1, qd=DNSQR(qname="example.com"), an=answers))
    result = service.reconstruct_pkt(base64.b64encode(frame).decode(), [])
    an = next(f for f in result["data"][3]["fields"] if f["id"] == "an")
    assert an["value"]["vtype"] == "BYTES" and an["length"] == len(frame) - 42 - 29
    model = [
        {
            "id": layer["id"],
            "fields": [{"id": f["id"], "value": f["value"]} for f in layer["fields"] if not f.get("ignored")],
        }
        for layer in result["data"]
    ]
    assert base64.b64decode(service.build_pkt(model)["binary"]) == frame


def test_a_dns_answer_list_within_the_limits_stays_readable() -> None:
    answers = [DNSRR(rrname=f"host{i}.example.com", rdata=f"10.0.0.{i}") for i in range(99)]
    frame = bytes(Ether() / IP() / UDP(sport=53, dport=40000) / DNS(qr=1, qd=DNSQR(qname="example.com"), an=answers))
    result = service.reconstruct_pkt(base64.b64encode(frame).decode(), [])
    an = next(f for f in result["data"][3]["fields"] if f["id"] == "an")
    assert an["value"]["vtype"] == "EXPRESSION" and an["value"]["expr"].count("DNSRR(") == 99


# ---------------------------------------------------------------- pcap limits


def test_a_pcap_of_exactly_the_packet_limit_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = [pcap.Record(bytes(Ether() / IP(id=i) / TCP())) for i in range(5)]
    data = pcap.write_pcap(frames)
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_packets=5, max_pcap_bytes=len(data)))
    assert len(pcap.read_pcap(data)) == 5
    assert len(pcap.write_pcap(frames)) == len(data)


# ---------------------------------------------------------------- request size, deadline (over the wire)


@pytest.fixture(scope="module")
def srv() -> Iterator[ServerProcess]:
    server = ServerProcess("--http", "0", "--max-request-bytes", str(LIMIT), workers=2)
    server.http = next(line.split(" ", 1)[1] for line in server.banner if line.startswith("Editor: "))
    yield server
    server.stop()


def read_pcap_request(size: int) -> bytes:
    """A read_pcap request of a real capture, padded with JSON whitespace to exactly `size` bytes."""
    capture = base64.b64encode((CAPTURES / "tcp_http_v4.pcap").read_bytes()).decode()
    body = json.dumps({"jsonrpc": "2.0", "id": "edge", "method": "read_pcap", "params": [GUI_HANDLER, capture]})
    assert len(body) < size
    return (body[:-1] + " " * (size - len(body)) + "}").encode()


def zmq_call(srv: ServerProcess, body: bytes) -> dict:
    sock = zmq_socket(zmq.REQ, srv.endpoint)
    try:
        sock.send(body)
        return json.loads(sock.recv())
    finally:
        sock.close()


async def http_calls(url: str, body: bytes) -> list[dict]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "rpc", data=body, headers={"Content-Type": "application/json"}) as resp:
            posted = json.loads(await resp.read())
        async with session.ws_connect(url + "ws", max_msg_size=0) as ws:
            await ws.send_str(body.decode())
            sent = json.loads((await ws.receive(timeout=60)).data)
    return [posted, sent]


def test_a_request_of_exactly_the_size_limit_is_served_on_every_path(srv: ServerProcess) -> None:
    """The limit counts every byte of the message: over HTTP the body, over ZeroMQ the body and
    the 5-byte routing identity the broker's ROUTER socket gives a REQ client."""
    at_limit = read_pcap_request(LIMIT)
    for reply in [zmq_call(srv, read_pcap_request(LIMIT - 5)), *asyncio.run(http_calls(srv.http, at_limit))]:
        assert reply["id"] == "edge" and len(reply["result"]) >= 20, reply.get("error")
    for reply in [
        zmq_call(srv, read_pcap_request(LIMIT - 4)),
        *asyncio.run(http_calls(srv.http, read_pcap_request(LIMIT + 1))),
    ]:
        assert "exceeds the limit of 200000 bytes" in reply["error"]["message"]


def test_a_real_capture_of_thousands_of_packets_is_read_within_the_default_deadline() -> None:
    """2,472 packets (the retransmission capture eight times, 2.3 MB) on a server with the
    default request deadline: answered with every packet, not with a deadline error."""
    from scapy.utils import RawPcapReader

    records = [pcap.Record(frame) for frame, _ in RawPcapReader(str(CAPTURES / "tcp_retransmit.pcap"))] * 8
    data = base64.b64encode(pcap.write_pcap(records)).decode()
    server = ServerProcess(workers=1)
    try:
        reply = zmq_call(
            server,
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "read_pcap", "params": [GUI_HANDLER, data]}).encode(),
        )
    finally:
        server.stop()
    assert "error" not in reply, reply.get("error")
    assert len(reply["result"]) == len(records)
