"""Field Engine runtime end to end: TRex's example profiles, checked against facts read from the
packets TRex's simulator wrote for them (trex-core v3.0.8 scripts/exp/*.pcap, made by stl-sim with
the options scripts/automation/regression/functional_tests/stl_basic_tests.py gives).

Each case is the profile's stream packet (built here with Scapy as the profile builds it, with the
simulator's MAC addresses, which the exp files carry) and its program as TRex's Python compiles it.
The facts are (packet index, offset, bytes as hex) and packet lengths, copied from the exp files by
hand; the pcaps themselves are not in this repository.
"""

from __future__ import annotations

import pytest
from fe_runtime import SIM_MACS, run, udp_packet

from scapyrpc.packets import registry

registry.load()

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

SRC, DST = 0x10000001, 0x30000001  # 16.0.0.1, 48.0.0.1: the addresses of TRex's Scapy defaults


def flow_var(name, size, op, min_value, max_value, init_value=None, step=1, split=True, next_var=None):
    init = init_value if init_value is not None else (max_value if op == "dec" else min_value)
    return {
        "type": "flow_var",
        "name": name,
        "size": size,
        "op": op,
        "next_var": next_var,
        "split_to_cores": split,
        "init_value": init,
        "min_value": min_value,
        "max_value": max_value,
        "step": step,
    }


def wr(name, offset, add=0):
    return {"type": "write_flow_var", "name": name, "pkt_offset": offset, "add_value": add, "is_big_endian": True}


def rand_limit(name, size, limit, seed, min_value, max_value, split=True, next_var=None):
    return {
        "type": "flow_var_rand_limit",
        "name": name,
        "size": size,
        "limit": limit,
        "seed": seed,
        "min_value": min_value,
        "max_value": max_value,
        "split_to_cores": split,
        "next_var": next_var,
    }


FIX = {"type": "fix_checksum_ipv4", "pkt_offset": 14}
SYN = bytes(Ether(**SIM_MACS) / IP(src="16.0.0.1", dst="48.0.0.1") / TCP(dport=80, flags="S"))
SYN_VARS = [flow_var("ip_src", 4, "random", 0x10000000, 0x120000FE), flow_var("src_port", 2, "random", 1025, 65000)]
BIG = bytes(Ether(**SIM_MACS) / IP(src="16.0.0.1", dst="48.0.0.1") / UDP(dport=12, sport=1025) / (b"\x55" * 9188))
LENGTH_PROGRAM = [{"type": "trim_pkt_size", "name": "fv_rand"}, wr("fv_rand", 16, -14), FIX, wr("fv_rand", 38, -34)]


def dependent_vars(op: str, size: int, step: int) -> list[dict]:
    """dependent_vars_all.py: var1 a..e -> var2 a..d -> var3 a..c, written at 42 + 2·size, 42 + size, 42."""
    first = 101 if op == "dec" else 97
    return [
        flow_var("var1", size, op, 97, 101, step=step, next_var="var2"),
        flow_var("var2", size, op, 97, 100, step=step, split=False, next_var="var3", init_value=first - (op == "dec")),
        flow_var("var3", size, op, 97, 99, step=step, split=False, init_value=first - 2 * (op == "dec")),
        wr("var1", 42 + 2 * size),
        wr("var2", 42 + size),
        wr("var3", 42),
    ]


