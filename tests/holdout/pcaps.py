"""Packets of a pcap TRex wrote, as bytes (timestamps are not compared: simulate_vm has none)."""

from __future__ import annotations

from pathlib import Path

from scapy.utils import RawPcapReader


def read_packets(path: Path) -> list[bytes]:
    with RawPcapReader(str(path)) as reader:
        return [data for data, _ in reader]
