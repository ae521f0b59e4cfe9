"""The packet model (docs/api.md, "Packet model"): layers, human values, value objects, reconstruct.

Expected values come from the TRex reference unit tests (test_scapy_service.py)
or from Scapy building the same packet directly.
"""

from __future__ import annotations

import base64
import re

import pytest

from scapyrpc.packets import limits, model, registry
from scapyrpc.packets.errors import InputSyntaxError, ServiceError

registry.load()

from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

RE_MAC = re.compile(r"^([0-9A-Fa-f]{2}:){5}([0-9A-Fa-f]{2})$")
TEST_MAC = "10:10:10:10:10:10"
TEST_PKT = Ether(dst=TEST_MAC) / IP(src="127.0.0.1") / TCP(sport=443)


def layer(name: str, **fields) -> dict:
    spec: dict = {"id": name}
    if fields:
        spec["fields"] = [{"id": k, "value": v} for k, v in fields.items()]
    return spec


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def frame(result: dict) -> Ether:
    return Ether(base64.b64decode(result["binary"]))


def fields_of(result: dict, depth: int) -> dict:
    return {f["id"]: f for f in result["data"][depth]["fields"]}


# ------------------------------------------------------------------ build_pkt


def test_build_with_fields_matches_scapy(api):
    res = api.build_pkt(
        [
            layer("Ether", src="de:ad:be:ef:de:ad"),
            layer("Dot1Q"),
            layer("Dot1Q", vlan="0x12"),
            layer("IP", src="127.0.0.1", chksum="0x312"),
            layer("TCP", sport="443"),
        ]
    )
    expected = (
        Ether(src="de:ad:be:ef:de:ad") / Dot1Q() / Dot1Q(vlan=0x12) / IP(src="127.0.0.1", chksum=0x312) / TCP(sport=443)
    )
    assert base64.b64decode(res["binary"]) == bytes(expected)
    assert [d["id"] for d in res["data"]] == ["Ether", "Dot1Q", "Dot1Q", "IP", "TCP"]


def test_build_pkt_details_reference_offsets(api):
    res = api.build_pkt([layer("Ether", dst=TEST_MAC), layer("IP", dst="127.0.0.1"), layer("TCP", sport="443")])
    assert frame(res)[TCP].sport == 443
    assert len(res["binary"]) == 72  # reference: 54 bytes as base64
    ether, ip, tcp = res["data"]
    assert (ether["offset"], ip["offset"], tcp["offset"]) == (0, 14, 34)
    sport, dport, chksum = tcp["fields"][0], tcp["fields"][1], tcp["fields"][8]
    assert (sport["id"], sport["offset"], sport["length"]) == ("sport", 0, 2)
    assert (dport["id"], dport["offset"], dport["length"]) == ("dport", 2, 2)
    assert (chksum["id"], chksum["offset"], chksum["length"]) == ("chksum", 16, 2)


def test_ether_type_loop_makes_ip_raw(api):
    pkt = frame(api.build_pkt([layer("Ether", dst=TEST_MAC, type="LOOP"), layer("IP"), layer("TCP", sport=8080)]))
    assert pkt[Ether].dst == TEST_MAC
    assert pkt[Ether].type == 0x9000
    assert isinstance(pkt[Ether].payload, Raw)


def test_layer_wrong_structure_real_id_and_valid_structure(api):
    model_ = [layer("Ether"), layer("IP"), layer("Raw", load="dummy"), layer("Ether"), layer("IP")]
    res = api.build_pkt(model_)
    pkt = frame(res)
    assert type(pkt[0]) is Ether and type(pkt[1]) is IP and isinstance(pkt[2], Raw)
    assert not pkt[2].payload
    assert [d["id"] for d in res["data"]] == ["Ether", "IP", "Raw", "Ether", "IP"]
    for entry in res["data"]:
        for fld in entry["fields"]:
            assert fld["value"] is not None and fld["hvalue"] is not None and fld["offset"] is not None
    assert fields_of(res, 0)["type"]["hvalue"] == "IPv4"
    assert [d["real_id"] for d in res["data"]] == ["Ether", "IP", "Raw", None, None]
    assert [d["valid_structure"] for d in res["data"]] == [True, True, True, False, False]
    # the inner Ether/IP are the last 34 bytes of the frame
    assert res["data"][3]["offset"] == 14 + 20 + 5
    assert res["data"][4]["offset"] == 14 + 20 + 5 + 14


