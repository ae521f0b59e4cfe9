"""A Python client that speaks to any Scapy Server exactly as the TRex GUI does.

REQ socket, the version handshake, the handler as first parameter of every
call, a receive timeout after which the socket is rebuilt (a REQ socket that
missed its reply cannot send again), and errors raised as `ScapyRpcError`.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import orjson
import zmq

from scapyrpc.wire.contract import HANDLERLESS, split_version

__all__ = ["ScapyClient", "ScapyRpcError", "ScapyTimeout"]


class ScapyRpcError(Exception):
    """An error reply: `code` and `message` as the server sent them."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class ScapyTimeout(ScapyRpcError):
    """No reply within the receive timeout; the connection has been reset."""

    def __init__(self, method: str, timeout_ms: int) -> None:
        super().__init__(0, f"Unable to receive response for {method} within {timeout_ms} ms")


class ScapyClient:
    """`ScapyClient("tcp://127.0.0.1:4507")`; call methods by their RPC names."""

    def __init__(
        self,
        endpoint: str = "tcp://127.0.0.1:4507",
        timeout_ms: int = 5000,
        handshake: bool = True,
        context: zmq.SyncContext | None = None,
        curve_server_key: str | os.PathLike[str] | bytes | None = None,
        curve_secret_key: str | os.PathLike[str] | None = None,
    ) -> None:
        """`curve_server_key`: the server's NAME.key (or its z85 key) to talk CurveZMQ;
        `curve_secret_key`: our NAME.key_secret (a throwaway pair without it)."""
        self.endpoint = endpoint
        self._curve = None
        if curve_server_key is not None:
            from scapyrpc.wire.curve import client_keys

            self._curve = client_keys(curve_server_key, curve_secret_key)
        self.timeout_ms = timeout_ms
        self._ctx = context or zmq.Context.instance()
        self._ids = itertools.count(1)
        self._sock: zmq.SyncSocket | None = None
        self.handler: str | None = None
        self.server_version: str | None = None
        self._handshake = handshake
        self._connect()

    # ---- connection ----------------------------------------------------------------------

    def _connect(self) -> None:
        sock = self._ctx.socket(zmq.REQ)
        if self._curve is not None:
            server, public, secret = self._curve
            sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = server, public, secret
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)
        sock.connect(self.endpoint)
        self._sock = sock
        if self._handshake:
            self.server_version = self.get_version()["version"]
            major, minor = split_version(self.server_version)
            self.handler = self.get_version_handler(major, minor)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def __enter__(self) -> ScapyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- raw calls -----------------------------------------------------------------------

    def request(self, method: str, params: list[Any] | dict[str, Any] | None = None) -> Any:
        """Send one request (params exactly as given) and return its result."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": str(next(self._ids)), "method": method}
        if params is not None:
            message["params"] = params
        reply = self.send_raw(orjson.dumps(message), method)
        if "error" in reply:
            err = reply["error"]
            raise ScapyRpcError(err.get("code", 0), err.get("message", ""), err.get("data"))
        if reply.get("id") != message["id"]:
            raise ScapyRpcError(0, f"unexpected result id {reply.get('id')!r}")
        return reply.get("result")

    def send_raw(self, payload: bytes, method: str = "request") -> dict[str, Any]:
        """Send bytes as they are and return the decoded reply; rebuilds the socket on timeout."""
        assert self._sock is not None, "client is closed"
        self._sock.send(payload)
        try:
            raw = self._sock.recv()
        except zmq.Again:
            self.close()
            handshake, self._handshake = self._handshake, False
            try:
                self._connect()
            finally:
                self._handshake = handshake
            raise ScapyTimeout(method, self.timeout_ms) from None
        reply: dict[str, Any] = orjson.loads(raw)
        return reply

    def call(self, method: str, *params: Any) -> Any:
        """A handler-first call, as the GUI makes it."""
        return self.request(method, [self.handler, *params])

    def invoke(self, method: str, params: list[Any]) -> Any:
        """Any method by name, with the handler first where the GUI would put it."""
        return self.request(method, params) if method in HANDLERLESS else self.call(method, *params)

    # ---- the methods -----------------------------------------------------------------------

    def get_version(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("get_version")
        return result

    def get_version_handler(self, major: str, minor: str) -> str:
        result: str = self.request("get_version_handler", [major, minor])
        return result

    def supported_methods(self, method_name: str = "all") -> Any:
        return self.request("supported_methods", [method_name])

    def build_pkt(self, model: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = self.call("build_pkt", model)
        return result

    def build_pkt_ex(self, model: list[dict[str, Any]], extra_options: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call("build_pkt_ex", model, extra_options)
        return result

    def reconstruct_pkt(self, packet_b64: str, model: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.call("reconstruct_pkt", packet_b64, model or [])
        return result

    def read_pcap(self, pcap_b64: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("read_pcap", pcap_b64)
        return result

    def read_pcap_summaries(self, pcap_b64: str) -> list:
        return self.call("read_pcap_summaries", pcap_b64)

    def write_pcap(self, packets_b64: list[str]) -> str:
        result: str = self.call("write_pcap", packets_b64)
        return result

    def get_definitions(self, names: list[str] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.call("get_definitions", names)
        return result

    def get_payload_classes(self, model: list[dict[str, Any]]) -> list[str]:
        result: list[str] = self.call("get_payload_classes", model)
        return result

    def get_tree(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("get_tree")
        return result

    def get_all(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("get_all")
        return result

    def check_update_of_dbs(self, db_md5: str, fields_md5: str) -> bool:
        result: bool = self.call("check_update_of_dbs", db_md5, fields_md5)
        return result

    def get_templates(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("get_templates")
        return result

    def get_template(self, template_id: str) -> str:
        result: str = self.call("get_template", {"id": template_id})
        return result

    def load_instruction_parameter_values(
        self, model: list[dict[str, Any]], fe_model: dict[str, Any], parameter_id: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.call("load_instruction_parameter_values", model, fe_model, parameter_id)
        return result

    def decompile_vm_raw(self, packet_b64: str, vm_raw: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call("decompile_vm_raw", packet_b64, vm_raw)
        return result

    def export_profile(self, streams: list, fmt: str) -> str:
        """The streams as a TRex profile in `fmt` (python, json or yaml): its text."""
        return self.call("export_profile", streams, {"format": fmt})["text"]

    def import_profile(self, text: str, fmt: str | None = None) -> list:
        """The streams of a JSON or YAML TRex profile (its format detected unless given)."""
        return self.call("import_profile", text, None if fmt is None else {"format": fmt})

    def shut_down(self) -> str:
        result: str = self.request("shut_down")
        return result