CASES = {
    # name: (packet, program, options, {packet index: {offset: hex}}, lengths of the first packets)
    "udp_1pkt_tuple_gen -l 50": (
        udp_packet(),
        [
            {
                "type": "tuple_flow_var",
                "name": "tuple",
                "ip_min": SRC,
                "ip_max": SRC + 1,
                "port_min": 1025,
                "port_max": 2048,
                "limit_flows": 10000,
                "flags": 0,
            },
            wr("tuple.ip", 26),
            FIX,
            wr("tuple.port", 34),
        ],
        dict(count=50),
        {
            0: {26: "10000001", 34: "0401", 24: "3abd"},
            1: {26: "10000002", 34: "0401", 24: "3abc"},
            2: {26: "10000001", 34: "0402"},
            3: {26: "10000002", 34: "0402"},
            4: {34: "0403"},
            48: {26: "10000001", 34: "0419"},
            49: {26: "10000002", 34: "0419", 24: "3abc"},
        },
        None,
    ),
    "syn_attack -l 50 (random_seed 4660)": (
        SYN,
        [*SYN_VARS, wr("ip_src", 26), FIX, wr("src_port", 34)],
        dict(count=50, seed=4660),
        {
            0: {26: "10a0351a", 34: "3470", 24: "0515"},
            1: {26: "11ae1ace", 34: "68de", 24: "1e53"},
            2: {26: "1039f241", 34: "7aae", 24: "4854"},
            3: {26: "118bd1cf", 34: "55f0", 24: "6774"},
        },
        None,
    ),
    "syn_attack_fix_cs_hw -l 50 (random_seed 4660)": (
        SYN,
        [
            *SYN_VARS,
            wr("ip_src", 26),
            wr("src_port", 34),
            {"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 13},
        ],
        dict(count=50, seed=4660),
        {
            0: {26: "10a0351a", 24: "0000", 50: "75d5"},
            1: {34: "68de", 24: "0000", 50: "5c97"},
            2: {26: "1039f241", 24: "0000", 50: "3296"},
        },
        None,
    ),
    "udp_1pkt_repeat_random -l 50 (cache 255)": (
        udp_packet(),
        [
            flow_var("ip_src", 4, "inc", 0x0A000001, 0x0A0000FF),
            rand_limit("ip_dst", 4, 16, 4661, 0x30000001, 0x300000FF),
            wr("ip_src", 26),
            wr("ip_dst", 30),
            FIX,
        ],
        dict(count=50, cache=255),
        {
            0: {26: "0a000001", 30: "3000009f"},
            1: {30: "30000050"},
            2: {30: "30000039"},
            15: {30: "30000044"},
            16: {26: "0a000011", 30: "3000009f"},
            17: {30: "30000050"},
            32: {26: "0a000021", 30: "3000009f"},
        },
        None,
    ),
    "split_var_to_cores -l 20 -c 2": (
        bytes(Ether(**SIM_MACS) / IP(src="16.0.0.1", dst="48.0.0.1") / UDP()),
        [
            flow_var("src", 4, "inc", 0x0A000001, 0x0A0000FE, split=False),
            flow_var("dst", 4, "inc", 0x08000001, 0x080000FE),
            rand_limit("src_port", 2, 3, 0, 1024, 65535, split=False),
            rand_limit("dst_port", 2, 3, 0, 1024, 65535),
            wr("src", 26),
            wr("dst", 30),
            wr("src_port", 34),
            wr("dst_port", 36),
            FIX,
        ],
        dict(count=20, cores=2),
        {
            0: {26: "0a000001", 30: "08000001", 34: "0426", 36: "0426"},
            1: {26: "0a000001", 30: "08000002"},
            2: {26: "0a000002", 34: "2227", 36: "2227"},
            3: {30: "08000004", 34: "2227", 36: "0426"},
            4: {26: "0a000003", 34: "56f6", 36: "0426"},
            5: {30: "08000006", 34: "56f6", 36: "0426"},
        },
        None,
    ),
    "dependent_field_engine_vars -l 100 -c 2": (
        udp_packet(b"x" * 24),
        [
            {
                "type": "flow_var",
                "name": "IP_src",
                "size": 4,
                "op": "dec",
                "next_var": "var1",
                "split_to_cores": True,
                "value_list": [0x10000001, 0x0A000001, 0x0E000001],
                "step": 1,
            },
            flow_var("var1", 1, "inc", 97, 99, split=False, next_var="var2"),
            rand_limit("var2", 1, 4, 0, 97, 122, split=False, next_var="var3"),
            flow_var("var3", 1, "inc", 97, 98, split=False),
            wr("IP_src", 26),
            wr("var1", 45),
            wr("var2", 44),
            wr("var3", 43),
            FIX,
        ],
        dict(count=100, cores=2),
        {
            0: {26: "0e000001", 42: "78616d61"},
            1: {26: "0a000001", 42: "78616d61"},
            2: {26: "10000001"},
            3: {26: "0e000001", 42: "78616d62"},
            5: {26: "10000001", 42: "78616d62"},
            8: {42: "78616d63"},
        },
        None,
    ),
    "udp_inc_len_9k -l 100": (
        BIG,
        [flow_var("fv_rand", 2, "inc", 64, 9230), *LENGTH_PROGRAM],
        dict(count=100),
        {0: {16: "0032", 38: "001e", 24: "3ab9"}, 1: {16: "0033", 38: "001f", 24: "3ab8"}, 2: {16: "0034", 38: "0020"}},
        [64, 65, 66],
    ),
    "udp_rand_len_9k -l 50 (random_seed 4660)": (
        BIG,
        [flow_var("fv_rand", 2, "random", 64, 9230), *LENGTH_PROGRAM],
        dict(count=50, seed=4660),
        {0: {16: "12d2", 38: "12be"}, 1: {16: "1a74", 38: "1a60"}, 2: {16: "0cd2"}, 3: {16: "0473", 38: "045f"}},
        [4832, 6786, 3296, 1153],
    ),
    "udp_1pkt_mac_mask5 -l 30": (
        udp_packet(),
        [
            flow_var("mac_src", 2, "inc", 0, 10),
            {
                "type": "write_mask_flow_var",
                "name": "mac_src",
                "pkt_offset": 10,
                "pkt_cast_size": 1,
                "mask": 255,
                "shift": 0,
                "add_value": 5,
                "is_big_endian": True,
            },
        ],
        dict(count=30),
        {i: {10: f"{5 + i % 11:02x}"} for i in range(13)},
        None,
    ),
    "dependent_vars_all size=1 step=1 op=inc -l 50 -c 1": (
        udp_packet(b"x" * 24),
        dependent_vars("inc", 1, 1),
        dict(count=50),
        {
            0: {42: "616161"},
            1: {42: "616162"},
            4: {42: "616165"},
            5: {42: "616261"},
            19: {42: "616465"},
            20: {42: "626161"},
            49: {42: "636265"},
        },
        None,
    ),
    "dependent_vars_all size=1 step=1 op=inc -l 50 -c 2": (
        udp_packet(b"x" * 24),
        dependent_vars("inc", 1, 1),
        dict(count=50, cores=2),
        {
            0: {42: "616161"},
            1: {42: "616162"},
            4: {42: "616165"},
            5: {42: "616261"},
            19: {42: "616465"},
            20: {42: "626161"},
            49: {42: "636265"},
        },
        None,
    ),
    "dependent_vars_all size=2 step=2 op=dec -l 50 -c 2": (
        udp_packet(b"x" * 24),
        dependent_vars("dec", 2, 2),
        dict(count=50, cores=2),
        {
            0: {42: "006300640065"},
            1: {42: "006300640063"},
            2: {42: "006300640061"},
            3: {42: "006300620065"},
            5: {42: "006300620061"},
            6: {42: "006100640065"},
        },
        None,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_exp_facts(case):
    """The packets match what TRex's simulator wrote at the recorded places."""
    packet, program, options, facts, lengths = CASES[case]
    pkts = run(program, packet=packet, **options)
    assert len(pkts) == options["count"]
    for index, fields in facts.items():
        for offset, hexed in fields.items():
            assert pkts[index][offset : offset + len(hexed) // 2].hex() == hexed, (case, index, offset)
    if lengths:
        assert [len(p) for p in pkts[: len(lengths)]] == lengths
    else:
        assert {len(p) for p in pkts} == {max(len(packet), 60)}
