"""rpc.discover and docs/api.md: the OpenRPC document is built from the method table, its
schemas are valid JSON Schema (draft 7, as OpenRPC prescribes) and strict enough to catch a
wrong shape, and docs/api.md's reference, examples and limits are those of the server.

Real replies of every method against these schemas: tests/worker/test_openrpc_replies.py.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from scapyrpc.config.options import BrokerConfig, Limits, WorkerConfig
from scapyrpc.packets import openrpc, schemas, service
from scapyrpc.packets.field_engine.decompile import _CONVERTERS
from scapyrpc.packets.field_engine.instructions import CLASSES
from scapyrpc.wire import contract
from scapyrpc.worker import rpc

from conftest import GUI_HANDLER, ServerProcess

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT / "docs" / "api.md"
DOC = service.rpc_discover()
COMPONENTS = DOC["components"]["schemas"]


def validator(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator({"$ref": f"#/components/schemas/{name}", "components": DOC["components"]})


def request(method: str, params: Any = None, request_id: Any = "1") -> dict:
    message: dict = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return orjson.loads(rpc.handle(orjson.dumps(message)).body)


def refs(value: Any) -> Iterator[str]:
    """Every reference in `value` (a member named `$ref` whose value is text)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


# ---------------------------------------------------------------- the document


def test_the_document_has_the_openrpc_shape() -> None:
    errors = list(validator("OpenrpcDocument").iter_errors(DOC))
    assert not errors, errors[0].message
    assert DOC["openrpc"].startswith("1.3.") and DOC["info"]["title"] == "scapyrpc"
    assert json.loads(json.dumps(DOC)) == DOC  # plain JSON: no tuples or other Python values


def test_the_methods_are_the_method_table() -> None:
    """Names in the order supported_methods gives them, parameters as it names and counts them."""
    supported = service.supported_methods("all")
    assert [m["name"] for m in DOC["methods"]] == list(supported) == list(service.METHODS)
    for method in DOC["methods"]:
        name, params = method["name"], method["params"]
        assert [p["name"] for p in params] == list(service.METHOD_PARAMS[name]) == supported[name][1]
        assert len(params) == supported[name][0]
        signature = inspect.signature(service.METHODS[name]).parameters
        assert [p["required"] for p in params] == [s.default is inspect.Parameter.empty for s in signature.values()]
        assert method[openrpc.HANDLER_EXTENSION] is (name not in contract.HANDLERLESS)
        assert method["paramStructure"] == "either"


def test_every_method_is_described() -> None:
    """A method without a description, or one whose parameters changed, fails here."""
    assert set(openrpc.DOCS) <= set(service.METHODS)
    for method in DOC["methods"]:
        assert method["summary"], method["name"]
        assert method["result"]["schema"], method["name"]
        for param in method["params"]:
            assert param["schema"] and param.get("description"), (method["name"], param["name"])
    for name, doc in openrpc.DOCS.items():
        assert list(doc.params) == list(service.METHOD_PARAMS[name]), name
    assert DOC["methods"][list(service.METHODS).index("check_update")]["summary"].startswith(
        "Alias of check_update_of_dbs"
    )


def test_a_new_method_appears_by_itself() -> None:
    def brand_new(packet: str, program: dict, options: dict | None = None) -> dict:
        return {}

    doc = openrpc.document({**service.METHODS, "brand_new": brand_new}, contract.HANDLERLESS, "0")
    method = doc["methods"][-1]
    assert method["name"] == "brand_new" and method[openrpc.HANDLER_EXTENSION] is True
    assert [(p["name"], p["required"]) for p in method["params"]] == [
        ("packet", True),
        ("program", True),
        ("options", False),
    ]


def test_every_schema_is_a_valid_draft7_schema() -> None:
    for name, schema in COMPONENTS.items():
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema.get("description"), f"{name} has no description"
    for method in DOC["methods"]:
        for descriptor in (*method["params"], method["result"]):
            jsonschema.Draft7Validator.check_schema(descriptor["schema"])


