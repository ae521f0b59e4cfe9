"""Field Engine: every worked example of the reference (trex-field-engine.md §13) as an exact-output test,
plus the decompile round trip for each of them.

Expected outputs are copied from the reference document, not from our own output.
"""

from __future__ import annotations

import pytest

from scapyrpc.packets import dissect, field_engine, registry

registry.load()

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw


def ref_packet():
    """Reference packet of §0.2: Ether/IP(16.0.0.1 -> 48.0.0.1)/UDP/Raw(10 x 'x')."""
    return Ether() / IP(src="16.0.0.1", dst="48.0.0.1") / UDP() / Raw(b"x" * 10)


def fe(instructions, global_parameters=None, pkt=None):
    """The `field_engine` object for a request, compiled against `pkt` (default: the reference packet)."""
    opts = {
        "field_engine": {
            "instructions": instructions,
            "global_parameters": {} if global_parameters is None else global_parameters,
        }
    }
    return compile_for(pkt if pkt is not None else ref_packet(), opts)


def compile_for(pkt, extra_options):
    """`field_engine.compile_for_packet` with the packet result build_pkt_ex would pass, as the
    reference server answered it: the pre-flight `warnings` the reference did not have are taken
    off here (test_preflight checks them), and are none after an error."""
    result = field_engine.compile_for_packet(pkt, dissect.packet_result(pkt), extra_options)
    warnings = result.pop("warnings")
    assert isinstance(warnings, list) and (result["error"] is None or warnings == [])
    detail = result.pop("error_detail")
    assert (detail is None) == (result["error"] is None)
    return result


def Ins(id_, **params):
    return {"id": id_, "parameters": params}


def flow(name, **kw):
    """Expected flow_var JSON with the reference key order."""
    out = {
        "type": "flow_var",
        "name": name,
        "size": kw.pop("size", 4),
        "op": kw.pop("op", "inc"),
        "next_var": kw.pop("next_var", None),
        "split_to_cores": kw.pop("split_to_cores", True),
    }
    if "value_list" in kw:
        out["value_list"] = kw.pop("value_list")
    else:
        for key in ("init_value", "min_value", "max_value"):
            out[key] = kw.pop(key)
    out["step"] = kw.pop("step", 1)
    assert not kw
    return out


def wr(name, offset, add=0, big=True):
    return {"type": "write_flow_var", "name": name, "pkt_offset": offset, "add_value": add, "is_big_endian": big}


def ok(instructions, cache=None):
    program = {"instructions": instructions}
    if cache is not None:
        program["cache"] = cache
    return {"instructions": program, "error": None, "vm_instructions_expressions": []}


