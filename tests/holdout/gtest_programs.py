"""The Field Engine programs of TRex's C++ gtests, read from `src/gtest/trex_stateless_gtest.cpp`.

The `basic_vm` tests build a program instruction by instruction (`vm.add_instruction(new
StreamVmInstructionFlowMan(...))`, ...), run it on packet 0 of a pcap again and again, write each
result and compare the file with one in `scripts/exp`. This module reads those tests from the
checkout's source and turns each into TRex's JSON form of the program, which simulate_vm takes:
only the constructs those tests use are understood (constructor calls with literal arguments, a
helper that adds instructions to `vm`, a value list filled by a counting loop), and a test whose
program cannot be read is reported as such, never guessed.

The gtests run with the random generator's state at 0, which no stream `random_seed` gives:
tests with random variables are skipped with that reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FIXTURE = "basic_vm"
RUN_VM_PROGRAM = "run_vm_program"  # run_vm_program(vm, input pcap, name, count): golden exp/<name>-ex.pcap
RANDOM_SKIP = "random variables from generator state 0 (the gtest's), which no stream random_seed gives"

_STRING_OR_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.S)
_TEST = re.compile(rf"\bTEST_F\s*\(\s*{FIXTURE}\s*,\s*(\w+)\s*\)\s*\{{")
_HELPER = re.compile(r"\bvoid\s+(\w+)\s*\(\s*StreamVm\s*&\s*vm\b[^)]*\)\s*\{")
_ADD = re.compile(r"\bvm\s*\.\s*add_instruction\s*\(\s*new\s+(\w+)\s*\(")
_LIST_LOOP = re.compile(
    r"\bfor\s*\(\s*(\w+)\s*=\s*([^;]+);\s*\1\s*(<=|<)\s*([^;]+);[^)]*\)\s*\{?\s*(\w+)\s*\.\s*push_back\s*\(\s*\1\s*\)"
)
_LOAD = re.compile(r'\bload_pcap_file\s*\(\s*"([^"]+)"\s*,\s*0\s*\)')
_LOOP = re.compile(r"\bfor\s*\(\s*(\w+)\s*=\s*0\s*;\s*\1\s*<\s*(\d+)\s*;[^)]*\)\s*\{\s*runner\s*\.\s*run\b")
_COMPARE = re.compile(r'\bcompare\s*\(\s*"[^"]*"\s*,\s*"(exp/[^"]+)"\s*\)')
_RUN_VM_PROGRAM = re.compile(rf'\b{RUN_VM_PROGRAM}\s*\(\s*vm\s*,\s*"([^"]+)"\s*,\s*"([^"]+)"\s*,\s*(\d+)\s*\)')
_OPS = {"FLOW_VAR_OP_INC": "inc", "FLOW_VAR_OP_DEC": "dec", "FLOW_VAR_OP_RANDOM": "random"}


class Unreadable(Exception):
    """A construct of the C++ test this reader does not understand."""


@dataclass
class GtestCase:
    """One gtest's run: its program on packet 0 of `input_pcap`, `count` times, against `golden`."""

    names: list[str]
    instructions: list[dict[str, Any]] = field(default_factory=list)
    input_pcap: str | None = None  # relative to scripts/
    count: int | None = None
    golden: str | None = None  # relative to scripts/
    random: bool = False
    problem: str | None = None  # why the program could not be read

    @property
    def name(self) -> str:
        return " = ".join(self.names)

    def key(self) -> str:
        return repr((self.instructions, self.input_pcap, self.count, self.golden))


def _strip_comments(source: str) -> str:
    return _STRING_OR_COMMENT.sub(lambda m: m.group(1) or " ", source)


def _block(text: str, start: int) -> str:
    """The text from just after the `{` at `start - 1` to its matching `}` (strings are comment-free)."""
    depth, i = 1, start
    while depth:
        if i >= len(text):
            raise Unreadable("unbalanced braces")
        char = text[i]
        if char == '"':
            i = text.index('"', i + 1)
        depth += {"{": 1, "}": -1}.get(char, 0)
        i += 1
    return text[start : i - 1]


def _arguments(text: str, start: int) -> list[str]:
    """The top-level comma-separated arguments of the call whose `(` is at `start - 1`."""
    depth, current, args, i = 1, "", [], start
    while True:
        char = text[i]
        if char == '"':
            end = text.index('"', i + 1)
            current += text[i : end + 1]
            i = end + 1
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                break
        if char == "," and depth == 1:
            args.append(current.strip())
            current = ""
        else:
            current += char
        i += 1
    if current.strip():
        args.append(current.strip())
    return args


def _number(expression: str) -> int:
    """An integer C++ expression of literals: + - * and parentheses, decimal or hex, U/L suffixes."""
    python = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expression.strip())
    try:
        tree = ast.parse(python, mode="eval").body
    except SyntaxError as exc:
        raise Unreadable(f"not a literal expression: {expression}") from exc

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
            left, right = value(node.left), value(node.right)
            return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[type(node.op)]
        raise Unreadable(f"not a literal expression: {expression}")

    return value(tree)


def _argument(arg: str, lists: dict[str, list[int]]) -> Any:
    if arg.startswith('"'):
        return arg[1:-1]
    if arg in ("true", "false"):
        return arg == "true"
    op = arg.rsplit("::", 1)[-1]
    if op in _OPS:
        return _OPS[op]
    if arg in lists:
        return lists[arg]
    return _number(arg)