def test_every_reference_resolves_and_every_schema_is_used() -> None:
    used = set()
    for target in refs(DOC):
        pointer = target.removeprefix("#/").split("/")
        node: Any = DOC
        for part in pointer:
            node = node[part]
        assert isinstance(node, dict), target
        used.add(pointer[-1])
    assert set(COMPONENTS) <= used, set(COMPONENTS) - used
    assert set(openrpc.ERRORS) - {"ParseError", "InvalidRequest", "MethodNotFound", "UnknownError"} <= used


def test_the_schemas_follow_the_code() -> None:
    """Instruction ids and parameters, compiled instruction types: read from the code, complete."""
    alternatives = COMPONENTS["FeInstruction"]["oneOf"]
    assert [a["properties"]["id"]["const"] for a in alternatives] == list(CLASSES)
    for alternative, cls in zip(alternatives, CLASSES.values()):
        names = alternative["properties"]["parameters"]["anyOf"][0]["propertyNames"]["enum"]
        assert names == list(cls.PARAMS)
    types = [a["properties"]["type"]["const"] for a in COMPONENTS["VmInstruction"]["oneOf"]]
    assert sorted(types) == sorted(_CONVERTERS)
    assert schemas.schemas() is schemas.schemas()


def test_the_document_is_built_once_and_served_as_it_is() -> None:
    assert service.rpc_discover() is DOC
    assert request("rpc.discover")["result"] == DOC
    assert request("rpc.discover", [])["result"] == DOC
    assert request("rpc.discover", {})["result"] == DOC


def test_rpc_discover_is_handlerless_like_get_version() -> None:
    for method in ("rpc.discover", "get_version"):
        assert request(method, [GUI_HANDLER])["error"] == {"code": -32603, "message": "Invalid params"}
    assert request("supported_methods", ["rpc.discover"])["result"] is True
    assert service.supported_methods("all")["rpc.discover"] == [0, []]


def test_scapyrpc_call_rpc_discover_prints_the_document(server: ServerProcess) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scapyrpc", "call", "rpc.discover", "-e", server.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == DOC


# ---------------------------------------------------------------- strict enough to catch a wrong shape


def _ex_reply() -> dict:
    model = [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}]
    program = {
        "field_engine": {
            "instructions": [
                {"id": "STLVmFlowVar", "parameters": {"name": "a", "min_value": "1", "max_value": "9", "size": "1"}},
                {"id": "STLVmWrFlowVar", "parameters": {"fv_name": "a", "pkt_offset": "IP.ttl"}},
            ],
            "global_parameters": {"cache_size": "5"},
        }
    }
    return service.build_pkt_ex(model, program)


def _drop(path: str) -> Callable[[Any], None]:
    *parents, last = path.split(".")

    def mutate(value: Any) -> None:
        for part in parents:
            value = value[int(part)] if part.isdigit() else value[part]
        del value[int(last) if last.isdigit() else last]

    return mutate


def _set(path: str, new: Any) -> Callable[[Any], None]:
    *parents, last = path.split(".")

    def mutate(value: Any) -> None:
        for part in parents:
            value = value[int(part)] if part.isdigit() else value[part]
        value[int(last) if last.isdigit() else last] = new

    return mutate


