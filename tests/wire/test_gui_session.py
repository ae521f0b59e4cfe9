"""A whole packet-editor session over the wire, in the order the TRex GUI makes its calls."""

from __future__ import annotations

import base64
import json

from scapyrpc.bench.workloads import FIELD_ENGINE  # the GUI's shape of a Field Engine, as the bench sends it
from scapyrpc.client import ScapyClient

from conftest import ServerProcess

MODEL = [
    {"id": "Ether"},
    {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}, {"id": "dst", "value": "48.0.0.1"}]},
    {"id": "UDP"},
    {
        "id": "Raw",
        "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": base64.b64encode(b"x" * 10).decode()}}],
    },
]


def test_editor_session(server: ServerProcess) -> None:
    with ScapyClient(server.endpoint, timeout_ms=30000) as gui:
        # connect: handshake, then metadata and the template menu
        assert gui.server_version == "1.02"
        definitions = gui.get_definitions(None)
        protocols = {p["id"]: p for p in definitions["protocols"]}
        assert {"Ether", "IP", "UDP", "TCP", "Raw"} <= protocols.keys()
        for instruction in definitions["feInstructions"]:
            base64.b64decode(instruction["help"]).decode("utf-8")
        templates = [t["id"] for t in gui.get_templates()]
        assert "IPv4/UDP" in templates

        # open a template and build what it describes
        document = json.loads(base64.b64decode(gui.get_template("IPv4/UDP")))
        built = gui.build_pkt(document["packet"])
        assert [layer["id"] for layer in built["data"]][:3] == ["Ether", "IP", "UDP"]

        # the layer menu after IP
        assert gui.get_payload_classes([{"id": "IP"}])[0] in ("TCP", "UDP", "ICMP")

        # edit with a field-engine program; the GUI saves binary + instructions
        result = gui.build_pkt_ex(MODEL, FIELD_ENGINE)
        assert result["field_engine"]["error"] is None
        program = result["field_engine"]["instructions"]
        assert program["cache"] == 1000
        assert program["instructions"][1] == {
            "type": "write_flow_var",
            "name": "ip_src",
            "pkt_offset": 26,
            "add_value": 0,
            "is_big_endian": True,
        }
        frame = base64.b64decode(result["binary"])
        ip = next(layer for layer in result["data"] if layer["id"] == "IP")
        src = next(field for field in ip["fields"] if field["id"] == "src")
        assert frame[ip["offset"] + src["offset"] : ip["offset"] + src["offset"] + 4] == bytes([16, 0, 0, 1])

        # re-open the saved stream in advanced mode: write_pcap -> read_pcap -> decompile_vm_raw
        pcap = gui.write_pcap([result["binary"]])
        packets = gui.read_pcap(pcap)
        assert packets[0]["binary"] == result["binary"]
        assert [layer["id"] for layer in packets[0]["data"]] == ["Ether", "IP", "UDP", "Raw"]
        imported = gui.decompile_vm_raw(packets[0]["binary"], program)
        again = gui.build_pkt_ex(MODEL, {"field_engine": imported})
        assert again["field_engine"]["instructions"] == program

        # the GUI keeps only primitive hvalues of imported packets and sends them back as strings
        edited = [
            {
                "id": layer["id"],
                "fields": [
                    {"id": f["id"], "value": f["hvalue"]}
                    for f in layer["fields"]
                    if not isinstance(f["value"], dict) and not f.get("ignored")
                ],
            }
            for layer in packets[0]["data"]
        ]
        rebuilt = gui.reconstruct_pkt(packets[0]["binary"], edited)
        assert rebuilt["binary"] == packets[0]["binary"]

        # a field edit through reconstruct moves the bytes and nothing else
        ttl = gui.reconstruct_pkt(
            result["binary"], [{"id": "Ether"}, {"id": "IP", "fields": [{"id": "ttl", "value": "1"}]}]
        )
        new = base64.b64decode(ttl["binary"])
        assert new[22] == 1 and new[:22] == frame[:22] and new[34:] == frame[34:]

        # parameter suggestions for the instruction editor
        offsets = gui.load_instruction_parameter_values(MODEL, FIELD_ENGINE["field_engine"], "pkt_offset")
        assert "IP.src" in offsets["map"]
