"""read_pcap_summaries: a capture as a packet list (docs/api.md, "Captures"), in process and over a
real server. Every capture of the corpus (tests/captures) is listed packet for packet as read_pcap
reads it, with the file's bytes; each line names a protocol and addresses the packet has by Scapy's
own dissection, and says what the traffic is (DNS questions, ARP, IPv6, VLAN and VXLAN, the cooked
link type, TCP flags, fragments). Packets the fast reader does not know are described by Scapy;
the limits are read_pcap's."""

from __future__ import annotations

import base64
import struct
from functools import cache
from pathlib import Path

import pytest
from test_corpus import CORPUS as STACKS

from scapyrpc.client import ScapyRpcError
from scapyrpc.packets import limits, pcap, registry, service, summaries
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.unwrap import layer_list

from conftest import ServerProcess

registry.load()

from scapy.all import GRE, ICMP, IP, LLC, STP, TCP, UDP, Dot3, Ether, Raw  # noqa: E402

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
FILES = sorted(CAPTURES.glob("*.pcap"))
RECORD_KEYS = ("binary", "time", "linktype", "wirelen")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def raw_records(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """(seconds, fraction, original length, bytes) of every record of a classic pcap, read by hand."""
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    records, at = [], 24
    while at + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[at : at + 16])
        records.append((sec, frac, wirelen, data[at + 16 : at + 16 + caplen]))
        at += 16 + caplen
    return records


@cache
def listed(name: str) -> list[dict]:
    return service.read_pcap_summaries(b64((CAPTURES / name).read_bytes()))


def scapy_layers(data: bytes, linktype: int) -> list:
    """The layers Scapy dissects, up to the packet an ICMP error quotes."""
    layers = layer_list(pcap.Record(data, linktype=linktype).packet())
    for i, layer in enumerate(layers):
        if type(layer).__name__.endswith(("error", "error6")):
            return layers[:i]
    return layers


def address_pairs(layers: list) -> set[tuple[str, str]]:
    pairs = set()
    for layer in layers:
        for src, dst in (("src", "dst"), ("hwsrc", "hwdst"), ("psrc", "pdst")):
            source, destination = layer.fields.get(src), layer.fields.get(dst)
            if isinstance(source, str) and isinstance(destination, str):
                pairs.add((source, destination))
    return pairs


# ---------------------------------------------------------------- the corpus, packet for packet


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_capture_is_listed_as_read_pcap_reads_it(path: Path, api) -> None:  # noqa: ANN001
    """Counts, records and bytes: the file's, in order; only what a list needs is added."""
    data = path.read_bytes()
    lines = api.read_pcap_summaries(b64(data))
    packets = service.read_pcap(b64(data))
    assert len(lines) == len(packets) == len(raw_records(data))
    assert [base64.b64decode(line["binary"]) for line in lines] == [r[3] for r in raw_records(data)]
    assert [{k: line.get(k) for k in RECORD_KEYS} for line in lines] == [
        {k: p.get(k) for k in RECORD_KEYS} for p in packets
    ]
    for line in lines:
        assert line["length"] == len(base64.b64decode(line["binary"]))
        assert set(line) - {"wirelen"} == {*RECORD_KEYS, "length", "source", "destination", "protocol", "summary"} - {
            "wirelen"
        }
        assert line["protocol"] and line["summary"] and line["source"] and line["destination"]
    assert base64.b64decode(service.write_pcap(lines))[24:] == data[24:]  # the lines are records write_pcap takes


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_line_names_a_protocol_and_addresses_scapy_finds_in_the_packet(path: Path) -> None:
    for i, line in enumerate(listed(path.name)):
        layers = scapy_layers(base64.b64decode(line["binary"]), line["linktype"])
        names = {summaries.protocol_name(type(layer).__name__) for layer in layers}
        assert line["protocol"] in names, (i, line, names)
        if line["linktype"] == 1 or line["protocol"] != "ARP":  # a cooked ARP has no Ethernet addresses
            assert (line["source"], line["destination"]) in address_pairs(layers), (i, line)


@pytest.mark.parametrize("name", sorted(STACKS))
def test_each_hand_made_stack_is_named_by_one_of_its_layers(name: str) -> None:
    """The stacks of test_corpus (GRE, MPLS, QinQ, GTP-U, GENEVE, SCTP, LLDP, ...), fast or not."""
    frame = bytes(STACKS[name])
    line = summaries.summary(pcap.Record(frame))
    layers = scapy_layers(frame, 1)
    assert line["protocol"] in {summaries.protocol_name(type(layer).__name__) for layer in layers}, line
    assert (line["source"], line["destination"]) in address_pairs(layers), line


