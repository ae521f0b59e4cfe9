"""export_profile and import_profile refuse bad input with -32098 (ServiceError) messages that name
what is wrong and where; Python profiles are refused with how to convert them; every bound takes
a legitimate profile at the limit and refuses one past it."""

from __future__ import annotations

import copy
import json

import orjson
import pytest
import yaml

from scapyrpc.packets import service
from scapyrpc.packets.errors import InputSyntaxError, ServiceError
from scapyrpc.packets.profiles import importer, text_formats
from scapyrpc.packets.profiles.streams import MAX_STREAMS
from scapyrpc.worker import rpc

from conftest import GUI_HANDLER

PLAIN = [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP", "fields": [{"id": "dport", "value": 12}]}]
OK = {"name": "a", "model": PLAIN}


def refused(call, *args) -> str:
    with pytest.raises(ServiceError) as info:
        call(*args)
    return str(info.value)


# ---------------------------------------------------------------- export


def streams_with(**changes) -> list[dict]:
    one = dict(OK)
    one.update(changes)
    return [one]


EXPORT_ERRORS = [
    ([OK], "x", "options: must be an object"),
    ([OK], {}, "options.format: must be one of python, json, yaml"),
    ([OK], {"format": "xml"}, "options.format: must be one of python, json, yaml"),
    ([OK], {"format": "json", "indent": 2}, "options: unknown key 'indent' (known: format)"),
    ({"a": OK}, {"format": "json"}, "streams: must be a list of streams"),
    ([OK, "x"], {"format": "json"}, "streams[1]: must be an object"),
    ([{"name": "a"}], {"format": "json"}, "streams[0]: missing 'model' (the packet's layers, as build_pkt takes them)"),
    (streams_with(slef_start=False), {"format": "json"}, "streams[0]: unknown key 'slef_start' (known: "),
    (streams_with(model=[{"id": "Ehter"}]), {"format": "yaml"}, "streams[0].model: unknown protocol 'Ehter'"),
    (
        streams_with(model=[{"id": "IP", "fields": [{"id": "ttl", "value": "x"}]}]),
        {"format": "json"},
        "streams[0].model: bad value 'x' for IP.ttl",
    ),
    (
        streams_with(model=[{"id": "Raw", "fields": [{"id": "load", "value": "x"}]}]),
        {"format": "json"},
        "streams[0].model: the packet's length is 1; TRex sends packets of 14 to 9238 bytes",
    ),
    (
        streams_with(
            field_engine={
                "instructions": [{"id": "STLVmWrFlowVar", "parameters": {"fv_name": "x", "pkt_offset": 1}}],
                "global_parameters": {},
            }
        ),
        {"format": "python"},
        "streams[0].field_engine: Variable x does not exist",
    ),
    (
        streams_with(field_engine={"instructions": []}),
        {"format": "json"},
        "streams[0].field_engine: field_engine.global_parameters is missing",
    ),
    (
        streams_with(field_engine={"instructions": [], "global_parameters": {"cache_size": 65536}}),
        {"format": "json"},
        "streams[0].field_engine.global_parameters.cache_size: TRex takes at most 65535",
    ),
    (streams_with(mode="fast"), {"format": "json"}, "streams[0].mode: must be an object"),
    (
        streams_with(mode={"type": "burst"}),
        {"format": "json"},
        "streams[0].mode.type: must be one of continuous, single_burst, multi_burst",
    ),
    (streams_with(mode={"pps": "10"}), {"format": "json"}, "streams[0].mode.pps: must be a number"),
    (streams_with(mode={"pps": True}), {"format": "json"}, "streams[0].mode.pps: must be a number"),
    (streams_with(mode={"pps": 0}), {"format": "json"}, "streams[0].mode.pps: must be more than 0"),
    (streams_with(mode={"pps": float("nan")}), {"format": "json"}, "streams[0].mode.pps: must be a number"),
    (streams_with(mode={"percentage": 101}), {"format": "json"}, "streams[0].mode.percentage: must be at most 100"),
    (
        streams_with(mode={"pps": 1, "bps_L1": 2}),
        {"format": "json"},
        "streams[0].mode: give one rate, not pps and bps_L1",
    ),
    (streams_with(mode={"rate": 5}), {"format": "json"}, "streams[0].mode: unknown key 'rate' (known: "),
    (
        streams_with(mode={"type": "single_burst", "total_pkts": 1.5}),
        {"format": "json"},
        "streams[0].mode.total_pkts: must be an integer",
    ),
    (
        streams_with(mode={"type": "single_burst", "total_pkts": 0}),
        {"format": "json"},
        "streams[0].mode.total_pkts: must be an integer from 1 to 4294967295",
    ),
    (
        streams_with(mode={"type": "multi_burst", "ibg": -1}),
        {"format": "json"},
        "streams[0].mode.ibg: must not be negative",
    ),
    (
        streams_with(mode={"type": "multi_burst", "count": 2**32}),
        {"format": "json"},
        "streams[0].mode.count: must be an integer from 0 to 4294967295",
    ),
    (streams_with(isg=-5), {"format": "json"}, "streams[0].isg: must not be negative"),
    (streams_with(isg=-(10**400)), {"format": "json"}, "streams[0].isg: must not be negative"),
    (
        [{**OK, "next": "b" * 5000, "mode": {"type": "single_burst"}}],
        {"format": "json"},
        "streams[0].next: no stream is named '" + "b" * 56 + "...",
    ),
    (streams_with(**{"k" * 5000: 1}), {"format": "json"}, "streams[0]: unknown key '" + "k" * 56 + "... (known: "),
    (streams_with(isg=None), {"format": "json"}, "streams[0].isg: must be a number"),
    (streams_with(self_start="yes"), {"format": "json"}, "streams[0].self_start: must be true or false"),
    (
        streams_with(random_seed=-1),
        {"format": "json"},
        "streams[0].random_seed: must be an integer from 0 to 4294967295",
    ),
    (streams_with(name=["a"]), {"format": "json"}, "streams[0].name: must be text, an integer or null"),
    (streams_with(next=1.5), {"format": "json"}, "streams[0].next: must be text, an integer or null"),
    (
        streams_with(mac_src_override_by_pkt=1),
        {"format": "json"},
        "streams[0].mac_src_override_by_pkt: must be true or false",
    ),
    (
        streams_with(mac_dst_override_mode=3),
        {"format": "json"},
        "streams[0].mac_dst_override_mode: must be an integer from 0 to 2",
    ),
    ([OK, OK], {"format": "json"}, "streams[1].name: 'a' is also the name of stream 0"),
    (
        [{**OK, "next": "b", "mode": {"type": "single_burst"}}],
        {"format": "json"},
        "streams[0].next: no stream is named 'b'",
    ),
    (
        [{**OK, "next": "b"}, {"name": "b", "model": PLAIN}],
        {"format": "json"},
        "streams[0].next: a continuous stream never ends, so it cannot have a next stream",
    ),
]


@pytest.mark.parametrize(("streams", "options", "message"), EXPORT_ERRORS, ids=[e[2][:60] for e in EXPORT_ERRORS])
def test_bad_export_input_names_what_and_where(streams, options, message: str) -> None:
    assert refused(service.export_profile, streams, options).startswith(message)


def test_a_bad_expression_is_a_syntax_error_that_says_where() -> None:
    model = [
        {"id": "Ether"},
        {"id": "IP"},
        {"id": "TCP", "fields": [{"id": "options", "value": {"vtype": "EXPRESSION", "expr": "[("}}]},
    ]
    with pytest.raises(InputSyntaxError, match=r"^streams\[0\]\.model: "):
        service.export_profile([{"model": model}], {"format": "python"})


def test_errors_travel_as_scapy_server_errors() -> None:
    reply = orjson.loads(
        rpc.handle(
            orjson.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": "1",
                    "method": "export_profile",
                    "params": [GUI_HANDLER, [OK, {**OK, "name": "b", "mode": {"pps": "fast"}}], {"format": "json"}],
                }
            )
        ).body
    )
    assert reply["error"] == {"code": -32098, "message": "Scapy Server: streams[1].mode.pps: must be a number"}


