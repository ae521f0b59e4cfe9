"""Field Engine over the wire: a real server, GUI-shaped calls (handler first)."""

from __future__ import annotations

import base64

import pytest
from test_field_engine_examples import EXAMPLES, Ins
from test_field_engine_props import REF_MODEL

from conftest import ScapyRpcError


def reference_part(field_engine: dict) -> dict:
    """A field_engine object as the reference server answered it (its pre-flight warnings set apart)."""
    out = dict(field_engine)
    assert isinstance(out.pop("warnings"), list)
    assert (out.pop("error_detail") is None) == (out["error"] is None)
    return out


def test_worked_examples_over_the_wire(rpc):
    for case_id, instructions, gp, expected in EXAMPLES:
        result = rpc(
            "build_pkt_ex", REF_MODEL, {"field_engine": {"instructions": instructions, "global_parameters": gp}}
        )
        assert reference_part(result["field_engine"]) == expected, case_id
        assert base64.b64decode(result["binary"]).endswith(b"x" * 10)


@pytest.mark.parametrize(
    "fe_request, message",
    [
        ({"instructions": [Ins("STLVmFoo")], "global_parameters": {}}, "unknown instruction 'STLVmFoo'"),
        (
            {"instructions": [Ins("STLVmFlowVar", name="a", min_value="abc")], "global_parameters": {}},
            "Not valid IPv4 format: abc",
        ),
        (
            {"instructions": [Ins("STLVmFlowVar", name="a", min_value="-1")], "global_parameters": {}},
            "init_value (-1) is negative",
        ),
        (
            {"instructions": [Ins("STLVmFlowVar", name="a", size=4.5)], "global_parameters": {}},
            "STLVmFlowVar: parameter 'size' must be text, an integer or a boolean, got the number 4.5",
        ),
        (
            {"instructions": [Ins("STLVmFlowVar", name="a")], "global_parameters": {"cache_size": "abc"}},
            "Cache size must be a number",
        ),
        ({"instructions": [Ins("STLVmFlowVar", name="a")]}, "field_engine.global_parameters is missing"),
    ],
)
def test_input_problems_never_fail_the_call(rpc, fe_request, message):
    result = rpc("build_pkt_ex", REF_MODEL, {"field_engine": fe_request})
    about_the_program = "global_parameters" in message or "Cache size" in message
    assert result["field_engine"] == {
        "instructions": {"instructions": []},
        "error": message,
        "vm_instructions_expressions": [],
        "warnings": [],
        "error_detail": {"instruction": None if about_the_program else 0, "message": message},
    }
    assert result["binary"] and [layer["id"] for layer in result["data"]] == ["Ether", "IP", "UDP", "Raw"]


def test_64_bit_values_cross_the_wire_intact(rpc):
    result = rpc(
        "build_pkt_ex",
        REF_MODEL,
        {
            "field_engine": {
                "instructions": [
                    Ins("STLVmFlowVar", name="a", size="8", min_value="0", max_value="0xffffffffffffffff")
                ],
                "global_parameters": {},
            }
        },
    )
    assert result["field_engine"]["instructions"]["instructions"][0]["max_value"] == 2**64 - 1


def test_decompile_round_trip_over_the_wire(rpc):
    for case_id, instructions, gp, expected in EXAMPLES:
        built = rpc(
            "build_pkt_ex", REF_MODEL, {"field_engine": {"instructions": instructions, "global_parameters": gp}}
        )
        model = rpc("decompile_vm_raw", built["binary"], built["field_engine"]["instructions"])
        again = rpc("build_pkt_ex", REF_MODEL, {"field_engine": model})
        assert reference_part(again["field_engine"]) == expected, case_id


def test_decompile_of_a_malformed_program_is_a_scapy_server_error(rpc):
    with pytest.raises(ScapyRpcError) as info:
        rpc("decompile_vm_raw", base64.b64encode(b"\x00" * 60).decode(), {"instructions": [{"type": "nope"}]})
    assert info.value.code == -32098
    assert info.value.message == "Scapy Server: vm instruction 1: unknown type 'nope'"


def test_parameter_values_and_definitions_over_the_wire(rpc):
    got = rpc(
        "load_instruction_parameter_values",
        REF_MODEL,
        {"field_engine": {"instructions": [Ins("STLVmFlowVar", name="a"), Ins("STLVmTupleGen", name="t")]}},
        "fv_name",
    )
    assert got == {"map": {"a": "a", "t.ip": "t.ip", "t.port": "t.port"}}
    offsets = rpc("load_instruction_parameter_values", REF_MODEL, {}, "pkt_offset")["map"]
    assert offsets["IP.src"] == "IP.src" and "UDP:0.sport" not in offsets
    defs = rpc("get_definitions", None)
    assert len(defs["feInstructions"]) == 9 and len(defs["feInstructionParameters"]) == 29
    assert defs["feTemplates"][1]["instructionIds"] == ["STLVmFlowVarRepeatableRandom", "STLVmWrFlowVar"]
