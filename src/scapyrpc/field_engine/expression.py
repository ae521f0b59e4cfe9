"""Safe evaluation of `{"vtype": "EXPRESSION"}` parameter values.

The reference `eval`s the client's text; we accept only what a field-engine
parameter can sensibly hold: literals, lists/tuples, integer arithmetic,
`range(...)` and `list(...)`, with every list bounded in size.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

from .errors import FEError

MAX_TEXT = 100_000
MAX_ITEMS = 100_000  # comfortably above the 65535 value_list limit so that limit can be reported
MAX_INT_BITS = 256

_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitAnd: operator.and_, ast.BitXor: operator.xor,
}


def evaluate(text: str) -> Any:
    """Value of the expression `text`, or FEError naming what is not allowed."""
    if not isinstance(text, str):
        raise FEError("EXPRESSION text must be a string")
    if len(text) > MAX_TEXT:
        raise FEError(f"EXPRESSION longer than {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FEError(f"EXPRESSION syntax error: {exc.msg}") from None
    value = _eval(tree.body)
    # A bare range or tuple is what the user meant as a list.
    return list(value) if isinstance(value, (range, tuple)) else value


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name) and node.id in ("None", "True", "False"):
        return {"None": None, "True": True, "False": False}[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_eval(elt) for elt in node.elts]
        _check_len(len(items))
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
        operand = _eval(node.operand)
        if type(operand) is not int:
            raise FEError("EXPRESSION: unary operators need an integer")
        return -operand if isinstance(node.op, ast.USub) else (~operand if isinstance(node.op, ast.Invert) else operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _binop(node.op, _eval(node.left), _eval(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("range", "list") \
            and not node.keywords:
        args = [_eval(arg) for arg in node.args]
        return _range(args) if node.func.id == "range" else _list(args)
    raise FEError(f"EXPRESSION: '{type(node).__name__}' is not allowed (literals, lists, integer arithmetic, range and list only)")


def _binop(op: ast.operator, left: Any, right: Any) -> Any:
    if type(left) is int and type(right) is int:
        if isinstance(op, ast.Pow) and (right < 0 or right * max(left.bit_length(), 1) > MAX_INT_BITS):
            raise FEError("EXPRESSION: power too large")
        if isinstance(op, ast.LShift) and (right < 0 or right > MAX_INT_BITS):
            raise FEError("EXPRESSION: shift too large")
        if isinstance(op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise FEError("EXPRESSION: division by zero")
        if isinstance(op, ast.RShift) and right < 0:
            raise FEError("EXPRESSION: negative shift")
        result = _BINOPS[type(op)](left, right)
        if result.bit_length() > MAX_INT_BITS:
            raise FEError("EXPRESSION: number too large")
        return result
    if isinstance(op, ast.Add) and isinstance(left, list) and isinstance(right, list):
        _check_len(len(left) + len(right))
        return left + right
    if isinstance(op, ast.Mult) and isinstance(left, list) and type(right) is int:
        _check_len(len(left) * max(right, 0))
        return left * right
    raise FEError("EXPRESSION: operators apply to integers only (and + / * to lists)")


def _range(args: list) -> range:
    if not 1 <= len(args) <= 3 or any(type(a) is not int for a in args):
        raise FEError("EXPRESSION: range() takes one to three integers")
    if len(args) == 3 and args[2] == 0:
        raise FEError("EXPRESSION: range() step must not be zero")
    result = range(*args)
    _check_len(len(result))
    return result


def _list(args: list) -> list:
    if len(args) != 1 or not isinstance(args[0], (list, tuple, range)):
        raise FEError("EXPRESSION: list() takes one list, tuple or range")
    return list(args[0])


def _check_len(n: int) -> None:
    if n > MAX_ITEMS:
        raise FEError(f"EXPRESSION: list longer than {MAX_ITEMS} items")
