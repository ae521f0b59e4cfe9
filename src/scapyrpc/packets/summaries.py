"""One line per packet of a capture (`read_pcap_summaries`): who sent it to whom, its protocol
and what it says, as a packet list shows it, for captures of tens of thousands of packets.

Dissecting a packet with Scapy costs about 0.2 ms; the headers of the traffic a capture is
mostly made of (Ethernet, 802.1Q, Linux cooked, ARP, IPv4, IPv6 and its extension headers,
TCP, UDP, ICMP, ICMPv6, DNS, VXLAN) are read here by hand in a few microseconds instead. The
protocol above TCP or UDP is named by Scapy's own port bindings, so a list names what the
editor's dissection of the packet will show. Any other packet, and any packet those headers do
not describe consistently (cut short, a length past its end), is dissected by Scapy and
described from its layers: every packet gets a line, the common ones fast.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from functools import cache

from scapy.packet import Packet, Padding, Raw

from scapyrpc.packets.encoding import encode_base64
from scapyrpc.packets.pcap import Record
from scapyrpc.packets.unwrap import layer_list

__all__ = ["protocol_name", "summary"]

_ETHERNET, _SLL, _SLL2, _RAW_IP, _RAW_IP12, _IPV4, _IPV6 = 1, 113, 276, 101, 12, 228, 229
_VLAN_TYPES = frozenset({0x8100, 0x88A8})  # Dot1Q and Dot1AD to Scapy
_IPV6_OPTIONS = frozenset({0, 43, 60})  # hop-by-hop, routing, destination options: skipped
_TCP_FLAGS = ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR")
_TCP_FLAG_TEXT = tuple(", ".join(n for bit, n in enumerate(_TCP_FLAGS) if flags >> bit & 1) for flags in range(256))
_DNS_RCODES = {1: "Format error", 2: "Server failure", 3: "No such name", 4: "Not implemented", 5: "Refused"}
_ICMP_NAMES = {
    0: "Echo (ping) reply",
    8: "Echo (ping) request",
    3: "Destination unreachable",
    11: "Time-to-live exceeded",
}
_PROTOCOL_NAMES = {"IP": "IPv4", "_dhcp6_dispatcher": "DHCPv6", "BOOTP": "DHCP", "GTP_U_Header": "GTP-U"}
_IP_PROTOCOLS = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6"}


class _Unknown(Exception):
    """The headers go where this reader does not: Scapy describes the packet."""


@dataclass(slots=True)
class _Line:
    """What a packet's line says, filled in as its headers are read, outermost first."""

    source: str = ""
    destination: str = ""
    protocol: str = ""
    info: str = ""
    notes: list[str] = field(default_factory=list)  # tunnels and tags on the way: "VLAN 100"


def summary(record: Record) -> dict:
    """`record` as a packet list shows it, with what write_pcap needs to write it back."""
    try:
        line = _Line()
        _link(record.linktype, record.data, line)
    except (_Unknown, IndexError, ValueError, KeyError):
        line = _scapy_line(record.packet())
    info = ": ".join([*line.notes, line.info]) if line.notes else line.info
    out: dict = {"binary": encode_base64(record.data), **record.fields(), "length": len(record.data)}
    out.update(source=line.source, destination=line.destination, protocol=line.protocol, summary=info)
    return out


# ---------------------------------------------------------------- read by hand


def _u16(data: bytes, at: int) -> int:
    if at + 2 > len(data):
        raise _Unknown
    return (data[at] << 8) | data[at + 1]


def _u32(data: bytes, at: int) -> int:
    if at + 4 > len(data):
        raise _Unknown
    return int.from_bytes(data[at : at + 4], "big")


def _mac(data: bytes, at: int) -> str:
    if at + 6 > len(data):
        raise _Unknown
    return data[at : at + 6].hex(":")


def _ipv4(data: bytes, at: int) -> str:
    if at + 4 > len(data):
        raise _Unknown
    return f"{data[at]}.{data[at + 1]}.{data[at + 2]}.{data[at + 3]}"


