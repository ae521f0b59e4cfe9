"""The one bounded front end for client expressions: text -> checked syntax tree -> value.

Both EXPRESSION evaluators are dialects of it: the packet model's
(`packet_expressions`: Scapy classes and `/`) and the field engine's
(`field_engine.arithmetic`: integer arithmetic, `range`, `list`). The core
grammar is what both accept: literals (None, True, False, numbers, strings,
bytes), lists, tuples, dicts, and a sign in front of a number. A dialect adds
node kinds on top; everything else is refused.

Every resource a text can ask for is bounded, before and while evaluating:
- before parsing: its length, its bracket and unary-operator nesting, and the
  count of the characters each element costs (parsing is the expensive step);
- on the tree: nesting depth (brackets and operators alike) and node count;
- while building: the elements made in all (repetition and concatenation
  included), the size of every value (nested elements and text length counted,
  so repeating a list of lists cannot hide its size), and integer width.
Nothing is ever `eval`'d or `exec`'d, and a hostile text is refused in milliseconds.
"""

from __future__ import annotations

import ast
import gc
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "MAX_ELEMENTS",
    "MAX_INT_BITS",
    "Builder",
    "Checker",
    "Dialect",
    "ExpressionError",
    "ExpressionSyntaxError",
    "accepts",
    "evaluate",
]

MAX_SOURCE_CHARS = 64 * 1024
MAX_DEPTH = 50
MAX_NODES = 5_000
MAX_ELEMENTS = 100_000  # above the field engine's 65535-value lists, so that limit can be reported
MAX_INT_BITS = 256  # wider than any Scapy field or field-engine value

# Everything that can hide brackets or operators from the pre-scan: string literals
# (closed or not, so the pattern always matches once started and stays linear) and
# comments. Only used to measure the text before `ast.parse`, never to evaluate.
_STRINGS_AND_COMMENTS = re.compile(
    r"""'''(?:[^\\]|\\.|\\\Z)*?(?:'''|\Z)"""
    r'''|"""(?:[^\\]|\\.|\\\Z)*?(?:"""|\Z)'''
    r"""|'(?:[^'\\\n]|\\.|\\\Z)*'?"""
    r"""|"(?:[^"\\\n]|\\.|\\\Z)*"?"""
    r"""|\#[^\n]*""",
    re.DOTALL,
)
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_UNARY_RUN = re.compile(rf"(?:(?:[-+~]|\bnot\b)\s*){{{MAX_DEPTH}}}")
# Every element, call, keyword, dict item, sign or operator costs at least one of these.
_WITHOUT_ELEMENT_CHARS = str.maketrans("", "", ",:([{=-+/*%<>&|^~")


class ExpressionError(Exception):
    """The text is outside the grammar or a limit; `str(exc)` says which."""


class ExpressionSyntaxError(Exception):
    """The text does not parse."""

    def __init__(self, message: str, column: int | None) -> None:
        super().__init__(message)
        self.message, self.column = message, column


class Dialect(ABC):
    """What an evaluator adds to the core grammar; called only for the nodes the core does not handle."""

    @abstractmethod
    def check(self, node: ast.expr, checker: Checker, depth: int) -> None:
        """Accept `node` (checking its children with `checker.check(child, depth + 1)`) or raise."""

    @abstractmethod
    def build(self, node: ast.expr, builder: Builder) -> Any:
        """The value of a node `check` accepted; sizes accounted with `builder.make`."""

    def list_item(self, item: Any) -> Any:
        """An element of a list literal, as the dialect wants it stored."""
        return item

    def finish(self, value: Any, builder: Builder) -> Any:
        """The evaluation's result, from the value of the whole text."""
        return value


def evaluate(text: Any, dialect: Dialect) -> Any:
    """The value `text` stands for in `dialect`, built without `eval`.

    Raises ExpressionError for anything outside the grammar or the limits and
    ExpressionSyntaxError when the text does not parse.
    """
    check_source(text)
    with _gc_paused():
        tree = parse(text)
        Checker(dialect).check(tree)
    builder = Builder(dialect)
    return dialect.finish(builder.build(tree), builder)


def accepts(text: str, dialect: Dialect) -> bool:
    """Whether `text` is within the limits and grammar that `evaluate` checks before it builds."""
    try:
        check_source(text)
        with _gc_paused():
            Checker(dialect).check(parse(text))
    except (ExpressionError, ExpressionSyntaxError):
        return False
    return True


# --------------------------------------------------------------------------- before parsing


