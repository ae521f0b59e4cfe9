"""pcap / pcapng files <-> packets with their capture records, within the configured limits.

A packet read keeps what its file said about it besides its bytes: the capture time (as
exact decimal text, so nanoseconds survive JSON), the link type its bytes are dissected
by, and its length on the wire when the capture cut it short. `write_pcap` writes those
back, so a capture opened, edited and saved differs only where it was edited.
"""

from __future__ import annotations

import io
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from scapy.config import conf
from scapy.packet import Packet
from scapy.utils import RawPcapNgReader, RawPcapReader

from scapyrpc.packets import limits
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.model import dissect_frame

__all__ = [
    "DLT_EN10MB",
    "MAX_LINKTYPE",
    "MAX_SECONDS",
    "Record",
    "pcap_size",
    "read_pcap",
    "write_one_per_second",
    "write_pcap",
]

DLT_EN10MB = 1  # Ethernet: the link type of packets that do not say
MAX_LINKTYPE = 0xFFFF
MAX_SECONDS = 0xFFFFFFFF  # a pcap record's seconds are 32 bits

_PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_MICRO_MAGIC, _NANO_MAGIC = 0xA1B2C3D4, 0xA1B23C4D
_WHOLE = 1 << 32  # Scapy's readers cut records to this many bytes: never
_FILE_HEADER, _RECORD_HEADER = 24, 16


@dataclass(frozen=True)
class Record:
    """One captured packet: its bytes and what the file says about them."""

    data: bytes
    time: str | None = None  # seconds since the epoch, exact decimal text ("1700000000.123456")
    linktype: int = DLT_EN10MB
    wirelen: int | None = None  # its length on the wire, when longer than `data`

    def packet(self) -> Packet:
        """The bytes dissected by their link type (Raw when Scapy knows no layer for it)."""
        return dissect_frame(self.data, conf.l2types.num2layer.get(self.linktype, conf.raw_layer))

    def fields(self) -> dict[str, Any]:
        """What `read_pcap` adds to the packet's result."""
        out: dict[str, Any] = {"time": self.time, "linktype": self.linktype}
        if self.wirelen is not None and self.wirelen != len(self.data):
            out["wirelen"] = self.wirelen
        return out


def _decimal_time(ticks: int, per_second: int) -> str:
    """`ticks` of 1/`per_second` s as exact decimal text (a power of 10 per second) or to the ns."""
    digits = len(str(per_second)) - 1
    if per_second == 10**digits:
        seconds, frac = divmod(ticks, per_second)
        return f"{seconds}.{frac:0{digits}d}" if digits else str(seconds)
    return f"{Decimal(ticks) / Decimal(per_second):.9f}"


def _records(data: bytes) -> list[Record]:
    lim = limits.current()
    magic = data[:4]
    if magic in _PCAP_MAGICS:
        # Scapy's readers take a file object too (their metaclass opens a name), though typed str
        reader: RawPcapReader | RawPcapNgReader = RawPcapReader(io.BytesIO(data))  # type: ignore[arg-type]
    elif magic == _PCAPNG_MAGIC:
        reader = RawPcapNgReader(io.BytesIO(data))  # type: ignore[arg-type]
    else:
        raise ServiceError("not a pcap or pcapng file")
    records: list[Record] = []
    with reader:
        while True:
            try:
                raw, meta = reader._read_packet(size=_WHOLE)
            except (EOFError, struct.error):  # a truncated last record: keep what was read, like Wireshark
                break
            if len(records) >= lim.max_pcap_packets:
                raise ServiceError(f"pcap has more than {lim.max_pcap_packets} packets")
            records.append(_record(reader, raw, meta))
    return records


def _record(reader: RawPcapReader | RawPcapNgReader, raw: bytes, meta: Any) -> Record:
    """`meta`: the reader's own PacketMetadata (its fields differ between pcap and pcapng)."""
    if isinstance(reader, RawPcapNgReader):
        ticks = None if meta.tshigh is None else (meta.tshigh << 32) + meta.tslow
        stamp = None if ticks is None else _decimal_time(ticks, int(meta.tsresol))
        return Record(raw, stamp, meta.linktype, meta.wirelen)
    per_second = 1_000_000_000 if reader.nano else 1_000_000
    return Record(raw, _decimal_time(meta.sec * per_second + meta.usec, per_second), reader.linktype, meta.wirelen)


