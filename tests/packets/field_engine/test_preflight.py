"""Pre-flight warnings in build_pkt_ex's field_engine: each mistake TRex would only find on a port (or
never report) is named with its instruction and the field it touches, and a correct program gets none."""

from __future__ import annotations

import base64

import pytest
from test_field_engine_examples import Ins

from scapyrpc.packets import service

from conftest import CAPTURES

UDP_PACKET = [
    {"id": "Ether"},
    {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}, {"id": "dst", "value": "48.0.0.1"}]},
    {"id": "UDP"},
    {"id": "Raw", "fields": [{"id": "load", "value": "xxxxxxxxxx"}]},
]
TCP_PACKET = [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}, {"id": "Raw", "fields": [{"id": "load", "value": "hello"}]}]
GOOD_IP_SRC = [
    Ins("STLVmFlowVar", name="src", size="4", min_value="16.0.0.1", max_value="16.0.0.254"),
    Ins("STLVmWrFlowVar", fv_name="src", pkt_offset="IP.src"),
    Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="UDP", l4_type="11"),
]


def warnings_for(model: list, instructions: list, cache: str | None = None) -> list[dict]:
    options = {"instructions": instructions, "global_parameters": {"cache_size": cache} if cache else {}}
    result = service.build_pkt_ex(model, {"field_engine": options})
    assert result["field_engine"]["error"] is None, result["field_engine"]["error"]
    return result["field_engine"]["warnings"]


def messages(warnings: list[dict]) -> list[tuple[int, str]]:
    return [(w["instruction"], w["message"]) for w in warnings]


def test_a_correct_program_has_no_warning() -> None:
    assert warnings_for(UDP_PACKET, GOOD_IP_SRC) == []
    tcp_sport = [
        Ins("STLVmFlowVar", name="sport", size="2", min_value="1025", max_value="65000"),
        Ins("STLVmWrFlowVar", fv_name="sport", pkt_offset="TCP.sport"),
        Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="TCP", l4_type="13"),
    ]
    assert warnings_for(TCP_PACKET, tcp_sport) == []


def test_a_write_wider_than_its_field_names_the_field_it_overwrites() -> None:
    """The desktop editor's old "Simple variable" on TCP sport: a 4-byte variable at offset 34."""
    program = [
        Ins("STLVmFlowVar", name="v", size="4", min_value="0", max_value="255"),
        Ins("STLVmWrFlowVar", fv_name="v", pkt_offset="TCP.sport"),
        Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="TCP", l4_type="13"),
    ]
    assert messages(warnings_for(TCP_PACKET, program)) == [
        (1, "writes 4 bytes at TCP.sport (2 bytes): it overwrites TCP.dport too")
    ]


def test_a_write_past_the_end_of_the_packet_or_of_its_trimmed_length() -> None:
    past = [
        Ins("STLVmFlowVar", name="v", size="4", min_value="0", max_value="255"),
        Ins("STLVmWrFlowVar", fv_name="v", pkt_offset="100"),
    ]
    assert messages(warnings_for(UDP_PACKET, past)) == [
        (1, "writes bytes 100..103 of a 60-byte packet: past its end (TRex refuses the stream)")
    ]
    trimmed = [
        Ins("STLVmFlowVar", name="size", size="2", min_value="60", max_value="200", op="inc"),
        Ins("STLVmTrimPktSize", fv_name="size"),
        Ins("STLVmFlowVar", name="v", size="4", min_value="0", max_value="255"),
        Ins("STLVmWrFlowVar", fv_name="v", pkt_offset="150"),
    ]
    model = [
        {"id": "Ether"},
        {"id": "IP"},
        {"id": "UDP", "fields": [{"id": "chksum", "value": "0"}]},
        {"id": "Raw", "fields": [{"id": "load", "value": "x" * 200}]},
    ]
    assert messages(warnings_for(model, trimmed)) == [
        (3, "writes bytes 150..153, past the end of the packet once trimmed to 60 bytes")
    ]


def test_a_trim_range_outside_the_packet() -> None:
    program = [
        Ins("STLVmFlowVar", name="size", size="2", min_value="40", max_value="2000", op="inc"),
        Ins("STLVmTrimPktSize", fv_name="size"),
    ]
    assert messages(warnings_for(UDP_PACKET, program)) == [
        (1, "trims to size (40..2000 bytes), outside 60..60: the packet is 60 bytes and TRex sends no frame under 60")
    ]