def check_source(text: Any) -> None:
    """Cheap bounds that must hold before the parser sees the text."""
    if not isinstance(text, str):
        raise ExpressionError(f"must be a string, got {type(text).__name__}")
    if len(text) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"too long ({len(text)} characters, limit {MAX_SOURCE_CHARS})")
    code = _STRINGS_AND_COMMENTS.sub(" ", text)
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub("", code):
        depth += 1 if ch in "([{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                raise _too_deep()
    if _UNARY_RUN.search(code):
        raise _too_deep()
    # No accepted text needs more than two of these characters per node (`**`, `<<`).
    if len(code) - len(code.translate(_WITHOUT_ELEMENT_CHARS)) > 2 * MAX_NODES:
        raise _too_large()


def _too_deep() -> ExpressionError:
    return ExpressionError(f"nested too deeply (limit {MAX_DEPTH} levels of brackets and operators)")


def _too_large() -> ExpressionError:
    return ExpressionError(f"too large (limit {MAX_NODES} elements)")


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


def parse(text: str) -> ast.expr:
    """The expression tree of `text`; the parser's own resource limits are size problems."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        if "nested parentheses" in str(exc.msg) or "Exceeds the limit" in str(exc.msg):
            raise ExpressionError(str(exc.msg)) from None
        raise ExpressionSyntaxError(str(exc.msg), exc.offset) from None
    except ValueError as exc:  # e.g. NUL characters on some Python versions
        raise ExpressionSyntaxError(str(exc), None) from None
    except (RecursionError, MemoryError):  # a long operator chain: no brackets, but deep all the same
        raise _too_deep() from None


# --------------------------------------------------------------------------- the tree


class Checker:
    """Walks the tree once, before anything is built: node count, depth, the core grammar."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.nodes = 0

    def check(self, node: ast.expr, depth: int = 0) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _too_large()
        if depth > MAX_DEPTH:
            raise _too_deep()
        inner = depth + 1
        if isinstance(node, ast.Constant):
            check_constant(node.value)
        elif isinstance(node, (ast.List, ast.Tuple)):
            for item in node.elts:
                self.check(item, inner)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None:
                    raise ExpressionError("unpacking with ** is not allowed")
                self.check(key, inner)
                self.check(value, inner)
        elif is_signed_number(node):
            self.check(node.operand, inner)  # type: ignore[attr-defined]
        else:
            self.dialect.check(node, self, depth)


def check_constant(value: Any) -> None:
    if value is None or isinstance(value, (bool, str, bytes)):
        return
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise ExpressionError(f"integer too large (limit 2**{MAX_INT_BITS})")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError("number out of range")
        return
    raise ExpressionError(f"{type(value).__name__} literals are not allowed")


def is_signed_number(node: ast.expr) -> bool:
    """`-1`, `+2.5`, `- -3`: the only operators of the core grammar."""
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and _is_number(node.operand)


def _is_number(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp):
        return is_signed_number(node)
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


# --------------------------------------------------------------------------- building


_T = TypeVar("_T")


class Builder:
    """Evaluates a tree the Checker accepted, accounting for every element it makes."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.elements = 0  # element slots made in all
        self._sizes: dict[int, int] = {}  # id of a value made here -> its size
        self._made: list[Any] = []  # keeps those values alive, so their ids stay theirs

    def build(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List):
            items = [self.dialect.list_item(self.build(item)) for item in node.elts]
            return self.make(lambda: items, len(items), 1 + sum(map(self.size, items)))
        if isinstance(node, ast.Tuple):
            items = [self.build(item) for item in node.elts]
            return self.make(lambda: tuple(items), len(items), 1 + sum(map(self.size, items)))
        if isinstance(node, ast.Dict):
            pairs = [(self.build(k), self.build(v)) for k, v in zip(node.keys, node.values)]  # type: ignore[arg-type]
            try:
                return self.make(
                    lambda: dict(pairs), len(pairs), 1 + sum(self.size(k) + self.size(v) for k, v in pairs)
                )
            except TypeError as exc:
                raise ExpressionError(f"bad dictionary key: {exc}") from None
        if is_signed_number(node):
            value = self.build(node.operand)  # type: ignore[attr-defined]
            return -value if isinstance(node.op, ast.USub) else +value  # type: ignore[attr-defined]
        return self.dialect.build(node, self)

    def size(self, value: Any) -> int:
        """Elements a value stands for, nested ones included; text counts one per 8 characters."""
        if isinstance(value, (str, bytes)):
            return 1 + len(value) // 8
        return self._sizes.get(id(value), 1)

    def make(self, factory: Callable[[], _T], elements: int, size: int) -> _T:
        """`factory()`, once it is known to stay within the limits: `elements` new element slots
        (counted against all the evaluation makes) and a value of `size`."""
        self.elements += max(elements, 0)
        if self.elements > MAX_ELEMENTS or size > MAX_ELEMENTS:
            raise ExpressionError(f"value too large (limit {MAX_ELEMENTS} elements)")
        value = factory()
        self._sizes[id(value)] = size
        self._made.append(value)
        return value
