"""Base64 in and out of the wire: every binary value travels as base64 text."""

from __future__ import annotations

import base64
import binascii

from scapyrpc.packets.errors import ServiceError

__all__ = ["decode_base64", "encode_base64"]


def decode_base64(text: object, what: str) -> bytes:
    """Strict base64 decode; anything else is a client error naming `what`."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("ascii", "replace")
    if not isinstance(text, str):
        raise ServiceError(f"{what} must be base64 text, got {type(text).__name__}")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(f"{what} is not valid base64") from None


def encode_base64(data: bytes) -> str:
    """Base64 text of `data` (no newlines)."""
    return base64.b64encode(data).decode("ascii")
