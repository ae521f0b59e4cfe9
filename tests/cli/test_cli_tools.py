"""The command line for humans: --version, ping, call (and --hex), help, and failures as one line."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from scapyrpc.cli.hexdump import annotated_hexdump
from scapyrpc.client import ScapyClient
from scapyrpc.version import PACKAGE_VERSION

from conftest import GUI_HANDLER, ServerProcess, socket_port

MODEL = [
    {"id": "Ether"},
    {"id": "IP", "fields": [{"id": "dst", "value": "10.0.0.1"}]},
    {"id": "TCP"},
    {"id": "Raw", "fields": [{"id": "load", "value": "hello, scapyrpc"}]},
]


def scapyrpc(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scapyrpc", *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(out: subprocess.CompletedProcess, code: int) -> str:
    """The command failed with `code` and said why in exactly one line, no traceback."""
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    return out.stderr.strip()


@pytest.fixture(scope="module")
def dead_endpoint() -> str:
    """A loopback port nobody listens on."""
    with socket_port() as port:
        return f"tcp://127.0.0.1:{port}"


def test_version() -> None:
    out = scapyrpc("--version")
    assert out.returncode == 0
    assert out.stdout.startswith(f"scapyrpc {PACKAGE_VERSION} (scapy ")
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in out.stdout


def test_ping_a_live_server(server: ServerProcess) -> None:
    out = scapyrpc("ping", "-e", server.endpoint)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{server.endpoint}: scapyrpc {PACKAGE_VERSION}, API 1.02, ")
    assert out.stdout.strip().endswith(" ms")


def test_ping_a_dead_endpoint(dead_endpoint: str) -> None:
    out = scapyrpc("ping", "-e", dead_endpoint, "--timeout", "0.5")
    assert one_line_error(out, 1) == f"scapyrpc ping: no reply from {dead_endpoint} within 0.5 s"


def test_ping_something_that_is_not_an_endpoint() -> None:
    assert "cannot connect to 'localhost:4507'" in one_line_error(scapyrpc("ping", "-e", "localhost:4507"), 2)


def test_call_prints_the_result_as_json(server: ServerProcess, client: ScapyClient) -> None:
    out = scapyrpc("call", "build_pkt", json.dumps(MODEL), "-e", server.endpoint)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == client.build_pkt(MODEL)
    assert out.stdout.startswith("{\n  ")  # pretty-printed


def test_call_adds_the_handler_only_where_the_gui_does(server: ServerProcess) -> None:
    out = scapyrpc("call", "get_version_handler", "1", "02", "-e", server.endpoint)  # 02: not JSON, a string
    assert json.loads(out.stdout) == GUI_HANDLER
    out = scapyrpc("call", "get_template", '{"id": "IPv4/TCP"}', "-e", server.endpoint)  # handler-first
    assert json.loads(base64.b64decode(json.loads(out.stdout)))["metadata"]["caption"] == "IPv4/TCP"


def test_call_hex_shows_each_layer_at_its_offset(server: ServerProcess, client: ScapyClient) -> None:
    out = scapyrpc("call", "build_pkt", json.dumps(MODEL), "--hex", "-e", server.endpoint)
    assert out.returncode == 0, out.stderr
    result = client.build_pkt(MODEL)
    frame = base64.b64decode(result["binary"])
    lines = out.stdout.splitlines()
    assert lines[0] == f"{len(frame)} bytes"
    headers = [line for line in lines[1:] if not line.startswith("  ")]
    offsets = [layer["offset"] for layer in result["data"]] + [len(frame)]
    expected = []
    for layer, start, end in zip(result["data"], offsets, offsets[1:]):
        title = layer["id"] if layer["name"] == layer["id"] else f"{layer['id']} ({layer['name']})"
        expected.append(f"{title}  bytes {start}-{end - 1} ({end - start} bytes)")
    assert headers == expected
    assert headers[0] == "Ether (Ethernet II)  bytes 0-13 (14 bytes)"
    rows = [line for line in lines if line.startswith("  ")]
    assert bytes.fromhex("".join(row[8:58] for row in rows)) == frame  # every byte, in order
    assert "|hello, scapyrpc|" in out.stdout


def test_call_hex_of_a_pcap_dumps_every_packet(server: ServerProcess, client: ScapyClient) -> None:
    packets = [client.build_pkt(MODEL)["binary"], client.build_pkt(MODEL[:2])["binary"]]
    pcap = client.write_pcap(packets)
    out = scapyrpc("call", "read_pcap", pcap, "--hex", "-e", server.endpoint)
    assert out.returncode == 0, out.stderr
    assert [line for line in out.stdout.splitlines() if line.startswith("packet ")] == ["packet 1", "packet 2"]


def test_call_hex_of_something_else_is_an_error(server: ServerProcess) -> None:
    out = scapyrpc("call", "get_templates", "--hex", "-e", server.endpoint)
    assert one_line_error(out, 1).startswith("scapyrpc call get_templates: --hex: the result is not a packet")


def test_call_error_reply_is_one_line(server: ServerProcess) -> None:
    out = scapyrpc("call", "build_pkt", '[{"id": "Ehter"}]', "-e", server.endpoint)
    assert one_line_error(out, 1) == "scapyrpc call build_pkt: -32098 Scapy Server: unknown protocol 'Ehter'"
    out = scapyrpc("call", "no_such_method", "-e", server.endpoint)
    assert one_line_error(out, 1) == "scapyrpc call no_such_method: -32601 Method not found"


def test_call_a_dead_endpoint(dead_endpoint: str) -> None:
    out = scapyrpc("call", "get_templates", "-e", dead_endpoint, "--timeout", "0.5")
    assert one_line_error(out, 1) == f"scapyrpc call get_templates: no reply from {dead_endpoint} within 0.5 s"


def test_call_bad_json_is_a_usage_error() -> None:
    out = scapyrpc("call", "build_pkt", '[{"id": "Ether"}')
    assert out.returncode == 2 and "argument PARAM: not valid JSON" in out.stderr


def test_help_shows_defaults_and_names() -> None:
    serve = " ".join(scapyrpc("serve", "--help").stdout.split())
    for default in (
        "4507; at most 65535",
        "*",
        "10.0; at most 3600",
        "1000; at most 1000000",
        "16 MiB; at most 1024 MiB",
        "100000; at most 10000000",
        "the CPUs this process may use; at most 1024",
    ):
        assert f"(default: {default})" in serve
    worker = " ".join(scapyrpc("worker", "--help").stdout.split())
    assert "recycle a worker after it served N requests (0: never) (default: 0; at most 2147483648)" in worker
    assert "memory grew past MB" in worker
    assert "(default: tcp://127.0.0.1:4507)" in scapyrpc("ping", "--help").stdout
    assert scapyrpc("bench", "--help").stdout.startswith("usage: scapyrpc bench ")


@pytest.mark.parametrize(
    "command", [["serve", "-p", "0", "--workers", "0"], ["worker", "--connect", "tcp://127.0.0.1:1"]]
)
def test_unwritable_log_file_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = scapyrpc(*command, "-l", str(blocker / "scapyrpc.log"))
    assert one_line_error(out, 2) == (
        f"scapyrpc {command[0]}: cannot open the log file {blocker / 'scapyrpc.log'}: Not a directory"
    )


# ---- the hexdump itself, on made-up packet results ---------------------------------------------------


def packet(frame: bytes, layers: list[dict]) -> dict:
    return {"binary": base64.b64encode(frame).decode(), "data": layers}


def test_hexdump_bytes_before_the_first_layer_and_empty_layers() -> None:
    dump = annotated_hexdump(
        packet(bytes(range(20)), [{"id": "A", "name": "A", "offset": 4}, {"id": "B", "name": "Bee", "offset": 20}])
    )
    assert dump.splitlines() == [
        "20 bytes",
        "(before the first layer)  bytes 0-3 (4 bytes)",
        "  0000  00 01 02 03                                       |....|",
        "A  bytes 4-19 (16 bytes)",
        "  0004  04 05 06 07 08 09 0a 0b  0c 0d 0e 0f 10 11 12 13  |................|",
        "B (Bee)  at 20, no bytes",
    ]


def test_hexdump_layer_without_a_usable_offset() -> None:
    dump = annotated_hexdump(packet(b"\x00\x01", [{"id": "A", "offset": 0}, {"id": "B", "offset": 9}]))
    assert dump.splitlines()[1:] == [
        "A  bytes 0-1 (2 bytes)",
        "  0000  00 01" + " " * 45 + "|..|",
        "B  (offset 9 is not in the frame)",
    ]


@pytest.mark.parametrize("result", [[], {}, "text", {"binary": "AAA=", "data": "x"}, [{"binary": "AA=="}]])
def test_hexdump_refuses_what_is_not_a_packet(result: object) -> None:
    with pytest.raises(ValueError, match="not a packet"):
        annotated_hexdump(result)


def test_hexdump_refuses_bad_base64() -> None:
    with pytest.raises(ValueError, match="not base64"):
        annotated_hexdump(packet(b"", []) | {"binary": "*not base64*"})
