"""Field Engine: compiles the GUI's instruction list into a TRex VM program, and back.

Public surface (used by service.py): `compile_for_packet`, `definitions`,
`parameter_values`, `decompile`, `simulate`, `warm_up`. Input problems in a build never
fail the call: they are reported in `field_engine.error`, and what the program will do
wrong on TRex in `field_engine.warnings` (`preflight`). `simulate` runs a compiled
program as TRex's data plane does (`runtime`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scapyrpc.packets.field_engine import catalogue
from scapyrpc.packets.field_engine.choices import parameter_values
from scapyrpc.packets.field_engine.compiler import compile_request
from scapyrpc.packets.field_engine.decompile import decompile
from scapyrpc.packets.field_engine.errors import FEError
from scapyrpc.packets.field_engine.offsets import Layout
from scapyrpc.packets.field_engine.simulate import simulate

if TYPE_CHECKING:  # pragma: no cover
    from scapy.packet import Packet

__all__ = ["compile_for_packet", "decompile", "definitions", "parameter_values", "simulate", "warm_up"]

_log = logging.getLogger("scapyrpc.packets")


def compile_for_packet(pkt: Packet, result: dict[str, Any], extra_options: dict[str, Any] | None) -> dict[str, Any]:
    """The `field_engine` object of a `build_pkt_ex` result for `pkt`, whose packet
    result `result` gives the offsets that symbolic descriptors resolve to.

    No `field_engine` key in `extra_options` means no program was asked for: an
    empty program, no error.
    """
    program: dict[str, Any] = {"instructions": []}
    error = None
    detail = None
    notes: list[dict[str, Any]] = []
    if isinstance(extra_options, dict) and "field_engine" in extra_options:
        try:
            program = compile_request(extra_options["field_engine"], Layout(pkt, result), notes)
        except FEError as exc:
            error = exc.message
            detail = exc.explained()
        except Exception:  # noqa: BLE001 - a bug of ours must not cost the client its packet
            _log.exception("field engine compile failed")
            error = "internal error while compiling the field engine program"
    elif extra_options is not None and not isinstance(extra_options, dict):
        error = 'extra_options must be an object like {"field_engine": {...}}'
    if error is not None and detail is None:
        detail = FEError(error).explained()
    return {
        "instructions": program if error is None else {"instructions": []},
        "error": error,
        "vm_instructions_expressions": [],
        "warnings": notes if error is None else [],
        "error_detail": detail,
    }


def definitions() -> dict[str, Any]:
    """`feInstructions`, `feInstructionParameters`, `feParameters`, `feTemplates` for get_definitions."""
    return dict(catalogue.definitions())


def warm_up() -> None:
    """Load the metadata file once per process."""
    catalogue.data()
