"""Internet (ones'-complement) checksums over packet bytes, computed as TRex's VM computes them.

The sum of a buffer's 16-bit big-endian words with end-around carry equals the buffer read as
one big integer modulo 0xFFFF (2¹⁶ ≡ 1), except that a non-zero sum is 0xFFFF, never 0: that
identity turns a word loop into one `int.from_bytes`. Sums are byte-order neutral, so results
are written big-endian, as TRex stores its host-order sums raw.
"""

from __future__ import annotations

__all__ = [
    "IPV4_HEADER",
    "IPV6_HEADER",
    "PROTO_TCP",
    "PROTO_UDP",
    "fold",
    "ipv4_pseudo_sum",
    "ipv6_pseudo_sum",
    "ones_sum",
]

IPV4_HEADER = 20
IPV6_HEADER = 40
PROTO_TCP = 6
PROTO_UDP = 17


def ones_sum(data: bytes | bytearray | memoryview) -> int:
    """The ones'-complement sum of `data`'s whole 16-bit words (an odd last byte is left out, as
    TRex's word loop leaves it out)."""
    if len(data) & 1:
        data = data[:-1]
    value = int.from_bytes(data, "big")
    if value == 0:
        return 0
    return value % 0xFFFF or 0xFFFF


def fold(total: int) -> int:
    """A sum of 16-bit sums folded back into 16 bits (twice, as TRex's `csum_reduce`)."""
    total = (total & 0xFFFF) + (total >> 16)
    return ((total & 0xFFFF) + (total >> 16)) & 0xFFFF


def ipv4_pseudo_sum(pkt: bytearray, l3: int) -> int:
    """The non-complemented sum of an IPv4 pseudo-header (addresses, protocol, L4 length =
    total length − header length): what TRex writes into the L4 checksum for the NIC to finish."""
    ihl = (pkt[l3] & 0x0F) * 4
    l4_len = (int.from_bytes(pkt[l3 + 2 : l3 + 4], "big") - ihl) & 0xFFFF
    return fold(ones_sum(pkt[l3 + 12 : l3 + 20]) + pkt[l3 + 9] + l4_len)


def ipv6_pseudo_sum(pkt: bytearray, l3: int) -> int:
    """The non-complemented sum of an IPv6 pseudo-header (addresses, payload length, the fixed
    header's next header: extension headers are not followed)."""
    return fold(ones_sum(pkt[l3 + 8 : l3 + 40]) + int.from_bytes(pkt[l3 + 4 : l3 + 6], "big") + pkt[l3 + 6])
