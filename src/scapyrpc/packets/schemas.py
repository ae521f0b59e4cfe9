"""JSON Schemas of every value the methods take and return: the `components.schemas` of the
OpenRPC document (`openrpc.py`), and the shapes docs/api.md describes.

Draft 7, the dialect OpenRPC 1.2 and 1.3 prescribe for their schema objects. References
are `#/components/schemas/NAME`, so they resolve inside the OpenRPC document. Schemas are
Python data rather than JSON files so that what the code already knows (the field-engine
instructions and their parameters, the pcap bounds, the BYTES seed) is read from it, not
written again. Results are closed (`additionalProperties: false`): a key a reply gains or
loses is a change of the contract, which the tests catch. Inputs are closed too: keys the
server would ignore are not part of the contract.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from scapyrpc.packets.field_engine.instructions import CLASSES, Instruction
from scapyrpc.packets.field_engine.simulate import DEFAULT_COUNT, FORMATS, HW_CHECKSUMS, MAX_CORES
from scapyrpc.packets.field_engine.vm_program import U32
from scapyrpc.packets.pcap import MAX_LINKTYPE, MAX_SECONDS
from scapyrpc.packets.profiles import export, stream_json, streams, text_formats
from scapyrpc.packets.values_in import DEFAULT_SEED, FCS_BYTES

__all__ = ["Schema", "ref", "schemas"]

DRAFT = "http://json-schema.org/draft-07/schema#"
PREFIX = "#/components/schemas/"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """A reference to the component schema `name`."""
    return {"$ref": PREFIX + name}


def _d(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


def _obj(
    required: dict[str, Schema], optional: dict[str, Schema] | None = None, description: str = "", **extra: Any
) -> Schema:
    """A closed object with `required` and `optional` members."""
    out: Schema = {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
        **extra,
    }
    if description:
        out["description"] = description
    return out


def _array(items: Schema, description: str = "", **extra: Any) -> Schema:
    out: Schema = {"type": "array", "items": items, **extra}
    if description:
        out["description"] = description
    return out


def _const(value: Any) -> Schema:
    return {"const": value}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOLEAN: Schema = {"type": "boolean"}
ANY: Schema = {}
NUMBER_OR_TEXT: Schema = {"type": ["integer", "string"]}

# ---------------------------------------------------------------- scalars


def _scalars() -> dict[str, Schema]:
    return {
        "Base64": {
            "type": "string",
            "contentEncoding": "base64",
            "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
            "description": "Binary data as base64 text (RFC 4648, padded, no line breaks).",
        },
        "Base64Input": {
            "type": "string",
            "contentEncoding": "base64",
            "description": "Binary data as base64 text; white space is ignored.",
        },
        "Md5": {"type": "string", "pattern": "^[A-Za-z0-9+/]{22}==$", "description": "Base64 of an MD5 digest."},
        "ClassNames": _array(STRING, "Scapy class names.", uniqueItems=True),
    }


# ---------------------------------------------------------------- the packet model (input)


def _model() -> dict[str, Schema]:
    generators = ["random_bytes", "random_ascii", "template", "template_code"]
    size = _d(NUMBER_OR_TEXT, "Bytes to generate.")
    total = _d(NUMBER_OR_TEXT, f"Make the whole frame this long, counting the {FCS_BYTES}-byte FCS that is not sent.")
    return {
        "PacketModel": _array(ref("ModelLayer"), "The layers of a packet, outermost first.", minItems=1),
        "ModelLayer": _obj(
            {"id": _d(STRING, "A Scapy class name: Ether, IP, TCP, ...")},
            {
                "fields": {"type": ["array", "null"], "items": ref("ModelField")},
                "delete": _d(BOOLEAN, "reconstruct_pkt: cut the packet here."),
            },
            "One layer: its class and the fields the client sets.",
        ),
        "ModelField": _obj(
            {"id": _d(STRING, "The field's name in its Scapy class.")},
            {"value": ref("ModelValue")},
            description="A field the client sets.",
        ),
        "ModelValue": {
            "description": "A field value: a number, human text (empty text resets), null (reset), "
            "a list, or a value object.",
            "anyOf": [
                {"type": ["number", "string", "boolean", "null"]},
                _array(ref("ModelValue")),
                _obj({"vtype": _const("BYTES"), "base64": ref("Base64Input")}, description="Bytes."),
                ref("GeneratedBytes"),
                ref("ExpressionInput"),
                _obj(
                    {"vtype": {"enum": ["UNDEFINED", "RANDOM"]}},
                    description="UNDEFINED: Scapy computes the value; RANDOM: a random value.",
                ),
                _obj({"vtype": _const("OBJECT"), "value": ANY}, description="The JSON value as it is."),
                _obj(
                    {"vtype": _const("MACHINE"), "base64": ref("Base64Input")},
                    description="The field's machine form (Scapy's m2i): an address's wire bytes.",
                ),
            ],
        },
        "GeneratedBytes": _obj(
            {"vtype": _const("BYTES"), "generate": {"enum": generators}},
            {
                "size": size,
                "total_size": total,
                "seed": _d({"type": ["integer", "string", "null"]}, f"random_*: the seed (default {DEFAULT_SEED})."),
                "template_base64": _d(ref("Base64Input"), "template: bytes repeated and cut to size."),
                "template_code": _d(
                    STRING,
                    "template_code: hex digits repeated and cut to size "
                    "(spaces and 0x ignored); the size defaults to theirs.",
                ),
            },
            "Bytes generated by the server.",
            anyOf=[
                {"required": ["size"]},
                {"required": ["total_size"]},
                {"properties": {"generate": _const("template_code")}},
            ],
        ),
        "ExpressionValue": _obj(
            {"vtype": _const("EXPRESSION"), "expr": STRING},
            description="A value JSON cannot carry (options, packet lists), as Python-like text.",
        ),
        "ExpressionInput": _obj(
            {"vtype": _const("EXPRESSION"), "expr": {"anyOf": [STRING, _obj({"base64": ref("Base64Input")})]}},
            description="An EXPRESSION; `expr` may also be {base64} of UTF-8 text.",
        ),
    }


# ---------------------------------------------------------------- packet results (output)


def _packet_result(
    extra: dict[str, Schema], optional: dict[str, Schema] | None = None, description: str = ""
) -> Schema:
    return _obj(
        {
            "binary": _d(ref("Base64"), "The frame."),
            "data": _array(ref("PacketLayer"), "One entry per layer, outermost first.", minItems=1),
            **extra,
        },
        optional,
        description,
    )


def _results() -> dict[str, Schema]:
    return {
        "PacketResult": _packet_result({}, description="A packet: its bytes and its layers with their fields."),
        "PacketResultEx": _packet_result(
            {"field_engine": ref("FieldEngineResult")},
            description="A packet result with the compiled field-engine program.",
        ),
        "ReconstructResult": {
            "description": "A packet result; with the first layer deleted, no packet.",
            "anyOf": [ref("PacketResult"), _obj({"binary": {"type": "null"}, "data": _array(ANY, maxItems=0)})],
        },
        "PacketLayer": _obj(
            {
                "id": _d(STRING, "The Scapy class (Padding is shown as Raw)."),
                "name": _d(STRING, "The protocol's display name."),
                "offset": _d(COUNT, "Byte offset of the layer in the frame."),
                "real_id": _d(
                    {"type": ["string", "null"]},
                    "The class found at this depth when the frame is dissected back; null past a mismatch.",
                ),
                "valid_structure": _d(BOOLEAN, "Whether the model still matches the dissection at this depth."),
                "fields": _array(ref("PacketField"), "In the class's field order."),
            },
            {"padding": _d({"const": True}, "Present on a Padding layer (its id is Raw, as the GUI expects).")},
            description="One layer of a packet result.",
        ),
        "PacketField": _obj(
            {
                "id": STRING,
                "value": ref("PacketFieldValue"),
                "hvalue": _d(STRING, "Human text, accepted back as a model value for the same bytes."),
                "offset": _d(COUNT, "Byte offset in the layer (of the first byte, for a bit field)."),
                "length": _d(COUNT, "Length in bytes; 0 for a bit field."),
            },
            {
                "bit_offset": _d(
                    {"type": "integer", "minimum": 0, "maximum": 7},
                    "Bit fields: first bit in byte `offset`, 0 = most significant.",
                ),
                "bit_length": _d({"type": "integer", "minimum": 1}, "Bit fields: width in bits."),
                "ignored": _d(_const(True), "The frame does not carry this field."),
            },
            "A field with its value and its position.",
            dependencies={"bit_offset": ["bit_length"], "bit_length": ["bit_offset"]},
            **{"if": {"required": ["bit_length"]}, "then": {"properties": {"length": _const(0)}}},
        ),
        "PacketFieldValue": {
            "description": "A number, text, null, bytes or an expression.",
            "anyOf": [{"type": ["number", "string", "null"]}, ref("BytesValue"), ref("ExpressionValue")],
        },
        "BytesValue": _obj({"vtype": _const("BYTES"), "base64": ref("Base64")}, description="Bytes."),
        "CapturedPacket": _packet_result(
            {
                "time": _d(
                    {"type": ["string", "null"], "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                    "Capture time, seconds since the epoch as exact decimal text.",
                ),
                "linktype": _d(
                    {"type": "integer", "minimum": 0, "maximum": MAX_LINKTYPE},
                    "The link type its bytes were dissected by (1 Ethernet).",
                ),
            },
            {
                "wirelen": _d(
                    {"type": "integer", "minimum": 0, "maximum": MAX_SECONDS},
                    "Length on the wire, when the capture cut the packet short.",
                )
            },
            "A packet of a capture, with its record.",
        ),
        "CapturedPackets": _array(ref("CapturedPacket"), "Every packet of the capture, in order."),
        "PacketSummary": _obj(
            {
                "binary": _d(ref("Base64"), "The frame, as in the file."),
                "time": _d(
                    {"type": ["string", "null"], "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                    "Capture time, seconds since the epoch as exact decimal text.",
                ),
                "linktype": _d(
                    {"type": "integer", "minimum": 0, "maximum": MAX_LINKTYPE},
                    "The file's link type for it (1 Ethernet).",
                ),
                "length": _d(COUNT, "Bytes captured: the frame's length in the file."),
                "source": _d(
                    STRING, "The innermost network address it is from (a link address without one); may be empty."
                ),
                "destination": _d(
                    STRING, "The innermost network address it is to (a link address without one); may be empty."
                ),
                "protocol": _d(
                    STRING, "The innermost protocol named: ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6, DNS, ..."
                ),
                "summary": _d(STRING, "One line: ports, flags, sequence numbers, a question, a message type."),
            },
            {
                "wirelen": _d(
                    {"type": "integer", "minimum": 0, "maximum": MAX_SECONDS},
                    "Length on the wire, when the capture cut the packet short.",
                )
            },
            "A packet of a capture as a packet list shows it, with its record.",
        ),
        "PacketSummaries": _array(ref("PacketSummary"), "Every packet of the capture, in order."),
        "PacketRecord": _obj(
            {"binary": ref("Base64Input")},
            {
                "time": _d({"type": ["string", "number", "null"]}, "Seconds since the epoch; default: now."),
                "linktype": _d({"type": "integer", "minimum": 0, "maximum": MAX_LINKTYPE}, "Default 1 (Ethernet)."),
                "wirelen": _d({"type": ["integer", "null"], "maximum": MAX_SECONDS}, "At least the packet's length."),
                "data": _d(ANY, "Ignored: a read_pcap result may be sent back as it is."),
            },
            "A packet to write with its capture record.",
        ),
    }


# ---------------------------------------------------------------- field engine


def _instruction_model(cls: type[Instruction]) -> Schema:
    params = {
        "type": "object",
        "propertyNames": {"enum": list(cls.PARAMS)},
        "additionalProperties": ref("FeParameterValue"),
    }
    return _obj({"id": _const(cls.ID)}, {"parameters": {"anyOf": [params, {"type": "null"}]}})


def _vm(type_: str, required: dict[str, Schema], optional: dict[str, Schema] | None = None, **extra: Any) -> Schema:
    return _obj({"type": _const(type_), **required}, optional, **extra)


def _field_engine() -> dict[str, Schema]:
    name, size, unsigned = STRING, {"enum": [1, 2, 4, 8]}, COUNT
    chain = {"next_var": {"type": ["string", "null"]}, "split_to_cores": BOOLEAN}
    return {
        "ExtraOptions": _obj(
            {},
            {"field_engine": ref("FieldEngineModel")},
            "build_pkt_ex's options; without field_engine no program is compiled.",
        ),
        "FieldEngineModel": _obj(
            {
                "instructions": _array(ref("FeInstruction"), "In the order the client lists them."),
                "global_parameters": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "properties": {"cache_size": _d({"type": ["number", "string"]}, "Packets TRex caches (0: none).")},
                },
            },
            description="Field-engine instructions as the GUI edits them.",
        ),
        "FeInstruction": {
            "description": "One instruction: its TRex class and parameters.",
            "oneOf": [_instruction_model(cls) for cls in CLASSES.values()],
        },
        "FeParameterValue": {
            "description": "Text as the GUI sends it, a number, a boolean, null, a list or a value object."
        },
        "FieldEngineResult": _obj(
            {
                "instructions": ref("VmProgram"),
                "error": _d({"type": ["string", "null"]}, "Why the program could not be compiled."),
                "vm_instructions_expressions": _array(ANY, "Always empty.", maxItems=0),
                "warnings": _array(
                    _obj(
                        {
                            "instruction": _d(COUNT, "The instruction's index in the request's list."),
                            "message": _d(STRING, "What it will do wrong on TRex, naming the field it touches."),
                        }
                    ),
                    "Pre-flight warnings; empty with an error.",
                ),
                "error_detail": _d(
                    {
                        "oneOf": [
                            {"type": "null"},
                            _obj(
                                {
                                    "instruction": _d(
                                        {"type": ["integer", "null"], "minimum": 0},
                                        "The index in the request's list of the instruction at fault, if one is.",
                                    ),
                                    "message": _d(STRING, "The error said for a reader (`error` keeps TRex's words)."),
                                }
                            ),
                        ]
                    },
                    "With an error: where it is and what it means; null without one.",
                ),
            },
            description="The compiled program, or the error and an empty program.",
            **{
                "if": {"properties": {"error": STRING}},
                "then": {"properties": {"instructions": {"properties": {"instructions": {"maxItems": 0}}}}},
            },
        ),
        "VmProgram": _obj(
            {"instructions": _array(ref("VmInstruction"), "Flow variables first.")},
            {"cache": _d({"type": "integer", "minimum": 1}, "Present when cache_size > 0.")},
            "A compiled TRex VM program, as TRex's stream JSON holds it under `vm`.",
        ),
        "VmProgramInput": {
            "description": "A VmProgram, or a stream's {vm: VmProgram}.",
            "anyOf": [
                {
                    "type": "object",
                    "required": ["instructions"],
                    "properties": {
                        "instructions": _array({"type": "object", "required": ["type"]}),
                        "cache": {"type": ["integer", "null"]},
                        "split_by_var": ANY,
                    },
                },
                _obj({"vm": {"type": "object", "required": ["instructions"]}}),
            ],
        },
        "SimulateOptions": _obj(
            {},
            {
                "count": _d(
                    {"type": "integer", "minimum": 1},
                    f"Packets in all (default {DEFAULT_COUNT}, at most --max-simulated-packets).",
                ),
                "cores": _d(
                    {"type": "integer", "minimum": 1, "maximum": MAX_CORES},
                    "Data-plane cores whose packets are merged as TRex's simulator writes them (default 1).",
                ),
                "random_seed": _d(
                    {"type": "integer", "minimum": 0, "maximum": U32},
                    "The stream's random_seed (0: unpredictable, as TRex; the seed drawn is returned).",
                ),
                "format": _d({"enum": list(FORMATS)}, "packets (default) or pcap."),
                "hw_checksum": _d(
                    {"enum": list(HW_CHECKSUMS)},
                    "What fix_checksum_hw leaves: as TRex's simulator (default) or as a NIC would.",
                ),
            },
            "simulate_vm's options, all optional.",
        ),
        "Simulation": {
            "description": "The packets TRex sends for the stream, in order.",
            "oneOf": [
                _obj(
                    {"packets": _array(ref("Base64"), "One base64 packet each."), "random_seed": COUNT},
                    {"note": _d(STRING, "Says which seed was drawn for random_seed 0.")},
                ),
                _obj(
                    {"pcap": ref("Base64"), "random_seed": COUNT},
                    {"note": _d(STRING, "Says which seed was drawn for random_seed 0.")},
                ),
            ],
        },
        "VmInstruction": {
            "description": "One compiled instruction.",
            "oneOf": [
                _vm(
                    "flow_var",
                    {
                        "name": name,
                        "size": size,
                        "op": {"enum": ["inc", "dec", "random"]},
                        **chain,
                        "step": {"type": "integer", "minimum": 1},
                    },
                    {
                        "init_value": unsigned,
                        "min_value": unsigned,
                        "max_value": unsigned,
                        "value_list": _array(unsigned),
                    },
                    oneOf=[{"required": ["init_value", "min_value", "max_value"]}, {"required": ["value_list"]}],
                ),
                _vm(
                    "flow_var_rand_limit",
                    {
                        "name": name,
                        "size": size,
                        "limit": {"type": "integer", "minimum": 1},
                        "seed": INTEGER,
                        "min_value": unsigned,
                        "max_value": unsigned,
                        **chain,
                    },
                ),
                _vm(
                    "write_flow_var",
                    {"name": name, "pkt_offset": INTEGER, "add_value": INTEGER, "is_big_endian": BOOLEAN},
                ),
                _vm(
                    "write_mask_flow_var",
                    {
                        "name": name,
                        "pkt_offset": INTEGER,
                        "pkt_cast_size": {"enum": [1, 2, 4]},
                        "mask": INTEGER,
                        "shift": INTEGER,
                        "add_value": INTEGER,
                        "is_big_endian": BOOLEAN,
                    },
                ),
                _vm("fix_checksum_ipv4", {"pkt_offset": INTEGER}),
                _vm("fix_checksum_hw", {"l2_len": INTEGER, "l3_len": INTEGER, "l4_type": INTEGER}),
                _vm("fix_checksum_icmpv6", {"l2_len": INTEGER, "l3_len": INTEGER}),
                _vm("trim_pkt_size", {"name": name}),
                _vm(
                    "tuple_flow_var",
                    {
                        "name": name,
                        "ip_min": INTEGER,
                        "ip_max": INTEGER,
                        "port_min": INTEGER,
                        "port_max": INTEGER,
                        "limit_flows": INTEGER,
                        "flags": INTEGER,
                    },
                ),
            ],
        },
        "DecompiledProgram": {
            "description": "A FieldEngineModel that compiles back to the same program.",
            "allOf": [
                ref("FieldEngineModel"),
                {
                    "required": ["instructions", "global_parameters"],
                    "properties": {
                        "instructions": _array({"required": ["parameters"]}),
                        "global_parameters": {"type": "object", "properties": {"cache_size": INTEGER}},
                    },
                },
            ],
        },
        "ParameterChoices": _obj(
            {"map": {"type": "object", "additionalProperties": STRING}},
            description="Choices for a parameter, each mapped to itself.",
        ),
    }


# ---------------------------------------------------------------- definitions and templates


def _definitions() -> dict[str, Schema]:
    field_types = [
        "NUMBER",
        "ENUM",
        "BITMASK",
        "MAC_ADDRESS",
        "IP_ADDRESS",
        "BYTES",
        "EXPRESSION",
        "STRING",
        "IP_OPTIONS",
        "TCP_OPTIONS",
    ]
    bit = _obj({"name": STRING, "mask": COUNT, "values": _array(_obj({"name": STRING, "value": INTEGER}))})
    return {
        "Definitions": _obj(
            {
                "protocols": _array(ref("ProtocolDefinition")),
                "feInstructions": _array(
                    _obj(
                        {
                            "id": {"enum": list(CLASSES)},
                            "parameters": _array(STRING),
                            "help": _d(ref("Base64"), "UTF-8 help text."),
                        }
                    )
                ),
                "feInstructionParameters": _array(
                    _obj(
                        {"id": STRING, "name": STRING, "type": STRING},
                        {
                            "defaultValue": {"type": ["string", "integer"]},
                            "dict": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
                            "required": BOOLEAN,
                            "editable": BOOLEAN,
                            "autocomplete": BOOLEAN,
                        },
                    )
                ),
                "feParameters": _array(
                    _obj(
                        {"id": STRING, "name": STRING, "type": STRING},
                        {"defaultValue": {"type": ["string", "integer"]}},
                    )
                ),
                "feTemplates": _array(
                    _obj({"id": STRING, "name": STRING, "instructionIds": _array({"enum": list(CLASSES)})})
                ),
            },
            description="Protocol and field-engine metadata.",
        ),
        "ProtocolDefinition": _obj(
            {
                "id": STRING,
                "name": _d(STRING, "Display name."),
                "fields": _array(ref("FieldDefinition"), "In the class's field order."),
            },
            description="A Scapy packet class.",
        ),
        "FieldDefinition": _obj(
            {"id": STRING, "name": _d(STRING, "Display name."), "type": {"enum": field_types}},
            {
                "auto": _d(BOOLEAN, "true: Scapy computes the value when it is not set."),
                "min": INTEGER,
                "max": INTEGER,
                "regex": STRING,
                "values_dict": _d(
                    {"type": "object", "additionalProperties": {"type": ["integer", "string"]}}, "ENUM: name -> value."
                ),
                "bits": _d(_array(bit), "BITMASK: one entry per flag, most significant first."),
            },
            "A field of a packet class.",
        ),
        "Templates": _array(
            _obj({"id": _d(STRING, "A path such as IPv4/TCP."), "meta": _obj({"name": STRING, "description": STRING})}),
            "Sorted by id.",
        ),
        "TemplateRef": _obj({"id": STRING}, description="A template by its id."),
        "TemplateFile": {
            "type": "string",
            "contentEncoding": "base64",
            "contentMediaType": "application/json",
            "contentSchema": ref("TemplateDocument"),  # draft 2019-09's keyword; draft 7 ignores it
            "description": "Base64 of a TemplateDocument (UTF-8 JSON).",
        },
        "TemplateDocument": _obj(
            {
                "fileType": _const("trex-packet-editor"),
                "version": STRING,
                "metadata": _obj({"caption": STRING}, {"description": STRING}),
                "packet": ref("PacketModel"),
            },
            {
                "fePrarameters": _d({"type": "object"}, "Field-engine global parameters (the format's spelling)."),
                "feInstructions": _array(ref("FeInstruction")),
            },
            "A packet editor document (.trp).",
        ),
        "Tree": {
            "type": "object",
            "description": "A suggested layer hierarchy.",
            "additionalProperties": {"anyOf": [ref("Tree"), STRING]},
        },
        "ProtocolDatabase": _obj(
            {
                "db": _d(
                    {"type": "object", "additionalProperties": _array(_array(STRING, minItems=3, maxItems=3))},
                    "Class -> [field, field class, (default)].",
                ),
                "fields": {"type": "object", "additionalProperties": _const("empty")},
                "db_md5": ref("Md5"),
                "fields_md5": ref("Md5"),
            },
            description="get_all's view (deprecated).",
        ),
    }


# ---------------------------------------------------------------- profiles


def _profiles() -> dict[str, Schema]:
    name = _d({"type": ["string", "integer", "null"]}, "Text, or a number as in TRex's pcap profiles.")
    rates = {
        key: _d(
            {"type": "number", "exclusiveMinimum": 0, **({"maximum": 100} if key == "percentage" else {})},
            f"The rate in {key} (one rate at most; default pps 1).",
        )
        for key in streams.RATE_TYPES
    }
    pairs = [[a, b] for i, a in enumerate(streams.RATE_TYPES) for b in streams.RATE_TYPES[i + 1 :]]
    u32 = {"type": "integer", "maximum": streams.U32}
    mac_dst = {"enum": list(streams.MAC_DST_MODES)}
    settings = {
        "mode": _d(ref("StreamMode"), "How the stream sends (default: continuous, 1 pps)."),
        "isg": _d({"type": "number", "minimum": 0}, "Microseconds before the stream's first packet (default 0)."),
        "next": _d({"type": ["string", "integer", "null"]}, "The name of the stream to start when this one ends."),
        "self_start": _d(BOOLEAN, "false: only another stream's next starts it (default true)."),
        "random_seed": _d({**u32, "minimum": 0}, "The seed of the stream's random values (0: TRex seeds it)."),
        "mac_src_override_by_pkt": _d(
            BOOLEAN, "Send the packet's source MAC (true) or the port's; default: whether the model sets Ether.src."
        ),
        "mac_dst_override_mode": _d(
            mac_dst, "Destination MAC: 0 the port's, 1 the packet's, 2 by ARP; default: 1 if the model sets Ether.dst."
        ),
    }
    # null stands for the default where the exporter reads it so (the editor may clear a setting)
    nullable = {
        key: _d({"anyOf": [settings[key], {"type": "null"}]}, settings[key].get("description", ""))
        for key in ("mode", "random_seed", "mac_src_override_by_pkt", "mac_dst_override_mode")
    }
    return {
        "StreamMode": _obj(
            {},
            {
                "type": _d(
                    {"enum": list(streams.MODE_TYPES)},
                    "TRex's STLTXCont, STLTXSingleBurst, STLTXMultiBurst (default continuous).",
                ),
                **rates,
                "total_pkts": _d({**u32, "minimum": 1}, "single_burst: packets to send (default 1)."),
                "pkts_per_burst": _d({**u32, "minimum": 1}, "multi_burst: packets a burst (default 1)."),
                "ibg": _d({"type": "number", "minimum": 0}, "multi_burst: microseconds between bursts (default 0)."),
                "count": _d({**u32, "minimum": 0}, "multi_burst: bursts (default 1)."),
            },
            "How a stream sends; keys of the other types are not read.",
            **{"not": {"anyOf": [{"required": pair} for pair in pairs]}},
        ),
        "ProfileStream": _obj(
            {"model": _d(ref("PacketModel"), "The packet, as build_pkt takes it.")},
            {
                "name": name,
                "field_engine": _d({"anyOf": [ref("FieldEngineModel"), {"type": "null"}]}, "As build_pkt_ex takes it."),
                **settings,
                **nullable,
                **{
                    key: _d(ANY, "Ignored: import_profile's streams can be sent back as they are.")
                    for key in export.IGNORED_KEYS
                },
            },
            "One stream to export: its packet, its Field Engine and TRex's stream settings.",
        ),
        "ExportOptions": _obj(
            {"format": {"enum": list(text_formats.FORMATS)}}, description="export_profile's options."
        ),
        "ExportedProfile": _obj(
            {"text": _d(STRING, "The profile: a Python file, or TRex's stream list as JSON or YAML.")},
            {
                "notes": _d(
                    _array(STRING, minItems=1),
                    "What TRex will not load as written: packet parts written as bytes for its Scapy, "
                    "values its JSON and YAML loader does not read.",
                )
            },
            "The profile's text.",
        ),
        "ImportOptions": _obj(
            {}, {"format": {"enum": list(text_formats.FORMATS)}}, "import_profile's options; without format, detected."
        ),
        "ImportedStream": _obj(
            {
                "name": name,
                "binary": _d(ref("Base64"), "The stream's packet."),
                "model": _d(
                    _array(ref("PacketLayer"), minItems=1), "The packet dissected, as reconstruct_pkt's `data`."
                ),
                "field_engine": _d(ref("DecompiledProgram"), "The program, as decompile_vm_raw gives it."),
                **settings,
                "dropped": _d(
                    _array({"enum": list(stream_json.DROPPABLE)}, uniqueItems=True),
                    "TRex stream settings of the file that are not their defaults and are not carried.",
                ),
            },
            description="A stream of an imported profile, as export_profile takes it back.",
        ),
        "ImportedStreams": _array(
            ref("ImportedStream"), "The profile's streams, in order.", maxItems=streams.MAX_STREAMS
        ),
    }


# ---------------------------------------------------------------- the handshake and the server


def _server() -> dict[str, Schema]:
    return {
        "Version": _obj(
            {
                "version": _d({"type": "string", "pattern": r"^[0-9]+\.[0-9]+$"}, "The API level, major.minor."),
                "built_by": _d(STRING, "The server and its version."),
            },
            description="get_version's reply.",
        ),
        "SupportedMethods": {
            "description": "All: name -> [parameter count, parameter names]; one name: whether it exists.",
            "anyOf": [
                {
                    "type": "object",
                    "additionalProperties": {
                        "type": "array",
                        "minItems": 2,
                        "maxItems": 2,
                        "items": [COUNT, _array(STRING)],
                    },
                },
                BOOLEAN,
            ],
        },
        "OpenrpcDocument": _openrpc_document(),
    }


def _openrpc_document() -> Schema:
    """The OpenRPC 1.2/1.3 document's shape, as far as this server fills it in."""
    extensions = {"^x-": ANY}

    def closed(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
        return {**_obj(required, optional), "patternProperties": extensions}

    descriptor = closed(
        {"name": {"type": "string", "minLength": 1}, "schema": {"type": ["object", "boolean"]}},
        {"summary": STRING, "description": STRING, "required": BOOLEAN, "deprecated": BOOLEAN},
    )
    reference = _obj({"$ref": STRING})
    either = {"anyOf": [reference, descriptor]}
    error = _obj({"code": INTEGER, "message": STRING}, {"data": ANY})
    method = closed(
        {"name": {"type": "string", "minLength": 1}, "params": _array(either), "result": either},
        {
            "summary": STRING,
            "description": STRING,
            "deprecated": BOOLEAN,
            "errors": _array({"anyOf": [reference, error]}),
            "paramStructure": {"enum": ["by-name", "by-position", "either"]},
            "tags": _array(ANY),
            "examples": _array(ANY),
            "links": _array(ANY),
        },
    )
    return _d(
        closed(
            {
                "openrpc": {"type": "string", "pattern": r"^1\.[23]\.[0-9]+$"},
                "info": closed({"title": STRING, "version": STRING}, {"description": STRING}),
                "methods": _array(method),
            },
            {
                "servers": _array(closed({"url": STRING}, {"name": STRING, "description": STRING, "summary": STRING})),
                "components": closed(
                    {},
                    {
                        "schemas": {"type": "object", "additionalProperties": {"type": "object"}},
                        "errors": {"type": "object", "additionalProperties": error},
                    },
                ),
            },
        ),
        "An OpenRPC document describing this server.",
    )


@cache
def schemas() -> dict[str, Schema]:
    """Every component schema by name, built once per process."""
    return {
        **_scalars(),
        **_model(),
        **_results(),
        **_field_engine(),
        **_profiles(),
        **_definitions(),
        **_server(),
    }
