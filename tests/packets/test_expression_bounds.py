"""One bounded front end under both EXPRESSION evaluators (issue 11, item 2): the issue's bombs are
refused with a clear message by the packet model's evaluator (-32098) and the field engine's
(`field_engine.error`), in process and over the wire, and the field engine keeps its arithmetic."""

from __future__ import annotations

import pytest

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.expressions import frontend, scapy_dialect
from scapyrpc.packets.field_engine import arithmetic
from scapyrpc.packets.field_engine.errors import FEError

from conftest import ScapyRpcError

TOO_LONG = "too long"
TOO_DEEP = "nested too deeply"
TOO_MANY = "too large (limit 5000 elements)"
TOO_BIG = "value too large (limit 100000 elements)"

BOMBS = {
    # the issue's: lists of repeated lists in 100 KB, and long operator chains
    "lists of [0]*100000 in 100 KB": ("[" + "[0]*100000, " * 8000 + "]", TOO_LONG),
    "lists of [0]*100000 in 60 KB": ("[" + "[0]*100000," * 5400 + "]", TOO_MANY),
    "two lists of [0]*100000": ("[[0]*100000, [0]*100000]", TOO_BIG),
    "two lists of [0]*60000": ("[[0]*60000, [0]*60000]", TOO_BIG),
    "a list of lists repeated": ("[[0]*1000]*1000", TOO_BIG),
    "three levels of repetition": ("[[[0]*100]*100]*100", TOO_BIG),
    "a long text repeated": ("['" + "x" * 60000 + "'] * 20", TOO_BIG),
    "50 000-long - chain": ("1" + "-1" * 50000, TOO_LONG),
    "50 000-long + chain": ("1" + "+1" * 50000, TOO_LONG),
    "30 000-long - chain": ("1" + "-1" * 30000, TOO_MANY),
    "4 000-long + chain": ("1" + "+1" * 4000, TOO_DEEP),
    "60-long + chain": ("1" + "+1" * 60, TOO_DEEP),
    "50 000 unary minus": ("-" * 50000 + "1", TOO_DEEP),
    "3000 unary minus": ("-" * 3000 + "1", TOO_DEEP),
    "range past any length": ("list(range(2**255))", TOO_BIG),
    "power past 256 bits": ("2**300", "power too large"),
    "integer literal past 256 bits": (str(2**300), "integer too large"),
    "an empty list repeated past any index": ("[]*10**70", "repetition count too large"),
}
# The packet model's grammar has no arithmetic: what gets past the front end's bounds is refused by it.
PACKET_MESSAGE = {
    "two lists of [0]*100000": "operator * is not allowed",
    "two lists of [0]*60000": "operator * is not allowed",
    "a list of lists repeated": "operator * is not allowed",
    "three levels of repetition": "operator * is not allowed",
    "a long text repeated": "operator * is not allowed",
    "60-long + chain": "operator + is not allowed",
    "range past any length": "'list' is not a Scapy class",
    "power past 256 bits": "operator ** is not allowed",
    "an empty list repeated past any index": "operator * is not allowed",
}
REF_MODEL = [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}]


def fe_request(text: str) -> dict:
    return {
        "field_engine": {
            "global_parameters": {},
            "instructions": [
                {"id": "STLVmFlowVar", "parameters": {"name": "a", "value_list": {"vtype": "EXPRESSION", "expr": text}}}
            ],
        }
    }


def packet_model(text: str) -> list:
    return [
        {"id": "Ether"},
        {"id": "IP", "fields": [{"id": "options", "value": {"vtype": "EXPRESSION", "expr": text}}]},
    ]


@pytest.mark.parametrize("name", BOMBS)
def test_field_engine_refuses_the_bomb(name: str) -> None:
    text, fragment = BOMBS[name]
    with pytest.raises(FEError) as info:
        arithmetic.evaluate(text)
    assert str(info.value).startswith("EXPRESSION: ") and fragment in str(info.value)


@pytest.mark.parametrize("name", BOMBS)
def test_packet_model_refuses_the_bomb(name: str) -> None:
    text, fragment = BOMBS[name]
    with pytest.raises(ServiceError) as info:
        scapy_dialect.evaluate(text)
    assert str(info.value).startswith("expression: ") and PACKET_MESSAGE.get(name, fragment) in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "two lists of [0]*100000",
        "a list of lists repeated",
        "50 000-long - chain",
        "50 000-long + chain",
        "4 000-long + chain",
        "3000 unary minus",
    ],
)
def test_bombs_over_the_wire(rpc, name: str) -> None:
    text, fragment = BOMBS[name]
    built = rpc("build_pkt_ex", REF_MODEL, fe_request(text))
    assert fragment in built["field_engine"]["error"] and built["data"]
    with pytest.raises(ScapyRpcError) as info:
        rpc("build_pkt", packet_model(text))
    assert info.value.code == -32098 and info.value.message.startswith("Scapy Server: expression: ")


@pytest.mark.parametrize(
    "text, value",
    [
        ("list(range(65535))", list(range(65535))),
        ("[0] * 65535", [0] * 65535),
        ("[1, 2] * 3 + [7]", [1, 2, 1, 2, 1, 2, 7]),
        ("[[1, 2]] * 3", [[1, 2]] * 3),
        ("~0 & 0xff", 255),
        ("-(2**8) + 1", -255),
        ("2**255", 2**255),
        ("1" + "+1" * 49, 50),
    ],
)
def test_field_engine_arithmetic_within_the_bounds(text: str, value: object) -> None:
    assert arithmetic.evaluate(text) == value


def test_both_evaluators_share_the_core_grammar() -> None:
    core = "[1, -2, 3.5, 'a', b'b', None, True, (1,), {1: [2]}]"
    assert arithmetic.evaluate(core) == scapy_dialect.evaluate(core)
    assert frontend.MAX_ELEMENTS > 65535  # the field engine's own value_list limit stays reportable
