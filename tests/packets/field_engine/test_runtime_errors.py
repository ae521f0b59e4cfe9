"""simulate_vm refusals: every bad input is a ServiceError (-32098) that says what and where, and
whatever TRex refuses (or would run past the packet) is refused. In process; test_simulate_wire.py
sends a selection over the wire."""

from __future__ import annotations

import base64

import pytest
from fe_runtime import FIX_IPV4, PKT, list_var, rand_limit, tuple_var, var, write, write_mask

from scapyrpc.packets import limits, service
from scapyrpc.packets.errors import ServiceError

B64 = base64.b64encode(PKT).decode()


def refused(instructions, options=None, packet=B64, program=None) -> str:
    with pytest.raises(ServiceError) as info:
        service.simulate_vm(packet, program if program is not None else {"instructions": instructions}, options)
    return str(info.value)


def test_a_write_outside_the_packet_names_instruction_packet_and_offset():
    assert refused([var("v", size=4), write("v", 58)]) == (
        "instructions[1] (write_flow_var): writes 4 bytes at offset 58, past the end of the 60-byte packet "
        "(packet 0, offset 58)"
    )


def test_an_unknown_variable_names_instruction_packet_and_offset():
    assert refused([var("v"), write("nope", 26)]) == (
        "instructions[1] (write_flow_var): no variable named 'nope' (packet 0, offset 26)"
    )
    assert refused([var("v"), write_mask("w", 12)]).startswith("instructions[1] (write_mask_flow_var): no variable")
    assert "no variable named 'n'" in refused([var("v"), {"type": "trim_pkt_size", "name": "n"}])


def test_a_header_length_grown_past_the_packet_is_caught_at_its_packet():
    """The IPv4 fix reads IHL × 4 bytes of each packet; the IHL written here reaches 12 (48 bytes from
    offset 14: past 60) at packet 7. On two cores that is core 1's fourth packet, and core 0 fails one
    packet later: the first in the merged order is named."""
    assert refused([var("v", 0x45, 0x4F), write("v", 14), FIX_IPV4], {"count": 16}) == (
        "instructions[2] (fix_checksum_ipv4): its IPv4 header of 48 bytes (IHL) runs past the 60-byte packet "
        "(packet 7, offset 14)"
    )
    message = refused([var("v", 0x45, 0x4F), write("v", 14), FIX_IPV4], {"count": 16, "cores": 2})
    assert message.endswith("(packet 7, offset 14)")


@pytest.mark.parametrize(
    "program, message",
    [
        ({"instructions": [{"type": "flow_vars"}]}, "instructions[0]: unknown type 'flow_vars'"),
        ({"instructions": [17]}, "instructions[0] must be an object with a string 'type'"),
        ({"instructions": "no"}, "vm_program must be an object with an 'instructions' list"),
        ([], "vm_program must be an object with an 'instructions' list"),
        ({"instructions": [], "cache": -1}, "vm_program: 'cache' must be an integer from 0 to 65535, got -1"),
        ({"instructions": [], "split_by_var": 5}, "vm_program: 'split_by_var' must be a string, got 5"),
        (
            {"instructions": [write("v", -1)]},
            "instructions[0] (write_flow_var): 'pkt_offset' must be an integer from 0 to 65535, got -1",
        ),
        (
            {"instructions": [dict(var("v"), size=3)]},
            "instructions[0] (flow_var): 'size' must be one of 1, 2, 4, 8, got 3",
        ),
        ({"instructions": [dict(var("v"), size="4")]}, "'size' must be one of 1, 2, 4, 8, got '4'"),
        ({"instructions": [dict(var("v"), op="up")]}, "'op' must be one of inc, dec, random, got 'up'"),
        ({"instructions": [dict(var("v"), step=True)]}, "'step' must be an integer from 0 to 18446744073709551615"),
        ({"instructions": [dict(var("v"), step=1.0)]}, "'step' must be an integer"),
        ({"instructions": [{k: v for k, v in var("v").items() if k != "min_value"}]}, "'min_value' is missing"),
        ({"instructions": [dict(var("v"), max_value=None)]}, "'max_value' is null"),
        ({"instructions": [dict(write("v", 1), add_value=2**31)]}, "'add_value' must be an integer from -2147483648"),
        ({"instructions": [dict(write("v", 1), is_big_endian=1)]}, "'is_big_endian' must be true or false, got 1"),
        ({"instructions": [var("v", 5, 4)]}, "max_value 4 is smaller than min_value 5"),
        ({"instructions": [var("v", 0, 9, init_value=10)]}, "init_value 10 is not between min_value 0 and max_value 9"),
        ({"instructions": [var("v", 0, 256)]}, "max_value 256 does not fit the variable's 1 bytes"),
        ({"instructions": [var("v", step=0)]}, "step cannot be 0"),
        ({"instructions": [var("v", 0, 2**64 - 1, size=8)]}, "covers all 2^64 values"),
        ({"instructions": [list_var("v", [])]}, "step 1 is bigger than the value_list's 0 values"),
        ({"instructions": [list_var("v", [1, "2"])]}, "'value_list' must be a list of integers"),
        ({"instructions": [rand_limit("r", limit=0)]}, "limit cannot be 0"),
        ({"instructions": [rand_limit("r", size=1, limit=256, max_value=255)]}, "limit 256 is bigger than TRex allows"),
        ({"instructions": [tuple_var("t", 2, 1)]}, "ip_min 2 is bigger than ip_max 1"),
        ({"instructions": [write_mask("v", 1, cast=3)]}, "pkt_cast_size must be 1, 2 or 4, got 3"),
    ],
)
def test_bad_programs(program, message):
    assert message in refused(None, program=program)


