"""export_profile and import_profile: every template and real captured packet out as a TRex profile
in JSON, YAML and Python and back with the same bytes and program; hand-written profiles in
TRex's flat form, the stateless GUI's nested form and JSON; stream settings both ways.

The Field Engine examples: tests/packets/field_engine/test_field_engine_profiles.py; bad inputs
and bounds: test_profile_errors.py; the wire and the command line: tests/cli/test_cli_profiles.py.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path

import pytest
import yaml

from scapyrpc.packets import service
from scapyrpc.packets.profiles.streams import MAX_PACKET, MIN_PACKET

from profile_checks import check_python, expected, python_round_trip, round_trip

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
TEMPLATE_IDS = [t["id"] for t in service.get_templates()]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def template_stream(template_id: str) -> dict:
    doc = json.loads(base64.b64decode(service.get_template({"id": template_id})))
    fe = {"instructions": doc.get("feInstructions", []), "global_parameters": doc.get("fePrarameters", {})}
    return {"name": template_id, "model": doc["packet"], "field_engine": fe}


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_every_template_goes_out_and_back(template_id: str) -> None:
    stream = template_stream(template_id)
    (back,) = round_trip([stream])
    assert back["name"] == template_id
    python_round_trip([stream])


def test_all_templates_in_one_profile() -> None:
    streams = [template_stream(t) for t in TEMPLATE_IDS]
    assert [s["name"] for s in round_trip(streams)] == TEMPLATE_IDS
    python_round_trip(streams)


def test_a_template_with_a_program() -> None:
    stream = template_stream("IPv4/UDP")
    stream["field_engine"] = {
        "instructions": [
            {"id": "STLVmFlowVar", "parameters": {"name": "src", "min_value": "16.0.0.1", "max_value": "16.0.0.9"}},
            {"id": "STLVmWrFlowVar", "parameters": {"fv_name": "src", "pkt_offset": "IP.src"}},
            {"id": "STLVmFixIpv4", "parameters": {"offset": "IP"}},
        ],
        "global_parameters": {"cache_size": "255"},
    }
    (back,) = round_trip([stream])
    assert back["field_engine"]["global_parameters"] == {"cache_size": 255}
    text = python_round_trip([stream])
    assert "STLVmWrFlowVar(fv_name='src', pkt_offset=26, offset_fixup=0, add_val=0, is_big=True),  # IP.src" in text
    assert "], cache_size=255)" in text


# ---------------------------------------------------------------- real traffic


@cache
def capture(name: str) -> list[dict]:
    return service.read_pcap(b64((CAPTURES / name).read_bytes()))


def capture_streams(name: str) -> list[dict]:
    """A stream per Ethernet packet of the capture, chained as TRex's pcap profiles chain them."""
    packets = [p for p in capture(name) if p["linktype"] == 1]
    packets = [p for p in packets if MIN_PACKET <= len(base64.b64decode(p["binary"])) <= MAX_PACKET]
    streams = []
    for i, packet in enumerate(packets, start=1):
        streams.append(
            {
                "name": i,
                "model": packet["data"],
                "mode": {"type": "single_burst", "total_pkts": 1, "percentage": 100},
                "self_start": i == 1,
                "isg": 10.0 * i,
                "next": i + 1 if i < len(packets) else None,
            }
        )
    return streams


@pytest.mark.parametrize("path", sorted(CAPTURES.glob("*.pcap")), ids=lambda p: p.name)
def test_a_stream_per_captured_packet_goes_out_and_back(path: Path) -> None:
    streams = capture_streams(path.name)
    if not streams:
        assert all(p["linktype"] != 1 for p in capture(path.name))  # sll.pcap: no Ethernet frame
        return
    back = round_trip(streams)
    assert [s["name"] for s in back] == [s["name"] for s in streams]
    assert [s["next"] for s in back] == [s["next"] for s in streams]
    assert back[0]["mode"] == {"type": "single_burst", "percentage": 100, "total_pkts": 1}
    # the imported streams go out again as they are, with the same bytes
    assert [expected(s)[0] for s in back] == [expected(s)[0] for s in streams]
    assert round_trip(back) == back
    python_round_trip(streams)


def test_captured_frames_larger_than_trex_sends_are_refused() -> None:
    big = next(p for p in capture("large.pcap") if len(base64.b64decode(p["binary"])) > MAX_PACKET)
    size = len(base64.b64decode(big["binary"]))
    with pytest.raises(Exception, match=rf"streams\[0\]\.model: the packet's length is {size}; TRex sends packets"):
        service.export_profile([{"model": big["data"]}], {"format": "json"})


