"""Integers a client gives to fields that do not hold numbers (found by the wire fuzz): Scapy
would make that many bytes of one (`Padding.load = 362204165` built 362 MB and a reply too large
to be delivered). They are held to the generated-payload limit wherever they come from, and
digits typed into a text field are that text, as the hvalue the server returns says."""

from __future__ import annotations

import base64

import pytest

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.limits import current

BIG = current().max_payload_bytes + 1


def load(value: object) -> list:
    return [{"id": "Raw", "fields": [{"id": "load", "value": value}]}]


def binary(result: dict) -> bytes:
    return base64.b64decode(result["binary"])


@pytest.mark.parametrize(
    "model, where",
    [
        (load(BIG), "Raw.load"),
        (load(-BIG), "Raw.load"),
        (load({"vtype": "OBJECT", "value": BIG}), "Raw.load"),
        (load({"vtype": "EXPRESSION", "expr": str(BIG)}), "Raw.load"),
        ([{"id": "DNS", "fields": [{"id": "qd", "value": [BIG]}]}], "DNS.qd"),
        (
            [
                {
                    "id": "DNS",
                    "fields": [{"id": "qd", "value": {"vtype": "EXPRESSION", "expr": f"[DNSQR(qname={BIG})]"}}],
                }
            ],
            "DNSQR.qname",
        ),
        (
            [
                {
                    "id": "IP",
                    "fields": [
                        {
                            "id": "options",
                            "value": {"vtype": "EXPRESSION", "expr": f"[IPOption_RR(routers=[])/Raw(load={BIG})]"},
                        }
                    ],
                }
            ],
            "Raw.load",
        ),
        (
            [
                {
                    "id": "SNMP",
                    "fields": [{"id": "community", "value": {"vtype": "EXPRESSION", "expr": f"ASN1_STRING({BIG})"}}],
                }
            ],
            "SNMP.community",
        ),
    ],
    ids=[
        "number",
        "negative",
        "OBJECT",
        "EXPRESSION",
        "in a list",
        "keyword of a packet made by an EXPRESSION",
        "field of a payload in an EXPRESSION",
        "ASN.1 string",
    ],
)
def test_an_integer_that_would_make_bytes_is_held_to_the_payload_limit(api, model: list, where: str) -> None:
    with pytest.raises(ServiceError) as err:
        api.build_pkt(model)
    assert str(err.value).endswith(f"for {where} would make as many bytes (limit {BIG - 1})")
    assert str(BIG) in str(err.value)


def test_number_fields_take_any_integer_they_can_hold(api) -> None:
    version = {"vtype": "EXPRESSION", "expr": f"ASN1_INTEGER({2**40})"}
    snmp = [{"id": "SNMP", "fields": [{"id": "version", "value": version}]}]
    assert api.build_pkt(snmp)["data"][0]["fields"][0]["value"] == version
    assert binary(api.build_pkt([{"id": "IP", "fields": [{"id": "id", "value": 65535}]}]))[4:6] == b"\xff\xff"


def test_a_small_integer_keeps_scapys_meaning(api) -> None:
    assert binary(api.build_pkt(load(5))) == b"\x00" * 5


@pytest.mark.parametrize("text", ["100", "0x10", "-1", "1e3"])
def test_digits_in_a_text_field_are_that_text_and_its_hvalue_gives_the_same_bytes(api, text: str) -> None:
    result = api.build_pkt(load(text))
    assert binary(result) == text.encode()
    hvalue = result["data"][0]["fields"][0]["hvalue"]
    assert binary(api.build_pkt(load(hvalue))) == text.encode()
