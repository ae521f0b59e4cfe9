"""JSON-RPC 2.0 envelope and error table (API.md sections 2-3): request bytes in, reply bytes out.

The envelope is checked here (one object, no batches, `id` kept even when the
request is invalid), the version handler is resolved into the GUI or the seed
call shape, and jsonrpcserver dispatches to the service method table. Every
request produces exactly one reply; nothing raised below escapes to the wire.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from typing import Any, Callable, NamedTuple

import orjson
from jsonrpcserver import Error, Success, dispatch_to_response
from jsonrpcserver.response import ErrorResponse, SuccessResponse
from oslash.either import Left

from . import service
from .errors import InputSyntaxError, ServiceError

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32603
SYNTAX_ERROR = -32097
SCAPY_ERROR = -32098
UNKNOWN_ERROR = -32096

_STANDARD_MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
}


class Reply(NamedTuple):
    """The bytes to send back, and whether the server must stop after sending them."""

    body: bytes
    shutdown: bool = False


def error_body(request_id: Any, code: int, message: str) -> bytes:
    """A complete JSON-RPC error reply."""
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def scapy_error_body(request_id: Any, message: str) -> bytes:
    """A -32098 reply, as the broker sends for deadlines, lost workers and overload."""
    return error_body(request_id, SCAPY_ERROR, f"Scapy Server: {message}")


_ID_PATTERN = re.compile(rb'"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|null)')


def peek_id(body: bytes) -> Any:
    """Best-effort request id for replies the broker makes without parsing the whole body."""
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


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adapt a service function to jsonrpcserver: results and failures as values."""

    def method(*args: Any, **kwargs: Any) -> Any:
        try:
            return Success(fn(*args, **kwargs))
        except ServiceError as exc:
            return Error(SCAPY_ERROR, f"Scapy Server: {exc}")
        except InputSyntaxError as exc:
            return Error(SYNTAX_ERROR, f"Syntax Error: {exc}")
        except RecursionError:
            return Error(SCAPY_ERROR, "Scapy Server: input is nested too deeply")
        except Exception:
            log.exception("unexpected error in %s", fn.__name__)
            return Error(UNKNOWN_ERROR, "Scapy Server: Unknown Error")

    method.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    return method


_METHODS = {name: _wrap(fn) for name, fn in service.METHODS.items()}


def _unwrap(response: Any) -> SuccessResponse | ErrorResponse:
    """Take the Response out of jsonrpcserver's Either, with the contract's codes and texts."""
    if isinstance(response, Left):
        err = response._error
        code = INVALID_PARAMS if err.code == -32602 else err.code
        return ErrorResponse(code, _STANDARD_MESSAGES.get(code, err.message), None, err.id)
    return response._value


def _invalid(request_id: Any) -> Reply:
    return Reply(error_body(request_id, INVALID_REQUEST, "Invalid Request"))


def _resolve_shape(method: str, params: list) -> list | Reply:
    """Strip the version handler (GUI shape) or accept the seed shape (API.md section 3)."""
    if method in service.HANDLERLESS or method not in service.METHOD_PARAMS:
        return params
    if params and isinstance(params[0], str) and params[0] in service.VALID_HANDLERS:
        return params[1:]
    full_arity = len(service.METHOD_PARAMS[method][1]) + 1
    if len(params) == full_arity and params and isinstance(params[0], str):
        return Reply(b"")  # marker: wrong handler, reported by the caller with the id
    return params


def _parse(raw: bytes) -> Any:
    """UTF-8 JSON; orjson first, the standard library for what orjson refuses (integers past 64 bits)."""
    text = raw.decode("utf-8")
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def handle(raw: bytes) -> Reply:
    """Turn one request frame into exactly one reply frame."""
    try:
        request = _parse(raw)
    except ValueError:
        return Reply(error_body(None, PARSE_ERROR, "Parse error"))
    if not isinstance(request, dict):
        return _invalid(None)
    request_id = request.get("id")
    if isinstance(request_id, (bool, dict, list)):
        return _invalid(None)
    method = request.get("method")
    params = request.get("params", [])
    if request.get("jsonrpc") != "2.0" or not isinstance(method, str) or not isinstance(params, (list, dict)):
        return _invalid(request_id)
    if isinstance(params, list):
        shaped = _resolve_shape(method, params)
        if isinstance(shaped, Reply):
            return Reply(scapy_error_body(
                request_id,
                "Provided version handler does not correspond to the server's version "
                f"({service.API_VERSION}); the client must be updated",
            ))
        params = shaped
    call = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    response = dispatch_to_response(
        call, _METHODS, deserializer=lambda r: r, validator=lambda r: r, post_process=_unwrap,
    )
    return _serialise(response, request_id, method)


def _serialise(response: Any, request_id: Any, method: str) -> Reply:
    if isinstance(response, SuccessResponse):
        try:
            body = orjson.dumps({"jsonrpc": "2.0", "id": request_id, "result": response.result})
        except TypeError:
            log.exception("result of %s is not JSON-serialisable", method)
            return Reply(error_body(request_id, UNKNOWN_ERROR, "Scapy Server: Unknown Error"))
        return Reply(body, shutdown=method == "shut_down")
    if isinstance(response, ErrorResponse):
        return Reply(error_body(request_id, response.code, response.message))
    log.error("unexpected dispatch outcome for %s: %r", method, response)
    return Reply(error_body(request_id, UNKNOWN_ERROR, "Scapy Server: Unknown Error"))
