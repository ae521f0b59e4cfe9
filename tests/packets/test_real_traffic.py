"""Real traffic, recorded from real programs on this project's own loopback and namespaces
(tests/captures, made by tests/captures/record.py): every packet opens, edits and saves byte for byte.

The three ways editors rebuild a packet after read_pcap: build_pkt from every field's `value` (the
browser editor), build_pkt from every primitive field's `hvalue` (the TRex GUI after an import), and
reconstruct_pkt of the bytes; changing one field as an editor does moves no other byte; a capture
read and written back keeps its records."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from scapyrpc.packets import registry, service

registry.load()

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
FILES = sorted(CAPTURES.glob("*.pcap"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@cache
def read(name: str) -> tuple[bytes, list[dict]]:
    data = (CAPTURES / name).read_bytes()
    return data, service.read_pcap(b64(data))


def all_packets() -> list[tuple[str, int, dict]]:
    return [(path.name, i, result) for path in FILES for i, result in enumerate(read(path.name)[1])]


def value_model(result: dict) -> list:
    """Every field the dissection holds, with its `value` (what the browser editor sends)."""
    return [
        {
            "id": layer["id"],
            "fields": [{"id": f["id"], "value": f["value"]} for f in layer["fields"] if not f.get("ignored")],
        }
        for layer in result["data"]
    ]


def hvalue_model(result: dict) -> list:
    """Primitive fields as their `hvalue` text (the TRex GUI's import), the others as their value."""
    return [
        {
            "id": layer["id"],
            "fields": [
                {"id": f["id"], "value": f["value"] if isinstance(f["value"], dict) else f["hvalue"]}
                for f in layer["fields"]
                if not f.get("ignored")
            ],
        }
        for layer in result["data"]
    ]


def test_the_corpus_holds_the_traffic_it_is_for() -> None:
    """What the recording script promises (tests/captures/README.md), checked on the files."""
    from scapy.layers.dns import DNS
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6ExtHdrFragment
    from scapy.layers.l2 import Dot1Q
    from scapy.layers.vxlan import VXLAN
    from scapy.utils import rdpcap

    packets = {path.name: rdpcap(str(path)) for path in FILES}
    assert sum(map(len, packets.values())) >= 300 and sum(p.stat().st_size for p in FILES) <= 2 * 1024 * 1024
    tsvals = [
        dict(p[TCP].options)["Timestamp"][0]
        for p in packets["tcp_http_v4.pcap"]
        if p.haslayer(TCP) and "Timestamp" in dict(p[TCP].options)
    ]
    assert tsvals and max(tsvals) > 1 << 20  # the kernel's TSvals, far past the payload limit
    assert any("SAck" in dict(p[TCP].options) for p in packets["tcp_retransmit.pcap"] if p.haslayer(TCP))
    assert any(bytes(p[DNS]).find(b"\xc0\x0c") > 0 for p in packets["dns.pcap"] if p.haslayer(DNS) and p[DNS].an)
    assert any(p.haslayer(IP) and (p[IP].flags.MF or p[IP].frag) for p in packets["fragments.pcap"])
    assert any(p.haslayer(IPv6ExtHdrFragment) for p in packets["fragments.pcap"])
    assert any(p.haslayer(Dot1Q) for p in packets["vlan.pcap"])
    assert any(p.haslayer(VXLAN) for p in packets["tunnels.pcap"])
    assert sum(len(p) > 48_000 for p in packets["large.pcap"]) >= 3
    assert {r["linktype"] for r in read("sll.pcap")[1]} != {1}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_packet_rebuilds_from_its_values_its_hvalues_and_its_bytes(path: Path) -> None:
    data, results = read(path.name)
    assert results
    for i, result in enumerate(results):
        binary = result["binary"]
        assert service.build_pkt(value_model(result))["binary"] == binary, (path.name, i, "value")
        assert service.build_pkt(hvalue_model(result))["binary"] == binary, (path.name, i, "hvalue")
        link = [{"id": result["data"][0]["id"]}]
        again = service.reconstruct_pkt(binary, link)
        assert again["binary"] == binary, (path.name, i, "reconstruct")
        assert value_model(again) == value_model(result), (path.name, i, "reconstruct's values")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_capture_read_and_written_back_is_the_same_file_after_its_header(path: Path) -> None:
    data, results = read(path.name)
    written = base64.b64decode(service.write_pcap(results))
    assert written[24:] == data[24:]
    assert written[20:24] == data[20:24]  # the link type


def _editable(result: dict) -> list[tuple[int, int]]:
    """(layer, field) of each primitive field with a known place that an editor may change."""
    places = []
    for li, layer in enumerate(result["data"]):
        for fi, f in enumerate(layer["fields"]):
            if f.get("ignored") or isinstance(f["value"], dict) or not isinstance(f["value"], int):
                continue
            if f["length"] or f.get("bit_length"):
                places.append((li, fi))
    return places


def _layout(layer: object) -> tuple:
    """Which fields a layer encodes and with which field types, as its current values decide."""
    from scapy.fields import ConditionalField

    from scapyrpc.packets.unwrap import encoding_field

    out = []
    for fld in layer.fields_desc:
        present = fld._evalcond(layer) if isinstance(fld, ConditionalField) else True
        out.append((fld.name, present, type(encoding_field(layer, fld)).__name__))
    return tuple(out)


def _decides_layout(name: str, index: int, depth: int, field: str, value: int) -> bool:
    """Whether `field` of layer `depth` decides which other fields its layer has (ICMP's type
    chooses what follows it, GRE's flags which fields are present): changing it moves other
    bytes by design, so it is not an edit of one field alone."""
    from scapyrpc.packets.pcap import read_pcap
    from scapyrpc.packets.unwrap import layer_list as chain

    layer = chain(read_pcap(read(name)[0])[index].packet())[depth]
    before = _layout(layer)
    layer.setfieldval(field, value)
    return _layout(layer) != before


def _changed_bits(before: bytes, after: bytes) -> set[int]:
    return {i * 8 + b for i, (x, y) in enumerate(zip(before, after)) for b in range(8) if (x ^ y) & (0x80 >> b)}


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_changing_one_field_as_an_editor_does_moves_no_other_bit(data: st.DataObject) -> None:
    name, index, result = data.draw(st.sampled_from(all_packets()), label="packet")
    places = _editable(result)
    if not places:
        return
    li, fi = data.draw(st.sampled_from(places), label="field")
    layer, field = result["data"][li], result["data"][li]["fields"][fi]
    new_value = field["value"] ^ 1
    if _decides_layout(name, index, li, field["id"], new_value):
        event("a field that decides its layer's layout")
        return
    event("one field changed")
    model = hvalue_model(result)
    next(f for f in model[li]["fields"] if f["id"] == field["id"])["value"] = new_value
    before = base64.b64decode(result["binary"])
    after = base64.b64decode(service.build_pkt(model)["binary"])
    assert len(after) == len(before), (name, index, layer["id"], field["id"])
    start = (layer["offset"] + field["offset"]) * 8
    if field.get("bit_length"):
        allowed = set(range(start + field["bit_offset"], start + field["bit_offset"] + field["bit_length"]))
    else:
        allowed = set(range(start, start + field["length"] * 8))
    moved = _changed_bits(before, after)
    assert moved and moved <= allowed, (name, index, layer["id"], field["id"], sorted(moved - allowed)[:8])