WRONG = [  # (schema, what, how a real reply is spoilt)
    ("PacketResultEx", "no field_engine.error", _drop("field_engine.error")),
    ("PacketResultEx", "instructions as a bare list", _set("field_engine.instructions", [])),
    ("PacketResultEx", "an error with a program", _set("field_engine.error", "boom")),
    ("PacketResultEx", "no vm_instructions_expressions", _drop("field_engine.vm_instructions_expressions")),
    ("PacketResultEx", "an unknown compiled instruction", _set("field_engine.instructions.instructions.0.type", "x")),
    ("PacketResultEx", "a flow var without its range", _drop("field_engine.instructions.instructions.0.min_value")),
    ("PacketResultEx", "cache 0", _set("field_engine.instructions.cache", 0)),
    ("PacketResult", "a build_pkt_ex reply", _set("field_engine", {})),
    ("PacketResult", "binary not base64", _set("binary", "not base64!")),
    ("PacketResult", "no layers", _set("data", [])),
    ("PacketResult", "a layer without real_id", _drop("data.1.real_id")),
    ("PacketResult", "a layer with an extra key", _set("data.1.extra", 1)),
    ("PacketResult", "a field without hvalue", _drop("data.1.fields.0.hvalue")),
    ("PacketResult", "a number as hvalue", _set("data.1.fields.0.hvalue", 4)),
    ("PacketResult", "a bit field with a length", _set("data.1.fields.0.length", 1)),
    ("PacketResult", "a bit offset without its length", _drop("data.1.fields.0.bit_length")),
    ("PacketResult", "a negative offset", _set("data.1.offset", -1)),
    ("PacketResult", "bytes without base64", _set("data.1.fields.12.value", {"vtype": "BYTES"})),
    ("PacketResult", "ignored: false", _set("data.1.fields.0.ignored", False)),
]


@pytest.mark.parametrize(("name", "what", "spoil"), WRONG, ids=[w[1] for w in WRONG])
def test_the_schemas_catch_a_wrong_shape(name: str, what: str, spoil: Callable[[Any], None]) -> None:
    reply = _ex_reply()
    if name == "PacketResult":
        del reply["field_engine"]
    assert validator(name).is_valid(reply)  # the real reply is valid
    spoilt = copy.deepcopy(reply)
    spoil(spoilt)
    assert not validator(name).is_valid(spoilt), what


def test_the_other_results_catch_a_wrong_shape() -> None:
    pcap = service.write_pcap([service.build_pkt([{"id": "Ether"}])["binary"]])
    packet = service.read_pcap(pcap)[0]
    assert validator("CapturedPacket").is_valid(packet)
    assert not validator("CapturedPacket").is_valid({k: v for k, v in packet.items() if k != "linktype"})
    assert not validator("CapturedPacket").is_valid({**packet, "time": 1.5})
    decompiled = service.decompile_vm_raw(pcap, _ex_reply()["field_engine"]["instructions"])
    assert validator("DecompiledProgram").is_valid(decompiled)
    assert not validator("DecompiledProgram").is_valid(
        {**decompiled, "instructions": [{"id": "STLVmNope", "parameters": {}}]}
    )
    assert not validator("DecompiledProgram").is_valid(
        {**decompiled, "instructions": [{"id": "STLVmFixIpv4", "parameters": {"nope": 1}}]}
    )
    assert not validator("DecompiledProgram").is_valid({"instructions": decompiled["instructions"]})
    definitions = service.get_definitions(["TCP"])
    assert validator("Definitions").is_valid(definitions)
    assert not validator("Definitions").is_valid(
        {**definitions, "feInstructions": [{**definitions["feInstructions"][0], "help": "not base64!"}]}
    )
    field = {**definitions["protocols"][0]["fields"][0], "type": "FLOAT"}
    assert not validator("Definitions").is_valid(
        {**definitions, "protocols": [{**definitions["protocols"][0], "fields": [field]}]}
    )
    assert not validator("ParameterChoices").is_valid({"map": {"a": 1}})
    assert not validator("Version").is_valid({"version": "1", "built_by": "x"})


# ---------------------------------------------------------------- docs/api.md


def api_md() -> str:
    return API_MD.read_text(encoding="utf-8")


def test_the_reference_in_docs_is_generated_from_the_document() -> None:
    assert openrpc.replace_reference(api_md(), DOC) == api_md(), (
        "docs/api.md is out of date: run `python -m scapyrpc.packets.openrpc docs/api.md`"
    )


