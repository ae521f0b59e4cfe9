"""A corpus of real protocol stacks checked against Scapy's own field encoders.

For every stack: (1) every field with a length sits at `layer.offset +
field.offset` and those bytes are what the field's own `addfield` writes for
the reported value; bit fields hold their value at bit_offset/bit_length;
(2) hvalue round trip: sending every primitive field's `hvalue` back as a
string (the GUI does this after importing a packet) gives the same bytes;
(3) the result is plain JSON.
"""

from __future__ import annotations

import base64
import json

import pytest

from scapyrpc.packets import positions, registry

registry.load()

from scapy.all import (  # noqa: E402
    ARP,
    BOOTP,
    DHCP,
    DNS,
    DNSQR,
    DNSRR,
    EAPOL,
    GRE,
    HSRP,
    ICMP,
    IP,
    L2TP,
    LLC,
    NTP,
    PPP,
    RIP,
    SCTP,
    SNAP,
    STP,
    TCP,
    TFTP_RRQ,
    UDP,
    VRRP,
    VXLAN,
    Dot1AD,
    Dot1Q,
    Dot3,
    Ether,
    ICMPv6EchoRequest,
    ICMPv6MLQuery,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr,
    IPerror,
    IPOption_Router_Alert,
    IPOption_RR,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    NetflowHeader,
    NetflowHeaderV5,
    NetflowRecordV5,
    Padding,
    PadN,
    PPPoE,
    PPPoED,
    Raw,
    RIPEntry,
    RouterAlert,
    SCTPChunkData,
    SCTPChunkInit,
    TCPerror,
    UDPerror,
)
from scapy.contrib.bfd import BFD  # noqa: E402
from scapy.contrib.geneve import GENEVE  # noqa: E402
from scapy.contrib.gtp import GTP_U_Header  # noqa: E402
from scapy.contrib.igmp import IGMP  # noqa: E402
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mr  # noqa: E402
from scapy.contrib.lldp import (  # noqa: E402
    LLDPDUChassisID,
    LLDPDUEndOfLLDPDU,
    LLDPDUPortID,
    LLDPDUSystemName,
    LLDPDUTimeToLive,
)
from scapy.contrib.mpls import MPLS  # noqa: E402
from scapy.contrib.ospf import OSPF_Hdr, OSPF_Hello  # noqa: E402
from scapy.fields import _BitField  # noqa: E402

MAC1, MAC2 = "00:11:22:33:44:55", "66:77:88:99:aa:bb"
E = Ether(dst=MAC1, src=MAC2)

