"""The packet result (docs/api.md, "Packet result"): positions, bit fields, ids, value forms."""

from __future__ import annotations

import base64

from scapyrpc.packets import dissect, model, registry, service

registry.load()

from scapy.all import IP, TCP, UDP, Dot1Q, Ether, Padding, Raw  # noqa: E402


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def fields(entry: dict) -> dict:
    return {f["id"]: f for f in entry["fields"]}


def test_bit_fields_have_length_zero_and_bit_positions(api):
    res = api.build_pkt([{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}])
    ip, tcp = fields(res["data"][1]), fields(res["data"][2])
    assert (
        ip["version"]["offset"],
        ip["version"]["length"],
        ip["version"]["bit_offset"],
        ip["version"]["bit_length"],
    ) == (0, 0, 0, 4)
    assert (ip["ihl"]["bit_offset"], ip["ihl"]["bit_length"]) == (4, 4)
    assert (ip["flags"]["offset"], ip["flags"]["bit_offset"], ip["flags"]["bit_length"]) == (6, 0, 3)
    assert (ip["frag"]["offset"], ip["frag"]["bit_offset"], ip["frag"]["bit_length"]) == (6, 3, 13)
    assert (tcp["flags"]["offset"], tcp["flags"]["bit_offset"], tcp["flags"]["bit_length"]) == (12, 7, 9)
    assert "bit_offset" not in ip["ttl"]


def test_seed_document_example_values(api):
    res = api.build_pkt([{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}])
    ether, ip = fields(res["data"][0]), fields(res["data"][1])
    assert ether["type"] == {"id": "type", "value": 2048, "hvalue": "IPv4", "offset": 12, "length": 2}
    assert ip["proto"]["hvalue"] == "tcp" and ip["proto"]["offset"] == 9
    assert ip["flags"]["value"] == 0 and ip["flags"]["hvalue"] == ""
    assert ip["options"]["value"] == {"vtype": "EXPRESSION", "expr": "[]"}
    assert res["data"][1]["name"] == "IPv4" and res["data"][2]["offset"] == 34


def test_padding_is_shown_as_raw(api):
    frame = bytes(Ether() / IP() / UDP() / Padding(b"\x00" * 10))
    res = api.reconstruct_pkt(b64(frame), [])
    last = res["data"][-1]
    assert (last["id"], last["real_id"], last["offset"]) == ("Raw", "Raw", 42)
    assert fields(last)["load"]["value"] == {"vtype": "BYTES", "base64": b64(b"\x00" * 10)}
    assert fields(last)["load"]["hvalue"] == "<binary>" and fields(last)["load"]["length"] == 10
    assert last["padding"] is True  # told apart from a payload, which has no such key
    assert all("padding" not in layer for layer in res["data"][:-1])


def test_padding_after_a_payload_is_marked_and_built_back_from_its_id(api):
    """Ether/IP/UDP/Raw/Padding: two layers with id Raw, the second marked; a model naming it
    Padding builds the same bytes and marks it again."""
    frame = bytes(Ether() / IP(len=30) / UDP(len=10) / Raw(b"ab") / Padding(b"\x00" * 16))
    read = api.reconstruct_pkt(b64(frame), [])
    assert [(layer["id"], layer.get("padding", False)) for layer in read["data"][-2:]] == [
        ("Raw", False),
        ("Raw", True),
    ]
    rebuilt = api.build_pkt(
        [
            {"id": "Ether"},
            {"id": "IP", "fields": [{"id": "len", "value": "30"}]},
            {"id": "UDP", "fields": [{"id": "len", "value": "10"}]},
            {"id": "Raw", "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": b64(b"ab")}}]},
            {"id": "Padding", "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": b64(bytes(16))}}]},
        ]
    )
    assert base64.b64decode(rebuilt["binary"])[14:] == frame[14:]
    assert rebuilt["data"][-1]["padding"] is True


def test_ignored_fields_are_flagged(api):
    res = api.build_pkt([{"id": "Ether"}, {"id": "IP"}, {"id": "ICMP"}])
    icmp = fields(res["data"][2])
    assert icmp["id"].get("ignored") is None  # echo request carries id/seq
    assert icmp["gw"]["ignored"] is True  # only for redirects


def test_pcap_mode_reports_every_layer_without_rebuild():
    pkt = Ether(bytes(Ether() / Dot1Q(vlan=3) / IP() / TCP() / Raw(b"data")))
    res = dissect.packet_result(pkt, dissection=True)
    assert [d["id"] for d in res["data"]] == ["Ether", "Dot1Q", "IP", "TCP", "Raw"]
    assert [d["offset"] for d in res["data"]] == [0, 14, 18, 38, 58]
    assert base64.b64decode(res["binary"]) == pkt.original


def test_reconstruct_without_edits_is_a_plain_dissection():
    pkt, edited = model.reconstruct_packet(bytes(Ether() / IP()), [])
    assert not edited and isinstance(pkt, Ether)


def test_non_ascii_bytes_hvalue_is_binary_marker(api):
    res = api.build_pkt(
        [{"id": "Raw", "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": b64(b"\xff\x00")}}]}]
    )
    assert fields(res["data"][0])["load"]["hvalue"] == "<binary>"


def test_layer_names_are_the_definitions_display_names(api):
    res = api.build_pkt([{"id": "Ether"}, {"id": "IPv6"}, {"id": "UDP"}, {"id": "Padding"}])
    protocols = {p["id"]: p["name"] for p in service.get_definitions(["Ether", "IPv6", "UDP"])["protocols"]}
    assert [d["name"] for d in res["data"]] == [protocols["Ether"], protocols["IPv6"], protocols["UDP"], "Raw"]
    assert res["data"][0]["name"] == "Ethernet II"
