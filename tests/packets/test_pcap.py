"""read_pcap / write_pcap (pcap and pcapng), garbage input and the limits (docs/api.md, "Limits")."""

from __future__ import annotations

import base64
import struct

import pytest

from scapyrpc.packets import limits, pcap, registry
from scapyrpc.packets.errors import ServiceError

registry.load()

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
    three = [pcap.Record(bytes(TEST_PKT))] * 3
    data = pcap.write_pcap(three)
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_packets=2))
    with pytest.raises(ServiceError, match="more than 2 packets"):
        pcap.read_pcap(data)
    with pytest.raises(ServiceError, match="too many packets"):
        pcap.write_pcap(three)
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_bytes=100))
    with pytest.raises(ServiceError, match="too large"):
        pcap.read_pcap(data)
    with pytest.raises(ServiceError, match="too large"):
        pcap.write_pcap(three)


def test_a_capture_read_and_written_back_keeps_its_times_link_type_and_lengths(api):
    """Each record's time (nanoseconds included), the file's link type and a cut packet's
    original length survive read_pcap -> write_pcap; the results say them."""
    import io

    from scapy.layers.l2 import CookedLinux
    from scapy.utils import RawPcapWriter

    frames = [bytes(CookedLinux(proto=0x800) / IP(dst="10.1.1.1") / UDP()), bytes(CookedLinux() / IP())]
    out = io.BytesIO()
    writer = RawPcapWriter(out, linktype=113, nano=True, sync=True)
    writer._write_header(None)
    writer.write_packet(frames[0], sec=1700000000, usec=123456789)
    writer.write_packet(frames[1], sec=1700000001, usec=5, wirelen=len(frames[1]) + 100)
    writer.flush()
    original = out.getvalue()
    results = api.read_pcap(b64(original))
    assert [r["time"] for r in results] == ["1700000000.123456789", "1700000001.000000005"]
    assert [r["linktype"] for r in results] == [113, 113]
    assert "wirelen" not in results[0] and results[1]["wirelen"] == len(frames[1]) + 100
    assert results[0]["data"][0]["id"] == "CookedLinux" and results[0]["data"][1]["id"] == "IP"
    written = base64.b64decode(api.write_pcap(results))
    assert written[24:] == original[24:]
    assert struct.unpack("<I", written[:4])[0] == 0xA1B23C4D and struct.unpack("<I", written[20:24])[0] == 113


def test_write_pcap_takes_base64_and_packet_objects_and_names_a_bad_one(api):
    frame = b64(bytes(TEST_PKT))
    written = base64.b64decode(
        api.write_pcap([frame, {"binary": frame, "time": "12.5"}, {"binary": frame, "time": 13}])
    )
    results = api.read_pcap(b64(written))
    assert [r["time"] for r in results[1:]] == ["12.500000", "13.000000"]
    for bad, message in [
        ({"binary": frame, "time": "yesterday"}, "packet 1: time 'yesterday' is not a time"),
        ({"binary": frame, "time": -1}, "packet 1: time '-1' is not a time"),
        ({"binary": frame, "time": [1]}, "packet 1: time must be a number"),
        ({"binary": frame, "linktype": 70000}, "packet 1: linktype must be a number from 0 to 65535"),
        ({"binary": frame, "wirelen": 3}, "packet 1: wirelen must be a number from the packet's length"),
        ({"time": 1}, "packet 1 must be base64 text"),
    ]:
        with pytest.raises(ServiceError, match=message):
            api.write_pcap([frame, bad])
    with pytest.raises(ServiceError, match=r"link types \[1, 113\] cannot share one pcap file"):
        api.write_pcap([frame, {"binary": frame, "linktype": 113}])
