"""simulate_vm over the wire: a real server, GUI-shaped calls (handler first), its bounds and refusals."""

from __future__ import annotations

import base64
import io
import os

import pytest
from fe_runtime import FIX_IPV4, IP_SRC, PKT, var, write
from scapy.utils import RawPcapReader

from conftest import ScapyRpcError, ServerProcess

B64 = base64.b64encode(PKT).decode()
PROGRAM = {"instructions": [var("src", 0x10000001, 0x100000FE, size=4), write("src", IP_SRC), FIX_IPV4]}


def decoded(result: dict) -> list[bytes]:
    return [base64.b64decode(p) for p in result["packets"]]


def test_packets_by_default(rpc):
    result = rpc("simulate_vm", B64, PROGRAM, {})
    pkts = decoded(result)
    assert len(pkts) == 16 and result["random_seed"] == 0 and "note" not in result
    assert [int.from_bytes(p[IP_SRC : IP_SRC + 4], "big") for p in pkts] == list(range(0x10000001, 0x10000011))
    assert rpc("simulate_vm", B64, PROGRAM) == result  # options may be left out


def test_the_method_is_listed_with_its_parameters(client):
    assert client.request("supported_methods", ["all"])["simulate_vm"] == [3, ["packet_b64", "vm_program", "options"]]


def test_a_pcap_of_ethernet_packets_one_second_apart(rpc):
    result = rpc("simulate_vm", B64, PROGRAM, {"format": "pcap", "count": 5})
    reader = RawPcapReader(io.BytesIO(base64.b64decode(result["pcap"])))
    assert reader.linktype == 1
    records = list(reader)
    assert [meta.sec for _, meta in records] == [0, 1, 2, 3, 4]
    assert [data for data, _ in records] == decoded(rpc("simulate_vm", B64, PROGRAM, {"count": 5}))
    assert rpc("read_pcap", result["pcap"])[4]["time"] == "4.000000"


def test_a_zero_seed_draws_one_and_says_so(rpc):
    program = {"instructions": [var("r", 0, 0xFFFF, size=2, op="random"), write("r", 34)]}
    first = rpc("simulate_vm", B64, program, {"count": 8})
    assert first["random_seed"] != 0 and "random_seed 0" in first["note"]
    again = rpc("simulate_vm", B64, program, {"count": 8, "random_seed": first["random_seed"]})
    assert again["packets"] == first["packets"] and "note" not in again


def test_several_cores_and_nic_checksums(rpc):
    result = rpc("simulate_vm", B64, PROGRAM, {"count": 6, "cores": 2, "hw_checksum": "nic"})
    assert [int.from_bytes(p[IP_SRC : IP_SRC + 4], "big") for p in decoded(result)] == list(
        range(0x10000001, 0x10000007)
    )


def test_a_count_at_the_limit_passes_and_one_more_is_refused(rpc):
    assert len(rpc("simulate_vm", B64, PROGRAM, {"count": 100000})["packets"]) == 100000
    with pytest.raises(ScapyRpcError) as info:
        rpc("simulate_vm", B64, PROGRAM, {"count": 100001})
    assert info.value.code == -32098
    assert info.value.message == "Scapy Server: options: count must be an integer from 1 to 100000, got '100001'"


@pytest.mark.parametrize(
    "params, message",
    [
        (
            [B64, {"instructions": [var("v"), write("nope", 26)]}, {}],
            "instructions[1] (write_flow_var): no variable named 'nope' (packet 0, offset 26)",
        ),
        (
            [B64, {"instructions": [var("v", size=4), write("v", 58)]}, {}],
            "instructions[1] (write_flow_var): writes 4 bytes at offset 58, past the end of the 60-byte packet "
            "(packet 0, offset 58)",
        ),
        ([B64, {"instructions": [{"type": "nope"}]}, {}], "instructions[0]: unknown type 'nope'"),
        ([B64, {"instructions": [dict(var("v"), size=-4)]}, {}], "'size' must be one of 1, 2, 4, 8, got -4"),
        ([B64, {"instructions": [write("v", -26)]}, {}], "'pkt_offset' must be an integer from 0 to 65535, got -26"),
        ([B64, {"instructions": [dict(var("v"), min_value="16.0.0.1")]}, {}], "'min_value' must be an integer"),
        ([B64, PROGRAM, {"format": "json"}], "options: format must be 'packets' or 'pcap'"),
        ([B64, PROGRAM, []], "options must be an object"),
        ([B64, None, {}], "vm_program must be an object with an 'instructions' list"),
        (["not base64!", PROGRAM, {}], "packet is not valid base64"),
        ([{"binary": B64}, PROGRAM, {}], "packet must be base64 text, got dict"),
    ],
)
def test_bad_inputs_are_scapy_server_errors(rpc, params, message):
    with pytest.raises(ScapyRpcError) as info:
        rpc("simulate_vm", *params)
    assert info.value.code == -32098
    assert message in info.value.message


def test_the_limits_are_settings():
    """--max-simulated-packets and --max-pcap-bytes bound simulate_vm (and SCAPYRPC_* variables set them)."""
    pcap_of_30 = 24 + 30 * (16 + 60)
    server = ServerProcess(
        "--max-simulated-packets", "40", workers=1, env=dict(os.environ, SCAPYRPC_MAX_PCAP_BYTES=str(pcap_of_30))
    )
    try:
        with server.client() as client:
            assert len(client.call("simulate_vm", B64, PROGRAM, {"count": 30})["packets"]) == 30
            for count, message in (
                (
                    31,
                    "31 packets of 60 bytes make a pcap of 2380 bytes, more than the limit "
                    "of 2304 bytes (--max-pcap-bytes)",
                ),
                (41, "count must be an integer from 1 to 40"),
            ):
                with pytest.raises(ScapyRpcError) as info:
                    client.call("simulate_vm", B64, PROGRAM, {"count": count})
                assert info.value.code == -32098 and message in info.value.message
    finally:
        server.stop()
