"""Shipped packet templates: listing, loading, building, and refusing path tricks."""

from __future__ import annotations

import base64
import builtins
import json
from importlib import resources

import pytest
from scapy.layers.dhcp import DHCP
from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.inet6 import ICMPv6EchoRequest
from scapy.layers.l2 import ARP, Dot1Q, Ether

from scapyrpc.client import ScapyRpcError
from scapyrpc.packets import definitions, service, templates
from scapyrpc.packets.errors import ServiceError

# The reference's 14 ids, each with a caption that says what the template is
# (the reference's ARP-REQUEST and IPv4/*, IPv6/* captions were copy-paste errors).
EXPECTED = {
    "ARP/ARP-REPLY": "ARP-REPLY",
    "ARP/ARP-REQUEST": "ARP-REQUEST",
    "DHCP/DHCP-ACK": "DHCP-ACK",
    "DHCP/DHCP-DISCOVER": "DHCP-DISCOVER",
    "DHCP/DHCP-REQUEST": "DHCP-REQUEST",
    "ICMP echo request": "ICMP echo request",
    "IGMP-JOIN": "IGMP-JOIN",
    "IPv4/ICMP": "IPv4/ICMP",
    "IPv4/TCP": "IPv4/TCP",
    "IPv4/UDP": "IPv4/UDP",
    "IPv6/ICMP": "IPv6/ICMP",
    "IPv6/TCP": "IPv6/TCP",
    "IPv6/UDP": "IPv6/UDP",
    "TCP-SYN": "TCP-SYN",
}

TRICKS = [
    "../protocols",
    "../../definitions.py",
    "..",
    ".",
    "",
    "/etc/passwd",
    "IPv4/../IPv4/TCP",
    "IPv4/./TCP",
    "IPv4//TCP",
    "IPv4\\TCP",
    "IPv4%2FTCP",
    "..%2F..%2Fprotocols",
    "IPv4/TCP.trp",
    "ipv4/tcp",
    "IPv4/TCP\x00",
    " IPv4/TCP",
    "IPv4",
    "DHCP/",
    "~/x",
    "file:///etc/passwd",
    "A" * 5000,
]


def load(template_id: str) -> dict:
    text = base64.b64decode(templates.get_template({"id": template_id}), validate=True).decode("utf-8")
    return json.loads(text)


def frame(template_id: str) -> Ether:
    return Ether(base64.b64decode(service.build_pkt(load(template_id)["packet"])["binary"]))


def test_list_has_every_reference_id_with_a_correct_caption() -> None:
    listed = {t["id"]: t["meta"] for t in templates.list_templates()}
    assert EXPECTED.keys() <= listed.keys()
    for template_id, caption in EXPECTED.items():
        assert listed[template_id]["name"] == caption
        assert isinstance(listed[template_id]["description"], str)
    assert [t["id"] for t in templates.list_templates()] == sorted(listed)


@pytest.mark.parametrize("template_id", sorted(EXPECTED))
def test_template_loads_builds_and_matches_definitions(template_id: str) -> None:
    encoded = templates.get_template({"id": template_id})
    assert isinstance(encoded, str)
    doc = load(template_id)
    assert doc["fileType"] == "trex-packet-editor" and doc["version"] == "1.0.0"
    assert doc["metadata"]["caption"] == EXPECTED[template_id]
    assert doc["fePrarameters"] == {"cache_size": "1000"} and doc["feInstructions"] == []
    model = doc["packet"]
    assert isinstance(model, list) and model
    result = service.build_pkt(model)
    assert [layer["id"] for layer in result["data"]][: len(model)] == [layer["id"] for layer in model]
    assert all(layer["valid_structure"] for layer in result["data"])
    # the GUI looks every template field up in the definitions and fails on a miss
    for layer in model:
        known = {f["id"] for f in definitions.get_definitions([layer["id"]])["protocols"][0]["fields"]}
        assert {f["id"] for f in layer["fields"]} <= known, layer["id"]


def test_templates_build_what_their_names_say() -> None:
    assert frame("ARP/ARP-REQUEST")[ARP].op == 1 and frame("ARP/ARP-REQUEST").dst == "ff:ff:ff:ff:ff:ff"
    assert frame("ARP/ARP-REPLY")[ARP].op == 2
    message_types = {"DHCP/DHCP-DISCOVER": 1, "DHCP/DHCP-REQUEST": 3, "DHCP/DHCP-ACK": 5}
    for template_id, message_type in message_types.items():
        options = dict(o for o in frame(template_id)[DHCP].options if isinstance(o, tuple))
        assert options["message-type"] == message_type, template_id
    assert frame("TCP-SYN")[TCP].flags == "S"
    for template_id in ("ICMP echo request", "IPv4/ICMP"):
        assert frame(template_id)[ICMP].type == 8
    igmp = frame("IGMP-JOIN")
    assert igmp[Dot1Q].vlan == 10 and igmp[IP].dst == "228.0.1.2" and igmp[IP].ttl == 1
    assert bytes(igmp[IP].payload)[0] == 0x16  # IGMPv2 membership report
    assert ICMPv6EchoRequest in frame("IPv6/ICMP")
    for template_id in ("IPv4/TCP", "IPv4/UDP", "IPv6/TCP", "IPv6/UDP"):
        assert frame(template_id).haslayer(template_id.split("/")[1])


@pytest.mark.parametrize("bad_id", TRICKS)
def test_unknown_ids_and_path_tricks_are_refused(bad_id: str) -> None:
    with pytest.raises(ServiceError, match="unknown template"):
        templates.get_template({"id": bad_id})


@pytest.mark.parametrize("bad", [None, "IPv4/TCP", ["IPv4/TCP"], {}, {"id": 3}, {"id": None}, {"name": "IPv4/TCP"}])
def test_malformed_requests_are_refused(bad: object) -> None:
    with pytest.raises(ServiceError, match="template must be an object"):
        templates.get_template(bad)


def test_requests_never_touch_the_filesystem(monkeypatch: pytest.MonkeyPatch) -> None:
    templates.warm_up()

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"filesystem access: {args}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(resources, "files", forbidden)
    assert templates.get_template({"id": "IPv4/TCP"})
    assert len(templates.list_templates()) >= 14
    for bad_id in ("../protocols", "/etc/passwd", "..%2Fprotocols"):
        with pytest.raises(ServiceError):
            templates.get_template({"id": bad_id})


def test_templates_over_the_wire(rpc) -> None:
    listed = rpc("get_templates")
    assert {t["id"] for t in listed} >= EXPECTED.keys()
    for template_id in EXPECTED:
        encoded = rpc("get_template", {"id": template_id})
        assert isinstance(encoded, str)
        model = json.loads(base64.b64decode(encoded))["packet"]
        assert rpc("build_pkt", model)["binary"]
    for bad_id in ("../protocols", "/etc/passwd", "IPv4/../IPv4/TCP", "nope"):
        with pytest.raises(ScapyRpcError) as err:
            rpc("get_template", {"id": bad_id})
        assert err.value.code == -32098 and err.value.message.startswith("Scapy Server: unknown template")
