"""What a client and the server agree on before any packet work, written once for both sides:
the API version the GUI splits and echoes, the version handler, the methods called without
one, and the handshake requests (docs/api.md, "Handshake and call shapes")."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

__all__ = [
    "ACCEPTED_API_VERSIONS",
    "API_MAJOR",
    "API_MINOR",
    "API_VERSION",
    "HANDLERLESS",
    "VALID_HANDLERS",
    "VERSION_REQUEST",
    "handler_request",
    "split_version",
    "version_handler",
]

API_MAJOR = "1"
API_MINOR = "02"
API_VERSION = f"{API_MAJOR}.{API_MINOR}"
ACCEPTED_API_VERSIONS = (("1", "01"), ("1", "02"))

# Methods that never take the version handler as their first parameter.
HANDLERLESS = frozenset({"get_version", "get_version_handler", "supported_methods", "shut_down", "rpc.discover"})

# The handshake's first request: the GUI sends get_version without a params key.
VERSION_REQUEST = b'{"jsonrpc":"2.0","id":"1","method":"get_version"}'


def version_handler(major: str, minor: str) -> str:
    """The reference handler formula: base64(md5(major+minor+major+minor))."""
    digest = hashlib.md5(f"{major}{minor}{major}{minor}".encode()).digest()
    return base64.b64encode(digest).decode("ascii")


VALID_HANDLERS = frozenset(version_handler(major, minor) for major, minor in ACCEPTED_API_VERSIONS)


def split_version(version: Any) -> tuple[str, str]:
    """(major, minor) of get_version's `version`, split on its first dot as the GUI splits it;
    ValueError when it has none."""
    major, dot, minor = str(version).partition(".")
    if not dot:
        raise ValueError(f"version {version!r} has no '.'")
    return major, minor


def handler_request(major: str, minor: str, request_id: str = "2") -> bytes:
    """The handshake's second request: get_version_handler(major, minor), both as strings."""
    return json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": "get_version_handler", "params": [major, minor]},
        separators=(",", ":"),
    ).encode()
