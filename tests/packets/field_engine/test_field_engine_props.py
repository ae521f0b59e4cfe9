"""Field Engine: properties (hypothesis), symbolic offsets, parameter choices, metadata, decompile edges,
and the in-process service methods."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import (
    ICMP,
    IP,
    TCP,
    UDP,
    IPOption_RR,
)
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether
from test_field_engine_examples import Ins, compile_for, fe, ref_packet

from scapyrpc.packets import field_engine, service
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.field_engine import arithmetic
from scapyrpc.packets.field_engine.errors import FEError

MAX = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF, 8: 0xFFFFFFFFFFFFFFFF}
CYCLE = "could not pad range to be a true cycle - '(max_value - min_value + 1) % step' should be zero"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PKT = ref_packet()


def compile_(instructions, gp=None, pkt=PKT):
    return fe(instructions, gp, pkt)


@st.composite
def flow_vars(draw):
    size = draw(st.sampled_from([1, 2, 4, 8]))
    lo = draw(st.integers(0, MAX[size]))
    hi = draw(st.integers(lo, MAX[size]))
    step = draw(st.integers(1, max(1, hi - lo + 1)))
    op = draw(st.sampled_from(["inc", "dec", "random"]))
    init = draw(st.one_of(st.none(), st.integers(lo, hi)))
    return size, lo, hi, step, op, init


@FAST
@given(flow_vars())
def test_valid_flow_var_ranges_compile_and_fit_their_size(var):
    size, lo, hi, step, op, init = var
    params = {"name": "v", "size": str(size), "min_value": str(lo), "max_value": hex(hi), "step": str(step), "op": op}
    if init is not None:
        params["init_value"] = str(init)
    result = compile_([Ins("STLVmFlowVar", **params), Ins("STLVmWrFlowVar", fv_name="v", pkt_offset="IP.src")])
    pad = (hi - lo + 1) % step
    cycle_broken = pad and ((op == "inc" and MAX[8] - hi < step - pad) or (op == "dec" and lo < step - pad))
    if cycle_broken:  # the one check that can refuse a valid-looking range (computed independently here)
        assert result["error"] == CYCLE
        return
    assert result["error"] is None
    (var_json, write) = result["instructions"]["instructions"]
    expected_init = init if init is not None else (hi if op == "dec" else lo)
    assert (var_json["min_value"], var_json["max_value"], var_json["init_value"]) == (lo, hi, expected_init)
    for key in ("min_value", "max_value", "init_value", "step"):
        assert 0 <= var_json[key] <= MAX[size]
    assert write["pkt_offset"] == 26


@FAST
@given(
    st.sampled_from([1, 2, 4, 8]).flatmap(
        lambda size: st.tuples(st.just(size), st.lists(st.integers(0, MAX[size]), max_size=20))
    )
)
def test_value_lists_compile_and_fit_their_size(sized):
    size, values = sized
    result = compile_([Ins("STLVmFlowVar", name="v", size=str(size), value_list=values)])
    assert result["error"] is None
    (var_json,) = result["instructions"]["instructions"]
    assert var_json["value_list"] == values and all(0 <= v <= MAX[size] for v in var_json["value_list"])


@FAST
@given(st.sampled_from([1, 2, 4, 8]), st.integers(1, 2**64), st.data())
def test_out_of_size_values_are_refused_with_the_reference_message(size, excess, data):
    too_big = MAX[size] + excess
    result = compile_([Ins("STLVmFlowVar", name="v", size=str(size), min_value="0", max_value=str(too_big))])
    assert result["error"] == f"requested value {too_big} with size {size} is bigger than {MAX[size]:#x}"


@FAST
@given(st.sampled_from([1, 2, 4, 8]), st.integers(1, 1000), st.integers(0, 32000), st.data())
def test_repeatable_random_values_fit_their_size(size, limit, seed, data):
    lo = data.draw(st.integers(0, MAX[size]))
    hi = data.draw(st.integers(lo, MAX[size]))
    result = compile_(
        [
            Ins(
                "STLVmFlowVarRepeatableRandom",
                name="r",
                size=str(size),
                limit=str(limit),
                seed=str(seed),
                min_value=str(lo),
                max_value=str(hi),
            )
        ]
    )
    (rr,) = result["instructions"]["instructions"]
    assert (rr["min_value"], rr["max_value"], rr["seed"], rr["limit"]) == (lo, hi, seed, limit)
    assert rr["max_value"] <= MAX[size]


FIELDS = [
    "Ether.dst",
    "Ether.src",
    "Ether.type",
    "IP.tos",
    "IP.len",
    "IP.id",
    "IP.ttl",
    "IP.src",
    "IP.dst",
    "UDP.sport",
    "UDP.dport",
    "UDP.len",
    "Raw.load",
    "30",
    "0x22",
]


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["STLVmWrFlowVar", "STLVmWrMaskFlowVar", "STLVmFixIpv4", "STLVmTrimPktSize", "STLVmFixChecksumHw"]
            ),
            st.sampled_from(FIELDS),
            st.integers(-8, 8),
        ),
        max_size=6,
    ),
    st.sampled_from([None, "0", "77"]),
)
def test_random_programs_round_trip_through_decompile(steps, cache):
    model = [
        Ins("STLVmFlowVar", name="a", min_value="1", max_value="9", size="2", op="dec"),
        Ins("STLVmTupleGen", name="t", flags="3"),
    ]
    for kind, target, n in steps:
        if kind == "STLVmWrFlowVar":
            model.append(Ins(kind, fv_name="a", pkt_offset=target, offset_fixup=str(n), add_val=str(n)))
        elif kind == "STLVmWrMaskFlowVar":
            model.append(Ins(kind, fv_name="t.port", pkt_offset=target, shift=str(n), mask="0xf0", is_big="false"))
        elif kind == "STLVmFixIpv4":
            model.append(Ins(kind, offset="IP"))
        elif kind == "STLVmTrimPktSize":
            model.append(Ins(kind, fv_name="a"))
        else:
            model.append(Ins(kind, l3_offset="IP", l4_offset="UDP", l4_type="11"))
    gp = {} if cache is None else {"cache_size": cache}
    first = compile_(model, gp)
    assert first["error"] is None
    back = field_engine.decompile(first["instructions"])
    again = compile_for(PKT, {"field_engine": back})
    assert again == first


# --------------------------------------------------------------------------- offsets (reference §6.4)


def offset_of(desc, pkt=PKT):
    result = compile_([Ins("STLVmFlowVar", name="a"), Ins("STLVmWrFlowVar", fv_name="a", pkt_offset=desc)], pkt=pkt)
    assert result["error"] is None, result["error"]
    return result["instructions"]["instructions"][1]["pkt_offset"]


def layer_of(desc, pkt=PKT):
    result = compile_([Ins("STLVmFixIpv4", offset=desc)], pkt=pkt)
    assert result["error"] is None, result["error"]
    return result["instructions"]["instructions"][0]["pkt_offset"]


REFERENCE_OFFSETS = {
    "Ether.dst": 0,
    "Ether.src": 6,
    "Ether.type": 12,
    "IP.version": 14,
    "IP.ihl": 14,
    "IP.tos": 15,
    "IP.len": 16,
    "IP.id": 18,
    "IP.flags": 20,
    "IP.frag": 20,
    "IP.ttl": 22,
    "IP.proto": 23,
    "IP.chksum": 24,
    "IP.src": 26,
    "IP.dst": 30,
    "IP.options": 34,
    "UDP.sport": 34,
    "UDP.dport": 36,
    "UDP.len": 38,
    "UDP.chksum": 40,
    "Raw.load": 42,
}


def test_reference_packet_field_offsets():
    assert {desc: offset_of(desc) for desc in REFERENCE_OFFSETS} == REFERENCE_OFFSETS


@pytest.mark.parametrize(
    "pkt, expected",
    [
        (
            Ether() / IP() / TCP(),
            {
                "TCP.sport": 34,
                "TCP.dport": 36,
                "TCP.seq": 38,
                "TCP.ack": 42,
                "TCP.dataofs": 46,
                "TCP.reserved": 46,
                "TCP.flags": 46,
                "TCP.window": 48,
                "TCP.chksum": 50,
                "TCP.urgptr": 52,
                "TCP.options": 54,
            },
        ),
        (
            Ether() / IPv6() / UDP(),
            {
                "IPv6.version": 14,
                "IPv6.tc": 14,
                "IPv6.fl": 15,
                "IPv6.plen": 18,
                "IPv6.nh": 20,
                "IPv6.hlim": 21,
                "IPv6.src": 22,
                "IPv6.dst": 38,
                "UDP.sport": 54,
            },
        ),
        (
            Ether() / ARP(),
            {
                "ARP.hwtype": 14,
                "ARP.ptype": 16,
                "ARP.hwlen": 18,
                "ARP.plen": 19,
                "ARP.op": 20,
                "ARP.hwsrc": 22,
                "ARP.psrc": 28,
                "ARP.hwdst": 32,
                "ARP.pdst": 38,
            },
        ),
        (Ether() / IP() / ICMP(), {"ICMP.type": 34, "ICMP.code": 35, "ICMP.chksum": 36, "ICMP.id": 38, "ICMP.seq": 40}),
        (
            Ether() / Dot1Q(vlan=5) / IP() / UDP(),
            {"Dot1Q.prio": 14, "Dot1Q.vlan": 14, "802|1Q.vlan": 14, "Dot1Q.type": 16, "IP.src": 30},
        ),
        (
            Ether() / Dot1Q() / Dot1Q() / IP() / UDP(),
            {"Dot1Q:0.vlan": 14, "Dot1Q:1.vlan": 18, "Dot1Q:1.type": 20, "IP.src": 34, "UDP.dport": 44},
        ),
        (Ether() / IP() / IP() / UDP(), {"IP:1.src": 46, "IP:0.dst": 30, "IP:1:2.src": 46}),
        (IP() / UDP(), {"IP.src": 12, "Ether.src": 6}),
    ],
    ids=["tcp", "ipv6", "arp", "icmp", "dot1q", "qinq", "ipip", "no-ether"],
)
def test_other_layouts_field_offsets(pkt, expected):
    assert {desc: offset_of(desc, pkt) for desc in expected} == expected


def test_layer_offsets_by_display_name():
    assert layer_of("IP", Ether() / Dot1Q() / IP() / UDP()) == 18
    assert layer_of("802.1Q", Ether() / Dot1Q() / IP() / UDP()) == 14
    assert layer_of("IP:1", Ether() / IP() / IP() / UDP()) == 34
    assert layer_of("IP", IP() / UDP()) == 0


def test_offsets_are_real_wire_positions_after_ip_option_padding():
    """Deliberate deviation: the reference said 37 here (before post-build padding); the frame says 38."""
    pkt = Ether() / IP(options=[IPOption_RR()]) / UDP(sport=0x1234, dport=0x5678)
    wire = bytes(pkt)
    assert offset_of("UDP.sport", pkt) == wire.index(b"\x12\x34\x56\x78") == 38


def test_padding_layer_is_not_offered_but_others_resolve():
    pkt = Ether(bytes(Ether() / IP() / UDP()) + b"\x00" * 10)
    assert offset_of("UDP.sport", pkt) == 34
    assert compile_([Ins("STLVmFixIpv4", offset="Padding")], pkt=pkt)["error"] == "no layer Padding-0"


# --------------------------------------------------------------------------- parameter choices (reference §9)

MODEL = [{"id": "Ether"}, {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}]}, {"id": "UDP"}, {"id": "Raw"}]


def choices(parameter_id, pkt=PKT, fe_model=None):
    return field_engine.parameter_values(pkt, fe_model or {}, parameter_id)["map"]


def test_pkt_offset_choices_for_the_reference_packet():
    assert set(choices("pkt_offset")) == set(REFERENCE_OFFSETS)
    assert all(k == v for k, v in choices("pkt_offset").items())


def test_pkt_offset_choices_index_repeated_layers_and_all_resolve():
    pkt = Ether() / Dot1Q() / Dot1Q() / IP() / UDP()
    got = choices("pkt_offset", pkt)
    assert {"Dot1Q:0.vlan", "Dot1Q:1.vlan", "Dot1Q:1.type", "IP.src"} <= set(got)
    assert "Dot1Q.vlan" not in got
    for desc in got:  # every suggestion is accepted back by the compiler
        offset_of(desc, pkt)


def test_name_offset_and_other_choices():
    assert {"IP_src", "Ether_dst", "Raw_load", "UDP_sport"} <= set(choices("name"))
    assert choices("offset", Ether() / IP() / IP() / UDP()) == {"IP:0": "IP:0", "IP:1": "IP:1"}
    assert choices("offset", Ether() / IPv6()) == {}
    assert choices("l3_offset") == {}


def test_fv_name_choices_list_defined_variables():
    fe_model = {
        "field_engine": {
            "instructions": [
                Ins("STLVmFlowVar", name="a"),
                Ins("STLVmFlowVarRepeatableRandom", name="r"),
                Ins("STLVmTupleGen", name="t"),
                Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.src"),
                "junk",
                Ins("STLVmFlowVar", name=None),
            ]
        }
    }
    assert choices("fv_name", fe_model=fe_model) == {"a": "a", "r": "r", "t.ip": "t.ip", "t.port": "t.port"}
    assert choices("fv_name", fe_model={"instructions": [Ins("STLVmFlowVar", name="x")]}) == {"x": "x"}
    assert choices("fv_name", fe_model=None) == {}


def test_service_parameter_values_from_a_model():
    got = service.load_instruction_parameter_values(MODEL, {}, "pkt_offset")["map"]
    assert "IP.src" in got and "Raw.load" in got


# --------------------------------------------------------------------------- metadata (reference §10)


def test_definitions_match_the_reference_catalogue():
    defs = field_engine.definitions()
    assert set(defs) == {"feInstructions", "feInstructionParameters", "feParameters", "feTemplates"}
    params = {i["id"]: i["parameters"] for i in defs["feInstructions"]}
    assert params == {
        "STLVmFlowVar": ["name", "init_value", "max_value", "min_value", "step", "size", "op", "value_list"],
        "STLVmWrFlowVar": ["fv_name", "pkt_offset", "offset_fixup", "add_val", "is_big"],
        "STLVmWrMaskFlowVar": ["fv_name", "pkt_offset", "pkt_cast_size", "mask", "shift", "add_value", "is_big"],
        "STLVmFixIpv4": ["offset"],
        "STLVmTrimPktSize": ["fv_name"],
        "STLVmTupleGen": ["name", "ip_min", "ip_max", "port_min", "port_max", "limit_flows", "flags"],
        "STLVmFlowVarRepeatableRandom": ["name", "size", "limit", "seed", "min_value", "max_value"],
        "STLVmFixChecksumHw": ["l3_offset", "l4_offset", "l4_type"],
        "STLVmFixIcmpv6": ["l3_offset", "l4_offset"],
    }
    meta = {m["id"]: m for m in defs["feInstructionParameters"]}
    assert len(defs["feInstructionParameters"]) == 29 and set(meta) >= {p for ps in params.values() for p in ps}
    assert meta["pkt_cast_size"]["dict"] == {"1": 1, "2": 2, "4": 4} and meta["seed"]["type"] == "String"
    assert meta["l4_type"]["dict"] == {"11": "L4_TYPE_UDP", "13": "L4_TYPE_TCP"}
    assert meta["value_list"] == {"id": "value_list", "name": "List", "type": "EXPRESSION", "defaultValue": "None"}
    assert defs["feParameters"] == [
        {"id": "cache_size", "name": "Cache size", "type": "NUMBER", "defaultValue": "1000"}
    ]
    assert [t["id"] for t in defs["feTemplates"]] == ["simple_flow_var", "rep_rand_var"]
    for instr in defs["feInstructions"]:
        text = base64.b64decode(instr["help"]).decode("utf-8")
        assert all(p in text for p in instr["parameters"]), instr["id"]


def test_every_catalogue_default_compiles():
    """The GUI fills parameters with their defaultValue: those must compile on a TCP packet."""
    defs = field_engine.definitions()
    meta = {m["id"]: m for m in defs["feInstructionParameters"]}
    pkt = Ether() / IP() / TCP()
    for instr in defs["feInstructions"]:
        if instr["id"] == "STLVmFixIcmpv6":
            continue  # its defaults (IP/TCP) name no IPv6 layer; checked with ICMPv6 in the examples
        params = {p: str(meta[p].get("defaultValue", "v")) for p in instr["parameters"]}
        for p in ("name", "fv_name"):
            if p in params:
                params[p] = "v"
        program = [Ins(instr["id"], **params)]
        if "fv_name" in params:
            program.insert(0, Ins("STLVmFlowVar", name="v"))
        result = compile_(program, {"cache_size": "1000"}, pkt)
        assert result["error"] is None, (instr["id"], result["error"])


# --------------------------------------------------------------------------- decompile edges


def test_decompile_keeps_init_value_flags_and_cache():
    program = {
        "instructions": [
            {
                "type": "flow_var",
                "name": "a",
                "size": 1,
                "op": "inc",
                "init_value": 5,
                "min_value": 1,
                "max_value": 9,
                "step": 2,
                "split_to_cores": True,
                "next_var": None,
            },
            {
                "type": "tuple_flow_var",
                "name": "t",
                "ip_min": 1,
                "ip_max": 2,
                "port_min": 1,
                "port_max": 2,
                "limit_flows": 5,
                "flags": 1,
            },
        ],
        "split_by_var": "",
        "cache": 7,
    }
    back = field_engine.decompile(program)
    assert back["global_parameters"] == {"cache_size": 7}
    assert back["instructions"][0]["parameters"]["init_value"] == 5
    assert back["instructions"][1]["parameters"]["flags"] == 1
    assert back["instructions"][1]["parameters"]["ip_min"] == "0.0.0.1"
    wrapped = field_engine.decompile({"vm": program})
    assert wrapped == back


def test_decompile_values_keep_their_json_types():
    """docs/api.md, "Field engine": numbers for offsets, sizes and values, booleans for flags, text for
    names and choices."""
    program = {
        "cache": 1000,
        "instructions": [
            {
                "type": "flow_var",
                "name": "a",
                "size": 4,
                "op": "dec",
                "init_value": 9,
                "min_value": 1,
                "max_value": 9,
                "step": 1,
                "split_to_cores": False,
                "next_var": "b",
            },
            {
                "type": "flow_var",
                "name": "b",
                "size": 2,
                "op": "inc",
                "value_list": [1, 5],
                "step": 1,
                "split_to_cores": True,
                "next_var": None,
            },
            {
                "type": "flow_var_rand_limit",
                "name": "r",
                "size": 1,
                "limit": 10,
                "seed": 3,
                "min_value": 0,
                "max_value": 200,
                "split_to_cores": True,
                "next_var": None,
            },
            {
                "type": "tuple_flow_var",
                "name": "t",
                "ip_min": 0x10000001,
                "ip_max": 0x100000FE,
                "port_min": 1025,
                "port_max": 2000,
                "limit_flows": 50,
                "flags": 0,
            },
            {"type": "write_flow_var", "name": "a", "pkt_offset": 26, "add_value": 1, "is_big_endian": True},
            {
                "type": "write_mask_flow_var",
                "name": "b",
                "pkt_offset": 18,
                "pkt_cast_size": 2,
                "mask": 0xFF00,
                "shift": 8,
                "add_value": 0,
                "is_big_endian": False,
            },
            {"type": "fix_checksum_ipv4", "pkt_offset": 14},
            {"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 20, "l4_type": 11},
            {"type": "fix_checksum_icmpv6", "l2_len": 14, "l3_len": 40},
            {"type": "trim_pkt_size", "name": "a"},
        ],
    }
    assert field_engine.decompile(program) == {
        "global_parameters": {"cache_size": 1000},
        "instructions": [
            {
                "id": "STLVmFlowVar",
                "parameters": {
                    "name": "a",
                    "init_value": 9,
                    "max_value": 9,
                    "min_value": 1,
                    "step": 1,
                    "size": 4,
                    "op": "dec",
                    "split_to_cores": False,
                    "next_var": "b",
                },
            },
            {
                "id": "STLVmFlowVar",
                "parameters": {"name": "b", "value_list": [1, 5], "step": 1, "size": 2, "op": "inc"},
            },
            {
                "id": "STLVmFlowVarRepeatableRandom",
                "parameters": {"name": "r", "size": 1, "limit": 10, "seed": 3, "min_value": 0, "max_value": 200},
            },
            {
                "id": "STLVmTupleGen",
                "parameters": {
                    "name": "t",
                    "ip_min": "16.0.0.1",
                    "ip_max": "16.0.0.254",
                    "port_min": 1025,
                    "port_max": 2000,
                    "limit_flows": 50,
                    "flags": 0,
                },
            },
            {
                "id": "STLVmWrFlowVar",
                "parameters": {"fv_name": "a", "pkt_offset": 26, "offset_fixup": 0, "add_val": 1, "is_big": True},
            },
            {
                "id": "STLVmWrMaskFlowVar",
                "parameters": {
                    "fv_name": "b",
                    "pkt_offset": 18,
                    "pkt_cast_size": 2,
                    "mask": 0xFF00,
                    "shift": 8,
                    "add_value": 0,
                    "is_big": False,
                },
            },
            {"id": "STLVmFixIpv4", "parameters": {"offset": 14}},
            {"id": "STLVmFixChecksumHw", "parameters": {"l3_offset": 14, "l4_offset": 34, "l4_type": 11}},
            {"id": "STLVmFixIcmpv6", "parameters": {"l3_offset": 14, "l4_offset": 54}},
            {"id": "STLVmTrimPktSize", "parameters": {"fv_name": "a"}},
        ],
    }


def test_build_pkt_ex_takes_decompiled_types_and_their_text_forms_alike():
    typed = [
        Ins(
            "STLVmFlowVar",
            name="a",
            size=2,
            min_value=1,
            max_value=100,
            init_value=7,
            step=3,
            op="inc",
            split_to_cores=False,
        ),
        Ins("STLVmWrMaskFlowVar", fv_name="a", pkt_offset=18, pkt_cast_size=2, mask=0xFF00, shift=8, is_big=False),
        Ins("STLVmFixIpv4", offset=14),
    ]
    text = [
        Ins(
            "STLVmFlowVar",
            name="a",
            size="2",
            min_value="1",
            max_value="100",
            init_value="7",
            step="3",
            op="inc",
            split_to_cores="false",
        ),
        Ins(
            "STLVmWrMaskFlowVar",
            fv_name="a",
            pkt_offset="18",
            pkt_cast_size="2",
            mask="0xff00",
            shift="8",
            is_big="false",
        ),
        Ins("STLVmFixIpv4", offset="14"),
    ]
    assert compile_(typed, {"cache_size": 10}) == compile_(text, {"cache_size": "10"})
    assert compile_(typed)["error"] is None


@pytest.mark.parametrize(
    "bad, message",
    [
        ([], "vm program must be an object with an 'instructions' list"),
        ({"instructions": [{"type": "nope"}]}, "vm instruction 1: unknown type 'nope'"),
        ({"instructions": [{}]}, "vm instruction 1 must be an object with a string 'type'"),
        ({"instructions": [{"type": "flow_var", "name": "a"}]}, "vm instruction 1 (flow_var): missing 'init_value'"),
        (
            {"instructions": [{"type": "fix_checksum_ipv4", "pkt_offset": "14"}]},
            "vm instruction 1 (fix_checksum_ipv4): 'pkt_offset' must be an integer",
        ),
        ({"instructions": [], "cache": "x"}, "vm program: 'cache' must be an integer"),
    ],
)
def test_decompile_rejects_malformed_programs(bad, message):
    with pytest.raises(ServiceError) as info:
        field_engine.decompile(bad)
    assert str(info.value) == message


def test_decompile_of_unseeded_repeatable_random_keeps_the_drawn_seed():
    first = compile_([Ins("STLVmFlowVarRepeatableRandom", name="rr")])
    back = field_engine.decompile(first["instructions"])
    assert compile_for(PKT, {"field_engine": back}) == first


# --------------------------------------------------------------------------- EXPRESSION safety


@pytest.mark.parametrize(
    "text, value",
    [
        ("[1, 2, 3]", [1, 2, 3]),
        ("10*2", 20),
        ("None", None),
        ("range(3)", [0, 1, 2]),
        ("(1, 2)", [1, 2]),
        ("list(range(0, 10, 5))", [0, 5]),
        ("[0] * 3", [0, 0, 0]),
        ("-5", -5),
        ("1 << 8", 256),
        ("2**8", 256),
    ],
)
def test_expression_values(text, value):
    assert arithmetic.evaluate(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "9**9**9",
        "1 << 100000",
        "[0] * 10**9",
        "range(10**9)",
        "open('x')",
        "().__class__",
        "lambda: 1",
        "[x for x in range(3)]",
        "1/0",
        "5 // 0",
        "'a' * 10",
        "x" * 200_000,
    ],
)
def test_expressions_outside_the_grammar_or_bounds_are_refused(text):
    with pytest.raises(FEError):
        arithmetic.evaluate(text)


# --------------------------------------------------------------------------- the service method, in process

REF_MODEL = [
    {"id": "Ether"},
    {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}, {"id": "dst", "value": "48.0.0.1"}]},
    {"id": "UDP"},
    {"id": "Raw", "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": "eHh4eHh4eHh4eA=="}}]},
]


def test_service_build_pkt_ex_reports_errors_and_still_builds():
    good = service.build_pkt_ex(
        REF_MODEL, {"field_engine": {"instructions": [Ins("STLVmFixIpv4", offset="IP")], "global_parameters": {}}}
    )
    bad = service.build_pkt_ex(
        REF_MODEL,
        {"field_engine": {"instructions": [Ins("STLVmFlowVar", name="a", min_value="abc")], "global_parameters": {}}},
    )
    assert good["field_engine"]["instructions"] == {"instructions": [{"type": "fix_checksum_ipv4", "pkt_offset": 14}]}
    assert bad["field_engine"] == {
        "instructions": {"instructions": []},
        "error": "Not valid IPv4 format: abc",
        "vm_instructions_expressions": [],
        "warnings": [],
        "error_detail": {"instruction": 0, "message": "Not valid IPv4 format: abc"},
    }
    assert bad["binary"] == good["binary"] and base64.b64decode(bad["binary"]).endswith(b"x" * 10)


def test_service_offsets_agree_with_the_packet_result():
    """The FE's field offsets and the packet result's (dissect) offsets describe the same frame."""
    result = service.build_pkt(REF_MODEL)
    for layer in result["data"]:
        for fld in layer["fields"]:
            if fld.get("ignored") or fld["id"] == "options":
                continue
            assert offset_of(f"{layer['id']}.{fld['id']}") == layer["offset"] + fld["offset"], fld["id"]


def test_service_decompile_vm_raw():
    built = service.build_pkt_ex(
        REF_MODEL,
        {
            "field_engine": {
                "instructions": [
                    Ins("STLVmFlowVar", name="a"),
                    Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.ttl"),
                ],
                "global_parameters": {"cache_size": "5"},
            }
        },
    )
    back = service.decompile_vm_raw(built["binary"], built["field_engine"]["instructions"])
    again = service.build_pkt_ex(REF_MODEL, {"field_engine": back})
    assert again["field_engine"] == built["field_engine"]