def _ipv6(data: bytes, at: int) -> str:
    if at + 16 > len(data):
        raise _Unknown
    return socket.inet_ntop(socket.AF_INET6, data[at : at + 16])


def _link(linktype: int, data: bytes, line: _Line) -> None:
    if linktype == _ETHERNET:
        _ethernet(data, 0, len(data), line)
    elif linktype == _SLL2:  # protocol, reserved, ifindex, ARPHRD type, packet type, address length, address
        line.source = data[12 : 12 + min(data[11], 8)].hex(":")
        _network(_u16(data, 0), data, 20, len(data), line)
    elif linktype == _SLL:  # packet type, ARPHRD type, address length, address, protocol
        line.source = data[6 : 6 + min(_u16(data, 4), 8)].hex(":")
        _network(_u16(data, 14), data, 16, len(data), line)
    elif linktype in (_RAW_IP, _RAW_IP12, _IPV4, _IPV6):
        version = data[0] >> 4
        _network({4: 0x0800, 6: 0x86DD}.get(version, -1), data, 0, len(data), line)
    else:
        raise _Unknown


def _ethernet(data: bytes, at: int, end: int, line: _Line) -> None:
    line.destination, line.source = _mac(data, at), _mac(data, at + 6)
    ether_type = _u16(data, at + 12)
    at += 14
    while ether_type in _VLAN_TYPES:
        line.notes.append(f"VLAN {_u16(data, at) & 0xFFF}")
        ether_type = _u16(data, at + 2)
        at += 4
    _network(ether_type, data, at, end, line)


def _network(ether_type: int, data: bytes, at: int, end: int, line: _Line) -> None:
    if ether_type == 0x0800:
        _ip4(data, at, end, line)
    elif ether_type == 0x86DD:
        _ip6(data, at, end, line)
    elif ether_type == 0x0806:
        _arp(data, at, line)
    else:
        raise _Unknown


def _arp(data: bytes, at: int, line: _Line) -> None:
    if _u16(data, at) != 1 or _u16(data, at + 2) != 0x0800 or data[at + 4] != 6 or data[at + 5] != 4:
        raise _Unknown  # not Ethernet and IPv4 addresses
    op = _u16(data, at + 6)
    sender_mac, sender, target = _mac(data, at + 8), _ipv4(data, at + 14), _ipv4(data, at + 24)
    line.source = line.source or sender_mac  # the link's addresses when it has them
    line.destination = line.destination or _mac(data, at + 18)
    line.protocol = "ARP"
    if op == 1:
        line.info = f"Who has {target}? Tell {sender}"
    elif op == 2:
        line.info = f"{sender} is at {sender_mac}"
    else:
        line.info = f"ARP operation {op}, {sender} to {target}"


def _ip4(data: bytes, at: int, end: int, line: _Line) -> None:
    if at + 20 > end or data[at] >> 4 != 4:
        raise _Unknown
    header = (data[at] & 0x0F) * 4
    total = _u16(data, at + 2)
    if header < 20 or at + header > end:
        raise _Unknown
    if total:  # 0: a segment the NIC was to cut (TSO), as captured on the sending host
        if total < header or at + total > end:
            raise _Unknown
        end = at + total
    line.source, line.destination = _ipv4(data, at + 12), _ipv4(data, at + 16)
    proto, frag = data[at + 9], _u16(data, at + 6)
    if frag & 0x1FFF:
        line.protocol = "IPv4"
        offset, ident = (frag & 0x1FFF) * 8, _u16(data, at + 4)
        line.info = f"Fragmented IP protocol (proto={_numbered(proto)}, off={offset}, ID={ident:04x})"
        return
    _transport(proto, data, at + header, end, line)


