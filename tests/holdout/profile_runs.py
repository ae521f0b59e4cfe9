"""Run each compiled regression case through simulate_vm and judge it against TRex's pcap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backends import Simulate
from pcaps import read_packets
from stream_settings import Unsupported, simulated_packet
from verdict import Verdict, judge


def case_name(case: dict[str, Any]) -> str:
    """`stl/<profile> <options>` and its tunables, as TRex's regression runs it."""
    name = f"stl/{case['profile']} {' '.join(case['options'].split())}"
    if case.get("tunables"):
        name += " -t " + ",".join(f"{k}={v}" for k, v in case["tunables"].items())
    return name


def packets_by_options(case: dict[str, Any], stream: dict[str, Any]) -> int:
    """How many packets `stl-sim` writes for a single stream: the limit, or fewer for a burst."""
    limit, mode = int(case["limit"]), stream["mode"]
    if mode["type"] == "continuous":
        return limit
    total = int(mode.get("total_pkts", 1)) * int(mode.get("count", 1))
    return min(limit, total) if limit else total


def run_case(case: dict[str, Any], scripts: Path, simulate: Simulate) -> Verdict:
    """One regression case: simulate_vm with the stream's settings applied, against the golden pcap."""
    if "error" in case:
        return Verdict("ERROR", f"TRex's Python could not compile it: {case['error']}")
    streams = case["streams"]
    if len(streams) != 1:
        return Verdict("SKIP", f"{len(streams)} streams: stl-sim interleaves them by their rates")
    stream = streams[0]["stream"]
    try:
        packet = simulated_packet(stream)
    except Unsupported as exc:
        return Verdict("SKIP", str(exc))
    golden = scripts / case["golden"]
    if not golden.is_file():
        return Verdict("ERROR", f"{case['golden']} is not in the checkout")
    exp = read_packets(golden)
    program = stream["vm"]
    options = {
        "count": len(exp),
        "cores": case["cores"],
        "random_seed": stream.get("random_seed", 0),
        "format": "packets",
    }
    try:
        got = simulate(packet, program, options)
    except Exception as exc:  # noqa: BLE001  (a refusal, over the wire or in process, is the result)
        return Verdict("ERROR", f"simulate_vm: {exc}", len(exp), sum(map(len, exp)))
    verdict = judge(got, exp, len(packet))
    expected = packets_by_options(case, stream)
    if expected != len(exp):
        note = f" [the options make {expected} packets; the pcap has {len(exp)}, which are compared]"
        return Verdict(verdict.status, verdict.detail + note, verdict.packets, verdict.octets)
    return verdict
