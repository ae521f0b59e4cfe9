"""Field Engine runtime: what the packet operations write (values, masks, checksums, sizes) and
how packets are made (padding, the stored packet, the cache).

`vm.h`/`vm.cpp`: src/stx/stl/trex_stl_stream_vm.h/.cpp of trex-core v3.0.8. Checksums are checked
against Scapy's own computation, not against ours.
"""

from __future__ import annotations

from fe_runtime import (
    FIX_IPV4,
    IP_CHECKSUM,
    IP_SRC,
    PKT,
    SPORT,
    list_var,
    run,
    udp_packet,
    values,
    var,
    write,
    write_mask,
)

from scapyrpc.packets import registry

registry.load()

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether

OFF = 42


def correct(pkt: bytes, layers: tuple = (IP, TCP, UDP, ICMP, ICMPv6EchoRequest)) -> bytes:
    """The packet with the checksums of `layers` recomputed by Scapy."""
    frame = Ether(pkt)
    for layer in layers:
        if layer in frame:
            name = "cksum" if layer is ICMPv6EchoRequest else "chksum"
            frame[layer].setfieldval(name, None)
    return bytes(frame)


def test_a_short_packet_is_zero_padded_to_60_bytes():
    """trex_stl_rpc_cmds.cpp:485: the stored packet is max(size, 60) bytes, the rest zeros."""
    short = bytes(Ether() / IP() / UDP())
    assert len(short) == 42
    pkts = run([var("v", 1, 3), write("v", 59)], 2, packet=short)
    assert [p[:42] for p in pkts] == [short, short]
    assert [p[42:] for p in pkts] == [bytes(17) + b"\x01", bytes(17) + b"\x02"]
    assert run([], 2, packet=short) == [short + bytes(18)] * 2


def test_every_packet_starts_from_the_stored_packet():
    """trex_stl_dp_core.cpp:640 alloc_node_with_vm copies the stored prefix before each run: a masked
    write keeps the stored bits, never the previous packet's."""
    pkts = run([var("v", 1, 3), write_mask("v", OFF, mask=0x0F)], 3)
    assert values(pkts, OFF) == [0x71, 0x72, 0x73]  # 'x' is 0x78


def test_writes_add_in_the_variable_width_in_either_byte_order():
    """vm.h:635 StreamDPOpPktWr16 and the others: (value + add_value) in the variable's width,
    big-endian or not."""
    pkts = run([var("v", 250, 252), write("v", OFF, add=10)], 3)
    assert values(pkts, OFF) == [4, 5, 6]
    pkts = run([var("v", 0x1234, 0x1235, size=2), write("v", OFF, add=-0x1235, big=False)], 2)
    assert [p[OFF : OFF + 2] for p in pkts] == [b"\xff\xff", b"\x00\x00"]
    pkts = run([var("v", 1, 2, size=8), write("v", OFF, big=False)], 1)
    assert pkts[0][OFF : OFF + 8] == (1).to_bytes(8, "little")


def test_masked_writes_shift_and_keep_the_bits_outside_the_mask():
    """vm.cpp:1827 StreamDPOpPktWrMask::wr: value + add_value, shifted left (or right when the shift
    is negative), then (packet & ~mask) | (value & mask) over pkt_cast_size bytes."""
    pkts = run([var("v", 1, 2), write_mask("v", OFF, cast=2, mask=0x0FF0, shift=4, add=1)], 2)
    assert [p[OFF : OFF + 2] for p in pkts] == [bytes([0x70, 0x28]), bytes([0x70, 0x38])]
    pkts = run([var("v", 0x80, 0x81), write_mask("v", OFF, mask=0xFF, shift=-4)], 2)
    assert values(pkts, OFF) == [0x08, 0x08]


def test_a_little_endian_masked_write_touches_the_variable_width():
    """vm.cpp:1877: little-endian, TRex reads and writes as many bytes as the variable has, not
    pkt_cast_size (here a 1-byte variable with cast 2 writes one byte)."""
    pkts = run([var("v", 0x11, 0x12), write_mask("v", OFF, cast=2, mask=0xFFFF, big=False)], 1)
    assert pkts[0][OFF : OFF + 2] == b"\x11x"