def read_pcap(data: bytes) -> list[Record]:
    """Every packet record of a pcap or pcapng file, in order."""
    lim = limits.current()
    if len(data) > lim.max_pcap_bytes:
        raise ServiceError(f"pcap of {len(data)} bytes is too large (limit {lim.max_pcap_bytes} bytes)")
    try:
        return _records(data)
    except ServiceError:
        raise
    except struct.error:
        raise ServiceError("not a pcap or pcapng file: its header is cut short") from None
    except Exception as exc:
        raise ServiceError(f"cannot read pcap: {str(exc)[:200] or type(exc).__name__}") from None


# ---------------------------------------------------------------- writing


def parse_time(value: object, where: str) -> Decimal:
    """A capture time given as decimal text or a JSON number, in seconds since the epoch."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ServiceError(f"{where}: time must be a number of seconds or decimal text")
    text = value if isinstance(value, str) else repr(value)
    try:
        stamp = Decimal(text.strip()) if len(text) <= 40 else Decimal("NaN")
    except InvalidOperation:
        stamp = Decimal("NaN")
    if not stamp.is_finite() or not 0 <= stamp <= MAX_SECONDS:
        raise ServiceError(f"{where}: time {text[:40]!r} is not a time between 0 and {MAX_SECONDS} s")
    return stamp


def _ticks(stamp: Decimal, per_second: int) -> tuple[int, int]:
    whole = int(stamp)
    return whole, int((stamp - whole) * per_second)


def pcap_size(lengths: Iterable[int]) -> int:
    """The bytes of a pcap file holding packets of these lengths."""
    return _FILE_HEADER + sum(_RECORD_HEADER + length for length in lengths)


def check_pcap_size(count: int, size: int) -> None:
    """ServiceError if a pcap of `count` packets and `size` bytes is past the configured limits."""
    lim = limits.current()
    if count > lim.max_pcap_packets:
        raise ServiceError(f"too many packets: {count} (limit {lim.max_pcap_packets})")
    if size > lim.max_pcap_bytes:
        raise ServiceError(f"pcap of {size} bytes would be too large (limit {lim.max_pcap_bytes} bytes)")


def _header(nano: bool, snaplen: int, linktype: int) -> bytes:
    return struct.pack("<IHHiIII", _NANO_MAGIC if nano else _MICRO_MAGIC, 2, 4, 0, 0, snaplen, linktype)


def write_one_per_second(packets: list[bytes], linktype: int = DLT_EN10MB) -> bytes:
    """A pcap of `packets` at 0, 1, 2 ... seconds (as TRex's simulator writes a stream of one packet
    per second); the caller bounds its size."""
    record = struct.Struct("<IIII").pack
    parts = [_header(False, max([65535, *map(len, packets)]), linktype)]
    for second, data in enumerate(packets):
        parts.append(record(second, 0, len(data), len(data)))
        parts.append(data)
    return b"".join(parts)


def write_pcap(records: list[Record]) -> bytes:
    """A pcap file of `records`, each with its time (now when it has none) and original
    length; nanosecond resolution when a time needs it. All must share one link type."""
    check_pcap_size(len(records), pcap_size(len(r.data) for r in records))
    linktypes = {r.linktype for r in records}
    if len(linktypes) > 1:
        raise ServiceError(f"packets of link types {sorted(linktypes)} cannot share one pcap file")
    linktype = linktypes.pop() if linktypes else DLT_EN10MB
    now = Decimal(repr(time.time()))
    stamps = [parse_time(r.time, f"packet {i}") if r.time is not None else now for i, r in enumerate(records)]
    nano = any(s.as_tuple().exponent < -6 for s in stamps if s is not now)  # type: ignore[operator]
    per_second = 1_000_000_000 if nano else 1_000_000
    snaplen = max([65535, *(len(r.data) for r in records)])
    out = io.BytesIO()
    out.write(_header(nano, snaplen, linktype))
    for record, stamp in zip(records, stamps):
        seconds, frac = _ticks(stamp, per_second)
        wirelen = max(record.wirelen or 0, len(record.data))
        out.write(struct.pack("<IIII", seconds, frac, len(record.data), wirelen))
        out.write(record.data)
    return out.getvalue()