def test_raw_without_load_gets_dummy(api):
    res = api.build_pkt([layer("Ether"), layer("IP"), layer("Raw")])
    assert frame(res)[Raw].load == b"dummy"


def test_raw_bytes_base64(api):
    res = api.build_pkt(
        [layer("Ether"), layer("IP"), layer("TCP"), layer("Raw", load={"vtype": "BYTES", "base64": b64(b"hi")})]
    )
    assert frame(res)[Raw].load == b"hi"
    load = fields_of(res, 3)["load"]
    assert load["value"] == {"vtype": "BYTES", "base64": b64(b"hi")}
    assert load["hvalue"] == "hi"


def test_total_size_template_64_gives_60_byte_frame(api):
    res = api.build_pkt(
        [
            layer("Ether"),
            layer("IP"),
            layer("TCP"),
            layer(
                "Raw", load={"vtype": "BYTES", "generate": "template", "total_size": 64, "template_base64": b64(b"hi")}
            ),
        ]
    )
    data = base64.b64decode(res["binary"])
    assert len(data) == 60
    assert data[54:] == b"hihihi"


def test_total_size_random_ascii_256_gives_252(api):
    res = api.build_pkt(
        [
            layer("Ether"),
            layer("IP"),
            layer("TCP"),
            layer("Raw", load={"vtype": "BYTES", "generate": "random_ascii", "total_size": 256}),
        ]
    )
    data = base64.b64decode(res["binary"])
    assert len(data) == 252
    assert all(0x20 <= b <= 0x7E for b in data[54:])


@pytest.mark.parametrize("gen,low,high", [("random_bytes", 0, 255), ("random_ascii", 0x20, 0x7E)])
def test_random_generators_are_reproducible_with_default_seed(gen, low, high, api):
    spec = {"vtype": "BYTES", "generate": gen, "size": 300}
    one = api.build_pkt([layer("Raw", load=spec)])["binary"]
    two = api.build_pkt([layer("Raw", load=dict(spec, seed=12345))])["binary"]
    other = api.build_pkt([layer("Raw", load=dict(spec, seed=7))])["binary"]
    assert one == two != other
    data = base64.b64decode(one)
    assert len(data) == 300 and all(low <= b <= high for b in data)
    import random

    rnd = random.Random(12345)  # the reference formula: low + int(random() * n)
    assert data[:20] == bytes(low + int(rnd.random() * (high - low + 1)) for _ in range(20))


def test_template_code_generator(api):
    res = api.build_pkt(
        [
            layer(
                "Raw",
                load={"vtype": "BYTES", "generate": "template_code", "template_code": "0xDE AD be ef", "size": 10},
            )
        ]
    )
    assert base64.b64decode(res["binary"]) == bytes.fromhex("deadbeefdeadbeefdead")


def test_payload_over_limit_is_rejected(api):
    too_big = limits.current().max_payload_bytes + 1
    with pytest.raises(ServiceError, match="too large"):
        api.build_pkt([layer("Raw", load={"vtype": "BYTES", "generate": "random_bytes", "size": too_big})])
    with pytest.raises(ServiceError, match="too large"):
        api.build_pkt(
            [
                layer("Ether"),
                layer(
                    "Raw",
                    load={
                        "vtype": "BYTES",
                        "generate": "template",
                        "template_base64": b64(b"a"),
                        "total_size": too_big + 100,
                    },
                ),
            ]
        )


def test_payload_of_exactly_one_mib_is_accepted(api):
    size = limits.current().max_payload_bytes
    res = api.build_pkt(
        [layer("Raw", load={"vtype": "BYTES", "generate": "template", "template_base64": b64(b"ab"), "size": size})]
    )
    assert len(base64.b64decode(res["binary"])) == size


@pytest.mark.parametrize("vtype", ["UNDEFINED", "RANDOM"])
def test_ether_src_undefined_or_random_is_a_mac(vtype, api):
    res = api.build_pkt([layer("Ether", src={"vtype": vtype})])
    assert RE_MAC.match(fields_of(res, 0)["src"]["value"])


def test_random_value_is_the_one_in_the_binary(api):
    res = api.build_pkt([layer("Ether"), layer("IP", id={"vtype": "RANDOM"}), layer("UDP")])
    assert fields_of(res, 1)["id"]["value"] == frame(res)[IP].id