def test_a_masked_write_of_an_8_byte_variable_reads_32_bits():
    """vm.cpp:1258: an 8-byte variable gives 32 bits; big-endian, TRex reads the second word of
    the little-endian value, its high half."""
    high_low = (0x01020304 << 32) | 0x0A0B0C0D
    spec = var("v", high_low, high_low + 1, size=8)
    pkts = run([spec, write_mask("v", OFF, cast=4, mask=0xFFFFFFFF)], 1)
    assert pkts[0][OFF : OFF + 4] == bytes.fromhex("01020304")
    pkts = run([spec, write_mask("v", OFF, cast=4, mask=0xFFFFFFFF, big=False)], 1)
    assert pkts[0][OFF : OFF + 4] == bytes.fromhex("0d0c0b0a")


def test_ipv4_checksum_over_the_header_length():
    """vm.h:765 StreamDPOpIpv4Fix: 20 bytes when the first byte is 0x45, else IHL × 4."""
    pkts = run([var("v", 0x10000001, 0x10000002, size=4), write("v", IP_SRC), FIX_IPV4], 2)
    assert pkts == [correct(p, (IP,)) for p in pkts] and values(pkts, IP_SRC, 4) == [0x10000001, 0x10000002]
    with_options = bytes(Ether() / IP(src="16.0.0.1", options=b"\x01\x01\x01\x00") / UDP() / (b"x" * 14))
    pkts = run([var("v", 1, 2), write("v", 14 + 8), FIX_IPV4], 2, packet=with_options)  # the TTL
    assert pkts == [correct(p, (IP,)) for p in pkts] and values(pkts, 22) == [1, 2]


def tcp_packet() -> bytes:
    return bytes(Ether() / IP(src="16.0.0.1", dst="48.0.0.1") / TCP(dport=80, flags="S"))


def pseudo_sum(src: bytes, dst: bytes, proto: int, length: int) -> int:
    """The non-complemented ones'-complement sum of a pseudo-header, written out for the test."""
    words = src + dst
    total = sum(int.from_bytes(words[i : i + 2], "big") for i in range(0, len(words), 2)) + proto + length
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


