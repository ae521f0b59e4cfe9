"""The OpenRPC document `rpc.discover` returns, and the method reference of docs/api.md.

The document is built from the method table (`service.METHODS`): every method it serves
is listed, with its parameters as `supported_methods` names them and as its signature
makes them required or optional, so a new method appears without being written here.
What a signature cannot say, each method's description and the schemas of its parameters
and result, is in `DOCS` below; the schemas themselves are in `schemas.py`. The method
reference in docs/api.md is rendered from the same document (`markdown`), so neither the
method list nor a description is written twice.

Positional parameters are listed without the version handler; `x-version-handler: true`
marks the methods that also take it as an optional first parameter (the GUI's call shape).
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from scapyrpc.packets import schemas
from scapyrpc.packets.profiles.streams import MAX_STREAMS
from scapyrpc.packets.schemas import ref
from scapyrpc.wire.jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SCAPY_ERROR,
    STANDARD_MESSAGES,
    SYNTAX_ERROR,
    UNKNOWN_ERROR,
)

__all__ = ["DOCS", "ERRORS", "HANDLER_EXTENSION", "MethodDoc", "Param", "Schema", "document", "replace_reference"]

OPENRPC_VERSION = "1.3.2"
HANDLER_EXTENSION = "x-version-handler"

# The error table of docs/api.md (Envelope and errors), by name; <...> stands for the detail.
ERRORS: dict[str, dict[str, Any]] = {
    **{
        name: {"code": code, "message": STANDARD_MESSAGES[code]}
        for name, code in (
            ("ParseError", PARSE_ERROR),
            ("InvalidRequest", INVALID_REQUEST),
            ("MethodNotFound", METHOD_NOT_FOUND),
            ("InvalidParams", INVALID_PARAMS),
        )
    },
    "SyntaxError": {"code": SYNTAX_ERROR, "message": "Syntax Error: <detail>"},
    "ServerError": {"code": SCAPY_ERROR, "message": "Scapy Server: <message>"},
    "UnknownError": {"code": UNKNOWN_ERROR, "message": "Scapy Server: Unknown Error"},
}
METHOD_ERRORS = ("InvalidParams", "ServerError")  # what any method may answer

Schema = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """A parameter or result: its schema and a short description."""

    schema: Schema
    description: str = ""


@dataclass(frozen=True)
class MethodDoc:
    """What the OpenRPC document says about a method besides its name and parameter names."""

    summary: str
    result: Param
    params: dict[str, Param] = field(default_factory=dict)
    description: str = ""
    errors: tuple[str, ...] = ()  # beyond METHOD_ERRORS
    deprecated: bool = False


_MODEL = Param(ref("PacketModel"), "The packet's layers.")

DOCS: dict[str, MethodDoc] = {
    "get_version": MethodDoc(
        "The API level and the server's version.",
        Param(ref("Version")),
        description="The first call of the handshake: the client splits `version` at the dot and passes the "
        "parts to get_version_handler.",
    ),
    "get_version_handler": MethodDoc(
        "The version handler for an API level.",
        Param(ref("Md5"), "base64(md5(major+minor+major+minor))."),
        {
            "client_v_major": Param({"type": ["string", "integer"]}, "The major level, as get_version gave it."),
            "client_v_minor": Param({"type": ["string", "integer"]}, "The minor level, as get_version gave it."),
        },
        "Clients pass the handler as the first parameter of later calls.",
    ),
    "supported_methods": MethodDoc(
        "The methods this server serves.",
        Param(ref("SupportedMethods")),
        {"method_name": Param({"type": "string"}, "`all`, or a method name.")},
        "Parameter counts and names are those of the call without the version handler.",
    ),
    "rpc.discover": MethodDoc(
        "This server's OpenRPC document.",
        Param(ref("OpenrpcDocument")),
        description="Every method with its parameters, and JSON Schemas (draft 7) of what they take and "
        "return; fixed for the life of the server.",
    ),
    "build_pkt": MethodDoc(
        "Build a packet from its layer model.",
        Param(ref("PacketResult")),
        {"pkt_model_descriptor": _MODEL},
        "The frame is built, dissected back and reported layer by layer, field by field.",
        ("SyntaxError",),
    ),
    "build_pkt_ex": MethodDoc(
        "build_pkt, and compile field-engine instructions for that packet.",
        Param(ref("PacketResultEx")),
        {
            "pkt_model_descriptor": _MODEL,
            "extra_options": Param(
                {"anyOf": [ref("ExtraOptions"), {"type": "null"}]}, "{field_engine: {instructions, global_parameters}}."
            ),
        },
        "Problems with the instructions do not fail the call: they are reported in `field_engine.error`.",
        ("SyntaxError",),
    ),
    "reconstruct_pkt": MethodDoc(
        "Dissect a frame and apply edits to it.",
        Param(ref("ReconstructResult")),
        {
            "binary_pkt_b64": Param(ref("Base64Input"), "The frame."),
            "model_descriptor": Param(
                {"anyOf": [ref("PacketModel"), {"type": "array", "maxItems": 0}, {"type": "null"}]},
                "Edits by depth; its first layer is the class to dissect as.",
            ),
        },
        "The bytes are dissected as the model's first layer (Ether without a model). Then, layer by layer: "
        "fields given are set, `delete: true` cuts the packet there (at depth 0: no packet), layers past the "
        "end are appended. A layer id that differs from the dissection's is an error.",
        ("SyntaxError",),
    ),
    "read_pcap": MethodDoc(
        "Read a pcap or pcapng file.",
        Param(ref("CapturedPackets")),
        {"pcap_base64": Param(ref("Base64Input"), "The file.")},
        "Each packet is dissected by its link type and keeps its capture record.",
    ),
    "read_pcap_summaries": MethodDoc(
        "Read a pcap or pcapng file as a packet list: one line per packet, not dissected.",
        Param(ref("PacketSummaries")),
        {"pcap_base64": Param(ref("Base64Input"), "The file.")},
        "Each packet keeps its bytes as in the file and its capture record, and says who sent it to whom, "
        "its protocol and a one-line summary; common headers are read without Scapy, so a capture of "
        "tens of thousands of packets is listed in a fraction of a second. A packet's full dissection is "
        "read_pcap's of that record alone. The same limits as read_pcap.",
    ),
    "write_pcap": MethodDoc(
        "Write packets into a pcap file.",
        Param(ref("Base64"), "The pcap file."),
        {
            "packets_base64": Param(
                {"type": "array", "items": {"anyOf": [ref("Base64Input"), ref("PacketRecord")]}},
                "Frames as base64 text, or with their capture records.",
            )
        },
        "All packets must share one link type. Times with more than 6 decimals make a nanosecond file.",
    ),
    "get_definitions": MethodDoc(
        "Protocol and field-engine metadata.",
        Param(ref("Definitions")),
        {
            "def_filter": Param(
                {"anyOf": [{"type": "null"}, ref("ClassNames")]},
                "Only these classes, in this order; null or []: every class.",
            )
        },
        "Computed once per process.",
    ),
    "get_payload_classes": MethodDoc(
        "The classes that can follow a model's last layer.",
        Param(ref("ClassNames"), "Most useful first, Raw last."),
        {"pkt_model_descriptor": Param(ref("PacketModel"), "Only the layer ids are read.")},
    ),
    "get_tree": MethodDoc("A suggested layer hierarchy.", Param(ref("Tree"))),
    "get_all": MethodDoc(
        "Every class with its fields, and the MD5s check_update_of_dbs compares.",
        Param(ref("ProtocolDatabase")),
        deprecated=True,
    ),
    "check_update_of_dbs": MethodDoc(
        "Whether a client's copy of get_all is current.",
        Param({"const": True}),
        {
            "db_md5": Param({"type": "string"}, "get_all's db_md5 (a trailing newline is ignored)."),
            "field_md5": Param({"type": "string"}, "get_all's fields_md5."),
        },
        "Not current: -32098 `Scapy Server: Fields DB is not up to date`, else "
        "`Scapy Server: Protocol DB is not up to date`.",
    ),
    "get_templates": MethodDoc("The packet templates the server ships.", Param(ref("Templates"))),
    "get_template": MethodDoc(
        "One template document.",
        Param(ref("TemplateFile")),
        {"template": Param(ref("TemplateRef"), "An id get_templates lists.")},
        "Only listed ids are found: nothing of the id is used as a file path.",
    ),
    "load_instruction_parameter_values": MethodDoc(
        "The choices an editor offers for a field-engine parameter.",
        Param(ref("ParameterChoices")),
        {
            "pkt_model_descriptor": _MODEL,
            "vm_instructions_model": Param(
                {"anyOf": [ref("ExtraOptions"), ref("FieldEngineModel")]}, "The instructions so far."
            ),
            "parameter_id": Param({"type": "string"}, "name, fv_name, pkt_offset or offset; others have none."),
        },
        "`name`: Class_field; `fv_name`: the variables the instructions define (Name.ip and Name.port of a "
        "tuple generator); `pkt_offset`: Class.field, or Class:i.field for a class the packet repeats; "
        "`offset`: IP:i for each IPv4 layer.",
        ("SyntaxError",),
    ),
    "decompile_vm_raw": MethodDoc(
        "Turn a compiled program back into field-engine instructions.",
        Param(ref("DecompiledProgram")),
        {
            "pkt_binary_base64": Param(ref("Base64Input"), "The stream's packet (only checked to be base64)."),
            "vm_raw": Param(ref("VmProgramInput"), "The compiled program."),
        },
        "The inverse of build_pkt_ex's field engine: the result compiles to the same program.",
    ),
    "simulate_vm": MethodDoc(
        "Run a compiled program as TRex's data plane: the packets the stream sends.",
        Param(ref("Simulation")),
        {
            "packet_b64": Param(ref("Base64Input"), "The stream's packet (padded to 60 bytes as TRex pads it)."),
            "vm_program": Param(ref("VmProgramInput"), "The compiled program, as build_pkt_ex returns it."),
            "options": Param(
                {"anyOf": [ref("SimulateOptions"), {"type": "null"}]}, "count, cores, random_seed, format, hw_checksum."
            ),
        },
        "Byte for byte like TRex's simulator (stl-sim) for one stream; a program that writes outside the "
        "packet or names an unknown variable is refused naming the instruction, packet and offset.",
    ),
    "export_profile": MethodDoc(
        "The editor's streams as a TRex STL profile: Python, JSON or YAML.",
        Param(ref("ExportedProfile")),
        {
            "streams": Param(
                {"type": "array", "items": ref("ProfileStream"), "maxItems": MAX_STREAMS},
                "The streams, in order: each a packet model, its Field Engine and TRex's stream settings.",
            ),
            "options": Param(ref("ExportOptions"), "{format: python, json or yaml}."),
        },
        "Each packet is built and its program compiled as build_pkt_ex does. JSON and YAML are TRex's stream "
        "format (STLProfile.to_json; load_json, load_yaml); Python is a profile TRex runs with its own Scapy "
        "(load_py). `notes` says what TRex will not load as written.",
        ("SyntaxError",),
    ),
    "import_profile": MethodDoc(
        "The streams of a TRex STL profile in JSON or YAML.",
        Param(ref("ImportedStreams")),
        {
            "text": Param({"type": "string"}, "The profile's text."),
            "options": Param(
                {"anyOf": [ref("ImportOptions"), {"type": "null"}]}, "{format: json or yaml}; detected without it."
            ),
        },
        "TRex's flat stream list or the stateless GUI's form (each stream under `stream:`). Packets are "
        "dissected as reconstruct_pkt does, programs decompiled as decompile_vm_raw does. Python profiles are "
        "code and are refused, with how to convert one.",
    ),
    "shut_down": MethodDoc(
        "Stop the server.",
        Param({"type": "string"}, "An acknowledgement."),
        description="The server replies, then stops cleanly. Honoured from this host (loopback or ipc peers); "
        "from others only with --allow-remote-shutdown.",
    ),
}


def _alias_of(name: str, methods: Mapping[str, Callable[..., Any]]) -> str | None:
    """The first documented method served by the same function as `name`, if any other."""
    for other, fn in methods.items():
        if other != name and other in DOCS and fn is methods[name]:
            return other
    return None


def _descriptor(name: str, param: Param, **extra: Any) -> dict[str, Any]:
    """An OpenRPC content descriptor."""
    out: dict[str, Any] = {"name": name}
    if param.description:
        out["description"] = param.description
    return {**out, **extra, "schema": param.schema}


def _method(name: str, methods: Mapping[str, Callable[..., Any]], handlerless: Collection[str]) -> dict[str, Any]:
    alias = None if name in DOCS else _alias_of(name, methods)
    doc = DOCS.get(alias or name) or MethodDoc("", Param({}))
    summary = f"Alias of {alias}: {doc.summary}" if alias else doc.summary
    params = []
    for pname, parameter in inspect.signature(methods[name]).parameters.items():
        described = doc.params.get(pname, Param({}))
        params.append(_descriptor(pname, described, required=parameter.default is inspect.Parameter.empty))
    out: dict[str, Any] = {"name": name, "summary": summary}
    if doc.description:
        out["description"] = doc.description
    out.update(
        {
            "params": params,
            "result": _descriptor("result", doc.result),
            "errors": [{"$ref": f"#/components/errors/{e}"} for e in (*METHOD_ERRORS, *doc.errors)],
            "paramStructure": "either",
            HANDLER_EXTENSION: name not in handlerless,
        }
    )
    if doc.deprecated:
        out["deprecated"] = True
    return out


def document(methods: Mapping[str, Callable[..., Any]], handlerless: Collection[str], version: str) -> dict[str, Any]:
    """The OpenRPC document of a server that serves `methods`; `handlerless` never take the handler."""
    return {
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "scapyrpc",
            "version": version,
            "description": "A TRex Scapy Server: JSON-RPC 2.0, one request per ZeroMQ REQ/REP frame. "
            f"Methods with {HANDLER_EXTENSION} take the version handler as an optional "
            "first positional parameter; params may also be an object of named parameters.",
        },
        "servers": [
            {
                "name": "default",
                "url": "tcp://127.0.0.1:4507",
                "description": "ZeroMQ REQ/REP; an HTTP gateway, when enabled, carries the same requests "
                "on POST /rpc and WebSocket /ws.",
            }
        ],
        "methods": [_method(name, methods, handlerless) for name in methods],
        "components": {"schemas": dict(schemas.schemas()), "errors": dict(ERRORS)},
    }


# ---------------------------------------------------------------- the method reference in docs/api.md

BEGIN = "<!-- BEGIN method reference: generated by `python -m scapyrpc.packets.openrpc docs/api.md` -->"
END = "<!-- END method reference -->"


def _link(reference: str) -> str:
    name = reference.rsplit("/", 1)[-1]
    return f"[{name}](#{name.lower()})"


def type_text(schema: Any) -> str:
    """A schema in a few words of Markdown: names link to their entries."""
    if not isinstance(schema, dict):
        return "any" if schema is True else "nothing"
    if "$ref" in schema:
        return _link(schema["$ref"])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kinds = schema.get("type")
    if kinds:
        return " or ".join(_kind_text(kind, schema) for kind in ([kinds] if isinstance(kinds, str) else kinds))
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return (" or " if key != "allOf" else " and ").join(type_text(alt) for alt in schema[key])
    return "any"


def _kind_text(kind: str, schema: Schema) -> str:
    if kind == "array":
        items = schema.get("items", {})
        if isinstance(items, list):
            return "[" + ", ".join(type_text(i) for i in items) + "]"
        return "empty array" if schema.get("maxItems") == 0 else f"array of {type_text(items)}"
    if kind != "object":
        return kind
    if "enum" in schema.get("propertyNames", {}):
        return "{" + ", ".join(f"{key}?" for key in schema["propertyNames"]["enum"]) + "}"
    if "properties" in schema:
        required = schema.get("required", ())
        return (
            "{"
            + ", ".join(
                f"{key}{'' if key in required else '?'}: {type_text(sub)}" for key, sub in schema["properties"].items()
            )
            + "}"
        )
    if isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_text(schema['additionalProperties'])}"
    return "object"


def _describe(text: str) -> str:
    return f": {text}" if text else ""


def _schema_entry(name: str, schema: Schema) -> list[str]:
    lines = [f"#### `{name}`", ""]
    if schema.get("description"):
        lines += [schema["description"], ""]
    if "properties" in schema and schema.get("type") == "object":
        for key, sub in schema["properties"].items():
            optional = "" if key in schema.get("required", ()) else ", optional"
            lines.append(f"- `{key}` ({type_text(sub)}{optional}){_describe(sub.get('description', ''))}")
    elif "anyOf" in schema or "oneOf" in schema:
        for alt in schema.get("anyOf") or schema["oneOf"]:
            lines.append(f"- {type_text(alt)}{_describe(alt.get('description', ''))}")
    else:
        lines.append(f"- {type_text(schema)}")
    return lines + [""]


def _method_entry(method: dict[str, Any]) -> list[str]:
    shown = ["h?"] if method[HANDLER_EXTENSION] else []
    shown += [p["name"] if p["required"] else p["name"] + "?" for p in method["params"]]
    lines = [
        f"#### `{method['name']}`",
        "",
        f"`{method['name']}({', '.join(shown)})` → {type_text(method['result']['schema'])}",
        "",
        method["summary"] + (" Deprecated." if method.get("deprecated") else ""),
    ]
    if method.get("description"):
        lines[-1] += " " + method["description"]
    lines.append("")
    for param in method["params"]:
        optional = "" if param["required"] else ", optional"
        description = _describe(param.get("description", ""))
        lines.append(f"- `{param['name']}` ({type_text(param['schema'])}{optional}){description}")
    result = method["result"]
    lines.append(f"- result ({type_text(result['schema'])}){_describe(result.get('description', ''))}")
    return lines + [""]


def markdown(doc: dict[str, Any]) -> str:
    """The method and schema reference of docs/api.md, between its markers."""
    lines = [BEGIN, "", "### Methods", ""]
    for method in doc["methods"]:
        lines += _method_entry(method)
    lines += ["### Schemas", ""]
    for name, schema in doc["components"]["schemas"].items():
        lines += _schema_entry(name, schema)
    return "\n".join(lines).rstrip("\n") + "\n\n" + END


def replace_reference(text: str, doc: dict[str, Any]) -> str:
    """`text` (docs/api.md) with its generated reference brought up to date."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError("the method reference markers are missing")
    return pattern.sub(lambda _: markdown(doc), text, count=1)


def main(argv: list[str]) -> int:
    """`python -m scapyrpc.packets.openrpc [FILE]`: rewrite FILE's reference, or print the document."""
    from scapyrpc.packets import service

    doc = service.rpc_discover()
    if not argv:
        print(json.dumps(doc, indent=2))
        return 0
    with open(argv[0], encoding="utf-8") as handle:
        text = handle.read()
    with open(argv[0], "w", encoding="utf-8") as handle:
        handle.write(replace_reference(text, doc))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
