"""What every exported profile must be, checked the same way wherever one is made.

`round_trip(streams)`: the JSON and YAML exports hold build_pkt_ex's bytes and program for each
stream, and import_profile gives them back (bytes, a model that builds them, a field engine that
compiles to the program). `check_python(text, expected)`: the Python export parses, uses no name
outside TRex's STL API, Scapy's classes and its own, and each stream's packet expression, read by
the project's own safe evaluator, gives the bytes, and its instructions compile to the program.
"""

from __future__ import annotations

import ast
import base64
import json
from typing import Any

import yaml

from scapyrpc.packets import dissect, field_engine, registry, service
from scapyrpc.packets.expressions import scapy_dialect
from scapyrpc.packets.field_engine.instructions import CLASSES

registry.load()

STL_API = frozenset({"STLStream", "STLPktBuilder", "STLScVmRaw", "STLTXCont", "STLTXSingleBurst", "STLTXMultiBurst"})
PYTHON_NAMES = frozenset({"object"})  # the builtins a profile may name


def expected(stream: dict) -> tuple[bytes, dict]:
    """build_pkt_ex's bytes and program for an export_profile stream."""
    options = {"field_engine": stream["field_engine"]} if stream.get("field_engine") is not None else None
    result = service.build_pkt_ex(stream["model"], options)
    assert result["field_engine"]["error"] is None, result["field_engine"]["error"]
    return base64.b64decode(result["binary"]), result["field_engine"]["instructions"]


def round_trip(streams: list[dict]) -> list[dict]:
    """Export as JSON and YAML, check both, import both back; the YAML import is returned."""
    wanted = [expected(stream) for stream in streams]
    imported: list[dict] = []
    for fmt, load in (("json", json.loads), ("yaml", yaml.safe_load)):
        text = service.export_profile(streams, {"format": fmt})["text"]
        data = load(text)
        assert [base64.b64decode(s["packet"]["binary"]) for s in data] == [b for b, _ in wanted]
        assert [s["vm"] for s in data] == [p for _, p in wanted]
        imported = service.import_profile(text)
        assert service.import_profile(text, {"format": fmt}) == imported
        for (binary, program), got in zip(wanted, imported, strict=True):
            assert base64.b64decode(got["binary"]) == binary
            again = service.build_pkt_ex(got["model"], {"field_engine": got["field_engine"]})
            assert base64.b64decode(again["binary"]) == binary
            assert again["field_engine"]["instructions"] == program, again["field_engine"]["error"]
    return imported


def check_python(text: str, wanted: list[tuple[bytes, dict]]) -> None:
    """The Python export: TRex's shape, known names only, and each stream's bytes and program."""
    tree = ast.parse(text)
    assert [node.names[0].name for node in tree.body if isinstance(node, ast.ImportFrom)][0] == "*"
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.module == "trex_stl_lib.api" or node.module.startswith("scapy."), node.module
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert len(classes) == 1 and any(
        isinstance(f, ast.FunctionDef) and f.name == "get_streams" for f in classes[0].body
    )
    assert any(isinstance(node, ast.FunctionDef) and node.name == "register" for node in tree.body)
    bound = {node.name for node in ast.walk(tree) if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    bound |= {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments) for arg in node.args}
    bound |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    bound |= {
        alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    known = STL_API | set(CLASSES) | set(registry.registry()) | set(scapy_dialect._tables().asn1) | PYTHON_NAMES
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    assert used <= known | bound, used - known - bound
    methods = [f for f in classes[0].body if isinstance(f, ast.FunctionDef) and f.name.startswith("stream_")]
    assert len(methods) == len(wanted)
    for method, (binary, program) in zip(methods, wanted):
        values = {node.targets[0].id: node.value for node in method.body if isinstance(node, ast.Assign)}
        pkt = scapy_dialect.evaluate(ast.unparse(values["packet"]))
        assert bytes(pkt) == binary, ast.unparse(values["packet"])[:500]
        compiled = field_engine.compile_for_packet(pkt, dissect.packet_result(pkt), {"field_engine": _fe(values["vm"])})
        assert compiled["error"] is None and compiled["instructions"] == program, compiled


def _fe(vm: ast.expr) -> dict[str, Any]:
    """The field-engine model an `STLScVmRaw([...], cache_size=N)` call stands for."""
    assert isinstance(vm, ast.Call) and isinstance(vm.func, ast.Name) and vm.func.id == "STLScVmRaw"
    instructions = [
        {"id": call.func.id, "parameters": {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}}
        for call in vm.args[0].elts
    ]
    gp = {kw.arg: ast.literal_eval(kw.value) for kw in vm.keywords}
    return {"instructions": instructions, "global_parameters": {"cache_size": gp["cache_size"]} if gp else {}}


def python_round_trip(streams: list[dict]) -> str:
    """Export as Python and check it; the text."""
    text = service.export_profile(streams, {"format": "python"})["text"]
    check_python(text, [expected(stream) for stream in streams])
    return text
