"""pcap/pcapng files <-> packets (first version)."""

from __future__ import annotations

import io

from scapy.layers.l2 import Ether
from scapy.packet import Packet
from scapy.utils import PcapWriter, rdpcap

from .errors import ServiceError


def read_pcap(data: bytes) -> list[Packet]:
    try:
        return list(rdpcap(io.BytesIO(data)))
    except Exception as exc:
        raise ServiceError(f"not a pcap file: {exc}") from None


def write_pcap(frames: list[bytes]) -> bytes:
    out = io.BytesIO()
    writer = PcapWriter(out, sync=True)
    for frame in frames:
        writer.write(Ether(frame))
    writer.flush()
    return out.getvalue()