def examples(text: str) -> list[tuple[str, str]]:
    """(request, reply) texts of the `-->` / `<--` examples in fenced text blocks."""
    pairs: list[tuple[str, str]] = []
    for block in re.findall(r"```text\n(.*?)```", text, re.DOTALL):
        messages: list[list[str]] = []
        for line in block.splitlines():
            if line.startswith(("-->", "<--")):
                messages.append([line[:3], line[3:]])
            elif line.strip() and messages:
                messages[-1][1] += line
        for sent, answered in zip(messages[::2], messages[1::2]):
            assert (sent[0], answered[0]) == ("-->", "<--"), block
            pairs.append((sent[1], answered[1]))
    return pairs


ELIDED = "..."


def matches(expected: Any, actual: Any) -> bool:
    """`actual` is what `expected` shows, where "..." stands for text left out (docs/api.md)."""
    if expected == ELIDED:
        return True
    if isinstance(expected, str) and expected.endswith(ELIDED):
        return isinstance(actual, str) and actual.startswith(expected[: -len(ELIDED)])
    if isinstance(expected, list):
        if expected and expected[-1] == ELIDED:
            head = expected[:-1]
            return isinstance(actual, list) and len(actual) >= len(head) and all(map(matches, head, actual))
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(matches, expected, actual))
    if isinstance(expected, dict):
        keys = set(expected) - {ELIDED}
        if not isinstance(actual, dict) or not keys <= set(actual) or (ELIDED not in expected and set(actual) != keys):
            return False
        return all(matches(expected[k], actual[k]) for k in keys)
    return type(expected) is type(actual) and expected == actual


EXAMPLES = examples(api_md())


def test_docs_have_examples_of_every_kind_of_call() -> None:
    methods = {json.loads(sent)["method"] for sent, _ in EXAMPLES}
    assert len(EXAMPLES) >= 20 and {"get_version", "build_pkt", "build_pkt_ex", "rpc.discover"} <= methods


@pytest.mark.parametrize(("sent", "answered"), EXAMPLES, ids=[json.loads(s)["method"] for s, _ in EXAMPLES])
def test_the_examples_in_docs_are_what_the_server_answers(sent: str, answered: str) -> None:
    reply = orjson.loads(rpc.handle(sent.encode()).body)
    assert matches(json.loads(answered), reply), json.dumps(reply)[:3000]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, re.MULTILINE)}


def test_the_error_table_in_docs_is_the_documents() -> None:
    rows = re.findall(r"^\| (-32\d\d\d) \| `([^`]+)` \|", api_md(), re.MULTILINE)
    assert sorted((int(code), message) for code, message in rows) == sorted(
        (e["code"], e["message"]) for e in openrpc.ERRORS.values()
    )


def test_the_links_in_docs_resolve() -> None:
    text = api_md()
    headings = [slug(h) for h in re.findall(r"^#+ (.*)$", text, re.MULTILINE)]
    assert len(headings) == len(set(headings)), "two headings share an anchor"
    for target, anchor in re.findall(r"\]\(([^)#]*)(?:#([^)]*))?\)", text):
        if target.startswith("http"):
            continue
        path = API_MD.parent / target if target else API_MD
        assert path.resolve().is_relative_to(ROOT) and path.exists(), target
        if anchor:
            assert anchor in anchors(path.read_text(encoding="utf-8")), f"{target}#{anchor}"


def test_docs_cite_nothing_outside_the_repository() -> None:
    text = api_md()
    assert "shared/" not in text and "API.md" not in text  # links: test_the_links_in_docs_resolve
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/api.md" in readme and "shared/spec" not in readme


_UNITS = {"MiB": 1024 * 1024, "KiB": 1024, "MB": 1, "s": 1}


def test_the_limits_in_docs_are_the_defaults() -> None:
    defaults = {}
    for config in (Limits(), WorkerConfig(), BrokerConfig()):
        defaults.update({f"--{name.replace('_', '-')}": value for name, value in vars(config).items()})
    rows = re.findall(r"^\| [^|]+ \| ([^|]+) \| `(--[a-z-]+)` \|$", api_md(), re.MULTILINE)
    assert len(rows) >= 10
    for shown, option in rows:
        number, _, unit = shown.strip().partition(" ")
        assert float(number) * _UNITS.get(unit, 1) == defaults[option], option
