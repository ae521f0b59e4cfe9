"""The outcome of one case: simulate_vm's packets against the packets TRex wrote.

OK     every packet equal, byte for byte.
PAD    equal except in the zero padding of a packet under 60 bytes (bytes from the packet's own
       length to 60), which the pcap has as leftover heap memory: recorded before TRex zeroed
       that padding (trex-core d5047a7e0, March 2016).
FAIL   any other difference: a mismatch of simulate_vm.
ERROR  simulate_vm refused the program, or the case could not be prepared.
SKIP   not a case simulate_vm answers for (several streams, a latency stream, ...), with the reason.

Only FAIL and ERROR make the hold-out fail.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_FRAME = 60
FAILING = ("FAIL", "ERROR")


@dataclass(frozen=True)
class Verdict:
    status: str
    detail: str
    packets: int = 0  # packets compared
    octets: int = 0  # bytes compared

    @property
    def failed(self) -> bool:
        return self.status in FAILING


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _first_difference(got: bytes, exp: bytes) -> str:
    offsets = [i for i in range(min(len(got), len(exp))) if got[i] != exp[i]]
    if not offsets:
        return f"length {len(got)}, the pcap's {len(exp)}"
    at = offsets[0]
    return (
        f"length {len(got)}/{len(exp)}, {_count(len(offsets), 'byte')} differ from offset {at}: "
        f"{got[at : at + 4].hex()} instead of {exp[at : at + 4].hex()}"
    )


def judge(got: list[bytes], exp: list[bytes], packet_length: int) -> Verdict:
    """Compare packet by packet; `packet_length` is the stream packet's own length (before padding)."""
    packets, octets = len(exp), sum(len(p) for p in exp)
    if len(got) != len(exp):
        return Verdict("FAIL", f"{len(got)} packets, the pcap has {len(exp)}", packets, octets)
    differing = [i for i, (a, b) in enumerate(zip(got, exp)) if a != b]
    if not differing:
        return Verdict("OK", f"{_count(packets, 'packet')}, {octets} bytes", packets, octets)
    if packet_length < MIN_FRAME and all(_only_padding(got[i], exp[i], packet_length) for i in differing):
        return Verdict(
            "PAD",
            f"{_count(packets, 'packet')} equal up to byte {packet_length}; the pcap's padding "
            f"(bytes {packet_length}-{MIN_FRAME - 1}) is leftover memory, not zeros",
            packets,
            octets,
        )
    first = differing[0]
    where = f"packet {first}: {_first_difference(got[first], exp[first])}"
    return Verdict(
        "FAIL",
        f"{len(differing)} of {_count(packets, 'packet')} differ; {where}",
        packets,
        octets,
    )


def _only_padding(got: bytes, exp: bytes, packet_length: int) -> bool:
    """Equal lengths, and every difference within the padding (packet_length to 60), zeros in ours."""
    if len(got) != len(exp) or got[:packet_length] != exp[:packet_length] or got[MIN_FRAME:] != exp[MIN_FRAME:]:
        return False
    return not any(got[packet_length:MIN_FRAME])
