"""The benchmark workloads: JSON-RPC request frames prepared before any timed loop.

Each workload is a list of distinct, pre-serialised request frames in the GUI
shape (handler first). Clients cycle through them, so no per-request client
work is timed and no server-side result cache can serve a repeated request:
packet workloads vary the IP id and the TCP/UDP source port in every frame.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from typing import Any

import orjson

__all__ = [
    "DESCRIPTIONS",
    "HOLD_SECONDS",
    "MIXED_WEIGHTS",
    "NEEDS_TEST_METHODS",
    "WORKLOADS",
    "mixed_order",
    "pcap_file",
    "prepare",
]

VARIANTS = 1000  # distinct frames per workload (more than any cache would keep per request shape)
PAYLOAD = bytes(range(64))  # the 64-byte payload of the build workload
PAYLOAD_B64 = base64.b64encode(PAYLOAD).decode("ascii")

# What the GUI asks metadata for: common classes, one per request.
DEFINITION_CLASSES = (
    "Ether",
    "IP",
    "TCP",
    "UDP",
    "IPv6",
    "Dot1Q",
    "ARP",
    "ICMP",
    "DNS",
    "Raw",
    "IPv6ExtHdrRouting",
    "ICMPv6EchoRequest",
    "GRE",
    "VXLAN",
    "MPLS",
    "LLC",
)
PAYLOAD_CLASS_LAYERS = ("Ether", "IP", "IPv6", "TCP", "UDP", "Dot1Q", "ARP", "GRE", "ICMP", "VXLAN")

# A GUI-like blend: mostly edits (build) and imports/edits of bytes (reconstruct), some
# field-engine builds, lazy payload-class and metadata look-ups, the odd pcap.
MIXED_WEIGHTS = (
    ("build", 10),
    ("reconstruct", 4),
    ("build_ex", 2),
    ("payload_classes", 2),
    ("definitions", 1),
    ("pcap", 1),
)


def frame(index: int, method: str, params: list[Any] | None) -> bytes:
    """One request frame; string ids, as the GUI sends them."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": str(index), "method": method}
    if params is not None:
        message["params"] = params
    return orjson.dumps(message)


def _ip_tcp_model(i: int) -> list[dict[str, Any]]:
    return [
        {
            "id": "Ether",
            "fields": [{"id": "src", "value": "00:11:22:33:44:55"}, {"id": "dst", "value": "66:77:88:99:aa:bb"}],
        },
        {
            "id": "IP",
            "fields": [
                {"id": "src", "value": "16.0.0.1"},
                {"id": "dst", "value": "48.0.0.1"},
                {"id": "id", "value": i % 65536},
            ],
        },
        {
            "id": "TCP",
            "fields": [
                {"id": "sport", "value": 1024 + i % 64000},
                {"id": "dport", "value": 80},
                {"id": "flags", "value": "S"},
            ],
        },
        {"id": "Raw", "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": PAYLOAD_B64}}]},
    ]


def _ip_udp_model(i: int) -> list[dict[str, Any]]:
    return [
        {"id": "Ether"},
        {
            "id": "IP",
            "fields": [
                {"id": "src", "value": "16.0.0.1"},
                {"id": "dst", "value": "48.0.0.1"},
                {"id": "id", "value": i % 65536},
            ],
        },
        {"id": "UDP", "fields": [{"id": "sport", "value": 1024 + i % 64000}]},
        {"id": "Raw", "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": "eHh4eHh4eHh4eA=="}}]},
    ]


# One flow variable written into IP.src plus the IPv4 checksum fix: parameters as strings, like the GUI.
FIELD_ENGINE = {
    "field_engine": {
        "instructions": [
            {
                "id": "STLVmFlowVar",
                "parameters": {
                    "name": "ip_src",
                    "min_value": "16.0.0.1",
                    "max_value": "16.0.0.254",
                    "size": "4",
                    "op": "inc",
                    "step": "1",
                },
            },
            {
                "id": "STLVmWrFlowVar",
                "parameters": {
                    "fv_name": "ip_src",
                    "pkt_offset": "IP.src",
                    "is_big": "true",
                    "add_val": "0",
                    "offset_fixup": "0",
                },
            },
            {"id": "STLVmFixIpv4", "parameters": {"offset": "IP"}},
        ],
        "global_parameters": {"cache_size": "1000"},
    }
}


