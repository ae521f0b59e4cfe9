"""JSON-RPC 2.0 envelope and error table: request bytes in, reply bytes out (docs/api.md,
"Envelope and errors" and "Handshake and call shapes").

`handle` is total: whatever the bytes (not UTF-8, not JSON, nested past any
depth, lone surrogates, numbers JSON cannot carry back) and whatever a method
raises (RecursionError and MemoryError included), it returns exactly one reply
and never raises, so no request can end the worker that reads it.

The request is read here: parsed (orjson; the standard library where orjson
would round an integer id or refuses a number JSON allows), its envelope checked (one object, no batches; a string
or finite number id, kept even when the request is invalid; a request without
id answered with id null) and the version handler resolved into the GUI or the
seed call shape. jsonrpcserver then looks the method up, binds the arguments
(Invalid params) and turns the methods' `Success`/`Error` results into response
objects: `dispatch_to_response` with the call read here, a pass-through
deserializer and a no-op validator (the library's documented switches), and
its own response serialiser as post-processing, which is all
`dispatch_to_serializable` adds, less a typing cast that costs 1.5 us a call.
Its own reading is bypassed on purpose: it cannot keep an invalid request's id,
it treats a request without id as a notification that gets no reply (docs/api.md
wants both), and its jsonschema validator alone costs about 26 us per request,
three times a whole `get_version` here (benchmarks/README.md).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
from jsonrpcserver import Error, Result, Success, dispatch_to_response
from jsonrpcserver.response import to_serializable_one

from scapyrpc.packets import service
from scapyrpc.packets.errors import InputSyntaxError, ServiceError
from scapyrpc.wire import contract
from scapyrpc.wire.jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    JSONRPC_INVALID_PARAMS,
    PARSE_ERROR,
    SCAPY_ERROR,
    STANDARD_MESSAGES,
    SYNTAX_ERROR,
    UNKNOWN_ERROR,
    error_body,
    is_request_id,
    long_integer_in,
    maybe_rounded,
    result_body,
    scapy_error_body,
)

__all__ = ["WRONG_HANDLER_MESSAGE", "Reply", "enable_test_methods", "handle"]

log = logging.getLogger("scapyrpc.worker")

UNKNOWN_ERROR_MESSAGE = "Scapy Server: Unknown Error"
LOGGED_ID_CHARS = 100  # of a request id in a log line (an id may be a long string)
TOO_DEEP_MESSAGE = "request is nested too deeply to be read"
REMOTE_SHUTDOWN_MESSAGE = "shut_down is only accepted from this host"
WRONG_HANDLER_MESSAGE = (
    f"Provided version handler does not correspond to the server's version ({contract.API_VERSION}); "
    "the client must be updated"
)


class Reply(NamedTuple):
    """The bytes to send back, whether the server must stop after sending them, whether
    this process ran out of memory (it should be replaced), and what was answered: the
    method (one of ours, `unknown`, or `invalid` when no request could be read) and the
    error code (0: a result), for the broker's metrics and logs, and whether the broker may
    keep the reply and answer the same request again itself."""

    body: bytes
    shutdown: bool = False
    exhausted: bool = False
    method: str = "invalid"
    code: int = 0
    cacheable: bool = False  # an ok result of a pure method: the broker may keep it (service.PURE)


class _OutOfMemory(BaseException):
    """A method ran out of memory: past jsonrpcserver (which catches Exception) to `_handle`."""


class _Unexpected(BaseException):
    """A bug of ours in a method: past jsonrpcserver to `_handle`, which logs it with the request id."""


class _Refused(Exception):
    """A request answered before dispatch (unreadable, not a request, wrong handler)."""

    def __init__(self, code: int, body: bytes, method: str = "invalid") -> None:
        super().__init__()
        self.code = code
        self.body = body
        self.method = method


def _wrap(fn: Callable[..., Any]) -> Callable[..., Result]:
    """Adapt a service function to jsonrpcserver: its result or failure as a Result value.

    Nothing a method raises gets past this as an exception jsonrpcserver would see, except
    those that mean the process is being stopped, and `_OutOfMemory` / `_Unexpected`, which
    carry a failure past jsonrpcserver on purpose to `_handle`.
    """

    def method(*args: Any, **kwargs: Any) -> Result:
        try:
            return Success(fn(*args, **kwargs))
        except ServiceError as exc:
            return Error(SCAPY_ERROR, f"Scapy Server: {exc}")
        except InputSyntaxError as exc:
            return Error(SYNTAX_ERROR, f"Syntax Error: {exc}")
        except RecursionError:
            return Error(SCAPY_ERROR, "Scapy Server: input is nested too deeply")
        except MemoryError:
            raise _OutOfMemory from None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - a bug of ours is an error reply, never a dead worker
            raise _Unexpected() from exc

    method.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    return method


_METHODS = {name: _wrap(fn) for name, fn in service.METHODS.items()}
_ARITY = {name: len(params) for name, params in service.METHOD_PARAMS.items()}


def enable_test_methods() -> None:
    """Register the `testing` methods in this process (servers started with --test-methods)."""
    from scapyrpc.worker import test_methods

    _METHODS.update({name: _wrap(fn) for name, fn in test_methods.METHODS.items()})
    _ARITY.update({name: len(inspect.signature(fn).parameters) for name, fn in test_methods.METHODS.items()})


def handle(raw: bytes, remote: bool = False) -> Reply:
    """Turn one request frame into exactly one reply frame; never raises. `remote`: it came
    from a peer beyond this host, which may not stop the server."""
    try:
        return _handle(raw, remote)
    except (KeyboardInterrupt, SystemExit):
        raise
    except (MemoryError, _OutOfMemory):
        return Reply(scapy_error_body(None, "out of memory"), exhausted=True, method="unknown", code=SCAPY_ERROR)
    except BaseException:  # noqa: BLE001 - the last net: one reply, whatever happened
        _log_unexpected("unexpected error while handling a request", None)
        return Reply(error_body(None, UNKNOWN_ERROR, UNKNOWN_ERROR_MESSAGE), method="unknown", code=UNKNOWN_ERROR)


def _handle(raw: bytes, remote: bool) -> Reply:
    try:
        request_id, method, params = _read(raw)
    except _Refused as refused:
        return Reply(refused.body, method=refused.method, code=refused.code)
    if remote and method == "shut_down":  # decided here, on the method as parsed, whatever its spelling
        return Reply(scapy_error_body(request_id, REMOTE_SHUTDOWN_MESSAGE), method=method, code=SCAPY_ERROR)
    name = method if method in _METHODS else "unknown"  # a label: never the client's text
    try:
        # jsonrpcserver's annotations: the request is the deserializer's input (a string only for
        # its default), a validator's return value is never read (its docs: "pass lambda _: None"),
        # and what post_process makes of the response is returned (here a dict)
        response: dict[str, Any] = dispatch_to_response(  # type: ignore[assignment]
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},  # type: ignore[arg-type]
            _METHODS,
            deserializer=_already_parsed,
            validator=_already_checked,  # type: ignore[arg-type]
            post_process=to_serializable_one,
        )
    except _OutOfMemory:
        return Reply(scapy_error_body(request_id, "out of memory"), exhausted=True, method=name, code=SCAPY_ERROR)
    except _Unexpected as unexpected:
        _log_unexpected(f"unexpected error in {name}", request_id, unexpected.__cause__)
        return Reply(error_body(request_id, UNKNOWN_ERROR, UNKNOWN_ERROR_MESSAGE), method=name, code=UNKNOWN_ERROR)
    return _reply(response, request_id, name)


def _already_parsed(call: Any) -> Any:
    """jsonrpcserver's deserializer: `_read` has parsed the frame."""
    return call


