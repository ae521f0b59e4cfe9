"""The one failure inside the field engine: an input problem reported in `field_engine.error`."""

from __future__ import annotations

from typing import Any

__all__ = ["FEError"]


class FEError(Exception):
    """A field-engine input problem; `str(exc)` is the exact text the client sees in `error` (the
    reference's wording, which the GUI shows). `detail` says it for a reader where that wording is
    obscure, and `instruction` is the index, in the client's list, of the instruction it is about."""

    def __init__(self, message: str, *, detail: str | None = None, instruction: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.instruction = instruction

    def __str__(self) -> str:
        return self.message

    def at(self, instruction: int) -> FEError:
        """This error, about instruction `instruction` unless it already names one."""
        if self.instruction is None:
            self.instruction = instruction
        return self

    def explained(self) -> dict[str, Any]:
        """`field_engine.error_detail`: the instruction (or null) and a readable message."""
        return {"instruction": self.instruction, "message": self.detail or self.message}