HW_TCP = {"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 13}


def test_hw_checksum_as_the_simulator_writes_it():
    """vm.h:805 StreamDPOpHwCsFix: the IPv4 checksum cleared, the L4 checksum set to the pseudo-header
    sum (DPDK rte_ipv4_phdr_cksum, not complemented) for the NIC to finish; the simulator has no NIC."""
    pkts = run([var("v", 0x10000001, 0x10000002, size=4), write("v", IP_SRC), HW_TCP], 2, packet=tcp_packet())
    for pkt in pkts:
        assert pkt[IP_CHECKSUM : IP_CHECKSUM + 2] == b"\x00\x00"
        assert int.from_bytes(pkt[50:52], "big") == pseudo_sum(pkt[26:30], pkt[30:34], 6, 20)


def test_hw_checksum_as_a_nic_completes_it():
    """With hw_checksum "nic": what an offloading NIC sends, full IPv4 and L4 checksums."""
    for packet, fix in (
        (tcp_packet(), HW_TCP),
        (PKT, {"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 11}),
        (PKT, {"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 0, "l4_type": 17}),
    ):
        pkts = run([var("v", 1, 2), write("v", IP_SRC + 3), fix], 2, packet=packet, nic=True)
        assert pkts == [correct(p) for p in pkts]


def test_hw_checksum_for_ipv6_udp():
    """vm.cpp:800: IPv6 takes the L4 type from l4_type; the pseudo-header from the fixed header."""
    packet = bytes(Ether() / IPv6(src="2001::1", dst="2001::2") / UDP(dport=12, sport=1025) / (b"x" * 10))
    fix = {"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 40, "l4_type": 11}
    sim = run([var("v", 1, 2), write("v", 14 + 7), fix], 1, packet=packet)[0]
    assert int.from_bytes(sim[60:62], "big") == pseudo_sum(sim[22:38], sim[38:54], 17, 18)
    nic = run([var("v", 1, 2), write("v", 14 + 7), fix], 1, packet=packet, nic=True)[0]
    assert nic == correct(nic)


def test_hw_checksum_on_ipv4_without_tcp_or_udp_writes_where_udp_would_have_it():
    """vm.h:822: for another IPv4 protocol only the IPv4 checksum is offloaded, yet TRex still writes
    the pseudo-header sum at the L4 header + 6 (here ICMP's sequence number); a NIC fixes only the IPv4 header."""
    packet = bytes(Ether() / IP(src="16.0.0.1", dst="48.0.0.1") / ICMP(id=1, seq=2) / (b"x" * 18))
    fix = {"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 0, "l4_type": 17}
    nic = run([var("v", 1, 2), write("v", 22), fix], 1, packet=packet, nic=True)[0]
    assert int.from_bytes(nic[40:42], "big") == pseudo_sum(nic[26:30], nic[30:34], 1, len(nic) - 34)
    assert IP(nic[14:]).chksum == IP(correct(nic)[14:]).chksum


def icmpv6_packet(payload: bytes) -> bytes:
    return bytes(Ether() / IPv6(src="2001::1", dst="2001::2") / ICMPv6EchoRequest(id=7) / payload)


FIX_ICMPV6 = {"type": "fix_checksum_icmpv6", "l2_len": 14, "l3_len": 40}


def test_icmpv6_checksum():
    """vm.h:786 StreamDPOpIcmpv6Fix: pseudo-header plus the ICMPv6 message (IPv6 payload length bytes)."""
    pkts = run([var("v", 1, 2), write("v", 14 + 4 + 40 + 4), FIX_ICMPV6], 2, packet=icmpv6_packet(b"abcd"))
    assert pkts == [correct(p) for p in pkts]


def test_icmpv6_checksum_leaves_out_an_odd_last_byte():
    """vm.h:745 fast_ones_comp_sum sums whole 16-bit words: an odd last byte is not counted
    (RFC 4443 pads it with a zero byte), so TRex's checksum is that of the message without it."""
    odd = run([FIX_ICMPV6], 1, packet=icmpv6_packet(b"abc"))[0]
    even = run([FIX_ICMPV6], 1, packet=icmpv6_packet(b"ab"))[0]
    assert odd[56:58] != correct(odd)[56:58]
    # the same words as the 10-byte message but a payload length one more in the pseudo-header
    assert int.from_bytes(odd[56:58], "big") == int.from_bytes(correct(even)[56:58], "big") - 1


def test_trim_cuts_each_packet_to_the_variable():
    """vm.h:932 StreamDPOpPktSizeChange and trex_stl_dp_core.cpp:673: the packet ends at the
    variable's value; vm.cpp:584-597 clamp the variable to [60, packet size]."""
    big = udp_packet(b"x" * 100)
    assert len(big) == 142
    prog = [
        var("len", 10, 9000, size=2, init_value=141),
        {"type": "trim_pkt_size", "name": "len"},
        write("len", 16, add=-14),
        FIX_IPV4,
    ]
    pkts = run(prog, 4, packet=big)
    assert [len(p) for p in pkts] == [141, 142, 60, 61]
    assert values(pkts, 16, 2) == [127, 128, 46, 47]
    # the clamp moves min and max, not init_value: a variable starting below 60 gives shorter packets
    prog[0] = var("len", 50, 9000, size=2)
    assert [len(p) for p in run(prog, 2, packet=big)] == [50, 51]
    pkts = run([list_var("len", [64, 100], size=2), {"type": "trim_pkt_size", "name": "len"}], 3, packet=big)
    assert [len(p) for p in pkts] == [64, 100, 64]


def test_a_cache_repeats_its_first_packets():
    """trex_stl_dp_core.cpp:1358 replay_vm_into_cache: `cache` packets are made once and sent in turn;
    trex_stl_vm_splitter.cpp:54 gives each core cache / cores, the first ones one more."""
    pkts = run([var("v", 0, 99), write("v", OFF)], 7, cache=3)
    assert values(pkts, OFF) == [0, 1, 2, 0, 1, 2, 0]
    pkts = run([var("v", 0, 99), write("v", OFF)], 8, cores=2, cache=3)
    assert values(pkts, OFF) == [0, 1, 2, 1, 0, 1, 2, 1]  # core 0 caches 0 and 2, core 1 caches 1
    random = [var("r", 0, 0xFFFF, size=2, op="random"), write("r", SPORT)]
    assert values(run(random, 6, cache=2), SPORT, 2)[2:] == values(run(random, 2), SPORT, 2) * 2