def _flow_var(args: list[Any]) -> dict[str, Any]:
    name, size, op, *rest = args
    var: dict[str, Any] = {"type": "flow_var", "name": name, "size": size, "op": op}
    if isinstance(rest[0], list):
        var["value_list"], rest = rest[0], rest[1:]
    else:
        var["init_value"], var["min_value"], var["max_value"], rest = rest[0], rest[1], rest[2], rest[3:]
    step, split, next_var = (rest + [1, True, ""][len(rest) :])[:3]
    var.update(step=step, split_to_cores=bool(split), next_var=next_var or None)
    return var


def _instruction(kind: str, args: list[Any]) -> dict[str, Any]:
    """TRex's JSON for one C++ instruction object (the defaults are the constructors')."""
    if kind == "StreamVmInstructionFlowMan":
        return _flow_var(args)
    if kind == "StreamVmInstructionWriteToPkt":
        name, offset, add, big = (args + [0, True][len(args) - 2 :])[:4]
        return {
            "type": "write_flow_var",
            "name": name,
            "pkt_offset": offset,
            "add_value": add,
            "is_big_endian": bool(big),
        }
    if kind == "StreamVmInstructionWriteMaskToPkt":
        name, offset, cast, mask, shift, add, big = (args + [0, True][len(args) - 5 :])[:7]
        return {
            "type": "write_mask_flow_var",
            "name": name,
            "pkt_offset": offset,
            "pkt_cast_size": cast,
            "mask": mask,
            "shift": shift,
            "add_value": add,
            "is_big_endian": bool(big),
        }
    if kind == "StreamVmInstructionFixChecksumIpv4":
        return {"type": "fix_checksum_ipv4", "pkt_offset": args[0]}
    if kind == "StreamVmInstructionFlowClient":
        name, ip_min, ip_max, port_min, port_max, limit, flags = args
        return {
            "type": "tuple_flow_var",
            "name": name,
            "ip_min": ip_min,
            "ip_max": ip_max,
            "port_min": port_min,
            "port_max": port_max,
            "limit_flows": limit,
            "flags": flags,
        }
    if kind == "StreamVmInstructionChangePktSize":
        return {"type": "trim_pkt_size", "name": args[0]}
    raise Unreadable(f"{kind} is not read by the hold-out")


def _events(body: str, helpers: dict[str, str]) -> Iterator[tuple[str, re.Match[str]]]:
    """The statements that matter, in the order they appear (helpers' bodies inlined)."""
    patterns = {"add": _ADD, "list": _LIST_LOOP, "load": _LOAD, "loop": _LOOP, "compare": _COMPARE}
    patterns["run_vm_program"] = _RUN_VM_PROGRAM
    if helpers:
        patterns["helper"] = re.compile(rf"\b({'|'.join(map(re.escape, helpers))})\s*\(\s*vm\s*[,)]")
    found = sorted((m.start(), kind, m) for kind, p in patterns.items() for m in p.finditer(body))
    for _, kind, match in found:
        if kind == "helper":
            yield from _events(helpers[match.group(1)], {})
        else:
            yield kind, match


def _read_test(name: str, body: str, helpers: dict[str, str]) -> GtestCase:
    case = GtestCase([name])
    lists: dict[str, list[int]] = {}
    case.random = bool(re.search(r"\bsrand\s*\(", body))
    for kind, match in _events(body, helpers):
        if kind == "add":
            args = [_argument(a, lists) for a in _arguments(match.string, match.end())]
            case.instructions.append(_instruction(match.group(1), args))
        elif kind == "list":
            first, last = _number(match.group(2)), _number(match.group(4))
            lists[match.group(5)] = list(range(first, last + 1 if match.group(3) == "<=" else last))
        elif kind == "load":
            case.input_pcap = match.group(1)
        elif kind == "loop":
            case.count = int(match.group(2))
        elif kind == "compare":
            case.golden = match.group(1)
        elif kind == "run_vm_program":
            case.input_pcap, case.count = match.group(1), int(match.group(3))
            case.golden = f"exp/{match.group(2)}-ex.pcap"
    case.random = case.random or any(i.get("op") == "random" for i in case.instructions)
    return case


def gtest_cases(source: str) -> list[GtestCase]:
    """The `basic_vm` tests that compare with a pcap of `scripts/exp`, identical runs merged."""
    text = _strip_comments(source)
    helpers = {m.group(1): _block(text, m.end()) for m in _HELPER.finditer(text) if m.group(1) != RUN_VM_PROGRAM}
    merged: dict[str, GtestCase] = {}
    for match in _TEST.finditer(text):
        name, body = match.group(1), _block(text, match.end())
        if not (_COMPARE.search(body) or _RUN_VM_PROGRAM.search(body)):
            continue  # not compared with a pcap
        try:
            case = _read_test(name, body, helpers)
            missing = [what for what in ("input_pcap", "count", "golden") if getattr(case, what) is None]
            if missing or not case.instructions:
                raise Unreadable(f"no {', '.join(missing) or 'instructions'} found")
        except (Unreadable, ValueError, IndexError) as exc:
            case = GtestCase([name], problem=str(exc))
        if case.problem is None and case.key() in merged:
            merged[case.key()].names.append(name)
        else:
            merged[case.key() if case.problem is None else name] = case
    return list(merged.values())
