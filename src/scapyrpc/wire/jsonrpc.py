"""Error codes and the replies made without a worker: Scapy-free, shared by broker and RPC layer."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

__all__ = [
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "JSONRPC_INVALID_PARAMS",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "PEEK_PARSE_BYTES",
    "RESULT_HEAD",
    "RESULT_MID",
    "SCAPY_ERROR",
    "STANDARD_MESSAGES",
    "SYNTAX_ERROR",
    "UNKNOWN_ERROR",
    "error_body",
    "id_json",
    "is_request_id",
    "long_integer_in",
    "maybe_rounded",
    "peek_id",
    "peek_method",
    "reply_id",
    "result_body",
    "scapy_error_body",
    "value_json",
]

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


# A result reply is exactly RESULT_HEAD + id_json(id) + RESULT_MID + value_json(result) + b"}":
# its result part never depends on its id, so a reply kept by the broker can be given again to
# the same request under another id, byte for byte as a worker would write it (broker/replycache).
RESULT_HEAD = b'{"jsonrpc":"2.0","id":'
RESULT_MID = b',"result":'


def id_json(request_id: Any) -> bytes:
    """A request id as a reply writes it: orjson's text, or the standard library's for an integer
    past 64 bits (which orjson cannot write)."""
    try:
        return orjson.dumps(request_id)
    except TypeError:
        return json.dumps(request_id, ensure_ascii=False).encode("utf-8")


def value_json(value: Any) -> bytes:
    """A result as a reply writes it: orjson; the standard library for the valid JSON orjson refuses
    (integers past 64 bits, such as BGP's 128-bit marker). Raises when no JSON can carry it."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def result_body(request_id: Any, result: Any) -> bytes:
    """The reply carrying `result` to request `request_id` (see RESULT_HEAD); raises when no JSON
    can carry the result."""
    try:  # one call in the usual case: orjson writes the object exactly as the pieces below
        return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "result": result})
    except TypeError:
        return RESULT_HEAD + id_json(request_id) + RESULT_MID + value_json(result) + b"}"


_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))  # each digit "0", all else " "
_LONG_RUN = b"0" * 19


def long_integer_in(body: bytes) -> bool:
    """19 digits or more in a row: maybe an integer past 64 bits, which orjson reads as a float
    (inside a string too, which only costs an exact reading). The worker (`worker/rpc`) and the
    broker's reply cache read a request exactly, with the standard library, when this holds or
    its id may be rounded. (Digits mapped by `bytes.translate` and searched: a tenth of what the
    regular expression \\d{19} costs, which the broker would pay on every request.)"""
    return _LONG_RUN in body.translate(_DIGITS)


def maybe_rounded(value: Any) -> bool:
    """A float orjson may have made of an integer literal past 64 bits."""
    return isinstance(value, float) and value.is_integer() and abs(value) >= 2**63


def is_request_id(value: Any) -> bool:
    """docs/api.md, "Envelope": an id is a string or a number (null, or no id, is answered with null).
    A number JSON cannot carry back (1e999 reads as infinity) is not an id."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


PEEK_PARSE_BYTES = 64 * 1024  # a request up to this size is parsed to find its id
PEEK_HEAD_BYTES = 4096  # in a larger one, only this much of its start is looked at (in one pass)
PEEK_TAIL_BYTES = 512  # and of its end (a search from every comma: kept short, it costs its square)

# A member of the request object whose value is a string, number or literal: the members a
# scan may step over. Anchored at the start or the end of the text, a match can only be a
# member of the outermost object (a quote inside a JSON string is escaped, so `,"id"` and
# `{"id"` cannot stand inside one).
_STRING = rb'"(?:[^"\\]|\\.)*"'
_NUMBER = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_SCALAR_MEMBER = _STRING + rb"\s*:\s*(?:" + _STRING + rb"|" + _NUMBER + rb"|true|false|null)"
_ID_VALUE = rb"(" + _STRING + rb"|" + _NUMBER + rb"|null)"


def _member_patterns(name: bytes, value: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Patterns for member `name` of the outermost object, before (first) or after (last)
    every member that holds an array or an object; group 1 is its value."""
    member = rb'"' + name + rb'"\s*:\s*' + value
    first = re.compile(rb"\A\s*\{(?:\s*" + _SCALAR_MEMBER + rb"\s*,)*?\s*" + member + rb"\s*[,}]")
    last = re.compile(rb"[{,]\s*" + member + rb"\s*(?:,\s*" + _SCALAR_MEMBER + rb"\s*)*\}\s*\Z")
    return first, last


_FIRST_ID, _LAST_ID = _member_patterns(b"id", _ID_VALUE)
_FIRST_METHOD, _LAST_METHOD = _member_patterns(b"method", rb"(" + _STRING + rb")")


def _peek_member(body: bytes, first: re.Pattern[bytes], last: re.Pattern[bytes]) -> Any:
    """The value of a member found at either end of a request too large to parse (see
    peek_id), or ValueError when there is none or it is not valid JSON text."""
    match = first.match(body, 0, PEEK_HEAD_BYTES) or last.search(body[-PEEK_TAIL_BYTES:])
    if match is None:
        raise ValueError("no such member at either end")
    value = json.loads(match.group(1))  # exact integers past 64 bits
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # lone surrogates raise UnicodeEncodeError
    return value


REPLY_HEAD_BYTES = 256  # of a reply searched for its id (replies start {"jsonrpc":"2.0","id":...)


def reply_id(reply: bytes | memoryview) -> Any:
    """The id a JSON-RPC reply (ours, or a worker's) answers, read from its head only."""
    return peek_id(bytes(reply[:REPLY_HEAD_BYTES]))


def peek_id(body: bytes) -> Any:
    """The id of a request, for a reply made without a worker (error paths only), or None.

    A request up to PEEK_PARSE_BYTES is parsed, so its id is exact. A larger one is not: its
    id is found when it is written before or after every member that holds an array or an
    object, as clients write it (`{"jsonrpc":"2.0","id":"1","method":...,"params":[...]}`,
    `{...,"params":[...],"id":1}`), never taken from inside `params`. An id that is no valid
    id is None, as the worker would answer it.
    """
    if len(body) <= PEEK_PARSE_BYTES:
        try:
            request = orjson.loads(body)
            if isinstance(request, dict) and isinstance(request.get("id"), float) and abs(request["id"]) >= 2**63:
                request = json.loads(body)  # maybe an integer past 64 bits, which orjson rounds
        except (ValueError, RecursionError):  # not JSON, or nested too deeply: look at the ends
            pass
        else:
            value = request.get("id") if isinstance(request, dict) else None
            return value if is_request_id(value) else None
    try:
        value = _peek_member(body, _FIRST_ID, _LAST_ID)
    except ValueError:  # UnicodeEncodeError is one
        return None
    return value if is_request_id(value) else None


def peek_method(body: bytes) -> str:
    """The method name of a request, for error messages made outside a worker, or "request".
    Bounded as peek_id is: a request past PEEK_PARSE_BYTES is looked at only at its ends."""
    try:
        if len(body) <= PEEK_PARSE_BYTES:
            request = orjson.loads(body)
            method = request.get("method") if isinstance(request, dict) else None
        else:
            method = _peek_member(body, _FIRST_METHOD, _LAST_METHOD)
    except ValueError:  # not JSON (orjson's JSONDecodeError is one), or no method at either end
        return "request"
    return method if isinstance(method, str) else "request"