# ---------------------------------------------------------------- import

ONE = [
    {
        "name": "a",
        "packet": {"binary": service.build_pkt(PLAIN)["binary"], "meta": ""},
        "mode": {"type": "continuous", "rate": {"type": "pps", "value": 1}},
        "vm": {"instructions": []},
    }
]


def profile_with(path: list, value) -> str:
    data = copy.deepcopy(ONE)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(data)


IMPORT_ERRORS = [
    (5, None, "text: must be the profile's text"),
    ("[]", "json", "options: must be an object"),
    ("[]", {"format": "toml"}, "options.format: must be one of python, json, yaml"),
    ("[]", {"fmt": "json"}, "options: unknown key 'fmt' (known: format)"),
    ("[1, 2", None, "profile: not valid JSON: "),
    ("- a: [1, 2\n- b", None, "profile: not valid YAML: "),
    ("a: b: c", None, "profile: not valid YAML: mapping values are not allowed in this context at line 1, column 5"),
    ('{"streams": []}', None, "profile: must be a list of streams, as TRex's STLProfile.to_json() writes it"),
    ("just text", None, "profile: must be a list of streams"),
    ("[1]", None, "streams[0]: must be an object"),
    (profile_with([0, "packet"], None), None, "streams[0].packet: must be an object"),
    (profile_with([0, "packet", "binary"], "@@@"), None, "streams[0].packet.binary is not valid base64"),
    (
        profile_with([0, "packet", "binary"], "AAAA"),
        None,
        "streams[0].packet.binary: the packet's length is 3; TRex sends packets of 14 to 9238 bytes",
    ),
    (
        profile_with([0, "mode", "rate", "type"], "mpps"),
        None,
        "streams[0].mode.rate.type: must be one of pps, bps_L1, bps_L2, percentage",
    ),
    (profile_with([0, "mode", "rate", "value"], "1"), None, "streams[0].mode.rate.value: must be a number"),
    (
        profile_with([0, "mode", "type"], "once"),
        None,
        "streams[0].mode.type: must be one of continuous, single_burst, multi_burst",
    ),
    (profile_with([0, "isg"], "soon"), None, "streams[0].isg: must be a number"),
    (profile_with([0, "flags"], -1), None, "streams[0].flags: must be an integer from 0 to 4294967295"),
    (profile_with([0, "flags"], 6), None, "streams[0].flags: MAC destination mode 3 is not one of TRex's (0, 1, 2)"),
    (profile_with([0, "vm"], []), None, "streams[0].vm: must be an object"),
    (
        profile_with([0, "vm", "instructions"], [{"type": "nope"}]),
        None,
        "streams[0].vm: vm instruction 1: unknown type 'nope'",
    ),
    (
        profile_with([0, "vm", "instructions"], [{"type": "write_flow_var", "name": "x", "pkt_offset": "IP.src"}]),
        None,
        "streams[0].vm: vm instruction 1 (write_flow_var): 'pkt_offset' must be an integer",
    ),
    (profile_with([0, "next"], "b"), None, "streams[0].next: a continuous stream never ends"),
    (json.dumps(ONE * 2), None, "streams[1].name: 'a' is also the name of stream 0"),
    (
        yaml.safe_dump(
            [{"name": "l1", "stream": {**ONE[0], "mode": {"type": "continuous", "rate": {"type": "pps", "value": -1}}}}]
        ),
        None,
        "streams[0].stream.mode.rate.value: must be more than 0",
    ),
    (
        yaml.safe_dump([{"name": ["l1"], "stream": {k: v for k, v in ONE[0].items() if k != "name"}}]),
        None,
        "streams[0].name: must be text, an integer or null",
    ),
    (yaml.safe_dump([{"stream": "x"}]), None, "streams[0].stream: must be an object"),
    ("- !!python/object/apply:os.system ['true']\n", None, "profile: not valid YAML: "),
]


