"""The Scapy Server methods as plain functions: JSON-ready values in, JSON-ready values out.

No transport here. Each function takes the method's parameters *without* the
version handler (the RPC layer strips it) and returns a JSON-serialisable
result, or raises `ServiceError` / `InputSyntaxError`. `METHODS` is the
public method table; parameter names are what `supported_methods` reports.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache
from typing import Any

from scapyrpc.packets import definitions, dissect, field_engine, model, openrpc, pcap, profiles, summaries, templates
from scapyrpc.packets.encoding import decode_base64
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.expressions import scapy_dialect
from scapyrpc.version import PACKAGE_VERSION
from scapyrpc.wire import contract
from scapyrpc.wire.contract import API_VERSION, version_handler

__all__ = [
    "METHODS",
    "METHOD_PARAMS",
    "PURE",
    "build_pkt",
    "build_pkt_ex",
    "check_update_of_dbs",
    "decompile_vm_raw",
    "get_all",
    "get_definitions",
    "get_payload_classes",
    "get_template",
    "get_templates",
    "get_tree",
    "get_version",
    "get_version_handler",
    "load_instruction_parameter_values",
    "read_pcap",
    "read_pcap_summaries",
    "reconstruct_pkt",
    "rpc_discover",
    "shut_down",
    "simulate_vm",
    "supported_methods",
    "warm_up",
    "write_pcap",
]


def get_version() -> dict[str, Any]:
    return {"version": API_VERSION, "built_by": f"scapyrpc {PACKAGE_VERSION}"}


def get_version_handler(client_v_major: Any, client_v_minor: Any) -> str:
    return version_handler(str(client_v_major), str(client_v_minor))


def supported_methods(method_name: str = "all") -> dict[str, Any] | bool:
    if method_name == "all":
        return {name: [len(params), list(params)] for name, params in METHOD_PARAMS.items()}
    return isinstance(method_name, str) and method_name in METHODS


def build_pkt(pkt_model_descriptor: list[Any]) -> dict[str, Any]:
    return dissect.packet_result(model.build_packet(pkt_model_descriptor))


def build_pkt_ex(pkt_model_descriptor: list[Any], extra_options: dict[str, Any] | None = None) -> dict[str, Any]:
    pkt = model.build_packet(pkt_model_descriptor)
    result = dissect.packet_result(pkt)
    result["field_engine"] = field_engine.compile_for_packet(pkt, result, extra_options)
    return result


def reconstruct_pkt(binary_pkt_b64: str, model_descriptor: list[Any] | None = None) -> dict[str, Any]:
    data = decode_base64(binary_pkt_b64, "packet")
    pkt, edited = model.reconstruct_packet(data, model_descriptor or [])
    if pkt is None:
        return {"data": [], "binary": None}
    return dissect.packet_result(pkt, dissection=not edited, exact=True)


def read_pcap(pcap_base64: str) -> list[dict[str, Any]]:
    records = pcap.read_pcap(decode_base64(pcap_base64, "pcap"))
    return [{**dissect.packet_result(r.packet(), dissection=True), **r.fields()} for r in records]


def read_pcap_summaries(pcap_base64: str) -> list[dict[str, Any]]:
    """Every packet of a capture as one line of a packet list, with its bytes and record; the
    packets are not dissected (`summaries`): a client asks for the one it shows."""
    return [summaries.summary(r) for r in pcap.read_pcap(decode_base64(pcap_base64, "pcap"))]


def write_pcap(packets_base64: list[Any]) -> str:
    if not isinstance(packets_base64, list):
        raise ServiceError("packets must be a list of base64 strings or packet objects")
    records = [_pcap_record(p, f"packet {i}") for i, p in enumerate(packets_base64)]
    return base64.b64encode(pcap.write_pcap(records)).decode("ascii")


def _pcap_record(item: Any, where: str) -> pcap.Record:
    """A packet to write: base64 text, or an object as `read_pcap` returns one
    (`binary`, and optionally `time`, `linktype`, `wirelen`)."""
    if not isinstance(item, dict):
        return pcap.Record(decode_base64(item, where))
    data = decode_base64(item.get("binary"), where)
    linktype = item.get("linktype", pcap.DLT_EN10MB)
    if isinstance(linktype, bool) or not isinstance(linktype, int) or not 0 <= linktype <= pcap.MAX_LINKTYPE:
        raise ServiceError(f"{where}: linktype must be a number from 0 to {pcap.MAX_LINKTYPE}")
    wirelen = item.get("wirelen")
    if wirelen is not None and (
        isinstance(wirelen, bool) or not isinstance(wirelen, int) or not len(data) <= wirelen <= 0xFFFFFFFF
    ):
        raise ServiceError(f"{where}: wirelen must be a number from the packet's length to {0xFFFFFFFF}")
    stamp = item.get("time")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, (str, int, float))):
        raise ServiceError(f"{where}: time must be a number of seconds or decimal text")
    return pcap.Record(data, None if stamp is None else str(stamp), linktype, wirelen)


def get_definitions(def_filter: list[Any] | None = None) -> dict[str, Any]:
    result = definitions.get_definitions(def_filter)
    result.update(field_engine.definitions())
    return result


def get_payload_classes(pkt_model_descriptor: list[Any]) -> list[str]:
    return definitions.payload_classes(model.last_layer_class(pkt_model_descriptor))


def get_tree() -> dict[str, Any]:
    return definitions.get_tree()


def get_all() -> dict[str, Any]:
    return definitions.get_all()


def check_update_of_dbs(db_md5: str, field_md5: str) -> bool:
    return definitions.check_update(db_md5, field_md5)


def get_templates() -> list[dict[str, Any]]:
    return templates.list_templates()


def get_template(template: dict[str, Any]) -> str:
    return templates.get_template(template)


def load_instruction_parameter_values(
    pkt_model_descriptor: list[Any], vm_instructions_model: dict[str, Any], parameter_id: str
) -> dict[str, Any]:
    # The choices need only the layers' classes and field names: the model is checked and
    # its layers made as build_pkt makes them, but the packet is not dissected.
    pkt = model.build_packet(pkt_model_descriptor)
    return field_engine.parameter_values(pkt, vm_instructions_model, parameter_id)


def decompile_vm_raw(pkt_binary_base64: str, vm_raw: dict[str, Any]) -> dict[str, Any]:
    # The packet is only checked: compiled offsets are numbers and decompile back to numbers.
    decode_base64(pkt_binary_base64, "packet")
    return field_engine.decompile(vm_raw)


def simulate_vm(packet_b64: str, vm_program: dict[str, Any], options: dict[str, Any] | None = None) -> dict[str, Any]:
    return field_engine.simulate(packet_b64, vm_program, options)


def export_profile(streams: list, options: dict) -> dict:
    return profiles.export_profile(streams, options)


def import_profile(text: str, options: dict | None = None) -> list:
    return profiles.import_profile(text, options)


@cache
def rpc_discover() -> dict[str, Any]:
    """The OpenRPC document of this server, built from `METHODS` once per process."""
    return openrpc.document(METHODS, contract.HANDLERLESS, PACKAGE_VERSION)


def shut_down() -> str:
    """The server stops after this reply: `rpc.handle` marks it (`Reply.shutdown`) and the
    worker sends it to the broker as a stop-the-server reply."""
    return "Server shut down command received - server had shut down"


METHODS: dict[str, Callable[..., Any]] = {
    "get_version": get_version,
    "get_version_handler": get_version_handler,
    "supported_methods": supported_methods,
    "build_pkt": build_pkt,
    "build_pkt_ex": build_pkt_ex,
    "reconstruct_pkt": reconstruct_pkt,
    "read_pcap": read_pcap,
    "read_pcap_summaries": read_pcap_summaries,
    "write_pcap": write_pcap,
    "get_definitions": get_definitions,
    "get_payload_classes": get_payload_classes,
    "get_tree": get_tree,
    "get_all": get_all,
    "check_update_of_dbs": check_update_of_dbs,
    "check_update": check_update_of_dbs,
    "get_templates": get_templates,
    "get_template": get_template,
    "load_instruction_parameter_values": load_instruction_parameter_values,
    "decompile_vm_raw": decompile_vm_raw,
    "simulate_vm": simulate_vm,
    "export_profile": export_profile,
    "import_profile": import_profile,
    "shut_down": shut_down,
    "rpc.discover": rpc_discover,
}


# Methods whose answer depends only on their params and this package's (and Scapy's) version: the
# worker marks their ok replies cacheable and the broker may answer the same request again itself
# (broker/replycache.py). Nothing that reads the clock, a random source, a file a user may change
# or a setting that differs between workers belongs here.
PURE = frozenset(
    {
        "get_version",
        "get_version_handler",
        "supported_methods",
        "get_definitions",
        "get_payload_classes",
        "get_tree",
        "get_all",
        "check_update_of_dbs",
        "check_update",
        "get_templates",
        "get_template",
        "load_instruction_parameter_values",
        "rpc.discover",
    }
)


def _params(fn: Callable[..., Any]) -> tuple[str, ...]:
    import inspect

    return tuple(inspect.signature(fn).parameters)


# name -> parameter names, computed once at import.
METHOD_PARAMS: dict[str, tuple[str, ...]] = {name: _params(fn) for name, fn in METHODS.items()}


def warm_up() -> None:
    """Build every per-process cache before the first request (called by workers at start)."""
    from scapyrpc.packets import registry

    registry.load()
    registry.registry()
    scapy_dialect.warm_up()
    dissect.warm_up()
    definitions.warm_up()
    templates.warm_up()
    field_engine.warm_up()
    profiles.warm_up()
    rpc_discover()
    build_pkt([{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}, {"id": "Raw"}])