def test_ip_options_expression(api):
    expr = "[IPOption_SSRR(copy_flag=0, routers=['1.2.3.4', '5.6.7.8'])]"
    pkt = frame(api.build_pkt([layer("Ether"), layer("IP", options={"vtype": "EXPRESSION", "expr": expr})]))
    opt = pkt[IP].options[0]
    assert type(opt).__name__ == "IPOption_SSRR"
    assert opt.copy_flag == 0 and opt.routers == ["1.2.3.4", "5.6.7.8"]


def test_tcp_options_expression(api):
    expr = "[('MSS', 1460), ('NOP', None), ('NOP', None), ('SAckOK', b'')]"
    res = api.build_pkt([layer("Ether"), layer("IP"), layer("TCP", options={"vtype": "EXPRESSION", "expr": expr})])
    assert frame(res)[TCP].options == [("MSS", 1460), ("NOP", None), ("NOP", None), ("SAckOK", b"")]
    assert fields_of(res, 2)["options"]["value"] == {"vtype": "EXPRESSION", "expr": expr}


def test_expression_syntax_error_and_forbidden_code(api):
    with pytest.raises(InputSyntaxError):
        api.build_pkt([layer("IP", options={"vtype": "EXPRESSION", "expr": "[("})])
    with pytest.raises(ServiceError):
        api.build_pkt([layer("IP", options={"vtype": "EXPRESSION", "expr": "__import__('os').system('true')"})])


def test_object_and_machine_values(api):
    res = api.build_pkt(
        [
            layer(
                "IP", ttl={"vtype": "OBJECT", "value": 7}, dst={"vtype": "MACHINE", "base64": b64(bytes([10, 0, 0, 9]))}
            )
        ]
    )
    pkt = IP(base64.b64decode(res["binary"]))
    assert pkt.ttl == 7 and pkt.dst == "10.0.0.9"


@pytest.mark.parametrize(
    "field,text,expected",
    [
        ("ttl", "12", 12),
        ("ttl", "0x1f", 31),
        ("proto", "udp", 17),
        ("proto", "0x11", 17),
        ("flags", "DF", 2),
        ("flags", "MF+DF", 3),
        ("flags", "", 0),
        ("tos", "0", 0),
    ],
)
def test_human_strings(field, text, expected, api):
    pkt = IP(base64.b64decode(api.build_pkt([layer("IP", **{field: text})])["binary"]))
    assert int(getattr(pkt, field)) == expected


def test_human_enum_and_flag_names_for_tcp_and_ether(api):
    res = api.build_pkt([layer("Ether", type="IPv6"), layer("IPv6"), layer("TCP", sport="https", flags="SA")])
    pkt = frame(res)
    assert pkt.type == 0x86DD and pkt[TCP].sport == 443 and pkt[TCP].flags == 0x12
    assert fields_of(res, 2)["flags"]["hvalue"] == "SA"


def test_empty_string_resets_to_default(api):
    res = api.build_pkt([layer("Ether"), layer("IP", ttl="", len="")])
    pkt = frame(res)
    assert pkt[IP].ttl == 64 and pkt[IP].len == 20


@pytest.mark.parametrize(
    "bad_model,message",
    [
        ([layer("Ehter")], "unknown protocol 'Ehter'"),
        ([layer("IP", foo=1)], "field 'foo' not in layer IP"),
        ([layer("IP", ttl="many")], "bad value 'many' for IP.ttl"),
        ([layer("IP", proto="nosuchproto")], "IP.proto"),
        ([layer("IP", dst="example.com")], "bad IPv4 address"),
        ([layer("IPv6", dst="not-an-address")], "bad IPv6 address"),
        ([layer("IP", ttl={"vtype": "WHAT"})], "unknown value type"),
        ([layer("Raw", load={"vtype": "BYTES", "base64": "***"})], "not valid base64"),
        ([layer("Raw", load={"vtype": "BYTES", "generate": "nope", "size": 3})], "unknown BYTES generator"),
        ([], "non-empty list"),
        ("Ether", "non-empty list"),
        ([{"fields": []}], "'id'"),
        ([{"id": "IP", "fields": [{"value": 1}]}], "'id'"),
        ([layer("IP", ttl={"vtype": "OBJECT", "value": "x"})], "cannot build packet"),
    ],
)
def test_client_mistakes_are_service_errors(bad_model, message, api):
    with pytest.raises(ServiceError, match=re.escape(message)):
        api.build_pkt(bad_model)


