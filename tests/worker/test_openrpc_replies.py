"""Real replies of every method, validated against the JSON Schemas `rpc.discover` serves.

In process (`rpc.handle`, the bytes a worker sends) and over a real server on an ephemeral
port, in both call shapes (GUI `[h, ...]` and seed): hand-made packets and field-engine
programs, every shipped template, and every packet of the real-traffic corpus
(tests/captures) as read_pcap, build_pkt of its model and reconstruct_pkt give it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from scapyrpc.packets import service
from scapyrpc.wire import contract
from scapyrpc.worker import rpc

from conftest import GUI_HANDLER, ServerProcess

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
FILES = sorted(CAPTURES.glob("*.pcap"))
WIRE_STRIDE = 5  # over the wire, build_pkt and reconstruct_pkt of every 5th corpus packet (the bytes are rpc.handle's)

Send = Callable[[dict], dict]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------- schemas of the served document


def _inline(schema: Any, components: dict, seen: tuple[str, ...] = ()) -> Any:
    """`schema` with its references replaced by their targets (jsonschema resolves a reference
    on every use, which triples the time of a packet result); recursive ones stay references."""
    if isinstance(schema, list):
        return [_inline(item, components, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    target = schema.get("$ref")
    if isinstance(target, str):
        name = target.rsplit("/", 1)[-1]
        return schema if name in seen else _inline(components[name], components, (*seen, name))
    return {
        key: value if key in ("const", "enum") else _inline(value, components, seen) for key, value in schema.items()
    }


@cache
def document() -> dict:
    return service.rpc_discover()


@cache
def validator(method: str) -> jsonschema.Draft7Validator:
    """The validator of `method`'s result schema, as the document states it."""
    doc = document()
    schema = next(m for m in doc["methods"] if m["name"] == method)["result"]["schema"]
    return _schema_validator(orjson.dumps(schema))


@cache
def _schema_validator(schema_json: bytes) -> jsonschema.Draft7Validator:
    components = document()["components"]
    inlined = _inline(orjson.loads(schema_json), components["schemas"])
    return jsonschema.Draft7Validator({"$ref": "#/x", "x": inlined, "components": components})


def component_validator(name: str) -> jsonschema.Draft7Validator:
    return _schema_validator(orjson.dumps({"$ref": f"#/components/schemas/{name}"}))


def check(method: str, result: Any) -> None:
    errors = sorted(validator(method).iter_errors(result), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method}: {errors[0].message[:300]} at {list(errors[0].absolute_path)}"


# ---------------------------------------------------------------- transports and call shapes


@pytest.fixture(scope="module", params=["in-process", "wire"])
def transport(request: pytest.FixtureRequest) -> Send:
    if request.param == "in-process":
        return lambda message: orjson.loads(rpc.handle(orjson.dumps(message)).body)
    cli = request.getfixturevalue("server").client(timeout_ms=60000)
    request.addfinalizer(cli.close)
    return lambda message: cli.send_raw(orjson.dumps(message))


def shapes(method: str) -> list[str]:
    return ["seed"] if method in contract.HANDLERLESS else ["gui", "seed"]


def call(send: Send, method: str, params: list, shape: str = "gui") -> Any:
    """The result of one call in `shape`, checked against the method's result schema."""
    args = [GUI_HANDLER, *params] if shape == "gui" and method not in contract.HANDLERLESS else list(params)
    reply = send({"jsonrpc": "2.0", "id": "t", "method": method, "params": args})
    assert "result" in reply, f"{method} {shape}: {reply.get('error')}"
    assert reply["id"] == "t"
    check(method, reply["result"])
    return reply["result"]


# ---------------------------------------------------------------- hand-made cases


def M(*layers: Any) -> list:
    """A model from layer ids and (id, {field: value}) pairs."""
    out = []
    for layer in layers:
        if isinstance(layer, str):
            out.append({"id": layer})
        else:
            name, fields = layer
            out.append({"id": name, "fields": [{"id": k, "value": v} for k, v in fields.items()]})
    return out


def I(id_: str, **params: Any) -> dict:  # noqa: E743 - the reference's shorthand
    return {"id": id_, "parameters": params}


def FE(*instructions: dict, **global_parameters: Any) -> dict:
    return {"field_engine": {"instructions": list(instructions), "global_parameters": global_parameters}}


