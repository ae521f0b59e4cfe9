"""What a hostile client can send, as hypothesis strategies (the wire fuzz, test_wire_fuzz.py).

Every strategy draws request *bytes* (or frames), never Python objects the test
would serialise the friendly way: ids of every JSON type, keys in any order,
numbers past 64 bits, text with lone surrogates, bytes that are not UTF-8.
Packet models use real layer and field names (Scapy's registry, as the server
loads it) mixed with invented ones; field-engine programs use the instruction
and parameter names `get_definitions` serves.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from hypothesis import strategies as st

from scapyrpc.config.options import BrokerConfig
from scapyrpc.packets import field_engine, registry, service
from scapyrpc.wire import contract

registry.load()
REGISTRY = registry.registry()
LAYER_NAMES = sorted(REGISTRY)
COMMON_LAYERS = [
    "Ether",
    "Dot1Q",
    "IP",
    "IPv6",
    "TCP",
    "UDP",
    "ICMP",
    "ARP",
    "Raw",
    "DNS",
    "DNSQR",
    "GRE",
    "VXLAN",
    "MPLS",
    "ICMPv6EchoRequest",
    "IPv6ExtHdrRouting",
    "BOOTP",
    "DHCP",
    "LLC",
    "SNAP",
    "Padding",
]
FIELD_NAMES = {name: [f.name for f in getattr(cls, "fields_desc", ())] for name, cls in REGISTRY.items()}
FE = field_engine.definitions()
FE_INSTRUCTIONS = {i["id"]: i["parameters"] for i in FE["feInstructions"]}
FE_PARAMETERS = {p["id"]: p for p in FE["feInstructionParameters"]}
FE_GLOBALS = [p["id"] for p in FE["feParameters"]]
HANDLER = min(contract.VALID_HANDLERS)
# every method but the one that stops the server
METHODS = sorted(set(service.METHODS) - {"shut_down"})
MAX_FRAMES = BrokerConfig().max_frames


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of `choices`, each drawn in proportion to its weight (`st.one_of` flattens nested unions
    and drops repeated branches, so it weighs every leaf strategy alike)."""
    indexes = [i for i, (weight, _) in enumerate(choices) for _ in range(weight)]
    return st.sampled_from(indexes).flatmap(lambda i: choices[i][1])


def one_in(draw: st.DrawFn, n: int) -> bool:
    """True about once in `n` draws (hypothesis favours the low end of a range, not the high one)."""
    return draw(st.integers(1, n)) == n


