"""Field Engine error matrix (trex-field-engine.md §14 and §8): every input problem ends in
`field_engine.error` with `instructions` an (empty) object — never a failed call.

Where the reference reported an error, the exact reference text is expected. Where it crashed
(uncaught Python exceptions, or assertions that broke under Python 3), our own message is expected;
for the assertion cases that is the reference's assertion text, as the legacy server reported it.
"""

from __future__ import annotations

import pytest
from test_field_engine_examples import Ins, compile_for, fe, ref_packet

from scapyrpc.packets import service

CYCLE = "could not pad range to be a true cycle - '(max_value - min_value + 1) % step' should be zero"
DESC = "Field desription should be layer:cnt.field Example: IP.src or IP:1.src"
FV = Ins("STLVmFlowVar", name="a")

# (case id, instructions, global_parameters, expected error)
MATRIX = [
    (
        "ok_bool_as_int",
        [Ins("STLVmFlowVar", name="a", min_value="true", max_value="5", size="4")],
        {},
        "init val invalid True ",
    ),
    ("err_size3", [Ins("STLVmFlowVar", name="a", size="3")], {}, "Flow var has invalid size 3 "),
    ("err_op", [Ins("STLVmFlowVar", name="a", op="foo")], {}, "Flow var has invalid op foo "),
    ("err_op_empty", [Ins("STLVmFlowVar", name="a", op="")], {}, "Flow var has invalid op  "),
    ("err_step0", [Ins("STLVmFlowVar", name="a", step="0")], {}, "step 0 must be more than 0"),
    ("err_step_neg", [Ins("STLVmFlowVar", name="a", step="-1")], {}, "step -1 must be more than 0"),
    (
        "err_min_gt_max",
        [Ins("STLVmFlowVar", name="a", min_value="10", max_value="5", size="1")],
        {},
        "max 5 is lower than min 10 ",
    ),
    (
        "err_init_range",
        [Ins("STLVmFlowVar", name="a", min_value="1", max_value="5", init_value="9", size="1")],
        {},
        "init_value must be between min_value 1 and max_value 5",
    ),
    (
        "err_size_overflow_max",
        [Ins("STLVmFlowVar", name="a", min_value="0", max_value="256", size="1")],
        {},
        "requested value 256 with size 1 is bigger than 0xff",
    ),
    (
        "err_size_overflow_min",
        [Ins("STLVmFlowVar", name="a", min_value="300", max_value="256", size="1")],
        {},
        "requested value 300 with size 1 is bigger than 0xff",
    ),
    (
        "err_size_overflow_step",
        [Ins("STLVmFlowVar", name="a", min_value="0", max_value="255", size="1", step="256")],
        {},
        "requested value 256 with size 1 is bigger than 0xff",
    ),
    (
        "err_cycle_inc",
        [Ins("STLVmFlowVar", name="a", min_value="1", max_value="18446744073709551615", size="8", step="2", op="inc")],
        {},
        CYCLE,
    ),
    (
        "err_cycle_dec",
        [Ins("STLVmFlowVar", name="a", min_value="0", max_value="2", size="1", step="2", op="dec")],
        {},
        CYCLE,
    ),
    (
        "err_neg_min",
        [Ins("STLVmFlowVar", name="a", min_value="-1", max_value="5", size="1")],
        {},
        "init_value (-1) is negative",
    ),
    (
        "err_neg_min_dec",
        [Ins("STLVmFlowVar", name="a", min_value="-1", max_value="5", size="1", op="dec")],
        {},
        "min_value (-1) is negative",
    ),
    ("err_dup", [FV, FV], {}, "Variable a defined twice "),
    (
        "err_dup_tuple",
        [Ins("STLVmTupleGen", name="t"), Ins("STLVmFlowVar", name="t.ip")],
        {},
        "Variable t.ip defined twice ",
    ),
    (
        "err_tuple_bare_name",
        [Ins("STLVmTupleGen", name="t"), Ins("STLVmWrFlowVar", fv_name="t", pkt_offset="IP.src")],
        {},
        "Variable t does not exist  ",
    ),
    ("err_noexist", [Ins("STLVmWrFlowVar", fv_name="zz", pkt_offset="IP.src")], {}, "Variable zz does not exist  "),
    ("err_noexist_trim", [Ins("STLVmTrimPktSize", fv_name="zz")], {}, "Variable zz does not exist  "),
    ("err_field", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.foo")], {}, "No layer foo-0."),
    ("err_field_empty", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="UDP.")], {}, "No layer -0."),
    ("err_layer", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="TCP.sport")], {}, "no layer TCP-0"),
    ("err_layer_idx", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP:1.src")], {}, "no layer IP-1"),
    ("err_layer_neg_idx", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP:-1.src")], {}, "no layer IP--1"),
    ("err_ether1", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="Ether:1.dst")], {}, "no layer Ether-1"),
    ("err_desc", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IPsrc")], {}, DESC),
    ("err_desc3", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.src.x")], {}, DESC),
    ("err_desc_true", [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="true")], {}, DESC),
    (
        "err_desc_badidx",
        [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP:x.src")],
        {},
        "invalid layer index 'x' in 'IP:x.src' (expected a number, as in IP:1.src)",
    ),
    ("err_fix_ether", [Ins("STLVmFixIpv4", offset="Ether")], {}, "no layer Ether-0"),
    ("err_fix_ip1", [Ins("STLVmFixIpv4", offset="IP:1")], {}, "no layer IP-1"),
    ("err_fix_ipsrc", [Ins("STLVmFixIpv4", offset="IP.src")], {}, "no layer IP.src-0"),
    (
        "err_fix_none",
        [Ins("STLVmFixIpv4", offset="None")],
        {},
        "Argument: 'offset' invalid type: 'NoneType', expecting type(s): int.",
    ),
    (
        "err_mask_cast",
        [FV, Ins("STLVmWrMaskFlowVar", fv_name="a", pkt_offset="IP.src", pkt_cast_size="3")],
        {},
        "not valid cast size",
    ),
    (
        "err_name_numeric",
        [Ins("STLVmFlowVar", name="123")],
        {},
        "Argument: 'name' invalid type: 'int', expecting type(s): str.",
    ),
    (
        "err_name_true",
        [Ins("STLVmFlowVar", name="true")],
        {},
        "Argument: 'name' invalid type: 'bool', expecting type(s): str.",
    ),
    ("err_bad_ipv4", [Ins("STLVmFlowVar", name="a", min_value="abc")], {}, "Not valid IPv4 format: abc"),
    ("err_empty_init", [Ins("STLVmFlowVar", name="a", init_value="")], {}, "Not valid IPv4 format: "),
    ("err_upper_hex", [Ins("STLVmFlowVar", name="a", min_value="0X10")], {}, "Not valid IPv4 format: 0X10"),
    (
        "err_ipv4_leading_zero",
        [Ins("STLVmFlowVar", name="a", min_value="16.0.0.01")],
        {},
        "Not valid IPv4 format: 16.0.0.01",
    ),
    (
        "err_bad_hex",
        [Ins("STLVmFlowVar", name="a", min_value="0xzz")],
        {},
        "STLVmFlowVar: parameter 'min_value' is not a valid hex number: 0xzz",
    ),
    (
        "err_hw_order",
        [Ins("STLVmFixChecksumHw", l3_offset="UDP", l4_offset="IP", l4_type="11")],
        {},
        "l4_offset should be higher than l3_offset offset",
    ),
    (
        "err_hw_ip_only_nonzero",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="20", l4_type="17")],
        {},
        "l4_offset should be higher than l3_offset offset",
    ),
    (
        "err_hw_type_str",
        [Ins("STLVmFixChecksumHw", l3_offset="IP", l4_offset="UDP", l4_type="L4_TYPE_UDP")],
        {},
        "Argument: 'l4_type' invalid type: 'str', expecting type(s): int.",
    ),
    ("err_cache_abc", [FV], {"cache_size": "abc"}, "Cache size must be a number"),
    ("err_cache_hex", [FV], {"cache_size": "0x10"}, "Cache size must be a number"),
    ("err_cache_empty", [FV], {"cache_size": ""}, "Cache size must be a number"),
    ("err_cache_null", [FV], {"cache_size": None}, "Cache size must be a number"),
    ("err_unknown_id", [Ins("STLVmFoo", name="a")], {}, "unknown instruction 'STLVmFoo'"),
    ("err_internal_class_id", [Ins("STLVM")], {}, "unknown instruction 'STLVM'"),
    (
        "err_repetable_typo",
        [Ins("STLVmFlowVarRepetableRandom", name="a", size="1", seed="3")],
        {},
        "unknown instruction 'STLVmFlowVarRepetableRandom'",
    ),
    ("err_unknown_param", [Ins("STLVmFlowVar", name="a", foo="1")], {}, "STLVmFlowVar: unknown parameter 'foo'"),
    ("err_self_loop", [Ins("STLVmFlowVar", name="a", next_var="a")], {}, "Self loops are forbidden."),
    (
        "err_loop",
        [Ins("STLVmFlowVar", name="a", next_var="b"), Ins("STLVmFlowVar", name="b", next_var="a")],
        {},
        "Loops are forbidden for dependent variables",
    ),
    (
        "err_two_prev",
        [
            Ins("STLVmFlowVar", name="a", next_var="c"),
            Ins("STLVmFlowVar", name="b", next_var="c"),
            Ins("STLVmFlowVar", name="c"),
        ],
        {},
        "Variable c is pointed by two vars.",
    ),
    (
        "err_next_random",
        [Ins("STLVmFlowVar", name="a", op="random", next_var="b"), Ins("STLVmFlowVar", name="b")],
        {},
        "If next_var is defined then op can't be random. Check a ",
    ),
    ("err_next_missing", [Ins("STLVmFlowVar", name="a", next_var="zz")], {}, "Variable zz does not exist  "),
    (
        "err_next_to_tuple",
        [Ins("STLVmTupleGen", name="t"), Ins("STLVmFlowVar", name="a", next_var="t.ip")],
        {},
        "Variable t.ip does not exist  ",
    ),
    (
        "err_rr_limit0",
        [Ins("STLVmFlowVarRepeatableRandom", name="r", limit="0", seed="1")],
        {},
        "limit 0 must be more than 0",
    ),
    (
        "err_rr_limit_neg",
        [Ins("STLVmFlowVarRepeatableRandom", name="r", limit="-3", seed="1")],
        {},
        "limit -3 must be more than 0",
    ),
    (
        "err_rr_minmax",
        [Ins("STLVmFlowVarRepeatableRandom", name="r", size="1", min_value="10", max_value="5", seed="1")],
        {},
        "max 5 is lower than min 10 ",
    ),
    (
        "err_rr_size_over",
        [Ins("STLVmFlowVarRepeatableRandom", name="r", size="1", max_value="300", seed="1")],
        {},
        "requested value 300 with size 1 is bigger than 0xff",
    ),
    (
        "err_rr_neg_min",
        [Ins("STLVmFlowVarRepeatableRandom", name="r", min_value="-1", seed="1")],
        {},
        "min_value (-1) is negative",
    ),
    (
        "err_rr_seed_str",
        [Ins("STLVmFlowVarRepeatableRandom", name="r", seed="abc")],
        {},
        "Argument: 'seed' invalid type: 'str', expecting type(s): int.",
    ),
    (
        "err_json_fraction_param",
        [Ins("STLVmFlowVar", name="a", size=4.5)],
        {},
        "STLVmFlowVar: parameter 'size' must be text, an integer or a boolean, got the number 4.5",
    ),
    (
        "err_json_int_name",
        [Ins("STLVmFlowVar", name=5)],
        {},
        "Argument: 'name' invalid type: 'int', expecting type(s): str.",
    ),
    (
        "err_json_null_param",
        [Ins("STLVmFlowVar", name=None)],
        {},
        "STLVmFlowVar: parameter 'name' must be text, an integer or a boolean, got null",
    ),
    (
        "err_is_big_True",
        [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.src", is_big="True")],
        {},
        "Argument: 'is_big' invalid type: 'str', expecting type(s): bool.",
    ),
    (
        "err_value_list_str",
        [Ins("STLVmFlowVar", name="a", value_list="[1,2,3]")],
        {},
        "init val invalid(not list) [1,2,3] ",
    ),
    (
        "err_value_list_neg",
        [Ins("STLVmFlowVar", name="a", value_list=[1, -2], size="1")],
        {},
        "value_list (-2) is negative",
    ),
    (
        "err_value_list_over",
        [Ins("STLVmFlowVar", name="a", value_list=[1, 256], size="1")],
        {},
        "requested value 256 with size 1 is bigger than 0xff",
    ),
    (
        "err_value_list_strnum",
        [Ins("STLVmFlowVar", name="a", value_list=["1", "2"], size="1")],
        {},
        "Not valid IPv4 format: 1",
    ),
    ("err_value_list_elem", [Ins("STLVmFlowVar", name="a", value_list=[1, True])], {}, "init val[1] invalid True "),
    (
        "err_value_list_65536",
        [Ins("STLVmFlowVar", name="a", value_list={"vtype": "EXPRESSION", "expr": "list(range(65536))"})],
        {},
        "value_list size 65536 bigger than 65535",
    ),
    (
        "err_tuple_port_str",
        [Ins("STLVmTupleGen", name="t", port_min="abc")],
        {},
        "Argument: 'port_min' invalid type: 'str', expecting type(s): int.",
    ),
    ("err_tuple_ip_bad", [Ins("STLVmTupleGen", name="t", ip_min="1.2.3")], {}, "Not valid IPv4 format: 1.2.3"),
    ("err_trim_no_name", [Ins("STLVmTrimPktSize")], {}, "STLVmTrimPktSize: missing required parameter 'fv_name'"),
    ("err_op_numeric", [Ins("STLVmFlowVar", name="a", op="1")], {}, "Flow var has invalid op 1 "),
    ("err_size_abc", [Ins("STLVmFlowVar", name="a", size="abc")], {}, "Flow var has invalid size abc "),
    (
        "err_expr_min",
        [
            Ins(
                "STLVmFlowVar",
                name="a",
                min_value={"vtype": "EXPRESSION", "expr": "10*2"},
                max_value={"vtype": "OBJECT", "value": 7},
            )
        ],
        {},
        "max 7 is lower than min 20 ",
    ),
    (
        "err_missing_vtype",
        [Ins("STLVmFlowVar", name="a", min_value={"expr": "1"})],
        {},
        "STLVmFlowVar: parameter 'min_value' is an object without 'vtype'",
    ),
    (
        "err_expr_syntax",
        [Ins("STLVmFlowVar", name="a", value_list={"vtype": "EXPRESSION", "expr": "[1, 2"})],
        {},
        "EXPRESSION syntax error: '[' was never closed",
    ),
    (
        "err_expr_unsafe",
        [Ins("STLVmFlowVar", name="a", value_list={"vtype": "EXPRESSION", "expr": "__import__('os').getcwd()"})],
        {},
        "EXPRESSION: 'Call' is not allowed (literals, lists, integer arithmetic, range and list only)",
    ),
    (
        "err_bool_limit",
        [Ins("STLVmFlowVarRepeatableRandom", name="r", limit="true", seed="1")],
        {},
        "Argument: 'limit' invalid type: 'bool', expecting type(s): int.",
    ),
    # Error precedence (reference §14, "More reference-version edge cases").
    (
        "prec_ctor_before_ref",
        [Ins("STLVmFlowVar", name="a", size="3"), Ins("STLVmWrFlowVar", fv_name="zz", pkt_offset="IP.src")],
        {},
        "Flow var has invalid size 3 ",
    ),
    (
        "prec_defs_before_refs",
        [Ins("STLVmWrFlowVar", fv_name="zz", pkt_offset="IP.src"), FV, FV],
        {},
        "Variable a defined twice ",
    ),
    (
        "prec_flow_var_emit_first",
        [Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.foo"), Ins("STLVmFlowVar", name="a", min_value="-1")],
        {},
        "init_value (-1) is negative",
    ),
    (
        "prec_final_order",
        [Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.foo"), Ins("STLVmFixIpv4", offset="Ether"), FV],
        {},
        "No layer foo-0.",
    ),
    (
        "prec_ctor_before_cache",
        [Ins("STLVmFlowVar", name="a", size="3")],
        {"cache_size": "abc"},
        "Flow var has invalid size 3 ",
    ),
]


@pytest.mark.parametrize("case_id, instructions, gp, message", MATRIX, ids=[c[0] for c in MATRIX])
def test_error_is_reported_in_field_engine_error(case_id, instructions, gp, message):
    result = fe(instructions, gp)
    assert result == {"instructions": {"instructions": []}, "error": message, "vm_instructions_expressions": []}


def test_dash_mac_is_read_as_a_mac():
    """Reference crashed (it removed only ':'); we read dash MACs as intended."""
    program = fe([Ins("STLVmFlowVar", name="a", min_value="00-00-00-00-00-01")])["instructions"]["instructions"]
    assert program[0]["min_value"] == 1 and program[0]["init_value"] == 1


@pytest.mark.parametrize(
    "request_obj, message",
    [
        ({"instructions": [FV]}, "field_engine.global_parameters is missing"),
        ({"global_parameters": {}}, "field_engine.instructions is missing"),
        ({"instructions": "x", "global_parameters": {}}, "field_engine.instructions must be a list"),
        ({"instructions": [FV], "global_parameters": []}, "field_engine.global_parameters must be an object"),
        (
            {"instructions": [{"parameters": {}}], "global_parameters": {}},
            "instruction 1 must be an object with a string 'id'",
        ),
        (
            {"instructions": [["STLVmFlowVar"]], "global_parameters": {}},
            "instruction 1 must be an object with a string 'id'",
        ),
        (
            {"instructions": [{"id": "STLVmFlowVar", "parameters": []}], "global_parameters": {}},
            "STLVmFlowVar: 'parameters' must be an object",
        ),
        ([], "field_engine must be an object with 'instructions' and 'global_parameters'"),
    ],
)
def test_malformed_request_shapes(request_obj, message):
    result = compile_for(ref_packet(), {"field_engine": request_obj})
    assert result == {"instructions": {"instructions": []}, "error": message, "vm_instructions_expressions": []}


def test_no_field_engine_requested_gives_an_empty_program():
    for options in (None, {}):
        assert compile_for(ref_packet(), options) == {
            "instructions": {"instructions": []},
            "error": None,
            "vm_instructions_expressions": [],
        }


@pytest.mark.parametrize(
    "instructions, message",
    [
        (
            [FV, Ins("STLVmWrMaskFlowVar", fv_name="a", pkt_offset="IP.id", mask="0x" + "f" * 20)],
            "write_mask_flow_var: mask 1208925819614629174706175 does not fit in 64 bits",
        ),
        (
            [Ins("STLVmTupleGen", name="t", port_min=str(-(2**63) - 1))],
            f"tuple_flow_var: port_min {-(2**63) - 1} does not fit in 64 bits",
        ),
        (
            [FV, Ins("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.id", add_val=str(2**64))],
            f"write_flow_var: add_value {2**64} does not fit in 64 bits",
        ),
    ],
)
def test_numbers_past_64_bits_are_reported_not_emitted(instructions, message):
    """The reference emitted them (TRex then refused the stream); JSON peers cannot carry them."""
    assert fe(instructions)["error"] == message


# ---- error_detail: which instruction, and the error said for a reader ---------------------------

DETAIL_MODEL = [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}]
VAR_A = {"id": "STLVmFlowVar", "parameters": {"name": "a", "min_value": "0", "max_value": "10", "size": "2"}}


def _write(offset, name="a"):
    return {"id": "STLVmWrFlowVar", "parameters": {"fv_name": name, "pkt_offset": offset}}


@pytest.mark.parametrize(
    "instructions, error, instruction, detail",
    [
        ([VAR_A, _write("TCP.sportx")], "No layer sportx-0.", 1, "TCP has no field 'sportx' (its fields: sport,"),
        ([VAR_A, _write("sportx")], "Field desription should be", 1, "'sportx' is not a field: write Layer.field"),
        (
            [VAR_A, _write("UDP.sport")],
            "no layer UDP-0",
            1,
            "the packet has no a layer UDP (its layers: Ether, IP, TCP)",
        ),
        ([VAR_A, _write("IP:1.src")], "no layer IP-1", 1, "the packet has no 2 layers IP"),
        (
            [VAR_A, _write("TCP.sport", "zz")],
            "Variable zz does not exist",
            1,
            "no variable named zz is defined (variables: a)",
        ),
        ([VAR_A, VAR_A], "Variable a defined twice", 1, "variable a is defined twice"),
        (
            [
                VAR_A,
                {
                    "id": "STLVmFlowVar",
                    "parameters": {"name": "b", "min_value": "0", "max_value": "1", "init_value": "5"},
                },
            ],
            "init_value must be between",
            1,
            "init_value must be between",
        ),
        (
            [_write("TCP.sport"), {"id": "STLVmFlowVar", "parameters": {}}],
            "STLVmFlowVar: missing required",
            1,
            "missing",
        ),
    ],
)
def test_an_error_names_its_instruction_and_says_what_it_means(instructions, error, instruction, detail):
    """`error` keeps the reference's words (the GUI shows them); `error_detail` names the instruction
    by its index in the request's list and says the obscure ones plainly."""
    result = service.build_pkt_ex(
        DETAIL_MODEL, {"field_engine": {"instructions": instructions, "global_parameters": {}}}
    )
    fe = result["field_engine"]
    assert fe["error"].startswith(error)
    assert fe["error_detail"]["instruction"] == instruction
    assert detail in fe["error_detail"]["message"]


def test_no_error_no_detail():
    result = service.build_pkt_ex(
        DETAIL_MODEL, {"field_engine": {"instructions": [VAR_A, _write("TCP.sport")], "global_parameters": {}}}
    )
    assert result["field_engine"]["error"] is None and result["field_engine"]["error_detail"] is None