ETHER = ("Ether", {"dst": "00:aa:bb:cc:dd:ee", "src": "00:11:22:33:44:55"})
REF = M(ETHER, ("IP", {"src": "16.0.0.1", "dst": "48.0.0.1"}), "UDP", ("Raw", {"load": "xxxxxxxxxx"}))
V6 = M(ETHER, ("IPv6", {"src": "2001:db8::1", "dst": "2001:db8::2"}), ("ICMPv6EchoRequest", {"id": "7"}))

MODELS = {
    "ref": REF,
    "options_and_generated": M(
        ETHER,
        (
            "IP",
            {
                "src": "10.0.0.1",
                "dst": "10.0.0.2",
                "flags": "DF",
                "options": {"vtype": "EXPRESSION", "expr": "[IPOption_RR(routers=['1.1.1.1'])]"},
            },
        ),
        (
            "TCP",
            {
                "flags": "SA",
                "sport": "https",
                "options": {
                    "vtype": "EXPRESSION",
                    "expr": "[('MSS', 1460), ('NOP', None), ('SAckOK', b''), ('Timestamp', (1, 2))]",
                },
            },
        ),
        ("Raw", {"load": {"vtype": "BYTES", "generate": "random_bytes", "size": 100, "seed": 7}}),
    ),
    "value_objects": M(
        ("Ether", {"dst": {"vtype": "MACHINE", "base64": "AKq7zN3u"}, "src": "00:11:22:33:44:55"}),
        (
            "IP",
            {
                "src": "10.0.0.1",
                "dst": "10.0.0.2",
                "ttl": {"vtype": "UNDEFINED"},
                "id": {"vtype": "OBJECT", "value": 7},
                "tos": True,
                "chksum": None,
                "len": "",
            },
        ),
        ("ICMP", {"type": "echo-request"}),
        ("Raw", {"load": {"vtype": "BYTES", "generate": "random_ascii", "total_size": 128}}),
    ),
    "template_payloads": M(
        ETHER,
        ("IPv6", {"src": "2001:db8::1", "dst": "2001:db8::2", "hlim": "0x40"}),
        "UDP",
        (
            "Raw",
            {"load": {"vtype": "BYTES", "generate": "template_code", "template_code": "0xDE AD be ef", "size": 10}},
        ),
    ),
    "bytes_template": M(
        ("Raw", {"load": {"vtype": "BYTES", "generate": "template", "template_base64": "YWI=", "size": 5}})
    ),
    "dns": M(
        ETHER,
        "Dot1Q",
        ("IP", {"src": "10.0.0.1", "dst": "10.0.0.2"}),
        ("UDP", {"dport": "53"}),
        ("DNS", {"rd": 1, "qd": {"vtype": "EXPRESSION", "expr": "[DNSQR(qname='example.com')]"}}),
    ),
    "arp": M(
        ("Ether", {"dst": "ff:ff:ff:ff:ff:ff", "src": "00:11:22:33:44:55"}),
        ("ARP", {"op": "who-has", "hwsrc": "00:11:22:33:44:55", "psrc": "10.0.0.1", "pdst": "10.0.0.2"}),
    ),
    "random": M(
        ETHER, ("IP", {"src": {"vtype": "RANDOM"}, "dst": "10.0.0.2"}), ("TCP", {"sport": {"vtype": "RANDOM"}})
    ),
    "diverging": M(ETHER, ("TCP", {"sport": 1}), "IP"),
    "ip_first": M(
        ("IP", {"src": "10.0.0.1", "dst": "10.0.0.2"}), "GRE", ("IP", {"src": "1.1.1.1", "dst": "2.2.2.2"}), "ICMP"
    ),
    "bare_raw": M("Raw"),
    "icmpv6": V6,
    "vxlan": M(
        ETHER,
        ("IP", {"src": "10.0.0.1", "dst": "10.0.0.2"}),
        ("UDP", {"dport": 4789}),
        ("VXLAN", {"vni": 42}),
        ETHER,
        ("IP", {"src": "10.1.0.1", "dst": "10.1.0.2"}),
        "TCP",
    ),
}

