"""EXPRESSION values (API.md section 5): a safe evaluator and the matching renderer.

Clients send values JSON cannot carry (IP options, TCP options, packet lists) as
Python-like text. The reference server `eval`'d that text, which is remote code
execution. Here the text is parsed with `ast` and walked with an allow-list:
literals (numbers, strings, bytes, None/True/False), lists, tuples, dicts, unary
minus/plus on numbers, calls of Scapy packet classes with field keywords (and at
most one raw-bytes positional, which Scapy dissects), calls of Scapy's ASN.1 value
classes with one value (`ASN1_OID('1.3.6.1')`, for SNMP), and `/` between packets.
Nothing is ever `eval`'d or `exec`'d, no attribute is ever looked up, and every
size (text, nesting, nodes, packets, integers) is bounded so that a hostile text is
rejected in milliseconds. `render` writes the canonical text of a field value so
that `evaluate(render(v)) == v`.
"""

from __future__ import annotations

import ast
import gc
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from .errors import InputSyntaxError, ServiceError

MAX_SOURCE_CHARS = 64 * 1024
MAX_DEPTH = 50
MAX_NODES = 5_000
MAX_PACKETS = 1_000
MAX_INT = 2**256  # exclusive bound on |integer literal|: wider than any Scapy field

# Everything that can hide brackets or operators from the pre-scan: string literals
# (closed or not, so the pattern always matches once started and stays linear) and
# comments. Only used to measure nesting before `ast.parse`, never to evaluate.
_STRINGS_AND_COMMENTS = re.compile(
    r"""'''(?:[^\\]|\\.|\\\Z)*?(?:'''|\Z)"""
    r'''|"""(?:[^\\]|\\.|\\\Z)*?(?:"""|\Z)'''
    r"""|'(?:[^'\\\n]|\\.|\\\Z)*'?"""
    r'''|"(?:[^"\\\n]|\\.|\\\Z)*"?'''
    r"""|\#[^\n]*""",
    re.DOTALL,
)
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_UNARY_RUN = re.compile(rf"(?:(?:[-+~]|\bnot\b)\s*){{{MAX_DEPTH}}}")

# What to tell a client about the constructs it most often tries.
_FORBIDDEN = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing is not allowed",
    ast.Slice: "slicing is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "unpacking with * is not allowed",
    ast.NamedExpr: "assignment expressions are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.BoolOp: "boolean operators are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}

_OPERATORS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.MatMult: "@", ast.Div: "/",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.FloorDiv: "//",
}


@dataclass(frozen=True)
class _Tables:
    classes: dict[str, type]            # callable names -> Scapy packet classes
    asn1: dict[str, type]               # callable names -> ASN.1 value classes (SNMP, X.509)
    fields: dict[type, frozenset[str]]  # class -> keyword names it accepts
    tcp_option_names: frozenset[str]


@cache
def _tables() -> _Tables:
    from scapy.layers.inet import TCPOptions

    from .layers import registry

    classes = dict(registry())
    fields = {
        cls: frozenset(f.name for f in getattr(cls, "fields_desc", ()))
        | frozenset(getattr(cls, "deprecated_fields", {}) or {})
        for cls in classes.values()
    }
    return _Tables(classes, _asn1_classes(), fields, frozenset(TCPOptions[1]))


def _asn1_classes() -> dict[str, type]:
    """ASN.1 value wrappers such as ASN1_OID('1.3.6.1'): SNMP and X.509 fields hold them."""
    from scapy.asn1.asn1 import ASN1_Object

    found: dict[str, type] = {}
    stack = [ASN1_Object]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__name__ not in found:
                found[sub.__name__] = sub
                stack.append(sub)
    return found


def warm_up() -> None:
    """Build the class and field tables once per process, before the first request."""
    _tables()


def _fail(message: str) -> ServiceError:
    return ServiceError(f"expression: {message}")


# --------------------------------------------------------------------------- parsing


