"""EXPRESSION values of the packet model (docs/api.md, Packet model): a safe evaluator and the matching renderer.

Clients send values JSON cannot carry (IP options, TCP options, packet lists) as
Python-like text. The reference server `eval`'d that text, which is remote code
execution. Here it is read by the bounded front end (`expression_frontend`: the
core literals, every size bounded) with this dialect on top: calls of Scapy
packet classes with field keywords (and at most one raw-bytes positional, which
Scapy dissects), calls of Scapy's ASN.1 value classes with one value
(`ASN1_OID('1.3.6.1')`, for SNMP), and `/` between packets. No attribute is ever
looked up. `render` writes the canonical text of a field value so that
`evaluate(render(v)) == v`.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from scapyrpc.packets.errors import InputSyntaxError, ServiceError
from scapyrpc.packets.expressions import frontend
from scapyrpc.packets.expressions.frontend import Builder, Checker, ExpressionError, ExpressionSyntaxError
from scapyrpc.packets.number_fields import check_byte_counts

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["accepted", "evaluate", "render", "warm_up"]

MAX_PACKETS = 1_000

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
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.MatMult: "@",
    ast.Div: "/",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.FloorDiv: "//",
}


@dataclass(frozen=True)
class _Tables:
    classes: dict[str, type[Packet]]  # callable names -> Scapy packet classes
    asn1: dict[str, type]  # callable names -> ASN.1 value classes (SNMP, X.509)
    fields: dict[type[Packet], frozenset[str]]  # class -> keyword names it accepts
    tcp_option_names: frozenset[str]


@cache
def _tables() -> _Tables:
    from scapy.layers.inet import TCPOptions

    from scapyrpc.packets.registry import registry

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
    stack: list[type[ASN1_Object[Any]]] = [ASN1_Object]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub.__name__ not in found:
                found[sub.__name__] = sub
                stack.append(sub)
    return found


def warm_up() -> None:
    """Build the class and field tables once per process, before the first request."""
    _tables()


def evaluate(text: str) -> Any:
    """The value an EXPRESSION text stands for, built without `eval`.

    Raises ServiceError for anything outside the allowed grammar or limits and
    InputSyntaxError when the text does not parse.
    """
    try:
        return frontend.evaluate(text, _PacketDialect(_tables()))
    except ExpressionError as exc:
        raise _fail(str(exc)) from None
    except ExpressionSyntaxError as exc:
        where = f" at column {exc.column}" if exc.column else ""
        raise InputSyntaxError(f"{exc.message}{where}") from None


def accepted(text: str) -> bool:
    """Whether `evaluate` would read `text` (its grammar and size limits), without building it."""
    return frontend.accepts(text, _PacketDialect(_tables()))


def _fail(message: str) -> ServiceError:
    return ServiceError(f"expression: {message}")


class _PacketDialect(frontend.Dialect):
    """The core grammar plus Scapy class calls and `/` between packets."""

    def __init__(self, tables: _Tables) -> None:
        self.tables = tables
        self.packets = 0

    def check(self, node: ast.expr, checker: Checker, depth: int) -> None:
        inner = depth + 1
        if isinstance(node, ast.UnaryOp):
            raise ExpressionError("only - and + in front of a number are allowed")
        if isinstance(node, ast.BinOp):
            op = _OPERATORS.get(type(node.op), "?")
            if op != "/":
                raise ExpressionError(f"operator {op} is not allowed")
            if not (self._is_packet(node.left) and self._is_packet(node.right)):
                raise ExpressionError("'/' can only stack packets, as in IP()/TCP()")
            checker.check(node.left, inner)
            checker.check(node.right, inner)
        elif isinstance(node, ast.Call):
            self._check_call(node, checker, inner)
        elif isinstance(node, ast.Name):
            if node.id in self.tables.classes:
                raise ExpressionError(f"'{node.id}' must be called, as in {node.id}()")
            raise ExpressionError(f"name '{node.id}' is not allowed; only Scapy classes can be used")
        else:
            raise ExpressionError(_FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed"))

    def _is_packet(self, node: ast.expr) -> bool:
        if isinstance(node, ast.BinOp):
            return isinstance(node.op, ast.Div)
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.tables.classes

    def _check_call(self, node: ast.Call, checker: Checker, inner: int) -> None:
        if not isinstance(node.func, ast.Name):
            checker.check(node.func, inner)  # reports attribute access, lambdas, ...
            raise ExpressionError("only Scapy classes can be called")
        name = node.func.id
        if name in self.tables.asn1:
            if len(node.args) != 1 or any(kw.arg != "readable" for kw in node.keywords):
                raise ExpressionError(f"{name}() takes exactly one value")
            checker.check(node.args[0], inner)
            for kw in node.keywords:
                checker.check(kw.value, inner)
            return
        cls = self.tables.classes.get(name)
        if cls is None:
            raise ExpressionError(f"'{name}' is not a Scapy class; only Scapy classes can be called")
        self.packets += 1
        if self.packets > MAX_PACKETS:
            raise ExpressionError(f"too many packets (limit {MAX_PACKETS})")
        if len(node.args) > 1 or any(
            not (isinstance(a, ast.Constant) and isinstance(a.value, bytes)) for a in node.args
        ):
            raise ExpressionError(f"{name}() takes field=value keywords (and at most one bytes value to dissect)")
        allowed = self.tables.fields[cls]
        seen: set[str] = set()
        for kw in node.keywords:
            if kw.arg is None:
                raise ExpressionError("unpacking with ** is not allowed")
            if kw.arg not in allowed:
                raise ExpressionError(f"field '{kw.arg}' not in layer {name}")
            if kw.arg in seen:
                raise ExpressionError(f"field '{kw.arg}' given twice in {name}()")
            seen.add(kw.arg)
            checker.check(kw.value, inner)
        for arg in node.args:
            checker.check(arg, inner)

    def build(self, node: ast.expr, builder: Builder) -> Any:
        if isinstance(node, ast.BinOp):
            left, right = builder.build(node.left), builder.build(node.right)
            # Both sides are fresh objects of this evaluation, so stacking in place is
            # safe and avoids the quadratic copying of Packet.__div__.
            try:
                left.add_payload(right)
            except Exception as exc:
                raise ExpressionError(f"cannot stack {type(right).__name__} on {type(left).__name__}: {exc}") from None
            return left
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)  # the only other kind check accepts
        name = node.func.id
        args = [builder.build(a) for a in node.args]
        kwargs = {kw.arg: builder.build(kw.value) for kw in node.keywords if kw.arg is not None}  # check refused **
        cls = self.tables.classes.get(name)
        if cls is not None:  # Scapy converts field values as it makes the packet: check them first
            for key, value in kwargs.items():
                check_byte_counts(None, _field_of(cls, key), value, f"{name}.{key}")
        size = 1 + sum(map(builder.size, args)) + sum(map(builder.size, kwargs.values()))
        try:
            make = cls if cls is not None else self.tables.asn1[name]
            return builder.make(lambda: make(*args, **kwargs), 1, size)
        except ExpressionError:
            raise
        except Exception as exc:  # Scapy raises any type for a bad field value
            raise ExpressionError(f"cannot build {name}: {exc}") from None

    def list_item(self, item: Any) -> Any:
        """The reference's Python 3 fix: ('SAckOK', '') -> ('SAckOK', b'').

        Limited to TCP option names so that DHCP options such as
        ('message-type', 'discover'), whose str values Scapy needs, stay untouched.
        """
        if (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[1], str)
            and isinstance(item[0], str)
            and item[0] in self.tables.tcp_option_names
        ):
            return (item[0], item[1].encode("utf-8"))
        return item


def _field_of(cls: type[Packet], name: str) -> Any:
    """The field `name` (or the field a deprecated name stands for) of packet class `cls`."""
    name = (getattr(cls, "deprecated_fields", None) or {}).get(name, (name,))[0]
    return next((f for f in cls.fields_desc if f.name == name), None)


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
