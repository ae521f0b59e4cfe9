"""Error codes and the replies made without a worker: Scapy-free, shared by broker and RPC layer."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32603  # the seed's code, not JSON-RPC's -32602
JSONRPC_INVALID_PARAMS = -32602  # JSON-RPC's (and jsonrpcserver's) code, answered as INVALID_PARAMS
SYNTAX_ERROR = -32097
SCAPY_ERROR = -32098
UNKNOWN_ERROR = -32096

STANDARD_MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
}


def error_body(request_id: Any, code: int, message: str) -> bytes:
    """A complete JSON-RPC error reply, whatever `request_id` and `message` hold: an id
    past 64 bits is written by the standard library, text that is not valid Unicode is
    repaired, and an id that no JSON can carry is sent as null."""
    reply = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    try:
        return orjson.dumps(reply)
    except TypeError:
        pass
    reply["error"] = {"code": code, "message": message.encode("utf-8", "replace").decode("utf-8")}
    try:
        return json.dumps(reply, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError):
        reply["id"] = None
        return orjson.dumps(reply)


def scapy_error_body(request_id: Any, message: str) -> bytes:
    """A -32098 reply, as the broker sends for deadlines, lost workers and overload."""
    return error_body(request_id, SCAPY_ERROR, f"Scapy Server: {message}")


_ID_PATTERN = re.compile(rb'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|null)')


def peek_id(body: bytes) -> Any:
    """Best-effort request id for replies made without parsing the whole body (error paths only)."""
    for chunk in (body[:4096], body[-4096:]):
        match = _ID_PATTERN.search(chunk)
        if match:
            try:
                return orjson.loads(match.group(1))
            except orjson.JSONDecodeError:
                return None
    return None


def peek_method(body: bytes) -> str:
    """The method name of a request, for error messages made outside a worker."""
    try:
        method = orjson.loads(body).get("method")
    except (orjson.JSONDecodeError, AttributeError):
        return "request"
    return method if isinstance(method, str) else "request"
