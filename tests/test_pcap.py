"""read_pcap / write_pcap (pcap and pcapng), garbage input and the limits of API.md section 9."""

from __future__ import annotations

import base64
import struct

import pytest

from scapyrpc import layers, limits, pcap
from scapyrpc.errors import ServiceError

layers.load()

from scapy.all import DNS, DNSQR, IP, TCP, UDP, Ether  # noqa: E402

TEST_PKT = Ether(dst="10:10:10:10:10:10") / IP(src="127.0.0.1") / TCP(sport=443)
DNS_PKT = Ether() / IP() / UDP(sport=1060, dport=53) / DNS(id=6159, rd=1, qd=DNSQR(qname="wireshark.org"))

# The DNS capture of the reference unit tests (two packets, pcap format).
TEST_DNS_PCAP_B64 = (
    "1MOyoQIABAAAAAAAAAAAAP//AAABAAAAdzmERaAVAwBJAAAASQAAAAAFXSGZTAAWzm6LJAgARQAA"
    "Ox8nAACAEWfBwKgAcs2YJRcEJAA1ACcDbRgPAQAAAQAAAAAAAAl3aXJlc2hhcmsDb3JnAAABAAF3"
    "OYRFvHkEAFkAAABZAAAAABbOboskAAVdIZlMCABFAABLdn1AADIRHlvNmCUXwKgAcgA1BCQANzwg"
    "GA+BgAABAAEAAAAACXdpcmVzaGFyawNvcmcAAAEAAcAMAAEAAQAAOEAABIB5Mno="
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_reference_dns_pcap(api):
    results = api.read_pcap(TEST_DNS_PCAP_B64)
    assert len(results) == 2
    pkt = Ether(base64.b64decode(results[0]["binary"]))
    assert pkt[DNS].id == 6159
    dns = results[0]["data"][3]
    assert dns["id"] == "DNS" and dns["offset"] == 42
    assert all(d["valid_structure"] for d in results[0]["data"])


def test_write_then_read_round_trip(api):
    frames = [bytes(TEST_PKT), bytes(DNS_PKT)]
    out = base64.b64decode(api.write_pcap([b64(f) for f in frames]))
    assert struct.unpack("<I", out[:4])[0] == 0xA1B2C3D4 and struct.unpack("<I", out[20:24])[0] == 1
    results = api.read_pcap(b64(out))
    assert [base64.b64decode(r["binary"]) for r in results] == frames
    assert Ether(base64.b64decode(results[0]["binary"])).dst == "10:10:10:10:10:10"


def test_pcapng_is_read(tmp_path, api):
    from scapy.utils import PcapNgWriter

    path = tmp_path / "two.pcapng"
    writer = PcapNgWriter(str(path))
    writer.write(TEST_PKT)
    writer.write(DNS_PKT)
    writer.close()
    results = api.read_pcap(b64(path.read_bytes()))
    assert [base64.b64decode(r["binary"]) for r in results] == [bytes(TEST_PKT), bytes(DNS_PKT)]


@pytest.mark.parametrize("garbage", [b"", b"garbage!" * 8, b"\xd4\xc3\xb2\xa1" + b"\x00" * 5])
def test_garbage_pcap_is_a_service_error(garbage, api):
    with pytest.raises(ServiceError):
        api.read_pcap(b64(garbage))


def test_bad_base64_pcap(api):
    with pytest.raises(ServiceError, match="base64"):
        api.read_pcap("%%%")


def test_write_pcap_rejects_bad_input(api):
    with pytest.raises(ServiceError):
        api.write_pcap("not a list")
    with pytest.raises(ServiceError, match="base64"):
        api.write_pcap(["***"])


def test_pcap_limits(monkeypatch):
    data = pcap.write_pcap([bytes(TEST_PKT)] * 3)
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_packets=2))
    with pytest.raises(ServiceError, match="more than 2 packets"):
        pcap.read_pcap(data)
    with pytest.raises(ServiceError, match="too many packets"):
        pcap.write_pcap([bytes(TEST_PKT)] * 3)
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_bytes=100))
    with pytest.raises(ServiceError, match="too large"):
        pcap.read_pcap(data)
    with pytest.raises(ServiceError, match="too large"):
        pcap.write_pcap([bytes(TEST_PKT)] * 3)
