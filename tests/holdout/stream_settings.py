"""What TRex's simulator does to a stream's packet outside its Field Engine program.

`simulate_vm` runs the program over the packet as given; the simulator first applies two stream
settings, which the hold-out therefore applies to the packet it hands `simulate_vm`:

- MAC addresses (`TrexStatelessDpCore::update_mac_addr`): the stream's `flags` say whether the
  source (bit 0) and destination (bits 1-2: 0 configuration, 1 packet, 2 ARP) come from the
  packet or from the port's configuration; the simulator's port 0 has destination
  10:10:10:10:10:10 and source 18:18:18:18:18:18.
- flow statistics (`trex_stl_fs.cpp`, through `CFlowStatParser::set_ip_id` and `set_tos_to_cpu`):
  for an IPv6 stream whose `flow_stats` rule is "stats", the flow label becomes the platform's
  base of reserved IDs (0xff00 in the simulator) + the rule's hardware id (0, the first one), and
  the traffic class gets bit 0 (TOS_GO_TO_CPU).

Settings the hold-out cannot reproduce raise `Unsupported`, and the case is skipped with the reason.
"""

from __future__ import annotations

import base64
from typing import Any

CONFIG_DST = b"\x10" * 6
CONFIG_SRC = b"\x18" * 6
DST_FROM_CONFIG, DST_FROM_PACKET = 0, 1
ETHERTYPE_IPV6 = b"\x86\xdd"
FLOW_STATS_ID_BASE = 0xFF00  # the simulator's reserved IDs start here; hardware id 0 gets this one
TOS_GO_TO_CPU = 0x1


class Unsupported(Exception):
    """A stream setting the simulator applies and the hold-out does not model."""


def with_macs(packet: bytes, flags: int) -> bytes:
    """The packet with the MAC addresses the simulator puts in for these stream flags."""
    own_src, dst_mode = bool(flags & 1), (flags >> 1) & 3
    if own_src and dst_mode == DST_FROM_PACKET:
        return packet
    dst = packet[0:6] if not own_src and dst_mode == DST_FROM_PACKET else CONFIG_DST
    src = packet[6:12] if own_src and dst_mode == DST_FROM_CONFIG else CONFIG_SRC
    return dst + src + packet[12:]


def with_flow_stats(packet: bytes, flow_stats: dict[str, Any]) -> bytes:
    """The packet as a flow-statistics rule leaves it (unchanged without one)."""
    if not flow_stats.get("enabled"):
        return packet
    rule = flow_stats.get("rule_type", "stats")
    if rule != "stats":
        raise Unsupported(f"flow statistics rule '{rule}': the simulator adds its latency payload")
    if packet[12:14] != ETHERTYPE_IPV6:
        raise Unsupported("flow statistics on a packet that is not untagged IPv6 (its IPv4 ID rewrite is not modelled)")
    word = int.from_bytes(packet[14:18], "big")
    traffic_class = ((word >> 20) & 0xFF) | TOS_GO_TO_CPU
    word = (6 << 28) | (traffic_class << 20) | FLOW_STATS_ID_BASE
    return packet[:14] + word.to_bytes(4, "big") + packet[18:]


def simulated_packet(stream: dict[str, Any]) -> bytes:
    """The stream's packet as the simulator's program sees it, from TRex's stream JSON."""
    packet = base64.b64decode(stream["packet"]["binary"])
    return with_flow_stats(with_macs(packet, stream.get("flags", 0)), stream.get("flow_stats", {}))