@pytest.mark.parametrize(
    "instructions, message",
    [
        ([var("v"), var("v")], "instructions[1] (flow_var): variable 'v' is defined twice"),
        ([var(f"v{i}", size=8, max_value=1) for i in range(9)], "the variables take 72 bytes; TRex keeps at most 64"),
        ([var("a", next_var="b")], "instructions[0] (flow_var): the last instruction has a next_var"),
        ([var("a", next_var="b"), var("c"), var("b")], "next_var 'b' is not the next instruction's variable 'c'"),
        (
            [var("a", next_var="b"), var("b")],
            "instructions[1] (flow_var): a variable pointed at by next_var must run on one core",
        ),
        ([var("a", next_var="b"), FIX_IPV4], "next_var 'b' must be the next instruction, a variable"),
        ([write("v", 1)], "no variable named 'v'"),
        ([tuple_var("t", 1, 2), write("t.ip", 59)], "writes 4 bytes at offset 59"),
        ([var("v", 1, 2), write("v", 513)], "instructions[1] (write_flow_var): writes 1 bytes at offset 513, past"),
        ([var("v", size=1), {"type": "trim_pkt_size", "name": "v"}], "must have 2 bytes, not 1"),
        ([rand_limit("r"), {"type": "trim_pkt_size", "name": "r"}], "must be a flow_var"),
        ([list_var("v", [59, 60], size=2), {"type": "trim_pkt_size", "name": "v"}], "packet size 59 in the value_list"),
        ([var("v", 61, 100, size=2), {"type": "trim_pkt_size", "name": "v"}], "smallest packet size 60 is not below"),
        ([{"type": "fix_checksum_ipv4", "pkt_offset": 50}], "checks an IPv4 header of 20 bytes at offset 50"),
        ([{"type": "fix_checksum_hw", "l2_len": 13, "l3_len": 20, "l4_type": 11}], "l2_len 13 is lower than 14"),
        (
            [{"type": "fix_checksum_hw", "l2_len": 14, "l3_len": 24, "l4_type": 11}],
            "l3_len 24 is not the IPv4 header's",
        ),
        ([{"type": "fix_checksum_hw", "l2_len": 12, "l3_len": 20, "l4_type": 17}], "l2_len 12 is lower than 14"),
        ([{"type": "fix_checksum_hw", "l2_len": 16, "l3_len": 20, "l4_type": 11}], "IP version 0 at l2_len"),
        ([{"type": "fix_checksum_icmpv6", "l2_len": 14, "l3_len": 40}], "works only on IPv6"),
    ],
)
def test_programs_trex_refuses(instructions, message):
    assert message in refused(instructions)


def test_more_than_512_touched_bytes():
    """vm.cpp:1426: a program may change the packet only in its first 512 bytes."""
    big = base64.b64encode(PKT + bytes(600)).decode()
    assert refused([var("v"), write("v", 512)], packet=big) == (
        "instructions[1] (write_flow_var): changes the packet up to offset 513; TRex changes only its first "
        "512 bytes (packet 0, offset 513)"
    )
    service.simulate_vm(big, {"instructions": [var("v"), write("v", 511)]}, None)


def test_a_tuple_cannot_limit_flows_below_the_cores():
    """trex_stl_rpc_cmds.cpp:690."""
    assert "limit_flows 1 is less than the 2 cores" in refused([tuple_var("t", 1, 2, limit_flows=1)], {"cores": 2})