# (case id, instructions, global_parameters, expected field_engine) — reference §13, verbatim.
EXAMPLES = [
    (
        "ok_basic_ipsrc",
        [
            Ins(
                "STLVmFlowVar",
                name="ip_src",
                min_value="16.0.0.1",
                max_value="16.0.0.254",
                size="4",
                op="inc",
                step="1",
            ),
            Ins("STLVmWrFlowVar", fv_name="ip_src", pkt_offset="IP.src", is_big="true", add_val="0", offset_fixup="0"),
            Ins("STLVmFixIpv4", offset="IP"),
        ],
        {"cache_size": "1000"},
        ok(
            [
                flow("ip_src", init_value=268435457, min_value=268435457, max_value=268435710),
                wr("ip_src", 26),
                {"type": "fix_checksum_ipv4", "pkt_offset": 14},
            ],
            cache=1000,
        ),
    ),
    (
        "ok_ttl_dec_default_init",
        [
            Ins("STLVmFlowVar", name="ttl", min_value="32", max_value="64", size="1", op="dec", step="4"),
            Ins("STLVmWrFlowVar", fv_name="ttl", pkt_offset="IP.ttl"),
        ],
        {},
        ok([flow("ttl", size=1, op="dec", init_value=64, min_value=32, max_value=64, step=4), wr("ttl", 22)]),
    ),
    (
        "ok_mask",
        [
            Ins("STLVmFlowVar", name="m", min_value="1", max_value="30", size="2", op="dec", step="1"),
            Ins(
                "STLVmWrMaskFlowVar",
                fv_name="m",
                pkt_offset="IP.id",
                pkt_cast_size="2",
                mask="0xff00",
                shift="8",
                add_value="1",
                is_big="true",
            ),
            Ins("STLVmWrMaskFlowVar", fv_name="m", pkt_offset="11", pkt_cast_size="1", mask="0x1", shift="-1"),
        ],
        {},
        ok(
            [
                flow("m", size=2, op="dec", init_value=30, min_value=1, max_value=30),
                {
                    "type": "write_mask_flow_var",
                    "name": "m",
                    "pkt_offset": 18,
                    "pkt_cast_size": 2,
                    "mask": 65280,
                    "shift": 8,
                    "add_value": 1,
                    "is_big_endian": True,
                },
                {
                    "type": "write_mask_flow_var",
                    "name": "m",
                    "pkt_offset": 11,
                    "pkt_cast_size": 1,
                    "mask": 1,
                    "shift": -1,
                    "add_value": 0,
                    "is_big_endian": True,
                },
            ]
        ),
    ),
    (
        "ok_trim",
        [
            Ins("STLVmFlowVar", name="fv_rand", min_value="64", max_value="100", size="2", op="random"),
            Ins("STLVmTrimPktSize", fv_name="fv_rand"),
            Ins("STLVmWrFlowVar", fv_name="fv_rand", pkt_offset="IP.len", add_val="-14"),
            Ins("STLVmFixIpv4", offset="IP"),
            Ins("STLVmWrFlowVar", fv_name="fv_rand", pkt_offset="UDP.len", add_val="-34"),
        ],
        {},
        ok(
            [
                flow("fv_rand", size=2, op="random", init_value=64, min_value=64, max_value=100),
                {"type": "trim_pkt_size", "name": "fv_rand"},
                wr("fv_rand", 16, -14),
                {"type": "fix_checksum_ipv4", "pkt_offset": 14},
                wr("fv_rand", 38, -34),
            ]
        ),
    ),
    (
        "ok_tuple",
        [
            Ins(
                "STLVmTupleGen",
                name="tuple",
                ip_min="16.0.0.1",
                ip_max="16.0.0.2",
                port_min="1025",
                port_max="65535",
                limit_flows="100000",
                flags="0",
            ),
            Ins("STLVmWrFlowVar", fv_name="tuple.ip", pkt_offset="IP.src"),
            Ins("STLVmFixIpv4", offset="IP"),
            Ins("STLVmWrFlowVar", fv_name="tuple.port", pkt_offset="UDP.sport"),
        ],
        {},
        ok(
            [
                {
                    "type": "tuple_flow_var",
                    "name": "tuple",
                    "ip_min": 268435457,
                    "ip_max": 268435458,
                    "port_min": 1025,
                    "port_max": 65535,
                    "limit_flows": 100000,
                    "flags": 0,
                },
                wr("tuple.ip", 26),
                {"type": "fix_checksum_ipv4", "pkt_offset": 14},
                wr("tuple.port", 34),
            ]
        ),
    ),
    (
        "ok_rr_seed",
        [
            Ins(
                "STLVmFlowVarRepeatableRandom",
                name="rr",
                size="2",
                limit="100",
                seed="5",
                min_value="1",
                max_value="1000",
            ),
            Ins("STLVmWrFlowVar", fv_name="rr", pkt_offset="UDP.sport"),
        ],
        {},
        ok(
            [
                {
                    "type": "flow_var_rand_limit",
                    "name": "rr",
                    "size": 2,
                    "limit": 100,
                    "seed": 5,
                    "min_value": 1,
                    "max_value": 1000,
                    "split_to_cores": True,
                    "next_var": None,
                },
                wr("rr", 34),
            ]
        ),
    ),
    (
        "ok_hw_udp",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="UDP", l4_type="11")],
        {},
        ok([{"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 11}]),
    ),
    (
        "ok_next_var_chain",
        [
            Ins("STLVmFlowVar", name="a", min_value="0", max_value="3", size="1", next_var="b"),
            Ins("STLVmFlowVar", name="c", min_value="0", max_value="3", size="1"),
            Ins("STLVmFlowVar", name="b", min_value="0", max_value="3", size="1", split_to_cores="true"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.ttl"),
            Ins("STLVmWrFlowVar", fv_name="b", pkt_offset="IP.tos"),
        ],
        {},
        ok(
            [
                flow("a", size=1, next_var="b", init_value=0, min_value=0, max_value=3),
                flow("b", size=1, split_to_cores=False, init_value=0, min_value=0, max_value=3),
                flow("c", size=1, init_value=0, min_value=0, max_value=3),
                wr("a", 22),
                wr("b", 15),
            ]
        ),
    ),
    (
        "ok_value_list_expr",
        [
            Ins(
                "STLVmFlowVar",
                name="vl",
                value_list={"vtype": "EXPRESSION", "expr": "['16.0.0.1', '16.0.0.2', 5]"},
                size="4",
                op="inc",
            ),
            Ins("STLVmWrFlowVar", fv_name="vl", pkt_offset="IP.src"),
        ],
        {},
        ok([flow("vl", value_list=[268435457, 268435458, 5]), wr("vl", 26)]),
    ),
    (
        "ok_ether_offsets",
        [
            Ins("STLVmFlowVar", name="a", min_value="0", max_value="10", size="2", op="inc"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="Ether.dst"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="Ether.src"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="Ether.type"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="Ether:0.src"),
        ],
        {},
        ok(
            [
                flow("a", size=2, init_value=0, min_value=0, max_value=10),
                wr("a", 0),
                wr("a", 6),
                wr("a", 12),
                wr("a", 6),
            ]
        ),
    ),
    (
        "ok_mac_value_size8",
        [
            Ins(
                "STLVmFlowVar",
                name="mac",
                min_value="00:00:00:00:00:01",
                max_value="00:00:00:00:00:ff",
                size="8",
                op="inc",
                step="1",
            ),
            Ins("STLVmWrFlowVar", fv_name="mac", pkt_offset="Ether.src", offset_fixup="-2"),
        ],
        {},
        ok([flow("mac", size=8, init_value=1, min_value=1, max_value=255), wr("mac", 4)]),
    ),
    (
        "ok_fixup_addval_little",
        [
            Ins("STLVmFlowVar", name="a", min_value="0", max_value="10", size="2", op="inc"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.len", offset_fixup="2", add_val="-14", is_big="false"),
        ],
        {},
        ok([flow("a", size=2, init_value=0, min_value=0, max_value=10), wr("a", 18, -14, False)]),
    ),
    (
        "ok_wr_before_def",
        [
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.src"),
            Ins("STLVmFixIpv4", offset="IP"),
            Ins("STLVmFlowVar", name="a", min_value="1", max_value="5", size="4"),
        ],
        {},
        ok(
            [
                flow("a", init_value=1, min_value=1, max_value=5),
                wr("a", 26),
                {"type": "fix_checksum_ipv4", "pkt_offset": 14},
            ]
        ),
    ),
    (
        "ok_tuple_order",
        [
            Ins("STLVmFlowVar", name="a", min_value="0", max_value="10", size="1"),
            Ins("STLVmTupleGen", name="t", ip_min="10", ip_max="5"),
            Ins("STLVmFlowVar", name="b", min_value="0", max_value="10", size="1"),
            Ins("STLVmWrFlowVar", fv_name="t.port", pkt_offset="UDP.sport"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.ttl"),
            Ins("STLVmWrFlowVar", fv_name="b", pkt_offset="IP.tos"),
        ],
        {},
        ok(
            [
                flow("a", size=1, init_value=0, min_value=0, max_value=10),
                flow("b", size=1, init_value=0, min_value=0, max_value=10),
                {
                    "type": "tuple_flow_var",
                    "name": "t",
                    "ip_min": 10,
                    "ip_max": 5,
                    "port_min": 1025,
                    "port_max": 65535,
                    "limit_flows": 100000,
                    "flags": 0,
                },
                wr("t.port", 34),
                wr("a", 22),
                wr("b", 15),
            ]
        ),
    ),
]

V = {"min_value": "0", "max_value": "3", "size": "1"}
# "Additional outputs worth knowing" (§13) and other documented OK cases: (id, instructions, gp, packet, expected).
MORE = [
    ("ok_empty", [], {}, None, ok([])),
    ("ok_empty_cache", [], {"cache_size": "10"}, None, ok([], cache=10)),
    (
        "ok_cache_zero",
        [Ins("STLVmFlowVar", name="a", **V), Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.ttl")],
        {"cache_size": "0"},
        None,
        ok([flow("a", size=1, init_value=0, min_value=0, max_value=3), wr("a", 22)]),
    ),
    (
        "ok_cache_neg",
        [Ins("STLVmFlowVar", name="a", **V), Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.ttl")],
        {"cache_size": "-5"},
        None,
        ok([flow("a", size=1, init_value=0, min_value=0, max_value=3), wr("a", 22)]),
    ),
    ("ok_cache_int", [], {"cache_size": 500}, None, ok([], cache=500)),
    ("ok_cache_float", [], {"cache_size": 1.5}, None, ok([], cache=1)),
    ("ok_cache_big", [], {"cache_size": "100000000"}, None, ok([], cache=100000000)),
    (
        "ok_defaults_only_name",
        [Ins("STLVmFlowVar", name="a")],
        {},
        None,
        ok([flow("a", init_value=0, min_value=0, max_value=255)]),
    ),
    (
        "ok_random_init_none",
        [Ins("STLVmFlowVar", name="a", init_value="None", op="random", min_value="0", max_value="100", size="2")],
        {},
        None,
        ok([flow("a", size=2, op="random", init_value=0, min_value=0, max_value=100)]),
    ),
    (
        "ok_init_explicit_hex",
        [Ins("STLVmFlowVar", name="a", init_value="0x20", min_value="0x10", max_value="0xff", size="1", step="2")],
        {},
        None,
        ok([flow("a", size=1, init_value=32, min_value=16, max_value=255, step=2)]),
    ),
    (
        "ok_step_ipv4",
        [Ins("STLVmFlowVar", name="a", step="0.0.1.0", max_value="0.0.255.255")],
        {},
        None,
        ok([flow("a", init_value=0, min_value=0, max_value=65535, step=256)]),
    ),
    (
        "ok_tuple_defaults",
        [Ins("STLVmTupleGen", name="t")],
        {},
        None,
        ok(
            [
                {
                    "type": "tuple_flow_var",
                    "name": "t",
                    "ip_min": 1,
                    "ip_max": 10,
                    "port_min": 1025,
                    "port_max": 65535,
                    "limit_flows": 100000,
                    "flags": 0,
                }
            ]
        ),
    ),
    (
        "ok_hw_tcp",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="TCP", l4_type="13")],
        {},
        Ether() / IP() / TCP(),
        ok([{"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 13}]),
    ),
    (
        "ok_hw_ip0",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="0", l4_type="17")],
        {},
        None,
        ok([{"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 0, "l4_type": 17}]),
    ),
    (
        "ok_icmp_fix_hw_l4_ip",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="UDP", l4_type="17")],
        {},
        None,
        ok([{"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 17}]),
    ),
    (
        "hw_raw",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="Raw", l4_type="11")],
        {},
        None,
        ok([{"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 28, "l4_type": 11}]),
    ),
    (
        "hw_l4_type_99",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="UDP", l4_type="99")],
        {},
        None,
        ok([{"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 99}]),
    ),
    (
        "ok_icmpv6",
        [Ins("STLVmFixIcmpv6", l3_offset="IPv6", l4_offset="54")],
        {},
        Ether() / IPv6() / ICMPv6EchoRequest(),
        ok([{"type": "fix_checksum_icmpv6", "l2_len": 14, "l3_len": 40}]),
    ),
    (
        "ok_icmpv6_by_name",
        [Ins("STLVmFixIcmpv6", l3_offset="IPv6", l4_offset="ICMPv6 Echo Request")],
        {},
        Ether() / IPv6() / ICMPv6EchoRequest(),
        ok([{"type": "fix_checksum_icmpv6", "l2_len": 14, "l3_len": 40}]),
    ),
    (
        "icmpv6_unchecked",
        [Ins("STLVmFixIcmpv6", l3_offset="54", l4_offset="14")],
        {},
        None,
        ok([{"type": "fix_checksum_icmpv6", "l2_len": 54, "l3_len": -40}]),
    ),
    (
        "ok_2ip",
        [
            Ins("STLVmFlowVar", name="a"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP:1.src"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP:0.dst"),
            Ins("STLVmFixIpv4", offset="IP:1"),
            Ins("STLVmFixIpv4", offset="IP:0"),
            Ins("STLVmFixIpv4", offset="34"),
        ],
        {},
        Ether() / IP() / IP() / UDP(),
        ok(
            [
                flow("a", init_value=0, min_value=0, max_value=255),
                wr("a", 46),
                wr("a", 30),
                {"type": "fix_checksum_ipv4", "pkt_offset": 34},
                {"type": "fix_checksum_ipv4", "pkt_offset": 14},
                {"type": "fix_checksum_ipv4", "pkt_offset": 34},
            ]
        ),
    ),
    (
        "ok_dot1q",
        [
            Ins("STLVmFlowVar", name="v", size="2", max_value="4095"),
            Ins("STLVmWrMaskFlowVar", fv_name="v", pkt_offset="Dot1Q.vlan", pkt_cast_size="2", mask="0x0fff"),
            Ins("STLVmWrMaskFlowVar", fv_name="v", pkt_offset="802|1Q.vlan", pkt_cast_size="2", mask="0x0fff"),
            Ins("STLVmFixIpv4", offset="IP"),
        ],
        {},
        Ether() / Dot1Q(vlan=5) / IP() / UDP(),
        ok(
            [flow("v", size=2, init_value=0, min_value=0, max_value=4095)]
            + [
                {
                    "type": "write_mask_flow_var",
                    "name": "v",
                    "pkt_offset": 14,
                    "pkt_cast_size": 2,
                    "mask": 4095,
                    "shift": 0,
                    "add_value": 0,
                    "is_big_endian": True,
                }
            ]
            * 2
            + [{"type": "fix_checksum_ipv4", "pkt_offset": 18}]
        ),
    ),
    (
        "ok_value_list_json_list",
        [
            Ins(
                "STLVmFlowVar",
                name="vl",
                value_list=[9, 0, 4, 7, 5],
                size="1",
                op="dec",
                min_value="3",
                max_value="1",
                init_value="7",
            )
        ],
        {},
        None,
        ok([flow("vl", size=1, op="dec", value_list=[9, 0, 4, 7, 5])]),
    ),
    ("value_list_empty", [Ins("STLVmFlowVar", name="vl", value_list=[])], {}, None, ok([flow("vl", value_list=[])])),
    (
        "ok_value_list_none",
        [Ins("STLVmFlowVar", name="vl", value_list="None")],
        {},
        None,
        ok([flow("vl", init_value=0, min_value=0, max_value=255)]),
    ),
    (
        "value_list_ignores_bad_init",
        [Ins("STLVmFlowVar", name="vl", value_list=[1], init_value="abc")],
        {},
        None,
        ok([flow("vl", value_list=[1])]),
    ),
    (
        "ok_next_var_chain_rev",
        [
            Ins("STLVmWrFlowVar", fv_name="b", pkt_offset="IP.ttl"),
            Ins("STLVmFlowVar", name="b"),
            Ins("STLVmFlowVar", name="a", next_var="b", split_to_cores="false"),
            Ins("STLVmFlowVarRepeatableRandom", name="r", seed="7", next_var="a"),
        ],
        {},
        None,
        ok(
            [
                {
                    "type": "flow_var_rand_limit",
                    "name": "r",
                    "size": 4,
                    "limit": 100,
                    "seed": 7,
                    "min_value": 0,
                    "max_value": 4294967295,
                    "split_to_cores": True,
                    "next_var": "a",
                },
                flow("a", next_var="b", split_to_cores=False, init_value=0, min_value=0, max_value=255),
                flow("b", split_to_cores=False, init_value=0, min_value=0, max_value=255),
                wr("b", 22),
            ]
        ),
    ),
    (
        "ok_fix_ethernet",
        [Ins("STLVmFixIpv4", offset="Ethernet")],
        {},
        None,
        ok([{"type": "fix_checksum_ipv4", "pkt_offset": 0}]),
    ),
    (
        "fix_ipv4_unchecked",
        [Ins("STLVmFixIpv4", offset="UDP"), Ins("STLVmFixIpv4", offset="-1")],
        {},
        None,
        ok([{"type": "fix_checksum_ipv4", "pkt_offset": 34}, {"type": "fix_checksum_ipv4", "pkt_offset": -1}]),
    ),
    (
        "ok_ethernet_names",
        [
            Ins("STLVmFlowVar", name="a"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="Ethernet.src"),
            Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="Ethernet.type"),
        ],
        {},
        None,
        ok([flow("a", init_value=0, min_value=0, max_value=255), wr("a", 6), wr("a", 12)]),
    ),
    (
        "int_forms",
        [Ins("STLVmFlowVar", name="a", min_value=" 5", max_value="1_000")],
        {},
        None,
        ok([flow("a", init_value=5, min_value=5, max_value=1000)]),
    ),
    (
        "mac_upper",
        [Ins("STLVmFlowVar", name="a", min_value="00:00:00:00:00:0A", max_value="AA:BB:CC:DD:EE:FF", size="8")],
        {},
        None,
        ok([flow("a", size=8, init_value=10, min_value=10, max_value=187723572702975)]),
    ),
    (
        "param_objects",
        [
            Ins(
                "STLVmFlowVar",
                name="a",
                min_value={"vtype": "EXPRESSION", "expr": "10*2"},
                max_value={"vtype": "OBJECT", "value": 7},
                init_value="7",
            )
        ],
        {},
        None,
        None,
    ),  # min 20 > max 7: checked in the error tests; kept here only for the round-trip exclusion below
    (
        "mask_unchecked",
        [
            Ins("STLVmFlowVar", name="a"),
            Ins("STLVmWrMaskFlowVar", fv_name="a", pkt_offset="IP.id", mask="0xffffffffff", shift="100"),
        ],
        {},
        None,
        ok(
            [
                flow("a", init_value=0, min_value=0, max_value=255),
                {
                    "type": "write_mask_flow_var",
                    "name": "a",
                    "pkt_offset": 18,
                    "pkt_cast_size": 1,
                    "mask": 1099511627775,
                    "shift": 100,
                    "add_value": 0,
                    "is_big_endian": True,
                },
            ]
        ),
    ),
    (
        "tuple_unchecked",
        [Ins("STLVmTupleGen", name="t", port_min="-1", port_max="70000", limit_flows="0")],
        {},
        None,
        ok(
            [
                {
                    "type": "tuple_flow_var",
                    "name": "t",
                    "ip_min": 1,
                    "ip_max": 10,
                    "port_min": -1,
                    "port_max": 70000,
                    "limit_flows": 0,
                    "flags": 0,
                }
            ]
        ),
    ),
    (
        "ok_cycle_dec_pad",
        [Ins("STLVmFlowVar", name="a", min_value="5", max_value="10", size="1", step="4", op="dec")],
        {},
        None,
        ok([flow("a", size=1, op="dec", init_value=10, min_value=5, max_value=10, step=4)]),
    ),
    (
        "ok_cycle_random",
        [Ins("STLVmFlowVar", name="a", min_value="0", max_value="2", size="1", step="2", op="random")],
        {},
        None,
        ok([flow("a", size=1, op="random", init_value=0, min_value=0, max_value=2, step=2)]),
    ),
]
MORE = [case for case in MORE if case[4] is not None]


@pytest.mark.parametrize("case_id, instructions, gp, expected", EXAMPLES, ids=[c[0] for c in EXAMPLES])
def test_worked_example_exact(case_id, instructions, gp, expected):
    result = fe(instructions, gp)
    assert result == expected
    # Key order is part of "the same compiled JSON" (reference §4, §7).
    for got, want in zip(result["instructions"]["instructions"], expected["instructions"]["instructions"]):
        assert list(got) == list(want)


@pytest.mark.parametrize("case_id, instructions, gp, pkt, expected", MORE, ids=[c[0] for c in MORE])
def test_documented_output_exact(case_id, instructions, gp, pkt, expected):
    result = fe(instructions, gp, pkt)
    assert result == expected
    for got, want in zip(result["instructions"]["instructions"], expected["instructions"]["instructions"]):
        assert list(got) == list(want)


def test_repeatable_random_without_seed_has_the_reference_shape():
    program = fe([Ins("STLVmFlowVarRepeatableRandom", name="rr")])["instructions"]["instructions"]
    (rr,) = program
    seed = rr.pop("seed")
    assert isinstance(seed, int) and 1 <= seed <= 32000
    assert rr == {
        "type": "flow_var_rand_limit",
        "name": "rr",
        "size": 4,
        "limit": 100,
        "min_value": 0,
        "max_value": 4294967295,
        "split_to_cores": True,
        "next_var": None,
    }
    seed_default = fe([Ins("STLVmFlowVarRepeatableRandom", name="rr", seed="None")])
    assert 1 <= seed_default["instructions"]["instructions"][0]["seed"] <= 32000


def test_compile_is_deterministic_for_seeded_examples():
    for _, instructions, gp, _ in EXAMPLES:
        assert fe(instructions, gp) == fe(instructions, gp)


ROUND_TRIP = [(c[0], c[1], c[2], None) for c in EXAMPLES] + [(c[0], c[1], c[2], c[3]) for c in MORE]


@pytest.mark.parametrize("case_id, instructions, gp, pkt", ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_decompile_then_compile_reproduces_the_program(case_id, instructions, gp, pkt):
    packet = pkt if pkt is not None else ref_packet()
    compiled = fe(instructions, gp, packet)
    assert compiled["error"] is None
    program = compiled["instructions"]
    model = field_engine.decompile(program)
    assert set(model) == {"instructions", "global_parameters"}
    again = compile_for(packet, {"field_engine": model})
    assert again["error"] is None, again["error"]
    assert again["instructions"] == program
