"""The one failure inside the field engine: an input problem reported in `field_engine.error`."""

__all__ = ["FEError"]


class FEError(Exception):
    """A field-engine input problem; `str(exc)` is the exact text the client sees."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