PROGRAMS = {  # name -> (model, options, compiles without error)
    "ip_src": (
        REF,
        FE(
            I("STLVmFlowVar", name="ip_src", min_value="16.0.0.1", max_value="16.0.0.254", size="4", op="inc"),
            I("STLVmWrFlowVar", fv_name="ip_src", pkt_offset="IP.src"),
            I("STLVmFixIpv4", offset="IP"),
            cache_size="1000",
        ),
        True,
    ),
    "ttl_dec": (
        REF,
        FE(
            I("STLVmFlowVar", name="ttl", min_value="32", max_value="64", size="1", op="dec", step="4"),
            I("STLVmWrFlowVar", fv_name="ttl", pkt_offset="IP.ttl"),
        ),
        True,
    ),
    "mask": (
        REF,
        FE(
            I("STLVmFlowVar", name="m", min_value="1", max_value="30", size="2", op="dec"),
            I("STLVmWrMaskFlowVar", fv_name="m", pkt_offset="IP.id", pkt_cast_size="2", mask="0xff00", shift="8"),
            I("STLVmWrMaskFlowVar", fv_name="m", pkt_offset="11", pkt_cast_size="1", mask="0x1", shift="-1"),
        ),
        True,
    ),
    "trim": (
        REF,
        FE(
            I("STLVmFlowVar", name="sz", min_value="64", max_value="100", size="2", op="random"),
            I("STLVmTrimPktSize", fv_name="sz"),
            I("STLVmWrFlowVar", fv_name="sz", pkt_offset="IP.len", add_val="-14"),
            I("STLVmFixIpv4", offset="IP"),
            I("STLVmWrFlowVar", fv_name="sz", pkt_offset="UDP.len", add_val="-34"),
        ),
        True,
    ),
    "tuple": (
        REF,
        FE(
            I("STLVmTupleGen", name="t", ip_min="16.0.0.1", ip_max="16.0.0.2", flags="1"),
            I("STLVmWrFlowVar", fv_name="t.ip", pkt_offset="IP.src"),
            I("STLVmWrFlowVar", fv_name="t.port", pkt_offset="UDP.sport"),
        ),
        True,
    ),
    "repeatable_random": (
        REF,
        FE(
            I(
                "STLVmFlowVarRepeatableRandom",
                name="rr",
                size="2",
                limit="100",
                seed="5",
                min_value="1",
                max_value="1000",
            ),
            I("STLVmWrFlowVar", fv_name="rr", pkt_offset="UDP.sport"),
        ),
        True,
    ),
    "checksum_hw": (REF, FE(I("STLVmFixChecksumHw", l3_offset="IP", l4_offset="UDP", l4_type="11")), True),
    "icmpv6": (V6, FE(I("STLVmFixIcmpv6", l3_offset="IPv6", l4_offset="ICMPv6 Echo Request")), True),
    "chain": (
        REF,
        FE(
            I("STLVmFlowVar", name="a", min_value="1", max_value="5", size="1", next_var="b"),
            I("STLVmFlowVar", name="b", min_value="1", max_value="5", size="1"),
            I("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.ttl"),
            I("STLVmWrFlowVar", fv_name="b", pkt_offset="IP.tos"),
        ),
        True,
    ),
    "value_list": (
        REF,
        FE(
            I("STLVmFlowVar", name="v", size="2", value_list={"vtype": "EXPRESSION", "expr": "[1, 2, 3]"}),
            I("STLVmWrFlowVar", fv_name="v", pkt_offset="Ether.type", is_big="false"),
        ),
        True,
    ),
    "json_types": (
        REF,
        FE(
            I("STLVmFlowVar", name="a", min_value=1, max_value=9, size=1, step=2, op="inc"),
            I("STLVmWrFlowVar", fv_name="a", pkt_offset=22, is_big=True),
            cache_size=10,
        ),
        True,
    ),
    "empty": (REF, FE(), True),
    "unknown_instruction": (REF, FE(I("STLVmNope")), False),
    "bad_ipv4": (REF, FE(I("STLVmFlowVar", name="a", min_value="16.0.0.300")), False),
    "undefined_variable": (REF, FE(I("STLVmWrFlowVar", fv_name="nope", pkt_offset="IP.src")), False),
    "defined_twice": (REF, FE(I("STLVmFlowVar", name="a"), I("STLVmFlowVar", name="a")), False),
    "unknown_field": (
        REF,
        FE(I("STLVmFlowVar", name="a"), I("STLVmWrFlowVar", fv_name="a", pkt_offset="IP.nope")),
        False,
    ),
    "no_global_parameters": (REF, {"field_engine": {"instructions": []}}, False),
    "instructions_not_a_list": (REF, {"field_engine": {"instructions": {}, "global_parameters": {}}}, False),
    "field_engine_not_an_object": (REF, {"field_engine": "x"}, False),
    "options_not_an_object": (REF, "x", False),
}


