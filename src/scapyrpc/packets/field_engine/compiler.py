"""From the GUI's `field_engine` request to the compiled TRex VM program (reference §1, §5, §7).

Error precedence follows the reference: constructor errors in model order,
then the cache size, then variable definitions/references/chains, then
per-instruction emit errors in final program order.
"""

from __future__ import annotations

from typing import Any

from scapyrpc.packets.field_engine import preflight
from scapyrpc.packets.field_engine.checks import U64_MAX
from scapyrpc.packets.field_engine.errors import FEError
from scapyrpc.packets.field_engine.instructions import CLASSES, FlowVariable, Instruction
from scapyrpc.packets.field_engine.offsets import Layout
from scapyrpc.packets.field_engine.params import sanitize

__all__ = ["compile_request"]

I64_MIN = -(2**63)


def compile_request(field_engine: Any, layout: Layout, notes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The program object `{"instructions": [...], "cache"?: N}` for a `field_engine` request
    (pre-flight warnings appended to `notes` when given)."""
    if not isinstance(field_engine, dict):
        raise FEError("field_engine must be an object with 'instructions' and 'global_parameters'")
    if "instructions" not in field_engine:
        raise FEError("field_engine.instructions is missing")
    model = field_engine["instructions"]
    if not isinstance(model, list):
        raise FEError("field_engine.instructions must be a list")
    program = []
    for index, entry in enumerate(model):
        try:
            program.append(build_instruction(index, entry))
        except FEError as exc:
            raise exc.at(index) from None
    if "global_parameters" not in field_engine:
        raise FEError("field_engine.global_parameters is missing")
    cache = cache_size(field_engine["global_parameters"])
    return compile_program(program, cache, layout, notes)


def build_instruction(index: int, entry: Any) -> Instruction:
    """One model entry `{"id", "parameters"}` -> a checked instruction."""
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise FEError(f"instruction {index + 1} must be an object with a string 'id'")
    cls = CLASSES.get(entry["id"])
    if cls is None:
        raise FEError(f"unknown instruction '{entry['id']}'")
    params = entry.get("parameters", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise FEError(f"{cls.ID}: 'parameters' must be an object")
    return cls.create({key: sanitize(cls.ID, key, value) for key, value in params.items()})


def cache_size(global_parameters: Any) -> int | None:
    """The `cache_size` global parameter: anything Python `int()` accepts, as in the reference."""
    if global_parameters is None:
        return None
    if not isinstance(global_parameters, dict):
        raise FEError("field_engine.global_parameters must be an object")
    if "cache_size" not in global_parameters:
        return None
    value = global_parameters["cache_size"]
    if isinstance(value, (str, int, float)):
        try:
            return int(value)
        except (ValueError, OverflowError):
            pass
    raise FEError("Cache size must be a number")


def compile_program(
    program: list[Instruction], cache: int | None, layout: Layout, notes: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The compiled program; its pre-flight warnings are appended to `notes` when given."""
    index = {id(inst): i for i, inst in enumerate(program)}
    check_variables(program)
    ordered = order_flow_vars(program, index)
    final = ordered + [inst for inst in program if not inst.is_flow_var]
    result: dict[str, Any] = {"instructions": []}
    for inst in final:
        try:
            emitted = inst.emit(layout)
            check_json_ints(emitted)
        except FEError as exc:
            raise exc.at(index[id(inst)]) from None
        result["instructions"].append(emitted)
    if cache is not None and cache > 0:
        result["cache"] = cache
    if notes is not None:
        notes.extend(preflight.warnings(program, final, result["instructions"], layout))
    return result


def check_json_ints(emitted: dict[str, Any]) -> None:
    """Every number must fit the 64-bit integers JSON peers (and TRex) read; unchecked ones (mask, shift,
    tuple ports, EXPRESSION results) could otherwise be arbitrarily large."""
    for key, value in emitted.items():
        for number in value if isinstance(value, list) else (value,):
            if type(number) is int and not I64_MIN <= number <= U64_MAX:
                raise FEError(f"{emitted['type']}: {key} {number} does not fit in 64 bits")


def check_variables(program: list[Instruction]) -> None:
    """Every variable defined once; every reference names a defined variable."""
    defined: set[str] = set()
    for i, inst in enumerate(program):
        for name in inst.defines():
            if name in defined:
                raise FEError(
                    f"Variable {name} defined twice ", detail=f"variable {name} is defined twice", instruction=i
                )
            defined.add(name)
    for i, inst in enumerate(program):
        ref = inst.references()
        if ref is not None and ref not in defined:
            raise FEError(f"Variable {ref} does not exist  ", detail=_no_variable(ref, defined), instruction=i)


def _no_variable(name: str, defined: set[str]) -> str:
    known = ", ".join(sorted(defined)) if defined else "none"
    return f"no variable named {name} is defined (variables: {known})"


def order_flow_vars(program: list[Instruction], index: dict[int, int] | None = None) -> list[Instruction]:
    """Flow vars in model order with next_var chains kept together, head first (reference §5 steps 3-6).

    A chained variable's split_to_cores is forced to false, as in TRex. `index` maps an instruction
    (by id) to its place in the client's list, for the errors.
    """
    index = index or {}
    by_name: dict[str, Any] = {inst.name: inst for inst in program if isinstance(inst, FlowVariable)}
    for var in by_name.values():
        if var.next_var is not None and var.next_var not in by_name:
            raise FEError(
                f"Variable {var.next_var} does not exist  ",
                detail=f"next_var {var.next_var}: " + _no_variable(var.next_var, set(by_name)),
                instruction=index.get(id(var)),
            )
    previous: dict[str, str] = {}
    for var in by_name.values():
        if var.next_var is None:
            continue
        if previous.get(var.next_var, var.name) != var.name:
            raise FEError(
                f"Variable {var.next_var} is pointed by two vars.",
                detail=f"variable {var.next_var} is the next_var of both {previous[var.next_var]} and {var.name}",
                instruction=index.get(id(var)),
            )
        previous[var.next_var] = var.name
        by_name[var.next_var].split_to_cores = False
    ordered: list[Any] = []
    seen: set[str] = set()
    for name, var in by_name.items():
        if name in previous:
            continue
        while var is not None and var.name not in seen:
            ordered.append(var)
            seen.add(var.name)
            var = by_name.get(var.next_var) if var.next_var is not None else None
    if len(ordered) < len(by_name):
        raise FEError("Loops are forbidden for dependent variables")
    return ordered
