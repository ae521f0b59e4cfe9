"""pcap / pcapng files <-> packets, within the limits of API.md section 9."""

from __future__ import annotations

import io
import struct
import time

from scapy.packet import Packet
from scapy.utils import PcapReader, PcapNgReader, RawPcapWriter

from . import limits
from .errors import ServiceError

DLT_EN10MB = 1  # Ethernet link type: frames are always written as Ethernet

_PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def read_pcap(data: bytes) -> list[Packet]:
    """Every packet of a pcap or pcapng file, dissected by its link type."""
    lim = limits.current()
    if len(data) > lim.max_pcap_bytes:
        raise ServiceError(f"pcap of {len(data)} bytes is too large (limit {lim.max_pcap_bytes} bytes)")
    magic = data[:4]
    if magic in _PCAP_MAGICS:
        reader_cls = PcapReader
    elif magic == _PCAPNG_MAGIC:
        reader_cls = PcapNgReader
    else:
        raise ServiceError("not a pcap or pcapng file")
    packets: list[Packet] = []
    try:
        with reader_cls(io.BytesIO(data)) as reader:
            for pkt in reader:
                if len(packets) >= lim.max_pcap_packets:
                    raise ServiceError(f"pcap has more than {lim.max_pcap_packets} packets")
                packets.append(pkt)
    except ServiceError:
        raise
    except (EOFError, struct.error):
        pass  # a truncated last record: keep what was read, like Wireshark
    except Exception as exc:
        raise ServiceError(f"cannot read pcap: {str(exc)[:200] or type(exc).__name__}") from None
    return packets


def write_pcap(frames: list[bytes]) -> bytes:
    """A pcap file (Ethernet link type) holding `frames` as they are."""
    lim = limits.current()
    if len(frames) > lim.max_pcap_packets:
        raise ServiceError(f"too many packets: {len(frames)} (limit {lim.max_pcap_packets})")
    size = 24 + sum(16 + len(f) for f in frames)
    if size > lim.max_pcap_bytes:
        raise ServiceError(f"pcap of {size} bytes would be too large (limit {lim.max_pcap_bytes} bytes)")
    out = io.BytesIO()
    writer = RawPcapWriter(out, linktype=DLT_EN10MB, sync=True)
    now = time.time()
    sec, usec = int(now), int((now % 1) * 1_000_000)
    writer._write_header(None)
    for frame in frames:
        writer.write_packet(frame, sec=sec, usec=usec)
    writer.flush()
    return out.getvalue()