def test_parts_trex_scapy_lacks_are_bytes_with_a_note() -> None:
    """EDNS0 cookies are newer than TRex's Scapy: the DNS layer is bytes, said in a comment and a note."""
    packets = [p for p in capture("dns.pcap") if "EDNS0COOKIE" in json.dumps(p["data"])]
    streams = [{"model": packets[0]["data"]}]
    result = service.export_profile(streams, {"format": "python"})
    assert result["notes"] == [
        "streams[0]: DNS and what follows are written as bytes: TRex's Scapy (2.4.3) has no class EDNS0COOKIE"
    ]
    assert "        # DNS and what follows are written as bytes" in result["text"]
    assert "UDP(sport=" in result["text"] and "Raw(load=b'" in result["text"]
    check_python(result["text"], [expected(streams[0])])


def test_contrib_layers_are_imported_from_their_modules() -> None:
    model = [
        {"id": "Ether"},
        {"id": "MPLS", "fields": [{"id": "label", "value": 17}]},
        {"id": "IP", "fields": [{"id": "dst", "value": "10.0.0.1"}]},
        {"id": "UDP"},
    ]
    text = python_round_trip([{"model": model}])
    assert "from scapy.contrib.mpls import MPLS\n" in text
    assert "MPLS(label=17)" in text


def test_trex_defaults_that_differ_are_written_out() -> None:
    """TRex's Scapy gives Ether and IP other defaults (00:00:00:01:00:00, 16.0.0.1 -> 48.0.0.1)."""
    model = [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP", "fields": [{"id": "dport", "value": 12}]}]
    text = python_round_trip([{"model": model}])
    binary, _ = expected({"model": model})
    line = next(line.strip() for line in text.splitlines() if "packet = " in line)
    assert line.startswith(f"packet = (Ether(dst='{binary[:6].hex(':')}', src='{binary[6:12].hex(':')}') /")
    assert "IP(src='" in text and "dst='127.0.0.1'" in text
    assert "UDP(dport=12)" in text


# ---------------------------------------------------------------- settings


REF = [
    {
        "id": "Ether",
        "fields": [{"id": "dst", "value": "00:aa:bb:cc:dd:ee"}, {"id": "src", "value": "00:11:22:33:44:55"}],
    },
    {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}, {"id": "dst", "value": "48.0.0.1"}]},
    {"id": "UDP", "fields": [{"id": "sport", "value": 1025}, {"id": "dport", "value": 12}]},
    {"id": "Raw", "fields": [{"id": "load", "value": "xxxxxxxxxx"}]},
]
PLAIN = [{"id": "Ether"}, {"id": "IP"}, {"id": "UDP"}]


def settings_of(stream: dict) -> dict:
    return {k: v for k, v in stream.items() if k not in ("binary", "model", "field_engine")}


def test_stream_settings_go_out_and_back() -> None:
    streams = [
        {
            "name": "burst",
            "model": REF,
            "mode": {"type": "single_burst", "pps": 10.5, "total_pkts": 5},
            "isg": 12.5,
            "next": "bursts",
            "random_seed": 77,
        },
        {
            "name": "bursts",
            "model": REF,
            "self_start": False,
            "mode": {"type": "multi_burst", "percentage": 10, "pkts_per_burst": 4, "ibg": 100.0, "count": 3},
            "mac_src_override_by_pkt": False,
            "mac_dst_override_mode": 2,
        },
        {"model": PLAIN, "mode": {"bps_L2": 1000000}},
        {"name": "L1", "model": PLAIN, "mode": {"type": "continuous", "bps_L1": 2e9}, "mac_dst_override_mode": 1},
    ]
    back = round_trip(streams)
    assert [settings_of(s) for s in back] == [
        {
            "name": "burst",
            "mode": {"type": "single_burst", "pps": 10.5, "total_pkts": 5},
            "isg": 12.5,
            "next": "bursts",
            "self_start": True,
            "random_seed": 77,
            "mac_src_override_by_pkt": True,
            "mac_dst_override_mode": 1,
            "dropped": [],
        },
        {
            "name": "bursts",
            "mode": {"type": "multi_burst", "percentage": 10, "pkts_per_burst": 4, "ibg": 100.0, "count": 3},
            "isg": 0.0,
            "next": None,
            "self_start": False,
            "random_seed": 0,
            "mac_src_override_by_pkt": False,
            "mac_dst_override_mode": 2,
            "dropped": [],
        },
        {
            "name": None,
            "mode": {"type": "continuous", "bps_L2": 1000000},
            "isg": 0.0,
            "next": None,
            "self_start": True,
            "random_seed": 0,
            "mac_src_override_by_pkt": False,
            "mac_dst_override_mode": 0,
            "dropped": [],
        },
        {
            "name": "L1",
            "mode": {"type": "continuous", "bps_L1": 2e9},
            "isg": 0.0,
            "next": None,
            "self_start": True,
            "random_seed": 0,
            "mac_src_override_by_pkt": False,
            "mac_dst_override_mode": 1,
            "dropped": [],
        },
    ]
    text = python_round_trip(streams)
    assert "mode=STLTXSingleBurst(total_pkts=5, pps=10.5)," in text
    assert "mode=STLTXMultiBurst(pkts_per_burst=4, ibg=100.0, count=3, percentage=10)," in text
    assert "mode=STLTXCont(bps_L2=1000000)," in text
    assert "random_seed=77," in text and "next='bursts'," in text and "isg=12.5," in text
    assert text.count("mac_src_override_by_pkt=True,") == 1 and "mac_dst_override_mode=2," in text