def _check_source(text: Any) -> None:
    """Cheap bounds that must hold before the parser sees the text."""
    if not isinstance(text, str):
        raise _fail(f"must be a string, got {type(text).__name__}")
    if len(text) > MAX_SOURCE_CHARS:
        raise _fail(f"too long ({len(text)} characters, limit {MAX_SOURCE_CHARS})")
    code = _STRINGS_AND_COMMENTS.sub(" ", text)
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub("", code):
        depth += 1 if ch in "([{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                raise _fail(f"nested too deeply (limit {MAX_DEPTH})")
    if _UNARY_RUN.search(code):
        raise _fail(f"nested too deeply (limit {MAX_DEPTH})")
    # Every element, call, keyword, dict item or sign costs at least one of these
    # characters and no accepted text needs more than two per node; parsing is the
    # expensive step (tens of ms for 20 KiB of dense tuples), so refuse before it.
    if sum(code.count(ch) for ch in ",:([{=-+/") > 2 * MAX_NODES:
        raise _fail(f"too large (limit {MAX_NODES} elements)")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing allocates thousands of AST objects; with Scapy's large heap loaded,
    the collections they trigger cost more than the parse itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(text: str) -> ast.expr:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        # The parser's own resource limits are size problems, not typos.
        if "nested parentheses" in str(exc.msg) or "Exceeds the limit" in str(exc.msg):
            raise _fail(str(exc.msg)) from None
        where = f" at column {exc.offset}" if exc.offset else ""
        raise InputSyntaxError(f"{exc.msg}{where}") from None
    except ValueError as exc:  # e.g. NUL characters on some Python versions
        raise InputSyntaxError(str(exc)) from None
    except (RecursionError, MemoryError):
        raise _fail(f"nested too deeply (limit {MAX_DEPTH})") from None


# ------------------------------------------------------------------------ validation


class _Checker:
    """Walks the tree once, before anything is built, and rejects what is not allowed."""

    def __init__(self, tables: _Tables) -> None:
        self.tables = tables
        self.nodes = 0
        self.packets = 0

    def check(self, node: ast.expr, depth: int = 0) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _fail(f"too large (limit {MAX_NODES} elements)")
        if depth > MAX_DEPTH:
            raise _fail(f"nested too deeply (limit {MAX_DEPTH})")
        inner = depth + 1
        if isinstance(node, ast.Constant):
            _check_constant(node.value)
        elif isinstance(node, (ast.List, ast.Tuple)):
            for item in node.elts:
                self.check(item, inner)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None:
                    raise _fail("unpacking with ** is not allowed")
                self.check(key, inner)
                self.check(value, inner)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)) or not _is_number(node.operand):
                raise _fail("only - and + in front of a number are allowed")
            self.check(node.operand, inner)
        elif isinstance(node, ast.BinOp):
            op = _OPERATORS.get(type(node.op), "?")
            if op != "/":
                raise _fail(f"operator {op} is not allowed")
            if not (self._is_packet(node.left) and self._is_packet(node.right)):
                raise _fail("'/' can only stack packets, as in IP()/TCP()")
            self.check(node.left, inner)
            self.check(node.right, inner)
        elif isinstance(node, ast.Call):
            self._check_call(node, inner)
        elif isinstance(node, ast.Name):
            if node.id in self.tables.classes:
                raise _fail(f"'{node.id}' must be called, as in {node.id}()")
            raise _fail(f"name '{node.id}' is not allowed; only Scapy classes can be used")
        else:
            raise _fail(_FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed"))

    def _is_packet(self, node: ast.expr) -> bool:
        if isinstance(node, ast.BinOp):
            return isinstance(node.op, ast.Div)
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in self.tables.classes)

    def _check_call(self, node: ast.Call, inner: int) -> None:
        if not isinstance(node.func, ast.Name):
            self.check(node.func, inner)  # reports attribute access, lambdas, ...
            raise _fail("only Scapy classes can be called")
        name = node.func.id
        if name in self.tables.asn1:
            self._check_asn1(node, name, inner)
            return
        cls = self.tables.classes.get(name)
        if cls is None:
            raise _fail(f"'{name}' is not a Scapy class; only Scapy classes can be called")
        self.packets += 1
        if self.packets > MAX_PACKETS:
            raise _fail(f"too many packets (limit {MAX_PACKETS})")
        if len(node.args) > 1 or any(
            not (isinstance(a, ast.Constant) and isinstance(a.value, bytes)) for a in node.args
        ):
            raise _fail(f"{name}() takes field=value keywords (and at most one bytes value to dissect)")
        allowed = self.tables.fields[cls]
        seen: set[str] = set()
        for kw in node.keywords:
            if kw.arg is None:
                raise _fail("unpacking with ** is not allowed")
            if kw.arg not in allowed:
                raise _fail(f"field '{kw.arg}' not in layer {name}")
            if kw.arg in seen:
                raise _fail(f"field '{kw.arg}' given twice in {name}()")
            seen.add(kw.arg)
            self.check(kw.value, inner)
        for arg in node.args:
            self.check(arg, inner)

    def _check_asn1(self, node: ast.Call, name: str, inner: int) -> None:
        if len(node.args) != 1 or any(kw.arg != "readable" for kw in node.keywords):
            raise _fail(f"{name}() takes exactly one value")
        self.check(node.args[0], inner)
        for kw in node.keywords:
            self.check(kw.value, inner)