def test_the_lines_say_what_the_traffic_is() -> None:
    dns = [line for line in listed("dns.pcap") if line["protocol"] == "DNS"]
    assert len(dns) == 20  # 18 over UDP, 2 over TCP
    assert all({line["source"], line["destination"]} == {"192.0.2.1", "192.0.2.2"} for line in dns)
    assert all(line["summary"].startswith("Standard query") for line in dns)
    assert any(line["summary"].endswith("A www.corp.test") for line in dns)
    assert any("MX" in line["summary"] for line in dns) and any("PTR" in line["summary"] for line in dns)
    assert any(line["summary"].endswith("No such name") for line in dns)  # the NXDOMAIN
    assert any(line["summary"].startswith("Standard query response") and "answer" in line["summary"] for line in dns)

    arp = [line for line in listed("tcp_http_v4.pcap") if line["protocol"] == "ARP"]
    assert [line["summary"] for line in arp] == [
        "Who has 192.0.2.2? Tell 192.0.2.1",
        "192.0.2.2 is at 02:53:43:00:00:0b",
    ]
    assert (arp[0]["source"], arp[0]["destination"]) == ("02:53:43:00:00:0a", "ff:ff:ff:ff:ff:ff")

    v6 = listed("http_v6.pcap")
    assert {line["source"] for line in v6} == {"fd00:1::1", "fd00:1::2"}
    assert v6[0]["protocol"] == "ICMPv6" and v6[0]["summary"] == "Neighbor Solicitation for fd00:1::2"
    syn = next(line for line in v6 if line["protocol"] == "TCP")
    assert "→ 8080 [SYN] Seq=" in syn["summary"] and syn["summary"].endswith("Len=0")

    vlan = listed("vlan.pcap")
    assert all(line["summary"].startswith("VLAN 100: ") for line in vlan)
    assert {line["protocol"] for line in vlan} == {"ARP", "ICMP", "TCP"}
    assert {line["source"] for line in vlan if line["protocol"] != "ARP"} == {"198.18.100.1", "198.18.100.2"}

    vxlan = [line for line in listed("tunnels.pcap") if line["summary"].startswith("VXLAN 42: ")]
    assert len(vxlan) == 8 and {line["protocol"] for line in vxlan} == {"ARP", "ICMP"}
    assert {line["source"] for line in vxlan if line["protocol"] == "ICMP"} == {"198.18.42.1", "198.18.42.2"}
    assert "VXLAN 42: Who has 198.18.42.2? Tell 198.18.42.1" in {line["summary"] for line in vxlan}

    sll = listed("sll.pcap")
    assert {line["linktype"] for line in sll} == {276}
    assert {line["protocol"] for line in sll} == {"ARP", "ICMP", "ICMPv6"}
    assert sll[0]["source"] == "02:53:43:00:00:0a" and sll[0]["summary"] == "Who has 192.0.2.2? Tell 192.0.2.1"
    assert {line["source"] for line in sll if line["protocol"] == "ICMP"} == {"192.0.2.1", "192.0.2.2"}

    tcp = listed("tcp_retransmit.pcap")
    flags = {line["summary"].split("[", 1)[1].split("]", 1)[0] for line in tcp}
    assert {"SYN", "SYN, ACK", "ACK", "FIN, ACK"} <= flags
    assert all(line["protocol"] == "TCP" and "8080" in line["summary"] for line in tcp)
    assert max(int(line["summary"].rsplit("Len=", 1)[1]) for line in tcp) == 1448

    fragments = listed("fragments.pcap")
    assert any(line["summary"].startswith("Fragmented IP protocol (proto=ICMP 1, off=") for line in fragments)
    assert any(line["summary"].startswith("IPv6 fragment (nh=ICMPv6 58, off=") for line in fragments)
    icmp = {line["summary"] for line in listed("icmp.pcap")}
    assert "Destination unreachable (port-unreachable)" in icmp and "Destination unreachable" in icmp

    large = listed("large.pcap")
    assert max(line["length"] for line in large) == 65549


# ---------------------------------------------------------------- beyond the fast reader


