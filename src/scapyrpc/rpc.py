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
from typing import Any, Callable, NamedTuple

import orjson
from jsonrpcserver import Error, Success, dispatch_to_response
from jsonrpcserver.response import ErrorResponse, SuccessResponse
from oslash.either import Left

from . import service
from .errors import InputSyntaxError, ServiceError
from .replies import (
    INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR, SCAPY_ERROR, STANDARD_MESSAGES, SYNTAX_ERROR, UNKNOWN_ERROR,
    error_body, scapy_error_body,
)

log = logging.getLogger(__name__)


class Reply(NamedTuple):
    """The bytes to send back, and whether the server must stop after sending them."""

    body: bytes
    shutdown: bool = False


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
_ARITY = {name: len(inspect.signature(fn).parameters) for name, fn in service.METHODS.items()}


def enable_test_methods() -> None:
    """Register the `testing` methods in this process (servers started with --test-methods)."""
    from . import testing

    _METHODS.update({name: _wrap(fn) for name, fn in testing.METHODS.items()})
    _ARITY.update({name: len(inspect.signature(fn).parameters) for name, fn in testing.METHODS.items()})


def _unwrap(response: Any) -> SuccessResponse | ErrorResponse:
    """Take the Response out of jsonrpcserver's Either, with the contract's codes and texts."""
    if isinstance(response, Left):
        err = response._error
        code = INVALID_PARAMS if err.code == -32602 else err.code
        return ErrorResponse(code, STANDARD_MESSAGES.get(code, err.message), None, err.id)
    return response._value


def _invalid(request_id: Any) -> Reply:
    return Reply(error_body(request_id, INVALID_REQUEST, "Invalid Request"))


def _resolve_shape(method: str, params: list) -> list | Reply:
    """Strip the version handler (GUI shape) or accept the seed shape (API.md section 3)."""
    if method in service.HANDLERLESS or method not in _ARITY:
        return params
    if params and isinstance(params[0], str) and params[0] in service.VALID_HANDLERS:
        return params[1:]
    if len(params) == _ARITY[method] + 1 and isinstance(params[0], str):
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


def _dumps(message: dict) -> bytes:
    """orjson first; the standard library for the valid JSON orjson refuses (integers past
    64 bits, such as BGP's 128-bit marker)."""
    try:
        return orjson.dumps(message)
    except TypeError:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _serialise(response: Any, request_id: Any, method: str) -> Reply:
    if isinstance(response, SuccessResponse):
        try:
            body = _dumps({"jsonrpc": "2.0", "id": request_id, "result": response.result})
        except (TypeError, ValueError):
            log.exception("result of %s is not JSON-serialisable", method)
            return Reply(error_body(request_id, UNKNOWN_ERROR, "Scapy Server: Unknown Error"))
        return Reply(body, shutdown=method == "shut_down")
    if isinstance(response, ErrorResponse):
        return Reply(error_body(request_id, response.code, response.message))
    log.error("unexpected dispatch outcome for %s: %r", method, response)
    return Reply(error_body(request_id, UNKNOWN_ERROR, "Scapy Server: Unknown Error"))