def dumps(value: Any, ascii_only: bool = True) -> bytes:
    """JSON text as Python's json writes it: integers past 64 bits exact; a lone surrogate escaped,
    or (`ascii_only=False`) written as the three bytes UTF-8 forbids."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- JSON values

TEXT = st.text(max_size=12) | st.sampled_from(["", "id", "2.0", "\x00", "é", "\U0001f600"])
# text a client cannot send as UTF-8 JSON: lone surrogates (escaped by `dumps`, or raw bytes)
SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\udbff", "x\ud800\ud800"])
NUMBERS = (
    st.integers(-(2**63), 2**63 - 1) | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False, allow_infinity=False)
)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)
ANY_TEXT = TEXT | SURROGATES
ANY_JSON = st.recursive(
    SCALARS | SURROGATES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


# ---------------------------------------------------------------- envelopes


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    """A request object whose members are mostly right, each one sometimes missing or of any type
    (ids of every JSON type), in any order, sometimes with extra members."""
    members: dict[str, Any] = {}
    if not one_in(draw, 10):
        members["jsonrpc"] = draw(
            weighted((8, st.just("2.0")), (1, st.sampled_from(["1.0", "2", "2.00", ""])), (1, SCALARS))
        )
    if not one_in(draw, 6):
        members["id"] = draw(
            weighted(
                (4, st.text(max_size=8) | NUMBERS),
                (1, SCALARS | SURROGATES | st.lists(SCALARS, max_size=2) | st.dictionaries(TEXT, SCALARS, max_size=2)),
            )
        )
    if not one_in(draw, 10):
        members["method"] = draw(
            weighted(
                (8, st.sampled_from(METHODS)),
                (1, st.sampled_from(["", "get_version ", "__init__", "test_raise", "Shut_down"])),
                (1, ANY_TEXT | SCALARS),
            )
        )
    if not one_in(draw, 6):
        args = draw(st.lists(weighted((6, JSON), (1, ANY_JSON)), max_size=4))
        members["params"] = draw(
            weighted(
                (3, st.just([HANDLER, *args])),
                (3, st.just(args)),
                (1, st.dictionaries(TEXT, JSON, max_size=3) | SCALARS),
            )
        )
    if one_in(draw, 5):
        members[draw(ANY_TEXT)] = draw(SCALARS)
    keys = draw(st.permutations(list(members)))
    return dumps({key: members[key] for key in keys}, draw(st.booleans()))


def call(method: str, *params: Any, request_id: Any = "f") -> bytes:
    """A request in the GUI shape (handler first) for the methods that take one."""
    args = list(params) if method in contract.HANDLERLESS else [HANDLER, *params]
    return dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": args})


# ---------------------------------------------------------------- packet models

BYTES_B64 = st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())
EXPRESSION_TEXT = st.deferred(lambda: _expression())


def _expression() -> st.SearchStrategy[str]:
    atoms = (
        st.integers(-(2**300), 2**300).map(str)
        | st.floats(allow_nan=False).map(repr)
        | st.sampled_from(
            [
                "None",
                "True",
                "False",
                "b''",
                "b'\\x00\\xff'",
                "'a'",
                "''",
                "'1.2.3.4'",
                "1e999",
                "__import__",
                "os",
                "open",
                "eval",
                "x",
                "()",
                "[]",
                "{}",
                "...",
                "0x10",
                "0o7",
                "'MSS'",
                "'NOP'",
                "('MSS', 1460)",
                "('NOP', None)",
                "('SAckOK', b'')",
            ]
        )
        | st.sampled_from(LAYER_NAMES)
        | st.text(max_size=6).map(repr)
    )
    names = st.sampled_from(
        [
            "IPOption_SSRR",
            "IPOption_RR",
            "TCP",
            "IP",
            "Ether",
            "Raw",
            "DNSRR",
            "ASN1_OID",
            "ASN1_INTEGER",
            "list",
            "range",
            "len",
            "getattr",
            "type",
        ]
    ) | st.sampled_from(LAYER_NAMES)

    def compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        seq = st.lists(inner, max_size=4)
        return (
            seq.map(lambda xs: "[" + ", ".join(xs) + "]")
            | seq.map(lambda xs: "(" + ", ".join(xs) + ",)")
            | st.lists(st.tuples(inner, inner), max_size=3).map(
                lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
            )
            | st.tuples(
                names,
                seq,
                st.lists(
                    st.tuples(st.sampled_from(["copy_flag", "routers", "load", "ttl", "src", "x"]), inner), max_size=2
                ),
            ).map(lambda t: f"{t[0]}({', '.join([*t[1], *(f'{k}={v}' for k, v in t[2])])})")
            | st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "<<", "|", "//", "%", ".", "["]), inner).map(
                lambda t: f"{t[0]} {t[1]} {t[2]}"
            )
            | inner.map(lambda x: f"-{x}")
            | inner.map(lambda x: f"[{x} for x in y]")
            | inner.map(lambda x: f"lambda: {x}")
            | inner.map(lambda x: f"{x}.__class__")
            | st.tuples(inner, st.sampled_from([10, 1000, 100_000, 10**9])).map(lambda t: f"[{t[0]}] * {t[1]}")
        )

    return st.recursive(atoms, compound, max_leaves=10) | st.text(max_size=40)


VALUE_OBJECTS = (
    st.sampled_from(
        [{"vtype": v} for v in ("UNDEFINED", "RANDOM", "BYTES", "EXPRESSION", "OBJECT", "MACHINE", "?", "undefined")]
    )
    | st.builds(lambda b: {"vtype": "BYTES", "base64": b}, BYTES_B64 | TEXT)
    | st.builds(lambda m: {"vtype": "MACHINE", "base64": m}, BYTES_B64 | TEXT)
    | st.builds(lambda e: {"vtype": "EXPRESSION", "expr": e}, EXPRESSION_TEXT | SCALARS)
    | st.builds(lambda v: {"vtype": "OBJECT", "value": v}, JSON)
    | st.builds(
        lambda gen, key, size, extra: {"vtype": "BYTES", "generate": gen, key: size, **extra},
        st.sampled_from(["random_bytes", "random_ascii", "template", "template_code", "?"]) | SCALARS,
        st.sampled_from(["size", "total_size"]),
        st.integers(-5, 3000) | st.sampled_from([2**20, 2**20 + 1, 2**40]) | SCALARS,
        st.fixed_dictionaries(
            {},
            optional={
                "seed": st.integers(-(2**70), 2**70) | SCALARS,
                "template_base64": BYTES_B64 | TEXT,
                "template_code": st.sampled_from(["0xDE AD be ef", "0x", "zz", "00 " * 40]) | TEXT,
            },
        ),
    )
    | st.builds(lambda v: {"vtype": v}, SCALARS)
    | st.dictionaries(st.sampled_from(["vtype", "base64", "expr", "value", "generate", "size"]), JSON, max_size=3)
)
HUMAN_VALUES = (
    st.sampled_from(
        [
            "IPv4",
            "IPv6",
            "ARP",
            "n_802_1Q",
            "tcp",
            "udp",
            "https",
            "S",
            "SA",
            "DF",
            "MF+DF",
            "0x10",
            "0xffffffffffffffffffff",
            "-1",
            "1.2.3.4",
            "::1",
            "ff:ff:ff:ff:ff:ff",
            "00:11:22:33:44:55",
            "dummy",
            "<binary>",
            "1.5",
            "1e3",
            "",
        ]
    )
    | TEXT
    | NUMBERS.map(str)
)
FIELD_VALUES = weighted((2, NUMBERS), (3, HUMAN_VALUES), (4, VALUE_OBJECTS), (1, JSON))


@st.composite
def layer(draw: st.DrawFn) -> Any:
    """One model layer: a real class name (often a common one), or not; real field names, or not."""
    name = draw(weighted((3, st.sampled_from(COMMON_LAYERS)), (2, st.sampled_from(LAYER_NAMES)), (1, TEXT | SCALARS)))
    known = FIELD_NAMES.get(name) if isinstance(name, str) else None
    field_ids = (st.sampled_from(known) if known else st.nothing()) | st.sampled_from(["load", "x", "", "id"]) | TEXT
    entry = weighted(
        (6, st.fixed_dictionaries({"id": field_ids, "value": FIELD_VALUES})),
        (1, st.dictionaries(TEXT, JSON, max_size=2)),
    )
    members: dict[str, Any] = {"id": name}
    if draw(st.booleans()):
        members["fields"] = draw(weighted((9, st.lists(entry, max_size=4)), (1, JSON)))
    if one_in(draw, 5):
        members["delete"] = draw(SCALARS)
    if one_in(draw, 10):
        members = draw(st.dictionaries(TEXT, JSON, max_size=3) | JSON)
    return members


MODELS = weighted((8, st.lists(layer(), min_size=1, max_size=5)), (1, JSON))


@st.composite
def packet_requests(draw: st.DrawFn) -> bytes:
    """A request of the methods that take a packet model, with a random model."""
    method = draw(
        st.sampled_from(
            ["build_pkt", "build_pkt_ex", "reconstruct_pkt", "get_payload_classes", "load_instruction_parameter_values"]
        )
    )
    model = draw(MODELS)
    if method == "build_pkt_ex":
        params = [model, draw(field_engine_options() | JSON)]
    elif method == "reconstruct_pkt":
        params = [draw(BYTES_B64 | st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()) | TEXT), model]
    elif method == "load_instruction_parameter_values":
        params = [
            model,
            draw(st.fixed_dictionaries({"instructions": instructions()}) | JSON),
            draw(st.sampled_from(list(FE_PARAMETERS)) | TEXT | SCALARS),
        ]
    else:
        params = [model]
    if one_in(draw, 20):
        params.pop()  # a parameter short (optional for some methods)
    return call(method, *params, request_id=draw(TEXT | NUMBERS))


# ---------------------------------------------------------------- field-engine programs

FE_VARIABLES = st.sampled_from(["a", "b", "ip_src", "tuple.ip", "tuple.port", "t.ip", ""])
FE_OFFSETS = (
    st.sampled_from(
        [
            "IP.src",
            "IP.dst",
            "IP.ttl",
            "IP:1.dst",
            "Ether.dst",
            "UDP.sport",
            "TCP.dport",
            "IPv6.src",
            "IP.nope",
            "Nope.src",
            "IP",
            "UDP",
            "Ether",
            "0",
            "14",
            "-1",
            ".",
            "IP:99.src",
        ]
    )
    | st.integers(-(2**33), 2**33)
    | TEXT
)


def fe_value(parameter: str) -> st.SearchStrategy[Any]:
    """Values for one field-engine parameter: its own choices and kinds mostly, then anything."""
    meta = FE_PARAMETERS.get(parameter, {})
    own = [st.sampled_from(list(meta["dict"]))] if meta.get("dict") else []
    if parameter in ("name", "fv_name"):
        own.append(FE_VARIABLES)
    if parameter in ("pkt_offset", "offset", "l3_offset", "l4_offset"):
        own.append(FE_OFFSETS)
    if meta.get("type") == "EXPRESSION":
        own.append(EXPRESSION_TEXT)
    common = st.sampled_from(
        [
            "16.0.0.1",
            "16.0.0.254",
            "255.255.255.255",
            "00:00:00:00:00:01",
            "0x10",
            "0xffffffffffffffff",
            "1",
            "0",
            "-1",
            "4",
            "65535",
            "true",
            "false",
            "None",
            "[1, 2, 3]",
            "range(0, 10)",
            "2**64",
            "",
        ]
    )
    anything = NUMBERS | st.booleans() | st.lists(NUMBERS, max_size=5) | TEXT | JSON
    return weighted(*([(4, st.one_of(own))] if own else []), (3, common), (1, anything))


@st.composite
def instructions(draw: st.DrawFn) -> list:
    """A list of instructions: known ids with most of their own parameters, mostly; anything, sometimes."""
    out: list[Any] = []
    for _ in range(draw(st.integers(0, 5))):
        instr = draw(weighted((8, st.sampled_from(sorted(FE_INSTRUCTIONS))), (1, TEXT)))
        chosen = [name for name in FE_INSTRUCTIONS.get(instr, []) if not one_in(draw, 4)]
        if one_in(draw, 5):
            chosen.append(draw(st.sampled_from(sorted(FE_PARAMETERS)) | TEXT))
        entry: Any = {"id": instr, "parameters": {name: draw(fe_value(name)) for name in chosen}}
        if one_in(draw, 10):
            entry = draw(JSON)
        out.append(entry)
    return out


@st.composite
def field_engine_options(draw: st.DrawFn) -> Any:
    """The third parameter of build_pkt_ex, as the GUI shapes it, with holes."""
    program: dict[str, Any] = {"instructions": draw(instructions())}
    if not one_in(draw, 8):
        program["global_parameters"] = draw(
            weighted(
                (6, st.dictionaries(st.sampled_from(FE_GLOBALS), fe_value("cache_size"), max_size=1)),
                (1, st.dictionaries(TEXT, JSON, max_size=2) | JSON),
            )
        )
    return program if one_in(draw, 10) else {"field_engine": program}


FE_MODELS = weighted(
    (
        4,
        st.sampled_from(
            [
                [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}, {"id": "Raw"}],
                [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}],
                [{"id": "Ether"}, {"id": "IPv6"}, {"id": "UDP"}],
                [{"id": "Ether"}, {"id": "Dot1Q"}, {"id": "IP"}, {"id": "IP"}, {"id": "ICMP"}],
            ]
        ),
    ),
    (1, st.lists(layer(), min_size=1, max_size=3)),
)


@st.composite
def field_engine_requests(draw: st.DrawFn) -> bytes:
    """build_pkt_ex with a random program on a (mostly) real packet, or decompile_vm_raw or
    simulate_vm of a compiled program with its members changed."""
    if not one_in(draw, 4):
        return call("build_pkt_ex", draw(FE_MODELS), draw(field_engine_options()))
    program = draw(st.sampled_from(COMPILED))
    mutated = json.loads(json.dumps(program))
    for _ in range(draw(st.integers(1, 3))):
        steps = mutated.get("instructions")
        steps = steps if isinstance(steps, list) else []
        target = draw(st.sampled_from([mutated, *steps]))
        if not isinstance(target, dict):
            continue
        key = draw(st.sampled_from(sorted(target) or ["type"]) | TEXT)
        if not one_in(draw, 5):
            target[key] = draw(
                JSON
                | NUMBERS
                | st.sampled_from(["flow_var", "write_flow_var", "fix_checksum_ipv4", "inc", "dec", "random"])
            )
        else:
            target.pop(key, None)
    packet = draw(st.sampled_from([PACKET_B64, ""]) | TEXT)
    if one_in(draw, 2):
        return call("decompile_vm_raw", packet, mutated)
    return call("simulate_vm", packet, mutated, draw(SIMULATE_OPTIONS))


# simulate_vm options: its own names and kinds mostly, small counts (a fuzz request must stay cheap)
SIMULATE_OPTIONS = (
    st.fixed_dictionaries(
        {},
        optional={
            "count": st.integers(-2, 40) | JSON,
            "cores": st.integers(-1, 4) | JSON,
            "random_seed": st.integers(-1, 2**32) | JSON,
            "format": st.sampled_from(["packets", "pcap"]) | JSON,
            "hw_checksum": st.sampled_from(["simulator", "nic"]) | JSON,
        },
    )
    | JSON
)


def _compiled_programs() -> list[dict]:
    """Compiled VM programs of a few GUI programs, built in process, for decompile_vm_raw to start from."""
    model = [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}, {"id": "Raw"}]
    programs = [
        [
            {
                "id": "STLVmFlowVar",
                "parameters": {
                    "name": "a",
                    "min_value": "16.0.0.1",
                    "max_value": "16.0.0.9",
                    "size": "4",
                    "op": "inc",
                    "step": "1",
                },
            },
            {"id": "STLVmWrFlowVar", "parameters": {"fv_name": "a", "pkt_offset": "IP.src"}},
            {"id": "STLVmFixIpv4", "parameters": {"offset": "IP"}},
        ],
        [
            {
                "id": "STLVmFlowVarRepeatableRandom",
                "parameters": {
                    "name": "r",
                    "size": "2",
                    "min_value": "1",
                    "max_value": "100",
                    "limit": "5",
                    "seed": "7",
                },
            },
            {
                "id": "STLVmWrMaskFlowVar",
                "parameters": {"fv_name": "r", "pkt_offset": "UDP.sport", "pkt_cast_size": "2", "mask": "0xff"},
            },
            {"id": "STLVmTrimPktSize", "parameters": {"fv_name": "r"}},
        ],
        [
            {
                "id": "STLVmTupleGen",
                "parameters": {
                    "name": "t",
                    "ip_min": "16.0.0.1",
                    "ip_max": "16.0.0.4",
                    "port_min": "1025",
                    "port_max": "1030",
                },
            },
            {"id": "STLVmWrFlowVar", "parameters": {"fv_name": "t.ip", "pkt_offset": "IP.src"}},
            {"id": "STLVmFixChecksumHw", "parameters": {"l3_offset": "IP", "l4_offset": "UDP", "l4_type": "11"}},
        ],
    ]
    out = []
    for instrs in programs:
        result = service.build_pkt_ex(
            model, {"field_engine": {"instructions": instrs, "global_parameters": {"cache_size": "10"}}}
        )
        fe = result["field_engine"]
        assert fe["error"] is None, fe["error"]
        out.append(fe["instructions"])
    return out


COMPILED = _compiled_programs()
PACKET_B64 = service.build_pkt([{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}, {"id": "Raw"}])["binary"]


# ---------------------------------------------------------------- pcap files

FRAMES = st.sampled_from([base64.b64decode(PACKET_B64), b"", b"\x00" * 60]) | st.binary(max_size=120)


@st.composite
def pcap_files(draw: st.DrawFn) -> bytes:
    """pcap (all four magics) with valid or lying record headers, pcapng blocks, truncations, junk."""
    kind = draw(st.sampled_from(["pcap", "pcap", "pcapng", "junk"]))
    if kind == "junk":
        data = draw(st.binary(max_size=200))
    elif kind == "pcap":
        magic = draw(st.sampled_from([0xA1B2C3D4, 0xA1B23C4D]))
        endian = draw(st.sampled_from(["<", ">"]))
        linktype = draw(st.sampled_from([1, 0, 101, 113, 228, 105, 127]) | st.integers(0, 2**32 - 1))
        snaplen = draw(st.sampled_from([65535, 0, 2**32 - 1]) | st.integers(0, 2**32 - 1))
        data = struct.pack(endian + "IHHiIII", magic, 2, draw(st.sampled_from([4, 0, 99])), 0, 0, snaplen, linktype)
        for frame in draw(st.lists(FRAMES, max_size=4)):
            incl = draw(st.just(len(frame)) | st.integers(0, 2**32 - 1))
            orig = draw(st.just(len(frame)) | st.integers(0, 2**32 - 1))
            data += (
                struct.pack(
                    endian + "IIII", draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1)), incl, orig
                )
                + frame
            )
    else:
        data = _pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        for _ in range(draw(st.integers(0, 2))):
            data += _pcapng_block(
                1,
                struct.pack(
                    "<HHI",
                    draw(st.sampled_from([1, 101, 0]) | st.integers(0, 65535)),
                    0,
                    draw(st.integers(0, 2**32 - 1)),
                ),
            )
        for frame in draw(st.lists(FRAMES, max_size=3)):
            block_type = draw(st.sampled_from([6, 3, 2, 5, 0x0BAD]))
            captured = draw(st.just(len(frame)) | st.integers(0, 2**32 - 1))
            body = struct.pack("<IIIII", draw(st.integers(0, 3)), 0, 0, captured, len(frame)) + frame
            data += _pcapng_block(block_type, body, draw(st.none() | st.integers(0, 2**32 - 1)))
    if one_in(draw, 4):
        data = data[: draw(st.integers(0, len(data)))]
    return data


def _pcapng_block(block_type: int, body: bytes, length: int | None = None) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    total = 12 + len(body) if length is None else length
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


@st.composite
def pcap_requests(draw: st.DrawFn) -> bytes:
    if not one_in(draw, 5):
        method = draw(st.sampled_from(["read_pcap", "read_pcap_summaries"]))
        return call(method, base64.b64encode(draw(pcap_files())).decode())
    return call("write_pcap", draw(st.lists(BYTES_B64 | TEXT | SCALARS, max_size=4) | JSON))


# ---------------------------------------------------------------- deep nesting, invalid Unicode, raw bytes

OPENERS = {"[": ("[", "]"), "{": ('{"a":', "}"), "mixed": ('[{"a":', "}]")}


@st.composite
def deep_requests(draw: st.DrawFn) -> bytes:
    """A request nested deep somewhere (around and far past the parser's 1024 levels), balanced or not."""
    depth = draw(st.integers(1000, 1100) | st.sampled_from([500, 2000, 100_000]))
    opener, closer = OPENERS[draw(st.sampled_from(sorted(OPENERS)))]
    unit = draw(st.sampled_from(["1", "[]", "{}", '"x"']))
    closed = not one_in(draw, 10)
    nest = opener * depth + unit + (closer * depth if closed else "")
    where = draw(st.sampled_from(["params", "id", "method", "model", "value"]))
    if where == "model":
        nest = f'[{{"id":"IP","fields":[{{"id":"options","value":{nest}}}]}}]'
    elif where == "value":
        nest = f'[{{"id":"Raw","fields":[{{"id":"load","value":{{"vtype":"OBJECT","value":{nest}}}}}]}}]'
    members = {
        "jsonrpc": '"2.0"',
        "id": '"d"',
        "method": '"build_pkt"',
        "params": f'["{HANDLER}",{nest}]' if where in ("model", "value") else nest,
    }
    if where in ("id", "method"):
        members[where], members["params"] = nest, "[]"
    order = draw(st.permutations(sorted(members)))
    return ("{" + ",".join(f'"{k}":{members[k]}' for k in order) + "}").encode()


BAD_UTF8 = [
    b"\xff",
    b"\xfe",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xe2\x82",
    b"\xf4\x90\x80\x80",
    b"\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\x00",
    b"\xef\xbb\xbf",
]
BAD_ESCAPES = [
    "\\ud800",
    "\\udfff",
    "\\udbff\\u0041",
    "\\ud800\\ud800",
    "\\udc00\\ud800",
    "\\u00",
    "\\x41",
    "\\",
    "\\uZZZZ",
    "\\ud83d\\ude00",
]


@st.composite
def broken_text_requests(draw: st.DrawFn) -> bytes:
    """A well-formed request with invalid UTF-8 bytes or JSON escapes of lone surrogates put inside it."""
    base = draw(
        st.sampled_from(
            [
                call("get_version"),
                call("build_pkt", [{"id": "IP"}], request_id="x"),
                call("get_definitions", ["IP"], request_id=7),
            ]
        )
        | packet_requests()
    )
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(base)))
        if draw(st.booleans()):
            insert = draw(st.sampled_from(BAD_UTF8))
        else:
            quote = base.rfind(b'"', 0, at)  # inside (or next to) a string, where an escape means something
            at = quote + 1 if quote >= 0 else at
            insert = draw(st.sampled_from(BAD_ESCAPES)).encode()
        base = base[:at] + insert + base[at:]
    return base


@st.composite
def mutated_requests(draw: st.DrawFn) -> bytes:
    """A valid request with bytes flipped, cut, repeated or inserted."""
    data = bytearray(
        draw(
            st.sampled_from(
                [
                    call("get_version"),
                    call("build_pkt", [{"id": "Ether"}, {"id": "IP"}]),
                    call("get_tree", request_id=2**70),
                ]
            )
            | packet_requests()
        )
    )
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at : at + draw(st.integers(1, 20))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from([b"{", b"[", b'"', b"\\", b","]))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 30))] * draw(st.integers(1, 50))
    return bytes(data)


# text of every kind, lone surrogates included, written as UTF-8 would (and must not) write them
ANY_CHARACTERS = st.text(st.characters(codec=None, categories=["L", "M", "N", "P", "S", "Z", "Cc", "Cs"]), max_size=100)
RAW_BODIES = (
    st.binary(max_size=300)
    | ANY_CHARACTERS.map(lambda t: t.encode("utf-8", "surrogatepass"))
    | mutated_requests()
    | broken_text_requests()
)