@pytest.mark.parametrize(
    ("frame", "linktype", "protocol", "summary"),
    [
        (bytes(Dot3(src="66:77:88:99:aa:bb") / LLC() / STP()), 1, "STP", "/ LLC / STP"),
        (bytes(Ether() / IP(dst="10.0.0.9") / GRE() / IP(dst="8.8.8.8") / ICMP()), 1, "ICMP", "GRE / IP / ICMP"),
        (bytes(Ether() / IP(src="10.0.0.1", dst="10.0.0.2")), 1, "IPv4", "10.0.0.1 > 10.0.0.2"),
        (bytes(Ether() / IP(ihl=15) / TCP())[:40], 1, "IPv4", ""),  # a header longer than the frame
        (bytes(IP(dst="10.0.0.2") / TCP(dport=22, flags="S")), 228, "TCP", "→ 22 [SYN]"),
        (b"\x00\x01\x02", 147, "Raw", "Raw"),
    ],
    ids=["stp", "gre", "no-transport", "cut-short", "raw-ipv4", "user-link-type"],
)
def test_a_packet_the_reader_does_not_know_is_described_by_scapy(
    frame: bytes, linktype: int, protocol: str, summary: str
) -> None:
    line = summaries.summary(pcap.Record(frame, "1.5", linktype))
    assert line["protocol"] == protocol and summary in line["summary"]
    assert line["binary"] == b64(frame) and line["length"] == len(frame) and line["time"] == "1.5"


def test_dns_over_both_transports_and_ports_scapy_binds() -> None:
    from scapy.layers.dns import DNS, DNSQR

    query = DNS(id=0x1A2B, rd=1, qd=DNSQR(qname="example.com", qtype="MX"))
    over_udp = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=40000, dport=53) / query
    over_tcp = Ether() / IP() / TCP(sport=40000, dport=53, flags="PA") / struct.pack("!H", len(query)) / query
    for frame in (over_udp, over_tcp):
        line = summaries.summary(pcap.Record(bytes(frame)))
        assert (line["protocol"], line["summary"]) == ("DNS", "Standard query 0x1a2b MX example.com")
    ntp = summaries.summary(pcap.Record(bytes(Ether() / IP() / UDP(sport=123, dport=123) / Raw(b"\x23" + b"\0" * 47))))
    assert ntp["protocol"] == "NTP" and ntp["summary"] == "123 → 123 Len=48"


# ---------------------------------------------------------------- bounds and refusals, as read_pcap's


@pytest.mark.parametrize("garbage", [b"", b"garbage!" * 8, b"\xd4\xc3\xb2\xa1" + b"\x00" * 5])
def test_garbage_is_refused_as_read_pcap_refuses_it(garbage: bytes, api) -> None:  # noqa: ANN001
    with pytest.raises(ServiceError) as listing:
        api.read_pcap_summaries(b64(garbage))
    with pytest.raises(ServiceError) as reading:
        api.read_pcap(b64(garbage))
    assert str(listing.value) == str(reading.value)
    with pytest.raises(ServiceError, match="base64"):
        api.read_pcap_summaries("%%%")


def test_the_pcap_limits_bound_it(monkeypatch: pytest.MonkeyPatch) -> None:
    three = b64(pcap.write_pcap([pcap.Record(bytes(Ether() / IP() / TCP()))] * 3))
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_packets=2))
    with pytest.raises(ServiceError, match="more than 2 packets"):
        service.read_pcap_summaries(three)
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_bytes=100))
    with pytest.raises(ServiceError, match="too large"):
        service.read_pcap_summaries(three)


def test_over_the_wire_in_the_gui_shape_and_its_limits() -> None:
    """A server of its own with --max-pcap-packets: the GUI's call shape, the method listed, the
    limit said as read_pcap says it."""
    data = (CAPTURES / "dns.pcap").read_bytes()
    server = ServerProcess("--max-pcap-packets", "30", workers=1)
    try:
        with server.client() as client:
            assert client.request("supported_methods", ["all"])["read_pcap_summaries"] == [1, ["pcap_base64"]]
            assert client.call("read_pcap_summaries", b64(data)) == listed("dns.pcap")
            assert client.request("read_pcap_summaries", [b64(data)]) == listed("dns.pcap")  # the seed's shape
            bigger = data + data[24:]
            for method in ("read_pcap_summaries", "read_pcap"):
                with pytest.raises(ScapyRpcError) as info:
                    client.call(method, b64(bigger))
                assert info.value.code == -32098 and "more than 30 packets" in info.value.message
    finally:
        server.stop()
