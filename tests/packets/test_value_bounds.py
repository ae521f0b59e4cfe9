"""Values a hostile client can put in a packet model for a few bytes: each is answered at once
with a clear error (or a packet), never an endless loop that holds a worker until its deadline,
never -32096, never a payload past the generated-payload limit (docs/api.md, "Limits")."""

from __future__ import annotations

import base64

import pytest

from scapyrpc.packets import limits, registry
from scapyrpc.packets.errors import ServiceError

registry.load()

MiB_OF_ABC = {
    "vtype": "BYTES",
    "generate": "template",
    "template_base64": base64.b64encode(b"ABC").decode(),
    "size": 1 << 20,
}


def one(layer: str, field: str, value: object) -> list:
    return [{"id": layer, "fields": [{"id": field, "value": value}]}]


@pytest.mark.parametrize(
    "model",
    [
        one("RadioTap", "present", -1),  # Scapy's flag names of a negative value never end
        one("OSPFv3_Hello", "options", "-1"),
    ],
    ids=["RadioTap.present", "OSPFv3_Hello.options"],
)
def test_a_negative_flags_value_is_built_and_shown_as_a_number(api, model: list) -> None:
    try:
        result = api.build_pkt(model)
    except ServiceError:
        return  # refused by the field: also an answer
    field = next(f for f in result["data"][0]["fields"] if f["id"] == model[0]["fields"][0]["id"])
    assert field["hvalue"].lstrip("-").isdigit()


@pytest.mark.parametrize("layer, field", [("SNMPvarbind", "oid"), ("X509_AlgorithmIdentifier", "algorithm")])
def test_an_oid_with_a_negative_arc_is_refused(api, layer: str, field: str) -> None:
    with pytest.raises(ServiceError, match="negative number -1 cannot be BER-encoded"):
        api.build_pkt(one(layer, field, "1.3.-1"))


INFINITE = [  # 1e999 in a request's text reads as infinity
    ({"vtype": "BYTES", "generate": "random_bytes", "size": "INF"}, "BYTES size must be a number"),
    ({"vtype": "BYTES", "generate": "random_bytes", "size": 4, "seed": "INF"}, "BYTES seed must be a number"),
    ({"vtype": "BYTES", "generate": "random_bytes", "total_size": "INF"}, "BYTES total_size must be a number"),
]


def _raw_load(value: dict) -> list:
    return [{"id": "Ether"}, {"id": "IP"}, {"id": "Raw", "fields": [{"id": "load", "value": value}]}]


@pytest.mark.parametrize("value, message", INFINITE)
def test_infinite_sizes_and_seeds_are_clear_errors(value: dict, message: str) -> None:
    from scapyrpc.packets import service

    value = {k: float("inf") if v == "INF" else v for k, v in value.items()}
    with pytest.raises(ServiceError, match=message):
        service.build_pkt(_raw_load(value))


@pytest.mark.parametrize("value, message", INFINITE)
def test_infinite_sizes_and_seeds_over_the_wire(server, value: dict, message: str) -> None:
    import orjson
    import zmq

    from conftest import GUI_HANDLER, zmq_socket

    text = orjson.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "build_pkt", "params": [GUI_HANDLER, _raw_load(value)]}
    ).replace(b'"INF"', b"1e999")
    sock = zmq_socket(zmq.REQ, server.endpoint)
    try:
        sock.send(text)
        reply = orjson.loads(sock.recv())
    finally:
        sock.close()
    assert reply["error"] == {"code": -32098, "message": f"Scapy Server: {message}"}


def test_a_decimal_number_python_cannot_convert_is_a_clear_error(api) -> None:
    with pytest.raises(ServiceError, match="number of 5000 digits is too long"):
        api.build_pkt(one("IP", "ttl", "1" * 5000))


def test_an_integer_past_4300_digits_in_a_field_never_built_is_shown_in_hex(api) -> None:
    huge = "0x" + "f" * 4000
    try:
        result = api.build_pkt(one("Dot15d4AuxSecurityHeader", "sec_sc_keyidmode", huge))
    except ServiceError:
        return
    assert any(f["hvalue"].startswith("0x") or f["hvalue"].isdigit() for f in result["data"][0]["fields"])


def test_many_integers_for_a_string_field_are_held_to_the_limit_together(api) -> None:
    with pytest.raises(ServiceError, match="would make 2000000 bytes or more"):
        api.build_pkt(one("DNS", "qd", [1_000_000] * 30))


def test_the_generated_payload_limit_is_for_the_whole_packet(api) -> None:
    built = api.build_pkt([{"id": "Raw", "fields": [{"id": "load", "value": MiB_OF_ABC}]}])
    assert len(base64.b64decode(built["binary"])) == 1 << 20
    with pytest.raises(ServiceError, match="payload generated for this packet, 2097152 bytes so far, exceeds"):
        api.build_pkt([{"id": "Raw", "fields": [{"id": "load", "value": MiB_OF_ABC}]}] * 2)
    # and again for the next packet: the budget is per packet, not per process
    assert api.build_pkt([{"id": "Raw", "fields": [{"id": "load", "value": MiB_OF_ABC}]}])["binary"]
    assert limits.current().max_payload_bytes == 1 << 20