def _compiled(name: str) -> dict:
    model, options, _ = PROGRAMS[name]
    return service.build_pkt_ex(model, options)


def cases() -> list[tuple[str, str, list]]:
    """(case id, method, params without handler) for everything but the corpus and templates."""
    md5 = service.get_all()
    ref_binary = service.build_pkt(REF)["binary"]
    sll = service.read_pcap(b64((CAPTURES / "sll.pcap").read_bytes()))[0]
    out: list[tuple[str, str, list]] = [
        ("version", "get_version", []),
        ("handler", "get_version_handler", ["1", "02"]),
        ("handler_numbers", "get_version_handler", [1, "01"]),
        ("all", "supported_methods", ["all"]),
        ("default", "supported_methods", []),
        ("one", "supported_methods", ["build_pkt"]),
        ("none", "supported_methods", ["simulate_vm"]),
        ("discover", "rpc.discover", []),
        ("all", "get_definitions", [None]),
        ("filter", "get_definitions", [["Ether", "IP", "TCP", "DNS"]]),
        ("ether", "get_payload_classes", [M("Ether")]),
        ("ip_udp", "get_payload_classes", [M("IP", "UDP")]),
        ("tree", "get_tree", []),
        ("all", "get_all", []),
        ("current", "check_update_of_dbs", [md5["db_md5"], md5["fields_md5"]]),
        ("seed_newline", "check_update", [md5["db_md5"] + "\n", md5["fields_md5"] + "\n"]),
        ("list", "get_templates", []),
        ("none", "reconstruct_pkt", [ref_binary]),
        ("null", "reconstruct_pkt", [ref_binary, None]),
        ("empty", "reconstruct_pkt", [ref_binary, []]),
        ("first_layer", "reconstruct_pkt", [ref_binary, M("Ether")]),
        (
            "edit",
            "reconstruct_pkt",
            [ref_binary, M("Ether", ("IP", {"ttl": 1, "chksum": None}), ("UDP", {"dport": "53"}))],
        ),
        ("delete", "reconstruct_pkt", [ref_binary, [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP", "delete": True}]]),
        ("delete_all", "reconstruct_pkt", [ref_binary, [{"id": "Ether", "delete": True}]]),
        ("append", "reconstruct_pkt", [ref_binary, M("Ether", "IP", "UDP", "Raw", ("Raw", {"load": "more"}))]),
        ("cooked", "reconstruct_pkt", [sll["binary"], [{"id": sll["data"][0]["id"]}]]),
        ("strings", "write_pcap", [[ref_binary, ref_binary]]),
        (
            "records",
            "write_pcap",
            [
                [
                    {"binary": ref_binary, "time": "1700000000.123456789", "wirelen": 100},
                    {"binary": ref_binary, "time": 1700000001.5, "linktype": 1},
                ]
            ],
        ),
        ("empty", "write_pcap", [[]]),
        ("cooked", "write_pcap", [[sll]]),
        (
            "round_trip",
            "read_pcap",
            [service.write_pcap([{"binary": ref_binary, "time": "1.000000001", "wirelen": 1000}])],
        ),
        (
            "round_trip",
            "read_pcap_summaries",
            [service.write_pcap([{"binary": ref_binary, "time": "1.000000001", "wirelen": 1000}])],
        ),
        ("cooked", "read_pcap_summaries", [b64((CAPTURES / "sll.pcap").read_bytes())]),
        ("no_options", "build_pkt_ex", [REF]),
        ("null_options", "build_pkt_ex", [REF, None]),
        ("no_field_engine", "build_pkt_ex", [REF, {}]),
    ]
    out += [(name, "build_pkt", [model]) for name, model in MODELS.items()]
    out += [(name, "build_pkt_ex", [model, options]) for name, (model, options, _) in PROGRAMS.items()]
    for name, (_, _, ok) in PROGRAMS.items():
        if ok:
            compiled = _compiled(name)
            out.append((name, "decompile_vm_raw", [compiled["binary"], compiled["field_engine"]["instructions"]]))
    out.append(
        ("stream_vm", "decompile_vm_raw", [ref_binary, {"vm": _compiled("ip_src")["field_engine"]["instructions"]}])
    )
    program = _compiled("ip_src")["field_engine"]["instructions"]
    out += [
        ("default", "simulate_vm", [ref_binary, program]),
        ("packets", "simulate_vm", [ref_binary, program, {"count": 40, "cores": 2, "random_seed": 7}]),
        ("pcap", "simulate_vm", [ref_binary, {"vm": program}, {"format": "pcap", "hw_checksum": "nic"}]),
    ]
    streams = [
        {"name": "s0", "model": REF, **PROGRAMS["ip_src"][1], "mode": {"type": "single_burst"}, "next": "s1"},
        {"name": "s1", "model": V6, "self_start": False, "mode": {"type": "multi_burst", "percentage": 5}},
        {
            "model": M("Ether", "IP", "UDP", "VXLAN"),
            **PROGRAMS["tuple"][1],
            "random_seed": 7,
            "mac_dst_override_mode": 2,
        },
    ]
    for fmt in ("python", "json", "yaml"):
        out.append((fmt, "export_profile", [streams, {"format": fmt}]))
        text = service.export_profile(streams, {"format": fmt})["text"]
        if fmt != "python":
            out.append((fmt, "import_profile", [text]))
            out.append((f"{fmt}_named", "import_profile", [text, {"format": fmt}]))
    gui = [{"name": "l1", "stream": {"packet": {"binary": ref_binary}, "flow_stats": {"enabled": True}}}]
    out.append(("gui_form", "import_profile", [orjson.dumps(gui).decode(), None]))
    out.append(("empty", "export_profile", [[], {"format": "yaml"}]))
    options = PROGRAMS["tuple"][1]
    for parameter in ("name", "fv_name", "pkt_offset", "offset", "l3_offset"):
        out.append((parameter, "load_instruction_parameter_values", [REF, options, parameter]))
    out.append(("bare_model", "load_instruction_parameter_values", [REF, options["field_engine"], "fv_name"]))
    out.append(
        ("repeated", "load_instruction_parameter_values", [M("Ether", "Dot1Q", "Dot1Q", "IP"), FE(), "pkt_offset"])
    )
    return out


CASES = cases()


def test_every_method_has_a_case() -> None:
    """A new method fails here until its replies are checked too (shut_down has its own test)."""
    covered = {method for _, method, _ in CASES} | {"get_template", "shut_down"}
    assert covered == set(service.METHODS)


def test_every_program_compiles_as_the_case_says() -> None:
    for name, (model, options, ok) in PROGRAMS.items():
        assert (service.build_pkt_ex(model, options)["field_engine"]["error"] is None) is ok, name


# Replies of seconds to validate (every protocol Scapy has): in the GUI's shape only.
ONE_SHAPE = {("get_definitions", "all"), ("get_all", "all")}


@pytest.mark.parametrize(("case", "method", "params"), CASES, ids=[f"{m}-{c}" for c, m, _ in CASES])
def test_replies_match_the_schemas(transport: Send, case: str, method: str, params: list) -> None:
    for shape in shapes(method)[:1] if (method, case) in ONE_SHAPE else shapes(method):
        call(transport, method, params, shape)


def test_named_parameters_give_the_same_replies(transport: Send) -> None:
    reply = transport(
        {
            "jsonrpc": "2.0",
            "id": "n",
            "method": "build_pkt_ex",
            "params": {"pkt_model_descriptor": REF, "extra_options": PROGRAMS["ip_src"][1]},
        }
    )
    check("build_pkt_ex", reply["result"])
    reply = transport({"jsonrpc": "2.0", "id": "n", "method": "rpc.discover", "params": {}})
    check("rpc.discover", reply["result"])


# ---------------------------------------------------------------- templates


TEMPLATE_IDS = [t["id"] for t in service.get_templates()]


def _program_for(model: list) -> dict:
    """A program that fits the template's packet: an IPv4 source range, else a MAC counter."""
    layers = [layer["id"] for layer in model]
    if "IP" in layers:
        return FE(
            I("STLVmFlowVar", name="src", min_value="10.0.0.1", max_value="10.0.0.50", size="4"),
            I("STLVmWrFlowVar", fv_name="src", pkt_offset="IP.src"),
            I("STLVmFixIpv4", offset="IP"),
            cache_size="100",
        )
    return FE(
        I("STLVmFlowVar", name="mac", min_value="1", max_value="200", size="1", op="random"),
        I("STLVmWrFlowVar", fv_name="mac", pkt_offset="Ether.src", offset_fixup="5"),
    )


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_template_and_its_packet_match_the_schemas(transport: Send, template_id: str) -> None:
    for shape in shapes("get_template"):
        text = call(transport, "get_template", [{"id": template_id}], shape)
    template = orjson.loads(base64.b64decode(text))
    errors = list(component_validator("TemplateDocument").iter_errors(template))
    assert not errors, errors[0].message
    shipped = {
        "field_engine": {"instructions": template["feInstructions"], "global_parameters": template["fePrarameters"]}
    }
    assert call(transport, "build_pkt_ex", [template["packet"], shipped])["field_engine"]["error"] is None
    built = call(transport, "build_pkt_ex", [template["packet"], _program_for(template["packet"])], "seed")
    assert built["field_engine"]["error"] is None
    decompiled = call(transport, "decompile_vm_raw", [built["binary"], built["field_engine"]["instructions"]])
    call(transport, "build_pkt_ex", [template["packet"], {"field_engine": decompiled}])
    call(transport, "reconstruct_pkt", [built["binary"], [{"id": template["packet"][0]["id"]}]], "seed")
    call(
        transport, "load_instruction_parameter_values", [template["packet"], {"field_engine": decompiled}, "pkt_offset"]
    )
    call(transport, "get_payload_classes", [template["packet"]])


# ---------------------------------------------------------------- the real-traffic corpus


def value_model(result: dict) -> list:
    """Every field the dissection holds, with its `value` (what the browser editor sends back)."""
    return [
        {
            "id": layer["id"],
            "fields": [{"id": f["id"], "value": f["value"]} for f in layer["fields"] if not f.get("ignored")],
        }
        for layer in result["data"]
    ]


def hvalue_model(result: dict) -> list:
    """Primitive fields as their `hvalue` text (the TRex GUI after an import), the others as their value."""
    return [
        {
            "id": layer["id"],
            "fields": [
                {"id": f["id"], "value": f["value"] if isinstance(f["value"], dict) else f["hvalue"]}
                for f in layer["fields"]
                if not f.get("ignored")
            ],
        }
        for layer in result["data"]
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_corpus_replies_match_the_schemas(transport: Send, request: pytest.FixtureRequest, path: Path) -> None:
    pcap = b64(path.read_bytes())
    packets = call(transport, "read_pcap", [pcap], "gui")
    assert packets == call(transport, "read_pcap", [pcap], "seed")
    stride = 1 if "in-process" in request.node.callspec.id else WIRE_STRIDE
    for index, packet in enumerate(packets[::stride]):
        shape = ("gui", "seed")[index % 2]
        first = [{"id": packet["data"][0]["id"]}]
        again = call(transport, "reconstruct_pkt", [packet["binary"], first], shape)
        assert again["binary"] == packet["binary"]
        call(transport, "build_pkt", [value_model(packet)], shape)
        if index % 4 == 0:
            call(transport, "build_pkt", [hvalue_model(packet)], shape)
    summaries = call(transport, "read_pcap_summaries", [pcap], "gui")
    assert [{k: s[k] for k in ("binary", "time", "linktype")} for s in summaries] == [
        {k: p[k] for k in ("binary", "time", "linktype")} for p in packets
    ]
    written = call(transport, "write_pcap", [packets], "seed")
    assert base64.b64decode(written)[24:] == path.read_bytes()[24:]
    call(transport, "write_pcap", [[p["binary"] for p in packets if p["linktype"] == packets[0]["linktype"]]])


# ---------------------------------------------------------------- shut_down


def test_shut_down_replies_match_the_schema_in_process() -> None:
    reply = rpc.handle(orjson.dumps({"jsonrpc": "2.0", "id": "s", "method": "shut_down"}))
    assert reply.shutdown
    check("shut_down", orjson.loads(reply.body)["result"])


def test_shut_down_replies_match_the_schema_over_the_wire() -> None:
    srv = ServerProcess(workers=1)
    try:
        with srv.client() as cli:
            check("shut_down", cli.request("shut_down"))
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.stop()
