"""Protocol metadata: get_definitions, get_payload_classes, get_tree, get_all and the md5 check."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest
from scapy import fields as F
from scapy.packet import Raw

from scapyrpc.client import ScapyRpcError
from scapyrpc.packets import definitions
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.registry import SEED_ETHER_TYPES, layer_class, registry

from conftest import ServerProcess

TYPES = {
    "NUMBER",
    "ENUM",
    "BITMASK",
    "MAC_ADDRESS",
    "IP_ADDRESS",
    "BYTES",
    "EXPRESSION",
    "STRING",
    "IP_OPTIONS",
    "TCP_OPTIONS",
}
JAVA_INT = (-(2**31), 2**31 - 1)
# The seed document's get_tree example.
SEED_TREE = {"ALL": {"Ether": {"ARP": {}, "IP": {"TCP": {"RAW": "payload"}, "UDP": {"RAW": "payload"}}}}}


def proto(name: str) -> dict:
    return definitions.get_definitions([name])["protocols"][0]


def field(name: str, field_id: str) -> dict:
    return next(f for f in proto(name)["fields"] if f["id"] == field_id)


# ---------------------------------------------------------------- get_definitions


def test_ether_display_names_and_seed_ether_types() -> None:
    ether = proto("Ether")
    assert ether["name"] == "Ethernet II"
    assert [f["name"] for f in ether["fields"]] == ["Destination", "Source", "Type"]
    assert ether["fields"][0]["type"] == "MAC_ADDRESS"
    for layer in ("Ether", "Dot1Q"):
        kind = field(layer, "type")
        assert kind["type"] == "ENUM"
        assert SEED_ETHER_TYPES.items() <= kind["values_dict"].items()


def test_ip_fields_as_the_gui_expects() -> None:
    ip = proto("IP")
    assert ip["name"] == "IPv4"
    fields = ip["fields"]
    assert fields[0]["id"] == "version"
    assert fields[1]["id"] == "ihl" and fields[1]["auto"] is True
    assert fields[3]["id"] == "len" and fields[3]["auto"] is True
    assert fields[5]["id"] == "flags" and fields[5]["type"] == "BITMASK"
    assert [b["name"] for b in fields[5]["bits"]] == ["Reserved", "Fragment", "More Fragments(MF)"]
    assert [b["mask"] for b in fields[5]["bits"]] == [4, 2, 1]
    assert fields[9]["id"] == "chksum" and fields[9]["auto"] is True
    assert field("IP", "ttl")["min"] == 0 and field("IP", "ttl")["max"] == 255
    assert field("IP", "src")["type"] == "IP_ADDRESS"
    assert field("IP", "proto")["values_dict"]["tcp"] == 6


def test_tcp_udp_icmp_raw_overrides() -> None:
    flags = field("TCP", "flags")
    assert [b["name"] for b in flags["bits"]] == ["URG", "ACK", "PSH", "RST", "SYN", "FIN"]
    assert [b["mask"] for b in flags["bits"]] == [32, 16, 8, 4, 2, 1]
    for layer in ("TCP", "UDP"):
        port = field(layer, "dport")
        # host-dependent /etc/services names would turn the port into a drop-down
        assert port["type"] == "NUMBER" and "values_dict" not in port
    icmp = proto("ICMP")
    assert icmp["name"] == "ICMP" and [f["id"] for f in icmp["fields"]][:3] == ["type", "code", "chksum"]
    assert field("Raw", "load") == {"id": "load", "name": "Payload", "type": "BYTES"}
    assert proto("Dot1Q")["name"] == "802.1Q" and field("Dot1Q", "vlan")["max"] == 4095


def test_all_protocols_valid_json_and_in_fields_desc_order() -> None:
    protocols = definitions.get_definitions(None)["protocols"]
    ids = [p["id"] for p in protocols]
    assert {"IP", "IPv6", "Dot1Q", "TCP", "DNS", "Ether", "ARP", "Raw"} <= set(ids)
    assert len(ids) == len(set(ids)) == len(registry())
    text = json.dumps(protocols, allow_nan=False)  # plain JSON, nothing Python-only inside
    assert json.loads(text) == protocols
    for p in protocols:
        cls = layer_class(p["id"])
        assert [f["id"] for f in p["fields"]] == [f.name for f in cls.fields_desc], p["id"]
        assert isinstance(p["name"], str) and p["name"]
        for f in p["fields"]:
            assert f["type"] in TYPES, (p["id"], f)
            for key in ("min", "max"):
                if key in f:  # the GUI reads these as Java Integer
                    assert JAVA_INT[0] <= f[key] <= JAVA_INT[1], (p["id"], f)
            for name, value in f.get("values_dict", {}).items():
                assert isinstance(name, str) and isinstance(value, (int, str))
            for bit in f.get("bits", []):
                assert bit["mask"] > 0 and {v["value"] for v in bit["values"]} == {0, bit["mask"]}


def test_derived_types_from_field_classes() -> None:
    assert definitions._field(F.SignedShortField("x", 0)) == {
        "id": "x",
        "name": "x",
        "type": "NUMBER",
        "min": -32768,
        "max": 32767,
    }
    assert definitions._field(F.BitField("b", 0, 3))["max"] == 7
    assert "min" not in definitions._field(F.IntField("wide", 0))  # 2**32-1 does not fit a Java int
    assert "min" not in definitions._field(F.XShortField("hex", 0))  # shown as 0x..: GUI range check would fail
    assert definitions._field(F.ShortField("n", None))["auto"] is True
    bits = definitions._field(F.FlagsField("f", 0, 3, "ABC"))["bits"]
    assert [(b["name"], b["mask"]) for b in bits] == [("C", 4), ("B", 2), ("A", 1)]
    huge = definitions._field(F.ShortEnumField("e", 0, {i: f"v{i}" for i in range(5000)}))
    assert huge["type"] == "NUMBER" and "values_dict" not in huge
    callable_enum = definitions._field(F.ByteEnumField("c", 0, (lambda x: str(x), lambda s: int(s))))
    assert callable_enum["type"] == "NUMBER"
    assert definitions._field(F.MACField("m", None))["type"] == "MAC_ADDRESS"
    assert definitions._field(F.IP6Field("a", "::1"))["type"] == "STRING"  # the GUI's IP editor is IPv4-only
    assert definitions._field(F.PacketListField("p", [], Raw))["type"] == "EXPRESSION"
    assert definitions._field(F.ConditionalField(F.IPField("g", "0.0.0.0"), lambda p: True))["type"] == "IP_ADDRESS"


def test_filter_keeps_order_and_rejects_unknown_names() -> None:
    assert [p["id"] for p in definitions.get_definitions(["TCP", "Ether"])["protocols"]] == ["TCP", "Ether"]
    with pytest.raises(ServiceError, match="unknown protocol 'Ehter'"):
        definitions.get_definitions(["Ehter"])
    with pytest.raises(ServiceError, match="list of class names"):
        definitions.get_definitions("Ether")  # type: ignore[arg-type]


def test_full_definitions_include_field_engine_sections() -> None:
    from scapyrpc.packets import service

    result = service.get_definitions(None)
    assert set(result) == {"protocols", "feInstructions", "feInstructionParameters", "feParameters", "feTemplates"}
    assert result["feInstructions"]
    for instruction in result["feInstructions"]:
        assert base64.b64decode(instruction["help"], validate=True).decode("utf-8")
    # the cached protocol list is shared, never mutated by the merge
    assert set(definitions.get_definitions(None)) == {"protocols"}


# ---------------------------------------------------------------- payload classes


def test_payload_classes() -> None:
    ether = definitions.payload_classes(layer_class("Ether"))
    assert ether[0] == "IP" and "Dot1Q" in ether and "IPv6" in ether and "ARP" in ether
    assert "TCP" not in ether and "Ether" not in ether and ether[-1] == "Raw"
    assert definitions.payload_classes(layer_class("TCP"))[-1] == "Raw"
    dot1q = definitions.payload_classes(layer_class("Dot1Q"))
    assert "Dot1Q" in dot1q and "IP" in dot1q and dot1q.index("IP") < dot1q.index("Raw")
    ipv6 = definitions.payload_classes(layer_class("IPv6"))
    assert ipv6[:2] == ["TCP", "UDP"] and "ICMPv6EchoRequest" in ipv6
    assert definitions.payload_classes(layer_class("IP"))[:3] == ["TCP", "UDP", "ICMP"]
    assert "DNS" in definitions.payload_classes(layer_class("UDP"))
    every = [definitions.payload_classes(cls) for cls in registry().values()]
    assert all(names and names[-1] == "Raw" and all(n in registry() for n in names) for names in every)


def test_payload_classes_is_a_lookup() -> None:
    cls = layer_class("Ether")
    definitions.payload_classes(cls)
    start = time.perf_counter()
    for _ in range(10000):
        definitions.payload_classes(cls)
    assert (time.perf_counter() - start) / 10000 < 50e-6


# ---------------------------------------------------------------- get_tree, get_all, check_update


def test_get_tree_is_the_seed_example() -> None:
    assert definitions.get_tree() == SEED_TREE


def test_get_all_shape() -> None:
    everything = definitions.get_all()
    assert set(everything) == {"db", "fields", "db_md5", "fields_md5"}
    arp = everything["db"]["ARP"]
    assert arp[0][0] == "hwtype" and arp[0][2] == "(1)"  # the seed's ARP example row
    assert [row[0] for row in arp] == ["hwtype", "ptype", "hwlen", "plen", "op", "hwsrc", "psrc", "hwdst", "pdst"]
    used = {row[1] for rows in everything["db"].values() for row in rows}
    assert everything["fields"] == {name: "empty" for name in used}
    for md5 in (everything["db_md5"], everything["fields_md5"]):
        assert len(base64.b64decode(md5, validate=True)) == 16
    json.dumps(everything, allow_nan=False)


def test_check_update() -> None:
    everything = definitions.get_all()
    db, fields = everything["db_md5"], everything["fields_md5"]
    assert definitions.check_update(db, fields) is True
    assert definitions.check_update(db + "\n", fields + "\n") is True  # the seed's md5s end in a newline
    with pytest.raises(ServiceError) as err:
        definitions.check_update(db, "stale")
    assert str(err.value) == "Fields DB is not up to date"
    with pytest.raises(ServiceError) as err:
        definitions.check_update("stale", fields)
    assert str(err.value) == "Protocol DB is not up to date"
    with pytest.raises(ServiceError, match="Fields DB is not up to date"):
        definitions.check_update(None, None)


def test_md5s_identical_in_fresh_processes_with_other_hash_seeds() -> None:
    code = "from scapyrpc.packets import definitions as d; a = d.get_all(); print(a['db_md5'], a['fields_md5'])"
    seen = set()
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True
        )
        seen.add(out.stdout.strip())
        time.sleep(1.1)  # clock-derived defaults must not leak into the md5
    here = definitions.get_all()
    assert seen == {f"{here['db_md5']} {here['fields_md5']}"}


# ---------------------------------------------------------------- over the wire


def test_definitions_over_the_wire(rpc) -> None:
    result = rpc("get_definitions", None)
    protocols = {p["id"]: p for p in result["protocols"]}
    assert {"IP", "IPv6", "Dot1Q", "TCP", "DNS"} <= set(protocols)
    assert protocols["Ether"]["name"] == "Ethernet II"
    assert protocols["IP"]["fields"][5]["bits"][0]["name"] == "Reserved"
    for instruction in result["feInstructions"]:
        base64.b64decode(instruction["help"], validate=True).decode("utf-8")
    assert [p["id"] for p in rpc("get_definitions", ["TCP"])["protocols"]] == ["TCP"]


def test_payload_classes_over_the_wire(rpc) -> None:
    ether = rpc("get_payload_classes", [{"id": "Ether"}])
    assert ether[0] == "IP" and "Dot1Q" in ether and "TCP" not in ether
    assert rpc("get_payload_classes", [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP"}])[-1] == "Raw"
    dot1q = rpc("get_payload_classes", [{"id": "Dot1Q"}])
    assert "Dot1Q" in dot1q and "IP" in dot1q
    assert rpc("get_tree") == SEED_TREE


def test_md5s_agree_between_servers_and_stale_ones_fail(server: ServerProcess, rpc) -> None:
    mine = rpc("get_all")
    other = ServerProcess(workers=1)
    try:
        with other.client() as cli:
            theirs = cli.get_all()
            assert cli.check_update_of_dbs(mine["db_md5"], mine["fields_md5"]) is True
    finally:
        other.stop()
    assert (theirs["db_md5"], theirs["fields_md5"]) == (mine["db_md5"], mine["fields_md5"])
    assert rpc("check_update", mine["db_md5"], mine["fields_md5"]) is True
    with pytest.raises(ScapyRpcError) as err:
        rpc("check_update_of_dbs", mine["db_md5"], "x")
    assert (err.value.code, err.value.message) == (-32098, "Scapy Server: Fields DB is not up to date")
    with pytest.raises(ScapyRpcError) as err:
        rpc("check_update_of_dbs", "x", mine["fields_md5"])
    assert err.value.message == "Scapy Server: Protocol DB is not up to date"