CORPUS = {
    "ipv4_tcp": E
    / IP(src="10.0.0.1", dst="10.0.0.2")
    / TCP(sport=1234, dport=80, flags="PA")
    / Raw(b"GET / HTTP/1.1\r\n\r\n"),
    "ipv4_udp": E / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5000, dport=5001) / Raw(b"\x00\x01\x02\xff"),
    "vlan": E / Dot1Q(vlan=100, prio=5) / IP() / UDP() / Raw(b"x" * 18),
    "qinq": E / Dot1AD(vlan=10) / Dot1Q(vlan=20) / IP() / TCP(),
    "qinq_8100": E / Dot1Q(vlan=10) / Dot1Q(vlan=20) / IP(dst="1.2.3.4") / ICMP(),
    "ipv4_options": E / IP(options=[IPOption_RR(routers=["1.1.1.1", "2.2.2.2"]), IPOption_Router_Alert()]) / UDP(),
    "tcp_options": E
    / IP()
    / TCP(options=[("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b""), ("Timestamp", (1, 2))]),
    "tcp_sack": E / IP() / TCP(flags="A", options=[("NOP", None), ("NOP", None), ("SAck", (100, 200))]),
    "icmp_echo": E / IP() / ICMP(type="echo-request", id=7, seq=9) / Raw(b"abcdefgh"),
    "icmp_unreach": E / IP() / ICMP(type=3, code=3) / IPerror(dst="9.9.9.9") / UDPerror(dport=53),
    "icmp_ttl": E / IP() / ICMP(type=11) / IPerror() / TCPerror(),
    "ipv6_udp": E / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2) / Raw(b"v6"),
    "ipv6_hbh": E / IPv6() / IPv6ExtHdrHopByHop(options=[RouterAlert(), PadN(optdata=b"\x00\x00")]) / UDP(),
    "ipv6_routing": E / IPv6() / IPv6ExtHdrRouting(addresses=["2001:db8::5", "2001:db8::6"]) / TCP(),
    "ipv6_frag": E / IPv6() / IPv6ExtHdrFragment(id=77, m=1) / UDP() / Raw(b"y" * 16),
    "ipv6_destopt": E / IPv6() / IPv6ExtHdrDestOpt() / ICMPv6EchoRequest(id=1, seq=2, data=b"ping"),
    "icmpv6_ns": E / IPv6(dst="ff02::1:ff00:1") / ICMPv6ND_NS(tgt="2001:db8::1") / ICMPv6NDOptSrcLLAddr(lladdr=MAC2),
    "icmpv6_na": E / IPv6() / ICMPv6ND_NA(tgt="2001:db8::1", R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=MAC1),
    "mld_query": E / IPv6(hlim=1) / ICMPv6MLQuery(),
    "arp_request": Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC2) / ARP(hwsrc=MAC2, psrc="10.0.0.1", pdst="10.0.0.2"),
    "arp_reply": E / ARP(op="is-at", hwsrc=MAC1, psrc="10.0.0.2", hwdst=MAC2, pdst="10.0.0.1"),
    "dns_query": E / IP() / UDP(sport=1060, dport=53) / DNS(id=6159, rd=1, qd=DNSQR(qname="wireshark.org")),
    "dns_answer": E
    / IP()
    / UDP(sport=53, dport=1060)
    / DNS(id=1, qr=1, qd=DNSQR(qname="a.example"), an=DNSRR(rrname="a.example", rdata="1.2.3.4")),
    "dhcp_discover": Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC2)
    / IP(src="0.0.0.0", dst="255.255.255.255")
    / UDP(sport=68, dport=67)
    / BOOTP(chaddr=bytes.fromhex("667788990aab"), xid=0x1234)
    / DHCP(options=[("message-type", "discover"), "end"]),
    "gre": E / IP() / GRE() / IP(dst="8.8.8.8") / ICMP(),
    "gre_key": E / IP() / GRE(key_present=1, key=99) / IP() / UDP(),
    "vxlan": E / IP() / UDP(sport=4789, dport=4789) / VXLAN(vni=42) / Ether(dst=MAC2) / IP() / TCP(),
    "mpls": E / MPLS(label=16, s=0) / MPLS(label=17, s=1, ttl=3) / IP() / UDP(),
    "igmpv3_report": E
    / IP(dst="224.0.0.22")
    / IGMPv3(type=0x22)
    / IGMPv3mr(records=[IGMPv3gr(maddr="239.1.1.1", srcaddrs=["10.0.0.1"])]),
    "igmpv2": E / IP(dst="224.0.0.1") / IGMP(type=0x16, gaddr="239.1.1.1"),
    "sctp_init": E / IP() / SCTP(sport=5000, dport=5001) / SCTPChunkInit(init_tag=5),
    "sctp_data": E / IP() / SCTP() / SCTPChunkData(data=b"payload!"),
    "lldp": Ether(dst="01:80:c2:00:00:0e", src=MAC2)
    / LLDPDUChassisID(subtype=4, id=MAC2)
    / LLDPDUPortID(subtype=5, id=b"eth0")
    / LLDPDUTimeToLive(ttl=120)
    / LLDPDUSystemName(system_name=b"switch")
    / LLDPDUEndOfLLDPDU(),
    "stp": Dot3(dst="01:80:c2:00:00:00", src=MAC2) / LLC() / STP(),
    "snap": Dot3(src=MAC2) / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0, code=0x0800) / IP() / UDP(),
    "ntp": E / IP() / UDP(sport=123, dport=123) / NTP(),
    "tftp": E / IP() / UDP(sport=1069, dport=69) / Raw(bytes(TFTP_RRQ(filename=b"boot.bin"))),
    "rip": E / IP() / UDP(sport=520, dport=520) / RIP() / RIPEntry(addr="10.1.0.0", mask="255.255.0.0"),
    "hsrp": E / IP(dst="224.0.0.2") / UDP(sport=1985, dport=1985) / HSRP(),
    "vrrp": E / IP(dst="224.0.0.18", proto=112) / VRRP(addrlist=["10.0.0.254"]),
    "l2tp": E / IP() / UDP(sport=1701, dport=1701) / L2TP() / Raw(b"ctl"),
    "pppoe": E / PPPoE(sessionid=3) / PPP() / IP() / ICMP(),
    "pppoed": Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC2) / PPPoED(),
    "eapol": Ether(dst="01:80:c2:00:00:03", src=MAC2) / EAPOL(type=1),
    "bfd": E / IP() / UDP(sport=49152, dport=3784) / BFD(my_discriminator=1),
    "gtpu": E / IP() / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=5) / IP(dst="10.9.9.9") / ICMP(),
    "geneve": E / IP() / UDP(sport=6081, dport=6081) / GENEVE(vni=7) / Ether() / IP(),
    "ospf_hello": E / IP(dst="224.0.0.5") / OSPF_Hdr() / OSPF_Hello(neighbors=["1.1.1.1"]),
    "netflow5": E / IP() / UDP(sport=2055, dport=2055) / NetflowHeader() / NetflowHeaderV5(count=1) / NetflowRecordV5(),
    "ip_in_ip": E / IP(proto=4) / IP(dst="172.16.0.1") / UDP(),
    "six_in_four": E / IP() / IPv6() / UDP(),
    "padded_udp": E / IP() / UDP() / Raw(b"ab") / Padding(b"\x00" * 16),
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module", params=sorted(CORPUS))
def case(request, api):
    data = bytes(CORPUS[request.param])
    return request.param, data, api.reconstruct_pkt(b64(data), [])


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 40