@pytest.mark.parametrize(
    "options, message",
    [
        ("x", "options must be an object"),
        ({"counts": 1}, "unknown option 'counts'"),
        ({"count": 0}, "count must be an integer from 1 to 100000, got '0'"),
        ({"count": 100001}, "count must be an integer from 1 to 100000"),
        ({"count": "16"}, "count must be an integer"),
        ({"cores": 0}, "cores must be an integer from 1 to 255"),
        ({"count": 2, "cores": 3}, "count 2 is less than cores 3"),
        ({"random_seed": -1}, "random_seed must be an integer from 0 to 4294967295"),
        ({"random_seed": 2**32}, "random_seed must be an integer from 0 to 4294967295"),
        ({"format": "pcapng"}, "format must be 'packets' or 'pcap'"),
        ({"format": ["pcap"]}, "format must be 'packets' or 'pcap'"),
        ({"hw_checksum": "hw"}, "hw_checksum must be 'simulator' or 'nic'"),
    ],
)
def test_bad_options(options, message):
    assert message in refused([], options)


@pytest.mark.parametrize(
    "packet, message",
    [
        ("!!", "packet is not valid base64"),
        (7, "packet must be base64 text, got int"),
        (base64.b64encode(bytes(13)).decode(), "the packet has 13 bytes; TRex takes 14 to 9238"),
        (base64.b64encode(bytes(9239)).decode(), "the packet has 9239 bytes; TRex takes 14 to 9238"),
    ],
)
def test_bad_packets(packet, message):
    assert message in refused([], packet=packet)


def test_the_cache_is_split_only_up_to_10000():
    """trex_stl_vm_splitter.cpp:48: on several cores a cache over 10000 is refused."""
    program = {"instructions": [var("v")], "cache": 10001}
    service.simulate_vm(B64, program, {"count": 2})
    assert "cache 10001 is too big to split" in refused(None, {"count": 2, "cores": 2}, program=program)


def test_the_packets_must_fit_the_pcap_limit(monkeypatch):
    """count × packet size is bounded by --max-pcap-bytes (as a pcap: 24 + count × (16 + size))."""
    monkeypatch.setattr(limits, "_current", limits.Limits(max_pcap_bytes=24 + 10 * (16 + 60)))
    assert len(service.simulate_vm(B64, {"instructions": []}, {"count": 10})["packets"]) == 10
    assert refused([], {"count": 11}) == (
        "11 packets of 60 bytes make a pcap of 860 bytes, more than the limit "
        "of 784 bytes (--max-pcap-bytes): ask for fewer packets"
    )


def test_count_at_the_limit_passes_and_one_more_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "_current", limits.Limits(max_simulated_packets=20))
    assert len(service.simulate_vm(B64, {"instructions": [var("v")]}, {"count": 20})["packets"]) == 20
    assert "count must be an integer from 1 to 20, got '21'" in refused([var("v")], {"count": 21})


def test_the_work_is_bounded():
    """packets computed × instructions: 100 000 packets of 21 instructions is refused; with a cache
    only the cache's packets are computed."""
    program = [var("v"), *[write("v", 42) for _ in range(20)]]
    assert refused(program, {"count": 100000}) == (
        "the program would run 2100000 instructions (21 per packet), more than 2000000 in one request: "
        "ask for fewer packets or use a cache"
    )
    result = service.simulate_vm(B64, {"instructions": program, "cache": 100}, {"count": 100000})
    assert len(result["packets"]) == 100000


def test_a_packet_size_past_the_packet_is_refused_at_its_packet():
    """vm.cpp:584 clamps the range, not init_value: a dec variable starting at 9000 would have TRex
    send 9000 bytes of a 142-byte packet (trex_stl_dp_core.cpp:673)."""
    packet = base64.b64encode(PKT + b"x" * 82).decode()
    program = [var("len", 60, 9000, size=2, op="dec"), {"type": "trim_pkt_size", "name": "len"}]
    assert refused(program, packet=packet) == (
        "instructions[1] (trim_pkt_size): the packet-size variable is 9000, longer than the 142-byte packet "
        "(TRex would send memory past it) (packet 0, offset 142)"
    )


def test_an_icmpv6_payload_length_past_the_packet_is_refused_at_its_packet():
    from test_runtime_packet import FIX_ICMPV6, icmpv6_packet

    packet = base64.b64encode(icmpv6_packet(b"abcd")).decode()  # payload length 12 at offset 18
    program = [var("plen", 12, 20, size=2), write("plen", 18), FIX_ICMPV6]
    assert refused(program, packet=packet) == (
        "instructions[2] (fix_checksum_icmpv6): the IPv6 payload length 13 makes it read past the 66-byte packet "
        "(TRex would sum whatever memory follows) (packet 1, offset 54)"
    )
