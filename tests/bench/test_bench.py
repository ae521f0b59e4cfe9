"""The benchmark tool: a real short run against a server it starts, user errors, and its arithmetic."""

from __future__ import annotations

import io
import itertools
import json
import socket
import subprocess
import sys
from collections import Counter

import orjson
import pytest

from scapyrpc.bench import main, workloads
from scapyrpc.bench.loadgen import classify
from scapyrpc.bench.report import percentile


def test_version_run_against_a_server_it_starts(tmp_path):
    out = tmp_path / "bench.json"
    code = main(
        [
            "-w",
            "version",
            "--duration",
            "1",
            "--clients",
            "2",
            "--workers",
            "1",
            "--warmup",
            "2",
            "--plain",
            "--no-progress",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    document = json.loads(out.read_text())
    (run,) = document["workloads"]["version"]["runs"]
    assert run["label"] == "1 worker"
    assert run["clients"] == 2
    assert run["throughput"] > 0
    assert run["requests"] > 0 and run["sent"] == run["requests"]
    assert run["errors"] == 0 and run["lost"] == 0
    lat = run["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    assert document["meta"]["cpus"] >= 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("endpoint", [f"tcp://127.0.0.1:{_free_port()}", "not-an-endpoint"])
def test_bad_endpoint_is_a_clear_message_and_exit_2(endpoint):
    cmd = [sys.executable, "-m", "scapyrpc.bench", "--endpoint", endpoint, "-w", "version", "--duration", "1"]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert endpoint in proc.stderr and "error" in proc.stderr


def test_unknown_workload_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-w", "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]  # 1..100: the k-th percentile is k
    assert percentile(values, 50) == 50
    assert percentile(values, 90) == 90
    assert percentile(values, 99) == 99
    assert percentile(values, 99.9) == 100
    assert percentile([7.0], 99.9) == 7.0
    assert percentile([], 50) == 0.0


def test_build_frames_vary_the_packet_and_carry_the_handler():
    frames = workloads.prepare("build", "HANDLER", variants=50)
    assert len(set(frames)) == 50
    first = orjson.loads(frames[0])
    assert first["method"] == "build_pkt" and first["params"][0] == "HANDLER"
    ids = {orjson.loads(f)["params"][1][1]["fields"][2]["value"] for f in frames}
    assert len(ids) == 50  # the IP id differs in every request


def test_mixed_blend_keeps_its_weights_and_interleaves():
    order = workloads.mixed_order()
    assert Counter(order) == dict(workloads.MIXED_WEIGHTS)
    assert all(a != b or a == "build" for a, b in itertools.pairwise(order))  # only the majority kind repeats


def test_pcap_payload_is_a_pcap_scapy_reads():
    from scapy.utils import rdpcap

    frames = [bytes([n]) * (60 + n) for n in range(3)]
    packets = rdpcap(io.BytesIO(workloads.pcap_file(frames)))
    assert [bytes(p) for p in packets] == frames


def test_reply_classification():
    rid = b'"7"'
    assert classify(b'{"jsonrpc":"2.0","id":"7","result":1}', rid, False) == ("", "")
    assert classify(b'{"jsonrpc":"2.0","id":"8","result":1}', rid, False)[0] == "reply id does not match the request"
    err = b'{"jsonrpc":"2.0","id":"7","error":{"code":-32098,"message":"Scapy Server: worker lost while x"}}'
    assert classify(err, rid, False) == ("worker lost while x", "")
    fe = b'{"jsonrpc":"2.0","id":"7","result":{"field_engine":{"error":"bad offset"}}}'
    assert classify(fe, rid, True) == ("", "bad offset")
    assert classify(b"nope", rid, False) == ("reply is not JSON", "")


def test_scenarios_run_against_servers_they_start(tmp_path, monkeypatch):
    """Each scenario, made small (fewer packets, identities and frames): the probe is answered,
    without errors, and the load did what it says (the bombs are never answered)."""
    from scapyrpc.bench import scenarios

    monkeypatch.setattr(scenarios, "FLOOD_PACKETS", 50)
    monkeypatch.setattr(scenarios, "FLOOD_IDENTITIES", 2)
    monkeypatch.setattr(scenarios, "BOMB_FRAMES", 20_000)
    monkeypatch.setattr(scenarios, "SLEEP_SECONDS", 1.0)
    out = tmp_path / "scenarios.json"
    code = main(["-s", *scenarios.SCENARIOS, "--duration", "1", "--workers", "1", "--no-progress", "--json", str(out)])
    assert code == 0
    document = json.loads(out.read_text())["scenarios"]
    assert set(document) == set(scenarios.SCENARIOS)
    for name, result in document.items():
        assert result["requests"] > 0 and result["lost"] == 0 and result["errors"] == {}, name
        lat = result["latency_ms"]
        assert 0 < lat["p50"] <= lat["p99"] <= lat["max"], name
    assert document["flood"]["load"]["heavy requests answered"] >= 2
    assert document["flood"]["reference"]["one heavy request alone (ms)"] > 0
    assert document["frame_bomb"]["load"] == {"bomb messages answered": 0}
    assert document["busy_cached"]["load"]["background requests answered"] >= 0


def test_unknown_scenario_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-s", "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