def test_the_json_is_trex_stream_format() -> None:
    """STLProfile.to_json()'s keys, in its order, and TRex's flags for a packet that sets its MACs."""
    (stream,) = json.loads(
        service.export_profile(
            [{"name": "s", "model": REF, "mode": {"type": "single_burst", "total_pkts": 3}, "random_seed": 5}],
            {"format": "json"},
        )["text"]
    )
    assert list(stream) == [
        "flags",
        "action_count",
        "enabled",
        "self_start",
        "start_paused",
        "isg",
        "core_id",
        "random_seed",
        "mode",
        "packet",
        "vm",
        "flow_stats",
        "name",
    ]
    assert stream["flags"] == 3  # source MAC from the packet, destination MAC from the packet
    assert stream["mode"] == {"rate": {"type": "pps", "value": 1}, "type": "single_burst", "total_pkts": 3}
    assert stream["packet"]["meta"] == "" and stream["flow_stats"] == {"enabled": False}
    assert stream["vm"] == {"instructions": []}


def test_the_yaml_is_safe_plain_yaml() -> None:
    text = service.export_profile([{"model": REF}], {"format": "yaml"})["text"]
    assert "!!" not in text and text.startswith("- flags: 3\n")
    assert yaml.safe_load(text) == json.loads(service.export_profile([{"model": REF}], {"format": "json"})["text"])


def test_an_empty_profile() -> None:
    for fmt in ("json", "yaml"):
        text = service.export_profile([], {"format": fmt})["text"]
        assert service.import_profile(text) == []
    assert "return []" in service.export_profile([], {"format": "python"})["text"]


def test_json_and_yaml_notes_say_what_trex_loader_drops() -> None:
    fe = {
        "instructions": [
            {"id": "STLVmFlowVar", "parameters": {"name": "a", "init_value": 5, "min_value": 1, "max_value": 9}},
            {"id": "STLVmTupleGen", "parameters": {"name": "t", "flags": 1}},
            {"id": "STLVmFixChecksumHw", "parameters": {"l3_offset": "IP", "l4_offset": 0, "l4_type": 17}},
        ],
        "global_parameters": {},
    }
    streams = [{"model": PLAIN}, {"model": PLAIN, "field_engine": fe}]
    for fmt in ("json", "yaml"):
        assert service.export_profile(streams, {"format": fmt})["notes"] == [
            "streams[1]: TRex's JSON and YAML loader starts variable 'a' at 1, not at its init_value 5 "
            "(the Python profile keeps it)",
            "streams[1]: TRex's JSON and YAML loader drops the flags 1 of tuple generator 't' "
            "(the Python profile keeps them)",
            "streams[1]: TRex's JSON and YAML loader refuses fix_checksum_hw of an IPv4 header alone "
            "(l3_len 0); the Python profile loads",
        ]
    assert "notes" not in service.export_profile(streams, {"format": "python"})
    round_trip(streams)  # ours keeps them all
    python_round_trip(streams)


# ---------------------------------------------------------------- hand-written profiles

FLAT_YAML = """\
# TRex's own form, as stl-sim --yaml prints it
- name: first
  next: second
  self_start: true
  enabled: true
  isg: 5.0
  flags: 0
  action_count: 0
  mode:
    type: single_burst
    total_pkts: 10
    rate: {{type: pps, value: 100}}
  packet:
    binary: {binary}
    meta: ''
  vm:
    instructions:
    - {{type: flow_var, name: ip_src, size: 4, op: inc, next_var: null, split_to_cores: true,
       init_value: 268435457, min_value: 268435457, max_value: 268435466, step: 1}}
    - {{type: write_flow_var, name: ip_src, pkt_offset: 26, add_value: 0, is_big_endian: true}}
    - {{type: fix_checksum_ipv4, pkt_offset: 14}}
    cache: 255
  flow_stats: {{enabled: false}}
- name: second
  self_start: false
  isg: 0
  flags: 3
  mode: {{type: continuous, rate: {{type: percentage, value: 50}}}}
  packet: {{binary: {binary}, meta: ''}}
  vm: {{instructions: []}}
  flow_stats: {{enabled: false}}
  random_seed: 4660
"""