def _frame_bytes(i: int) -> bytes:
    """Ether/IP/TCP/64-byte payload as Scapy builds it (imported only for workloads that need bytes)."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    pkt = (
        Ether(src="00:11:22:33:44:55", dst="66:77:88:99:aa:bb")
        / IP(src="16.0.0.1", dst="48.0.0.1", id=i % 65536)
        / TCP(sport=1024 + i % 64000, dport=80, flags="S")
        / PAYLOAD
    )
    return bytes(pkt)


def pcap_file(frames: list[bytes]) -> bytes:
    """A classic little-endian pcap (Ethernet link type) holding `frames`."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for n, data in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + n, 0, len(data), len(data)))
        out.append(data)
    return b"".join(out)


PCAP_PACKETS = 10


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


Builder = Callable[[str, int], tuple[str, list[Any] | None]]

HOLD_SECONDS = 0.010  # the hold workload: how long each request keeps a worker busy
NEEDS_TEST_METHODS = ("hold",)

BUILDERS: dict[str, Builder] = {
    "version": lambda h, i: ("get_version", None),
    "build": lambda h, i: ("build_pkt", [h, _ip_tcp_model(i)]),
    "build_ex": lambda h, i: ("build_pkt_ex", [h, _ip_udp_model(i), FIELD_ENGINE]),
    "reconstruct": lambda h, i: ("reconstruct_pkt", [h, _b64(_frame_bytes(i)), []]),
    "definitions": lambda h, i: ("get_definitions", [h, [DEFINITION_CLASSES[i % len(DEFINITION_CLASSES)]]]),
    "definitions_all": lambda h, i: ("get_definitions", [h, None]),
    "payload_classes": lambda h, i: (
        "get_payload_classes",
        [h, [{"id": PAYLOAD_CLASS_LAYERS[i % len(PAYLOAD_CLASS_LAYERS)]}]],
    ),
    "pcap": lambda h, i: (
        "read_pcap",
        [h, _b64(pcap_file([_frame_bytes(i * PCAP_PACKETS + k) for k in range(PCAP_PACKETS)]))],
    ),
    "hold": lambda h, i: ("test_sleep", [h, HOLD_SECONDS]),
}

# How many distinct frames a workload needs: pcap frames are costly to prepare and
# carry 10 distinct packets each; the full definitions are one request by nature.
_VARIANTS = {"version": 1, "definitions_all": 1, "pcap": 100, "hold": 1}

WORKLOADS = (*BUILDERS, "mixed")

DESCRIPTIONS = {
    "version": "get_version, no params (pure RPC overhead)",
    "build": "build_pkt Ether/IP/TCP/64-byte payload, IP id and TCP sport varied",
    "build_ex": "build_pkt_ex Ether/IP/UDP/Raw + FlowVar, WrFlowVar, FixIpv4",
    "reconstruct": "reconstruct_pkt of Ether/IP/TCP/64-byte frames, empty model",
    "definitions": "get_definitions for one common class per request",
    "definitions_all": "get_definitions(null): every protocol, the GUI's start-up call (~3 MB)",
    "payload_classes": "get_payload_classes of a one-layer model (as the GUI asks)",
    "pcap": f"read_pcap of a {PCAP_PACKETS}-packet pcap",
    "hold": f"test_sleep({HOLD_SECONDS:g}): each request holds a worker {HOLD_SECONDS * 1000:g} ms, nothing else "
    "(scale-out: ideal throughput = workers / hold; the bench's servers get --test-methods)",
    "mixed": "GUI-like blend: " + ", ".join(f"{name} {weight}" for name, weight in MIXED_WEIGHTS),
}


def prepare(workload: str, handler: str, variants: int = VARIANTS) -> list[bytes]:
    """The request frames of `workload`, ready to send."""
    if workload == "mixed":
        return _mixed(handler, variants)
    count = min(variants, _VARIANTS.get(workload, variants))
    build = BUILDERS[workload]
    return [frame(i, *build(handler, i)) for i in range(count)]


def mixed_order(weights: tuple[tuple[str, int], ...] = MIXED_WEIGHTS) -> list[str]:
    """One cycle of the blend, interleaved by smooth weighted round robin (no runs of one kind)."""
    total = sum(weight for _, weight in weights)
    current = {name: 0 for name, _ in weights}
    order = []
    for _ in range(total):
        for name, weight in weights:
            current[name] += weight
        pick = max(current, key=current.__getitem__)
        current[pick] -= total
        order.append(pick)
    return order


def _mixed(handler: str, variants: int) -> list[bytes]:
    order = mixed_order()
    seen: dict[str, int] = {}
    frames = []
    for i in range(max(variants, len(order))):
        name = order[i % len(order)]
        n = seen[name] = seen.get(name, -1) + 1  # each kind varies its own frames
        frames.append(frame(i, *BUILDERS[name](handler, n % _VARIANTS.get(name, variants))))
    return frames