def test_last_layer_class_needs_no_build():
    assert model.last_layer_class([layer("Ether"), layer("IP")]) is IP
    with pytest.raises(ServiceError, match="unknown protocol"):
        model.last_layer_class([layer("Nope"), layer("IP")])


# ------------------------------------------------------------------ reconstruct_pkt


def test_reconstruct_without_model_returns_the_frame(api):
    data = bytes(TEST_PKT)
    res = api.reconstruct_pkt(b64(data), None)
    assert base64.b64decode(res["binary"]) == data
    assert frame(res)[TCP].sport == 443
    assert [d["real_id"] for d in res["data"]] == ["Ether", "IP", "TCP"]


def test_reconstruct_delete_layer(api):
    res = api.reconstruct_pkt(b64(bytes(TEST_PKT)), [layer("Ether"), layer("IP"), {"id": "TCP", "delete": True}])
    assert not frame(res)[IP].payload
    assert [d["id"] for d in res["data"]] == ["Ether", "IP"]


def test_reconstruct_delete_depth_zero(api):
    assert api.reconstruct_pkt(b64(bytes(TEST_PKT)), [{"id": "Ether", "delete": True}]) == {"data": [], "binary": None}


def test_reconstruct_edit_field(api):
    res = api.reconstruct_pkt(b64(bytes(TEST_PKT)), [layer("Ether"), layer("IP"), layer("TCP", dport=777)])
    pkt = frame(res)
    assert pkt[TCP].dport == 777 and pkt[TCP].sport == 443
    assert fields_of(res, 2)["dport"]["value"] == 777


def test_reconstruct_add_layer(api):
    res = api.reconstruct_pkt(
        b64(bytes(TEST_PKT)),
        [layer("Ether"), layer("IP"), layer("TCP"), layer("Raw", load="GET /helloworld HTTP/1.0\n\n")],
    )
    assert b"GET /helloworld" in frame(res)[TCP].payload.load


def test_reconstruct_mismatched_layer_id(api):
    with pytest.raises(ServiceError, match="UDP"):
        api.reconstruct_pkt(b64(bytes(TEST_PKT)), [layer("Ether"), layer("UDP")])


def test_reconstruct_dns_edit_keeps_offsets(api):
    from scapy.layers.dns import DNS, DNSQR

    dns = (
        Ether()
        / IP(src="192.168.0.114", dst="205.152.37.23")
        / UDP(sport=1060, dport=53)
        / DNS(id=6159, rd=1, qd=DNSQR(qname="wireshark.org"))
    )
    res = api.reconstruct_pkt(b64(bytes(dns)), [layer("Ether"), layer("IP"), layer("UDP"), layer("DNS", id=777)])
    assert frame(res)[DNS].id == 777
    ether, ip, udp, dns_layer = res["data"][:4]
    assert (ether["offset"], ip["offset"], dns_layer["offset"]) == (0, 14, 42)
    dns_id = fields_of(res, 3)["id"]  # Scapy 2.8 puts a TCP-only 'length' field first
    assert dns_id["value"] == 777 and dns_id["offset"] == 0 and dns_id["length"] == 2
    assert fields_of(res, 3)["length"]["ignored"] is True


def test_reconstruct_empty_bytes_gives_a_default_ether(api):
    res = api.reconstruct_pkt("", [])  # as the reference: Ether(b"") built with defaults
    assert res["data"][0]["id"] == "Ether" and len(base64.b64decode(res["binary"])) == 14


@pytest.mark.parametrize("garbage", [b"\x01", b"\xff" * 7, bytes(range(256))])
def test_reconstruct_garbage_still_gives_a_result(garbage, api):
    res = api.reconstruct_pkt(b64(garbage), [])
    assert base64.b64decode(res["binary"]) == garbage
    assert res["data"][0]["id"] in ("Ether", "Raw")


def test_reconstruct_bad_base64(api):
    with pytest.raises(ServiceError, match="base64"):
        api.reconstruct_pkt("!!not base64!!", [])


def test_reconstruct_random_src_and_set_dst_change_both(api):
    res = api.reconstruct_pkt(b64(bytes(TEST_PKT)), [layer("Ether", src={"vtype": "RANDOM"}, dst="22:22:22:22:22:22")])
    pkt = frame(res)
    assert pkt.dst == "22:22:22:22:22:22"
    assert RE_MAC.match(pkt.src)
    assert fields_of(res, 0)["src"]["value"] == pkt.src
