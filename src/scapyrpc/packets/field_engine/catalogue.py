"""The Field Engine metadata served by `get_definitions` (the reference's field_engine.json).

Loaded once per process by `warm_up()`; help texts are ours, sent base64 as the GUI expects.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["data", "definitions"]


@cache
def data() -> dict[str, Any]:
    """The parsed data file, with each instruction's `help` turned into base64 text."""
    raw: dict[str, Any] = json.loads(
        resources.files("scapyrpc.packets").joinpath("data/field_engine.json").read_text("utf-8")
    )
    for instruction in raw["instructions"]:
        instruction["help"] = base64.b64encode(instruction["help"].encode("utf-8")).decode("ascii")
    return raw


def definitions() -> dict[str, Any]:
    """The `fe*` keys of `get_definitions`."""
    fe = data()
    return {
        "feInstructions": fe["instructions"],
        "feInstructionParameters": fe["instruction_params_meta"],
        "feParameters": fe["global_params_meta"],
        "feTemplates": fe["templates"],
    }