def _ip6(data: bytes, at: int, end: int, line: _Line) -> None:
    if at + 40 > end or data[at] >> 4 != 6:
        raise _Unknown
    length = _u16(data, at + 4)
    if length and at + 40 + length <= end:  # 0: a jumbogram or a TSO segment
        end = at + 40 + length
    line.source, line.destination = _ipv6(data, at + 8), _ipv6(data, at + 24)
    proto = data[at + 6]
    at += 40
    while proto in _IPV6_OPTIONS or proto == 44:
        if at + 8 > end:
            raise _Unknown
        if proto == 44:
            offset = _u16(data, at + 2) >> 3
            if offset:
                line.protocol = "IPv6"
                line.info = f"IPv6 fragment (nh={_numbered(data[at])}, off={offset * 8}, ID={_u32(data, at + 4):08x})"
                return
            proto, at = data[at], at + 8
        else:
            proto, at = data[at], at + (data[at + 1] + 1) * 8
    _transport(proto, data, at, end, line)


def _numbered(proto: int) -> str:
    name = _IP_PROTOCOLS.get(proto)
    return f"{name} {proto}" if name else str(proto)


def _transport(proto: int, data: bytes, at: int, end: int, line: _Line) -> None:
    if proto == 6:
        _tcp(data, at, end, line)
    elif proto == 17:
        _udp(data, at, end, line)
    elif proto == 1:
        _icmp(data, at, end, line)
    elif proto == 58:
        _icmp6(data, at, end, line)
    elif proto == 4:
        _ip4(data, at, end, line)
    elif proto == 41:
        _ip6(data, at, end, line)
    else:
        raise _Unknown


def _tcp(data: bytes, at: int, end: int, line: _Line) -> None:
    if at + 20 > end:
        raise _Unknown
    sport, dport = _u16(data, at), _u16(data, at + 2)
    header = (data[at + 12] >> 4) * 4
    if header < 20 or at + header > end:
        raise _Unknown
    flags = data[at + 13]
    size = end - at - header
    ack = f" Ack={_u32(data, at + 8)}" if flags & 0x10 else ""
    line.protocol = "TCP"
    seq, window = _u32(data, at + 4), _u16(data, at + 14)
    line.info = f"{sport} → {dport} [{_TCP_FLAG_TEXT[flags]}] Seq={seq}{ack} Win={window} Len={size}"
    if size:
        _application("TCP", sport, dport, data, at + header, end, line)


def _udp(data: bytes, at: int, end: int, line: _Line) -> None:
    if at + 8 > end:
        raise _Unknown
    sport, dport, length = _u16(data, at), _u16(data, at + 2), _u16(data, at + 4)
    if 8 <= length <= end - at:
        end = at + length
    line.protocol = "UDP"
    line.info = f"{sport} → {dport} Len={end - at - 8}"
    if end > at + 8:
        _application("UDP", sport, dport, data, at + 8, end, line)


def _application(transport: str, sport: int, dport: int, data: bytes, at: int, end: int, line: _Line) -> None:
    """The protocol Scapy's port bindings give the payload; DNS and VXLAN are read on."""
    name = _bound_protocol(transport, sport, dport)
    if name is None:
        return
    flags = data[at]  # VXLAN-GPE (0x04) says what it carries: 3 is Ethernet
    if name == "VXLAN" and end - at >= 8 + 14 and flags & 0x08 and (not flags & 0x04 or data[at + 3] == 3):
        line.notes.append(f"VXLAN {int.from_bytes(data[at + 4 : at + 7], 'big')}")
        _ethernet(data, at + 8, end, line)
        return
    if name == "DNS":
        dns = _dns(data, at + 2 if transport == "TCP" else at, end)
        if not dns:  # shorter than a DNS header: Scapy leaves the bytes as they are
            return
        line.info = dns
    line.protocol = name


@cache
def _bound_protocol(transport: str, sport: int, dport: int) -> str | None:
    """The protocol Scapy dissects a payload between these ports as (its first binding that
    holds), by a readable name; None when Scapy leaves it Raw."""
    from scapy.layers.inet import TCP, UDP

    layer = TCP if transport == "TCP" else UDP
    ports = {"sport": sport, "dport": dport}
    for fields, cls in layer.payload_guess:
        if fields.keys() <= ports.keys() and all(ports[k] == v for k, v in fields.items()):
            return protocol_name(cls.__name__)
    return None


def protocol_name(class_name: str) -> str:
    """A Scapy class by the protocol's name: `IP` is IPv4, every ICMPv6 message is ICMPv6."""
    for family in ("ICMPv6", "IPv6"):
        if class_name.startswith(family):
            return family
    return _PROTOCOL_NAMES.get(class_name) or class_name.strip("_").removesuffix("Header")


