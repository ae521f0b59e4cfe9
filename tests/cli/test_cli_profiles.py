"""Profiles over the wire and on the command line: export_profile and import_profile through a real
server, `scapyrpc call ... --out FILE` (a result's text, or a base64 file decoded) and `@FILE`."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from scapyrpc.client import ScapyClient, ScapyRpcError
from scapyrpc.packets import service

from conftest import ServerProcess
from profile_checks import check_python, expected

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
MODEL = [
    {"id": "Ether", "fields": [{"id": "dst", "value": "00:aa:bb:cc:dd:ee"}]},
    {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}, {"id": "dst", "value": "48.0.0.1"}]},
    {"id": "UDP", "fields": [{"id": "dport", "value": 12}]},
    {"id": "Raw", "fields": [{"id": "load", "value": "xxxxxxxxxx"}]},
]
FE = {
    "instructions": [
        {"id": "STLVmFlowVar", "parameters": {"name": "src", "min_value": "16.0.0.1", "max_value": "16.0.0.10"}},
        {"id": "STLVmWrFlowVar", "parameters": {"fv_name": "src", "pkt_offset": "IP.src"}},
        {"id": "STLVmFixIpv4", "parameters": {"offset": "IP"}},
    ],
    "global_parameters": {"cache_size": "100"},
}
STREAMS = [
    {
        "name": "s0",
        "model": MODEL,
        "field_engine": FE,
        "mode": {"type": "single_burst", "total_pkts": 10},
        "next": "s1",
    },
    {"name": "s1", "model": MODEL, "self_start": False, "mode": {"type": "multi_burst", "count": 2, "pps": 5}},
]


def scapyrpc(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scapyrpc", *args], capture_output=True, text=True, timeout=120, input=stdin
    )


@pytest.mark.parametrize("fmt", ["python", "json", "yaml"])
def test_export_and_import_over_the_wire(client: ScapyClient, fmt: str) -> None:
    text = client.export_profile(STREAMS, fmt)
    assert text == service.export_profile(STREAMS, {"format": fmt})["text"]
    if fmt == "python":
        check_python(text, [expected(s) for s in STREAMS])
        with pytest.raises(ScapyRpcError, match="Python profiles are code"):
            client.import_profile(text)
        return
    back = client.import_profile(text)
    assert back == client.import_profile(text, fmt) == service.import_profile(text)
    assert [base64.b64decode(s["binary"]) for s in back] == [expected(s)[0] for s in STREAMS]
    assert client.export_profile(back, fmt) == text  # imported streams go back out as they came


def test_errors_over_the_wire_name_where(client: ScapyClient) -> None:
    with pytest.raises(ScapyRpcError) as info:
        client.export_profile([STREAMS[0], {**STREAMS[1], "mode": {"pps": "5"}}], "json")
    assert (info.value.code, info.value.message) == (-32098, "Scapy Server: streams[1].mode.pps: must be a number")


@pytest.mark.parametrize(("fmt", "suffix"), [("python", "py"), ("json", "json"), ("yaml", "yaml")])
def test_call_out_writes_the_profile_and_at_file_reads_it_back(
    server: ServerProcess, tmp_path: Path, fmt: str, suffix: str
) -> None:
    path = tmp_path / f"profile.{suffix}"
    out = scapyrpc(
        "call",
        "export_profile",
        json.dumps(STREAMS),
        json.dumps({"format": fmt}),
        "--out",
        str(path),
        "-e",
        server.endpoint,
    )
    assert out.returncode == 0, out.stderr
    text = path.read_text(encoding="utf-8")
    assert out.stdout == f"{path}: {len(text.encode())} bytes\n"
    assert text == service.export_profile(STREAMS, {"format": fmt})["text"]
    back = scapyrpc("call", "import_profile", f"@{path}", "-e", server.endpoint)
    if fmt == "python":
        assert back.returncode == 1 and "Python profiles are code" in back.stderr
        return
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout) == service.import_profile(text)
    piped = scapyrpc("call", "import_profile", "@-", json.dumps({"format": fmt}), "-e", server.endpoint, stdin=text)
    assert json.loads(piped.stdout) == json.loads(back.stdout)


def test_a_captured_conversation_as_a_profile_file_and_back(server: ServerProcess, tmp_path: Path) -> None:
    """Every packet of a real capture as a chain of single-packet streams, through the command line."""
    packets = service.read_pcap(base64.b64encode((CAPTURES / "tcp_http_v4.pcap").read_bytes()).decode())
    streams = [
        {"name": i, "model": p["data"], "mode": {"type": "single_burst"}, "next": i + 1 if i < len(packets) else None}
        for i, p in enumerate(packets, start=1)
    ]
    (tmp_path / "streams.json").write_text(json.dumps(streams))
    path = tmp_path / "capture.yaml"
    out = scapyrpc(
        "call",
        "export_profile",
        (tmp_path / "streams.json").read_text(),
        '{"format": "yaml"}',
        "--out",
        str(path),
        "-e",
        server.endpoint,
    )
    assert out.returncode == 0, out.stderr
    back = json.loads(scapyrpc("call", "import_profile", f"@{path}", "-e", server.endpoint).stdout)
    assert [s["binary"] for s in back] == [p["binary"] for p in packets]
    assert [s["next"] for s in back] == [s["next"] for s in streams]


def test_call_out_decodes_a_base64_file(server: ServerProcess, client: ScapyClient, tmp_path: Path) -> None:
    frame = client.build_pkt(MODEL)["binary"]
    pcap = tmp_path / "one.pcap"
    out = scapyrpc("call", "write_pcap", json.dumps([frame]), "--out", str(pcap), "-e", server.endpoint)
    assert out.returncode == 0, out.stderr
    assert [p["binary"] for p in client.read_pcap(base64.b64encode(pcap.read_bytes()).decode())] == [frame]
    program = client.build_pkt_ex(MODEL, {"field_engine": FE})["field_engine"]["instructions"]
    sim = tmp_path / "sim.pcap"
    options = json.dumps({"count": 3, "format": "pcap"})
    out = scapyrpc("call", "simulate_vm", frame, json.dumps(program), options, "--out", str(sim), "-e", server.endpoint)
    assert out.returncode == 0, out.stderr
    assert len(client.read_pcap(base64.b64encode(sim.read_bytes()).decode())) == 3


def test_call_out_of_a_result_with_nothing_to_write_is_one_line(server: ServerProcess, tmp_path: Path) -> None:
    out = scapyrpc("call", "get_templates", "--out", str(tmp_path / "x"), "-e", server.endpoint)
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert out.stderr == "scapyrpc call get_templates: --out: the result has no text or base64 file to write\n"
    assert not (tmp_path / "x").exists()
    out = scapyrpc("call", "get_templates", "--out", str(tmp_path / "no" / "x"), "--hex", "-e", server.endpoint)
    assert out.returncode == 2 and "not allowed with argument" in out.stderr


def test_at_file_that_cannot_be_read_is_a_usage_error(tmp_path: Path) -> None:
    out = scapyrpc("call", "import_profile", f"@{tmp_path / 'missing.yaml'}")
    assert out.returncode == 2 and "cannot read" in out.stderr and "missing.yaml" in out.stderr