def _check_constant(value: Any) -> None:
    if value is None or isinstance(value, (bool, str, bytes)):
        return
    if isinstance(value, int):
        if abs(value) >= MAX_INT:
            raise _fail("integer too large (limit 2**256)")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail("number out of range")
        return
    raise _fail(f"{type(value).__name__} literals are not allowed")


def _is_number(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp):
        return _is_number(node.operand)
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


# ------------------------------------------------------------------------ evaluation


def evaluate(text: str) -> Any:
    """The value an EXPRESSION text stands for, built without `eval`.

    Raises ServiceError for anything outside the allowed grammar or limits and
    InputSyntaxError when the text does not parse.
    """
    _check_source(text)
    tables = _tables()
    with _gc_paused():
        tree = _parse(text)
        _Checker(tables).check(tree)
    return _build(tree, tables)


def _build(node: ast.expr, tables: _Tables) -> Any:
    """Evaluate a tree `_Checker` accepted; only the node kinds it allows reach here."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_tcp_option_bytes(_build(item, tables), tables) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_build(item, tables) for item in node.elts)
    if isinstance(node, ast.Dict):
        try:
            return {_build(k, tables): _build(v, tables) for k, v in zip(node.keys, node.values)}
        except TypeError as exc:
            raise _fail(f"bad dictionary key: {exc}") from None
    if isinstance(node, ast.UnaryOp):
        value = _build(node.operand, tables)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left, tables), _build(node.right, tables)
        # Both sides are fresh objects of this evaluation, so stacking in place is
        # safe and avoids the quadratic copying of Packet.__div__.
        try:
            left.add_payload(right)
        except Exception as exc:
            raise _fail(f"cannot stack {type(right).__name__} on {type(left).__name__}: {exc}") from None
        return left
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        args = [_build(a, tables) for a in node.args]
        kwargs = {kw.arg: _build(kw.value, tables) for kw in node.keywords}
        try:
            return (tables.classes.get(name) or tables.asn1[name])(*args, **kwargs)
        except Exception as exc:  # Scapy raises any type for a bad field value
            raise _fail(f"cannot build {name}: {exc}") from None
    raise _fail(f"{type(node).__name__} is not allowed")  # pragma: no cover - checker guards


def _tcp_option_bytes(item: Any, tables: _Tables) -> Any:
    """The reference's Python 3 fix: ('SAckOK', '') -> ('SAckOK', b'').

    Limited to TCP option names so that DHCP options such as
    ('message-type', 'discover'), whose str values Scapy needs, stay untouched.
    """
    if (
        isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], str)
        and isinstance(item[0], str) and item[0] in tables.tcp_option_names
    ):
        return (item[0], item[1].encode("utf-8"))
    return item


# ------------------------------------------------------------------------- rendering


def render(value: Any) -> str:
    """Canonical EXPRESSION text of a field value, such that `evaluate(render(v)) == v`.

    Packets are written as `Class(field=value, ...)` with only the fields that
    differ from the class defaults, followed by `/Payload(...)`. A value with no
    literal form (a random value, a custom object) raises ServiceError.
    """
    from scapy.asn1.asn1 import ASN1_Object
    from scapy.base_classes import Net
    from scapy.fields import FlagValue
    from scapy.packet import Packet

    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, FlagValue):
        return str(int(value))
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(value))
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, (bytes, bytearray)):
        return repr(bytes(value))
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(render(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Net) and value.net is not None:
        return repr(f"{value.net}/{value.mask}")
    if isinstance(value, UUID):
        return repr(str(value))
    if isinstance(value, ASN1_Object) and _tables().asn1.get(type(value).__name__) is type(value):
        return f"{type(value).__name__}({render(value.val)})"
    if isinstance(value, Packet):
        return "/".join(_render_layer(layer) for layer in value.iterpayloads())
    raise _fail(f"a {type(value).__name__} value has no expression form")


def _render_layer(layer: Any) -> str:
    args = [
        f"{f.name}={render(layer.fields[f.name])}"
        for f in layer.fields_desc
        if f.name in layer.fields and not _same(layer.fields[f.name], layer.default_fields.get(f.name))
    ]
    return f"{type(layer).__name__}({', '.join(args)})"


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # exotic values that cannot be compared are simply written out
        return False