def _dns(data: bytes, at: int, end: int) -> str:
    """ "Standard query 0x1a2b A www.example.com": the header and the first question."""
    if at + 12 > end:
        return ""
    ident, flags, questions, answers = _u16(data, at), _u16(data, at + 2), _u16(data, at + 4), _u16(data, at + 6)
    kind = "Standard query response" if flags & 0x8000 else "Standard query"
    if (flags >> 11) & 0x0F:
        kind = f"DNS opcode {(flags >> 11) & 0x0F}" + (" response" if flags & 0x8000 else "")
    text = f"{kind} 0x{ident:04x}"
    if questions:
        name, after = _dns_name(data, at + 12, end)
        if after + 4 <= end:
            from scapy.layers.dns import dnstypes

            qtype = _u16(data, after)
            text += f" {dnstypes.get(qtype, qtype)} {name}"
    if flags & 0x8000:
        rcode = flags & 0x0F
        plural = "" if answers == 1 else "s"
        text += f" {_DNS_RCODES.get(rcode, f'rcode {rcode}')}" if rcode else f", {answers} answer{plural}"
    return text


def _dns_name(data: bytes, at: int, end: int) -> tuple[str, int]:
    """A name of a question (labels; no compression pointer can come first) and where it ends."""
    labels: list[str] = []
    while at < end and data[at] and len(labels) < 128:
        size = data[at]
        if size & 0xC0:
            return ".".join(labels) + ".…", at + 2
        labels.append(data[at + 1 : at + 1 + size].decode("ascii", "backslashreplace"))
        at += 1 + size
    return (".".join(labels) or "<Root>"), at + 1


def _icmp(data: bytes, at: int, end: int, line: _Line) -> None:
    if at + 8 > end:
        raise _Unknown
    from scapy.layers.inet import icmpcodes, icmptypes

    kind, code = data[at], data[at + 1]
    line.protocol = "ICMP"
    text = _ICMP_NAMES.get(kind) or icmptypes.get(kind, f"type {kind}")
    if kind in (0, 8):
        text += f" id=0x{_u16(data, at + 4):04x}, seq={_u16(data, at + 6)}"
    elif kind in icmpcodes:
        text += f" ({icmpcodes[kind].get(code, f'code {code}')})"
    line.info = text


def _icmp6(data: bytes, at: int, end: int, line: _Line) -> None:
    if at + 4 > end:
        raise _Unknown
    from scapy.layers.inet6 import icmp6types

    kind = data[at]
    line.protocol = "ICMPv6"
    text = icmp6types.get(kind, f"type {kind}")
    if kind in (128, 129) and at + 8 <= end:
        text += f" id=0x{_u16(data, at + 4):04x}, seq={_u16(data, at + 6)}"
    elif kind in (135, 136) and at + 24 <= end:
        text += f" {'for' if kind == 135 else 'of'} {_ipv6(data, at + 8)}"
    line.info = text


# ---------------------------------------------------------------- anything else: Scapy


def _scapy_line(pkt: Packet) -> _Line:
    """A line from Scapy's dissection: its innermost addresses and the last layer that is a
    protocol, up to its bytes or to the packet an ICMP error quotes."""
    layers = layer_list(pkt)
    named = layers[:1]
    for layer in layers[1:]:
        if isinstance(layer, (Raw, Padding)) or type(layer).__name__.endswith(("error", "error6")):
            break
        named.append(layer)
    line = _Line(protocol=protocol_name(type(named[-1]).__name__))
    for layer in named:
        for src, dst in (("src", "dst"), ("psrc", "pdst")):
            source, destination = layer.fields.get(src), layer.fields.get(dst)
            if isinstance(source, str) and isinstance(destination, str):
                line.source, line.destination = source, destination
    try:
        line.info = pkt.summary()
    except Exception:  # a layer whose own summary fails still gets a line
        line.info = " / ".join(type(layer).__name__ for layer in layers)
    return line