def test_an_ipv4_header_written_without_a_checksum_fix() -> None:
    program = [
        Ins("STLVmFlowVar", name="ttl", size="1", min_value="1", max_value="64"),
        Ins("STLVmWrFlowVar", fv_name="ttl", pkt_offset="IP.ttl"),
    ]
    assert messages(warnings_for(UDP_PACKET, program)) == [
        (
            1,
            "writes into the IPv4 header (IP.ttl) with no STLVmFixIpv4 or STLVmFixChecksumHw for it: its "
            "checksum will be wrong",
        )
    ]
    assert warnings_for(UDP_PACKET, [*program, Ins("STLVmFixIpv4", offset="IP")]) == []


def test_a_fix_before_the_write_does_not_count() -> None:
    program = [
        Ins("STLVmFlowVar", name="ttl", size="1", min_value="1", max_value="64"),
        Ins("STLVmFixIpv4", offset="IP"),
        Ins("STLVmWrFlowVar", fv_name="ttl", pkt_offset="IP.ttl"),
    ]
    assert [i for i, _ in messages(warnings_for(UDP_PACKET, program))] == [2]


def test_what_a_udp_or_tcp_checksum_covers_written_without_an_l4_fix() -> None:
    """The IPv4 source is in the UDP checksum's pseudo-header: an IPv4 fix alone leaves UDP wrong."""
    program = [*GOOD_IP_SRC[:2], Ins("STLVmFixIpv4", offset="IP")]
    assert messages(warnings_for(UDP_PACKET, program)) == [
        (
            1,
            "changes what the UDP checksum covers (IP.src) with no STLVmFixChecksumHw for it: its checksum "
            "will be wrong",
        )
    ]
    no_checksum = [
        UDP_PACKET[0],
        UDP_PACKET[1],
        {"id": "UDP", "fields": [{"id": "chksum", "value": "0"}]},
        UDP_PACKET[3],
    ]
    assert warnings_for(no_checksum, program) == []  # a UDP datagram sent without a checksum needs none


def test_a_variable_that_never_changes() -> None:
    program = [
        Ins("STLVmFlowVar", name="v", size="1", min_value="7", max_value="7", init_value="7"),
        Ins("STLVmFlowVar", name="w", size="1", value_list=[5, 5]),
        Ins("STLVmWrFlowVar", fv_name="v", pkt_offset="IP.tos"),
        Ins("STLVmWrFlowVar", fv_name="w", pkt_offset="IP.ttl"),
        Ins("STLVmFixIpv4", offset="IP"),
    ]
    assert messages(warnings_for(UDP_PACKET, program)) == [
        (0, "variable v never changes: its minimum and maximum are both 7"),
        (1, "variable w never changes: its value list holds one value"),
    ]


def test_no_warnings_after_an_error() -> None:
    result = service.build_pkt_ex(
        UDP_PACKET, {"field_engine": {"instructions": [Ins("STLVmFoo")], "global_parameters": {}}}
    )
    assert result["field_engine"]["error"] and result["field_engine"]["warnings"] == []


@pytest.mark.parametrize("index", [0, 5, 12])
def test_real_tcp_packets_with_timestamps(index: int) -> None:
    """Packets of the real-traffic corpus: a port variable with its checksum fix draws no warning;
    without the fix, the TCP checksum is named."""
    result = service.read_pcap(base64.b64encode((CAPTURES / "tcp_http_v4.pcap").read_bytes()).decode())
    tcp = [r for r in result if [layer["id"] for layer in r["data"]][:3] == ["Ether", "IP", "TCP"]][index]
    model = [
        {
            "id": layer["id"],
            "fields": [{"id": f["id"], "value": f["value"]} for f in layer["fields"] if not f.get("ignored")],
        }
        for layer in tcp["data"]
    ]
    program = [
        Ins("STLVmFlowVar", name="sport", size="2", min_value="1025", max_value="65000"),
        Ins("STLVmWrFlowVar", fv_name="sport", pkt_offset="TCP.sport"),
    ]
    assert messages(warnings_for(model, program)) == [
        (
            1,
            "changes what the TCP checksum covers (TCP.sport) with no STLVmFixChecksumHw for it: its "
            "checksum will be wrong",
        )
    ]
    fixed = [*program, Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="TCP", l4_type="13")]
    assert warnings_for(model, fixed) == []
