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
        context: zmq.Context | None = None,
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
        self._sock: zmq.Socket | None = None
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

    def request(self, method: str, params: list | dict | None = None) -> Any:
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

    def send_raw(self, payload: bytes, method: str = "request") -> dict:
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
        return orjson.loads(raw)

    def call(self, method: str, *params: Any) -> Any:
        """A handler-first call, as the GUI makes it."""
        return self.request(method, [self.handler, *params])

    def invoke(self, method: str, params: list) -> Any:
        """Any method by name, with the handler first where the GUI would put it."""
        return self.request(method, params) if method in HANDLERLESS else self.call(method, *params)

    # ---- the methods -----------------------------------------------------------------------

    def get_version(self) -> dict:
        return self.request("get_version")

    def get_version_handler(self, major: str, minor: str) -> str:
        return self.request("get_version_handler", [major, minor])

    def supported_methods(self, method_name: str = "all") -> Any:
        return self.request("supported_methods", [method_name])

    def build_pkt(self, model: list) -> dict:
        return self.call("build_pkt", model)

    def build_pkt_ex(self, model: list, extra_options: dict) -> dict:
        return self.call("build_pkt_ex", model, extra_options)

    def reconstruct_pkt(self, packet_b64: str, model: list | None = None) -> dict:
        return self.call("reconstruct_pkt", packet_b64, model or [])

    def read_pcap(self, pcap_b64: str) -> list:
        return self.call("read_pcap", pcap_b64)

    def read_pcap_summaries(self, pcap_b64: str) -> list:
        return self.call("read_pcap_summaries", pcap_b64)

    def write_pcap(self, packets_b64: list[str]) -> str:
        return self.call("write_pcap", packets_b64)

    def get_definitions(self, names: list[str] | None = None) -> dict:
        return self.call("get_definitions", names)

    def get_payload_classes(self, model: list) -> list:
        return self.call("get_payload_classes", model)

    def get_tree(self) -> dict:
        return self.call("get_tree")

    def get_all(self) -> dict:
        return self.call("get_all")

    def check_update_of_dbs(self, db_md5: str, fields_md5: str) -> bool:
        return self.call("check_update_of_dbs", db_md5, fields_md5)

    def get_templates(self) -> list:
        return self.call("get_templates")

    def get_template(self, template_id: str) -> str:
        return self.call("get_template", {"id": template_id})

    def load_instruction_parameter_values(self, model: list, fe_model: dict, parameter_id: str) -> dict:
        return self.call("load_instruction_parameter_values", model, fe_model, parameter_id)

    def decompile_vm_raw(self, packet_b64: str, vm_raw: dict) -> dict:
        return self.call("decompile_vm_raw", packet_b64, vm_raw)

    def shut_down(self) -> str:
        return self.request("shut_down")