GUI_YAML = """\
---
- name: "l1"
  stream:
    action_count: 3
    enabled: true
    flags: 1
    flow_stats:
      enabled: true
      rule_type: "latency"
      stream_id: 12
    isg: 0.0
    mode:
      rate:
        type: "pps"
        value: 4000.0
      type: "continuous"
      total_pkts: 1
      pkts_per_burst: 1
      ibg: 0.0
      count: 1
    packet:
      binary: "{binary}"
      meta: "eyJtb2RlbF92ZXJzaW9uIjoiMS4wIn0="
      model: ""
    self_start: true
    advanced_mode: false
    vm:
      split_by_var: ""
      instructions: []
      cache_size: 5000
  stream_id: 0
"""


def ref_binary() -> str:
    return service.build_pkt(REF)["binary"]


def test_trex_flat_yaml_is_imported() -> None:
    first, second = service.import_profile(FLAT_YAML.format(binary=ref_binary()))
    assert first["binary"] == second["binary"] == ref_binary()
    assert [layer["id"] for layer in first["model"]] == ["Ether", "IP", "UDP", "Raw"]
    assert settings_of(first) == {
        "name": "first",
        "mode": {"type": "single_burst", "pps": 100, "total_pkts": 10},
        "isg": 5.0,
        "next": "second",
        "self_start": True,
        "random_seed": 0,
        "mac_src_override_by_pkt": False,
        "mac_dst_override_mode": 0,
        "dropped": [],
    }
    assert first["field_engine"] == {
        "instructions": [
            {
                "id": "STLVmFlowVar",
                "parameters": {
                    "name": "ip_src",
                    "init_value": 268435457,
                    "max_value": 268435466,
                    "min_value": 268435457,
                    "step": 1,
                    "size": 4,
                    "op": "inc",
                },
            },
            {
                "id": "STLVmWrFlowVar",
                "parameters": {"fv_name": "ip_src", "pkt_offset": 26, "offset_fixup": 0, "add_val": 0, "is_big": True},
            },
            {"id": "STLVmFixIpv4", "parameters": {"offset": 14}},
        ],
        "global_parameters": {"cache_size": 255},
    }
    assert second["mode"] == {"type": "continuous", "percentage": 50}
    assert (second["random_seed"], second["mac_src_override_by_pkt"], second["mac_dst_override_mode"]) == (
        4660,
        True,
        1,
    )
    # sent back as they are, they make the same profile
    again = yaml.safe_load(service.export_profile([first, second], {"format": "yaml"})["text"])
    original = yaml.safe_load(FLAT_YAML.format(binary=ref_binary()))
    assert [(s["packet"]["binary"], s["vm"], s["mode"], s["flags"]) for s in again] == [
        (s["packet"]["binary"], s["vm"], s["mode"], s["flags"]) for s in original
    ]


def test_the_stateless_gui_yaml_is_imported() -> None:
    (stream,) = service.import_profile(GUI_YAML.format(binary=ref_binary()))
    assert stream["name"] == "l1" and stream["binary"] == ref_binary()
    assert stream["mode"] == {"type": "continuous", "pps": 4000.0}
    assert stream["field_engine"] == {"instructions": [], "global_parameters": {}}  # TRex reads `cache`, not this
    assert stream["mac_src_override_by_pkt"] is True and stream["mac_dst_override_mode"] == 0
    assert stream["dropped"] == ["action_count", "flow_stats"]


def test_a_json_profile_is_imported() -> None:
    profile = [
        {
            "name": "x",
            "packet": {"binary": ref_binary(), "meta": ""},
            "mode": {
                "type": "multi_burst",
                "rate": {"type": "bps_L1", "value": 1e6},
                "pkts_per_burst": 2,
                "ibg": 1.5,
                "count": 4,
            },
            "vm": {
                "instructions": [
                    {"type": "trim_pkt_size", "name": "sz"},
                    {
                        "type": "flow_var",
                        "name": "sz",
                        "size": 2,
                        "op": "random",
                        "init_value": 60,
                        "min_value": 60,
                        "max_value": 64,
                        "step": 1,
                    },
                ]
            },
            "flags": 8,
            "enabled": False,
            "core_id": 1,
            "start_paused": True,
        }
    ]
    (stream,) = service.import_profile(json.dumps(profile))
    assert stream["mode"] == {"type": "multi_burst", "bps_L1": 1e6, "pkts_per_burst": 2, "ibg": 1.5, "count": 4}
    assert [i["id"] for i in stream["field_engine"]["instructions"]] == ["STLVmTrimPktSize", "STLVmFlowVar"]
    assert stream["dropped"] == ["enabled", "core_id", "start_paused", "dummy_stream"]
    assert service.import_profile(" \n" + json.dumps(profile, indent=2), {"format": "json"}) == [stream]
    assert service.import_profile(json.dumps(profile), {"format": "yaml"}) == [stream]  # JSON is YAML too
