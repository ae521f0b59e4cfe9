"""EXPRESSION parameter values of the field engine: the bounded front end plus integer arithmetic.

The reference `eval`s the client's text. Here it is read by the same bounded
front end as the packet model's expressions (`expression_frontend`: the core
literals, every size bounded), with what a field-engine parameter can sensibly
hold on top: integer arithmetic (`+ - * // % ** << >> | & ^`, unary `- + ~`),
`range(...)`, `list(...)`, and `+` / `*` on lists. Integers stay within 256
bits and every list within the front end's element budget.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from scapyrpc.packets.expressions import frontend
from scapyrpc.packets.expressions.frontend import MAX_INT_BITS, Builder, Checker, ExpressionError, ExpressionSyntaxError
from scapyrpc.packets.field_engine.errors import FEError

__all__ = ["evaluate"]

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
}
_FUNCTIONS = ("range", "list")
_GRAMMAR = "literals, lists, integer arithmetic, range and list only"


def evaluate(text: Any) -> Any:
    """Value of the expression `text`, or FEError naming what is not allowed."""
    try:
        return frontend.evaluate(text, _ArithmeticDialect())
    except ExpressionError as exc:
        raise FEError(f"EXPRESSION: {exc}") from None
    except ExpressionSyntaxError as exc:
        raise FEError(f"EXPRESSION syntax error: {exc.message}") from None


class _ArithmeticDialect(frontend.Dialect):
    """The core grammar plus integer arithmetic, range(), list() and list + / *."""

    def check(self, node: ast.expr, checker: Checker, depth: int) -> None:
        inner = depth + 1
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            checker.check(node.operand, inner)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            checker.check(node.left, inner)
            checker.check(node.right, inner)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
        ):
            for arg in node.args:
                checker.check(arg, inner)
        else:
            raise ExpressionError(f"'{type(node).__name__}' is not allowed ({_GRAMMAR})")

    def build(self, node: ast.expr, builder: Builder) -> Any:
        if isinstance(node, ast.UnaryOp):
            operand = builder.build(node.operand)
            if type(operand) is not int:
                raise ExpressionError("unary operators need an integer")
            return _UNARY[type(node.op)](operand)
        if isinstance(node, ast.BinOp):
            return _binop(node.op, builder.build(node.left), builder.build(node.right), builder)
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)  # the only other kind check accepts
        args = [builder.build(arg) for arg in node.args]
        return _range(args, builder) if node.func.id == "range" else _list(args, builder)

    def finish(self, value: Any, builder: Builder) -> Any:
        """A bare range or tuple is what the user meant as a list."""
        return _list([value], builder) if isinstance(value, (range, tuple)) else value


def _binop(op: ast.operator, left: Any, right: Any, builder: Builder) -> Any:
    if type(left) is int and type(right) is int:
        # |left| ** right has at least right * (bits of |left| - 1) bits: refuse before computing
        if isinstance(op, ast.Pow) and (right < 0 or right * (left.bit_length() - 1) > MAX_INT_BITS):
            raise ExpressionError("power too large")
        if isinstance(op, ast.LShift) and (right < 0 or right > MAX_INT_BITS):
            raise ExpressionError("shift too large")
        if isinstance(op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise ExpressionError("division by zero")
        if isinstance(op, ast.RShift) and right < 0:
            raise ExpressionError("negative shift")
        result = _BINOPS[type(op)](left, right)
        if result.bit_length() > MAX_INT_BITS:
            raise ExpressionError("number too large")
        return result
    if isinstance(op, ast.Add) and isinstance(left, list) and isinstance(right, list):
        return builder.make(lambda: left + right, len(left) + len(right), builder.size(left) + builder.size(right) - 1)
    if isinstance(op, ast.Mult) and isinstance(left, list) and type(right) is int:
        times = max(right, 0)
        if times.bit_length() > 62:  # more than a list can ever hold, even an empty one
            raise ExpressionError("repetition count too large")
        return builder.make(lambda: left * times, len(left) * times, 1 + times * (builder.size(left) - 1))
    raise ExpressionError("operators apply to integers only (and + / * to lists)")


def _range(args: list[Any], builder: Builder) -> range:
    if not 1 <= len(args) <= 3 or any(type(a) is not int for a in args):
        raise ExpressionError("range() takes one to three integers")
    if len(args) == 3 and args[2] == 0:
        raise ExpressionError("range() step must not be zero")
    result = range(*args)
    try:
        length = len(result)
    except OverflowError:
        length = frontend.MAX_ELEMENTS + 1
    # lazy until a list is made of it, but it stands for all its values
    return builder.make(lambda: result, 0, 1 + length)


def _list(args: list[Any], builder: Builder) -> list[Any]:
    if len(args) != 1 or not isinstance(args[0], (list, tuple, range)):
        raise ExpressionError("list() takes one list, tuple or range")
    items = args[0]
    return builder.make(
        lambda: list(items), builder.size(items) - 1 if isinstance(items, range) else len(items), builder.size(items)
    )