def _bits(data: bytes, byte_offset: int, bit_offset: int, bit_length: int) -> int:
    nbytes = (bit_offset + bit_length + 7) // 8
    chunk = int.from_bytes(data[byte_offset : byte_offset + nbytes], "big")
    return (chunk >> (nbytes * 8 - bit_offset - bit_length)) & ((1 << bit_length) - 1)


def _dissected_layers(data: bytes) -> list:
    pkt, out = Ether(data) if data[12:14] >= b"\x06\x00" else Dot3(data), []
    while pkt:
        out.append(pkt)
        pkt = pkt.payload
    return out


def test_every_field_sits_where_it_says(case):
    name, data, res = case
    assert base64.b64decode(res["binary"]) == data
    scapy_layers = _dissected_layers(data)
    assert [d["real_id"] for d in res["data"]] == [
        "Raw" if isinstance(x, Padding) else type(x).__name__ for x in scapy_layers
    ]
    assert res["data"][0]["offset"] == 0
    checked = 0
    for entry, layer in zip(res["data"], scapy_layers):
        assert entry["valid_structure"] is True
        by_name = {f.name: f for f in layer.fields_desc}
        for fld in entry["fields"]:
            if fld.get("ignored"):
                continue
            start = entry["offset"] + fld["offset"]
            field = by_name[fld["id"]]
            value = layer.getfieldval(fld["id"])
            if fld.get("bit_length"):
                assert fld["length"] == 0
                assert _bits(data, start, fld["bit_offset"], fld["bit_length"]) == int(value), (name, fld)
                checked += 1
            elif fld["length"]:
                chunk = data[start : start + fld["length"]]
                if chunk != field.addfield(layer, b"", value):
                    # encodings that depend on context (PPP's compressed protocol
                    # number): those exact bytes must decode to the value
                    rest, decoded = field.getfield(layer, chunk)
                    assert rest == b"" and decoded == value, (name, entry["id"], fld["id"])
                checked += 1
    assert checked > 0


def test_layer_offsets_follow_each_other(case):
    name, data, res = case
    offsets = [d["offset"] for d in res["data"]]
    assert offsets == sorted(offsets) and offsets[-1] <= len(data)


def _hvalue_model(res: dict) -> list:
    model = []
    for entry in res["data"]:
        fields = [
            {"id": f["id"], "value": f["hvalue"]}
            for f in entry["fields"]
            if not isinstance(f["value"], dict) and f["value"] is not None and not f.get("ignored")
        ]
        model.append({"id": entry["id"], "fields": fields})
    return model


def test_hvalue_round_trip(case, api):
    name, data, res = case
    again = api.reconstruct_pkt(b64(data), _hvalue_model(res))
    assert base64.b64decode(again["binary"]) == data, name


def test_result_is_plain_json(case):
    name, data, res = case
    assert json.loads(json.dumps(res)) == res


def test_hvalues_are_human_where_expected(api):
    res = api.reconstruct_pkt(b64(bytes(CORPUS["ipv4_tcp"])), [])
    ether, ip, tcp = ({f["id"]: f for f in d["fields"]} for d in res["data"][:3])
    assert ether["type"]["hvalue"] == "IPv4"
    assert ip["proto"]["hvalue"] == "tcp"
    assert ip["chksum"]["hvalue"].startswith("0x")
    assert tcp["flags"]["hvalue"] == "PA" and tcp["flags"]["value"] == 0x18
    assert tcp["dport"]["hvalue"] == "http"


def test_layout_plans_are_per_class():
    assert positions.plan_for(IP) is positions.plan_for(IP)
    plan = positions.plan_for(IP)
    assert [f.name for f in plan.fixed][-1] == "dst" and plan.rest_offset == 20 and plan.tail_only
    assert isinstance(plan.fixed[0].fld, _BitField) and plan.fixed[0].bit_length == 4