@pytest.mark.parametrize(("text", "options", "message"), IMPORT_ERRORS, ids=[e[2][:60] for e in IMPORT_ERRORS])
def test_bad_import_input_names_what_and_where(text, options, message: str) -> None:
    assert refused(service.import_profile, text, options).startswith(message)


PYTHON_PROFILE = """\
from trex_stl_lib.api import *

class STLS1(object):
    def get_streams(self, direction=0, **kwargs):
        return [STLStream(packet=STLPktBuilder(pkt=Ether()/IP()/UDP()), mode=STLTXCont())]

def register():
    return STLS1()
"""


@pytest.mark.parametrize("options", [None, {"format": "python"}, {"format": "json"}, {"format": "yaml"}])
def test_python_profiles_are_refused_with_how_to_convert_them(options) -> None:
    message = refused(service.import_profile, PYTHON_PROFILE, options)
    assert message == text_formats.PYTHON_REFUSED
    assert "never run" in message and "stl-sim -f profile.py --json" in message and ".to_json()" in message


def test_our_own_python_export_is_refused_too() -> None:
    text = service.export_profile([OK], {"format": "python"})["text"]
    assert refused(service.import_profile, text) == text_formats.PYTHON_REFUSED


# ---------------------------------------------------------------- bounds


def many(count: int) -> list[dict]:
    return [{"name": i, "model": PLAIN} for i in range(count)]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_profile_of_the_most_streams_goes_out_and_back_and_one_more_is_refused(fmt: str) -> None:
    text = service.export_profile(many(MAX_STREAMS), {"format": fmt})["text"]
    assert len(service.import_profile(text)) == MAX_STREAMS
    more = text_formats.dump(
        json.loads(service.export_profile(many(1), {"format": "json"})["text"]) * (MAX_STREAMS + 1), fmt
    )
    assert (
        refused(service.import_profile, more)
        == f"profile: {MAX_STREAMS + 1} streams; a profile may hold at most {MAX_STREAMS}"
    )
    assert refused(service.export_profile, many(MAX_STREAMS + 1), {"format": fmt}) == (
        f"streams: {MAX_STREAMS + 1} streams; a profile may hold at most {MAX_STREAMS}"
    )


def nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_at_the_limit_is_read_and_past_it_refused() -> None:
    """Only the depth is at its limit here: the profile is refused afterwards for what it holds."""
    at_limit = json.dumps(nested(text_formats.MAX_NESTING))
    assert refused(service.import_profile, at_limit) == "streams[0]: must be an object"
    past = json.dumps(nested(text_formats.MAX_NESTING + 1))
    assert refused(service.import_profile, past) == f"profile: nested more than {text_formats.MAX_NESTING} levels deep"
    assert refused(service.import_profile, "[" * 5000 + "]" * 5000).startswith("profile: not valid JSON")
    assert refused(service.import_profile, "- " * 5000 + "1").startswith("profile: not valid YAML")


def value_list_stream(name: int) -> dict:
    fe = {
        "instructions": [
            {"id": "STLVmFlowVar", "parameters": {"name": "v", "size": 2, "value_list": list(range(65535))}},
            {"id": "STLVmWrFlowVar", "parameters": {"fv_name": "v", "pkt_offset": "UDP.sport"}},
        ],
        "global_parameters": {},
    }
    return {"name": name, "model": PLAIN, "field_engine": fe}


def test_the_values_of_a_large_legitimate_profile_are_read_and_more_refused() -> None:
    """Fifteen streams with value lists of the largest size TRex takes (65535 values) fit the node budget."""
    fits = text_formats.MAX_NODES // 65536
    exported = service.export_profile([value_list_stream(i) for i in range(fits)], {"format": "json"})["text"]
    text = json.dumps(json.loads(exported))  # compact: indented, the lists take more text than a profile may
    back = service.import_profile(text)
    assert [len(s["field_engine"]["instructions"][0]["parameters"]["value_list"]) for s in back] == [65535] * fits
    over = json.loads(text) + json.loads(service.export_profile([value_list_stream(fits)], {"format": "json"})["text"])
    assert refused(service.import_profile, json.dumps(over)) == f"profile: more than {text_formats.MAX_NODES} values"


def test_yaml_aliases_are_counted_each_time_they_are_used() -> None:
    """A billion laughs: ten levels of ten aliases stand for 10^10 values; refused at the budget."""
    lines = ["a0: &a0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb = "- " + "\n  ".join(lines) + "\n"
    assert refused(service.import_profile, bomb) == f"profile: more than {text_formats.MAX_NODES} values"


def test_text_past_the_limit_is_refused_before_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_TEXT_CHARS", 100)
    text = json.dumps(ONE)[:100]
    assert refused(service.import_profile, text).startswith("profile: not valid JSON")  # read: it is 100
    assert refused(service.import_profile, text + " ") == "text: 101 characters; a profile may be at most 100"
