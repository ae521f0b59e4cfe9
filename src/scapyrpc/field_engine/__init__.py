"""Field Engine: compiles GUI instructions into TRex VM programs (first version: empty)."""

from __future__ import annotations

from typing import Any


def compile_for_packet(pkt: Any, result: dict, extra_options: dict | None) -> dict:
    return {"instructions": {"instructions": []}, "error": None, "vm_instructions_expressions": []}


def definitions() -> dict:
    return {"feInstructions": [], "feInstructionParameters": [], "feParameters": [], "feTemplates": []}


def parameter_values(pkt: Any, result: dict, fe_model: Any, parameter_id: str) -> dict:
    return {"map": {}}


def decompile(pkt: Any, result: dict, vm_raw: Any) -> dict:
    return {"instructions": []}


def warm_up() -> None:
    return None