def _already_checked(call: Any) -> None:
    """jsonrpcserver's validator: `_read` has checked the envelope."""


# ---------------------------------------------------------------- reading a request


def _read(raw: bytes) -> tuple[Any, str, list[Any] | dict[str, Any]]:
    """(id, method, params) of a request frame, the handler already stripped from params."""
    request = _parse(raw)
    if not isinstance(request, dict):
        raise _Refused(INVALID_REQUEST, error_body(None, INVALID_REQUEST, "Invalid Request"))
    request_id = request.get("id")
    if not is_request_id(request_id):
        raise _Refused(INVALID_REQUEST, error_body(None, INVALID_REQUEST, "Invalid Request"))
    method = request.get("method")
    params = request.get("params", [])
    if request.get("jsonrpc") != "2.0" or not isinstance(method, str) or not isinstance(params, (list, dict)):
        raise _Refused(INVALID_REQUEST, error_body(request_id, INVALID_REQUEST, "Invalid Request"))
    if isinstance(params, list):
        params = _resolve_shape(request_id, method, params)
    return request_id, method, params


def _parse(raw: bytes) -> Any:
    """The JSON value of a UTF-8 frame: orjson, and the standard library where orjson
    would lose what the client sent (an integer past 64 bits, which orjson reads as a
    float: a request id, or a field value such as BGP's 128-bit marker) or refuses a
    number JSON allows (1e999, past a double)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise _Refused(SCAPY_ERROR, scapy_error_body(None, TOO_DEEP_MESSAGE)) from None
        return _parse_exactly(raw)
    if long_integer_in(raw) or (isinstance(value, dict) and maybe_rounded(value.get("id"))):
        return _parse_exactly(raw)
    return value


def _parse_exactly(raw: bytes) -> Any:
    """The standard library's reading (exact integers, 1e999 as infinity), held to what
    orjson accepts: UTF-8 only, no NaN/Infinity, no lone surrogates."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except RecursionError:
        raise _Refused(SCAPY_ERROR, scapy_error_body(None, TOO_DEEP_MESSAGE)) from None
    except ValueError:  # not UTF-8, not JSON, or NaN/Infinity
        raise _Refused(PARSE_ERROR, error_body(None, PARSE_ERROR, "Parse error")) from None
    if not _valid_text(value):
        raise _Refused(PARSE_ERROR, error_body(None, PARSE_ERROR, "Parse error"))
    return value


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _valid_text(value: Any) -> bool:
    """Whether every string and key in `value` is valid Unicode (no lone surrogate)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            items: list[str] = [item]
        elif isinstance(item, dict):
            items = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in items:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def _resolve_shape(request_id: Any, method: str, params: list[Any]) -> list[Any]:
    """Strip the version handler (GUI shape) or accept the seed shape (docs/api.md, Handshake and call shapes)."""
    if method in contract.HANDLERLESS or method not in _ARITY:
        return params
    if params and isinstance(params[0], str) and params[0] in contract.VALID_HANDLERS:
        return params[1:]
    if len(params) == _ARITY[method] + 1 and isinstance(params[0], str):
        raise _Refused(SCAPY_ERROR, scapy_error_body(request_id, WRONG_HANDLER_MESSAGE), method)
    return params


# ---------------------------------------------------------------- writing the reply


def _reply(response: dict[str, Any], request_id: Any, method: str) -> Reply:
    """The reply frame for jsonrpcserver's response object, with the contract's codes and texts.
    A result of a pure method is marked cacheable: the broker may give it again (`service.PURE`)."""
    if "result" in response:
        try:
            body = result_body(request_id, response["result"])
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - a result JSON cannot carry is our bug, not the client's
            _log_unexpected(f"result of {method} is not JSON-serialisable", request_id)
            return Reply(
                error_body(request_id, UNKNOWN_ERROR, UNKNOWN_ERROR_MESSAGE), method=method, code=UNKNOWN_ERROR
            )
        return Reply(body, shutdown=method == "shut_down", method=method, cacheable=method in service.PURE)
    error = response["error"]
    code = INVALID_PARAMS if error["code"] == JSONRPC_INVALID_PARAMS else error["code"]
    return Reply(error_body(request_id, code, STANDARD_MESSAGES.get(code, error["message"])), method=method, code=code)


def _log_unexpected(what: str, request_id: Any, exc: BaseException | None = None) -> None:
    """Log once, with the traceback and the request id (the reply says only -32096); a failure
    to log (out of memory) must not cost the reply."""
    try:
        shown = json.dumps(request_id)
        if len(shown) > LOGGED_ID_CHARS:
            request_id = shown = shown[:LOGGED_ID_CHARS]
        log.error("%s, request id %s", what, shown, exc_info=exc or True, extra={"fields": {"id": request_id}})
    except Exception:  # noqa: BLE001
        pass
