"""Run the C++ gtests' programs through simulate_vm and judge them against their pcaps."""

from __future__ import annotations

from pathlib import Path

from backends import Simulate
from gtest_programs import RANDOM_SKIP, GtestCase
from pcaps import read_packets
from verdict import MIN_FRAME, Verdict, judge

ETHERTYPE_IPV4 = b"\x08\x00"


def parsed_packet(frame: bytes) -> bytes:
    """The frame as the gtests' packet loader keeps it: TRex's packet parser (bp_sim.cpp) ends an
    IPv4 frame where its IP packet ends (dropping an FCS or trailer), and at no less than 60 bytes."""
    if frame[12:14] != ETHERTYPE_IPV4:
        return frame
    end = 14 + int.from_bytes(frame[16:18], "big")
    return frame[: max(end, MIN_FRAME)]


def run_case(case: GtestCase, scripts: Path, simulate: Simulate) -> Verdict:
    """One gtest: its program on packet 0 of its pcap, as many times as the test writes packets.

    The gtest runs the program again and again over one buffer; each of these programs writes the
    same bytes every time, so each run equals a run over a fresh copy, which is what simulate_vm does.
    """
    if case.problem:
        return Verdict("ERROR", f"the test could not be read: {case.problem}")
    if case.random:
        return Verdict("SKIP", RANDOM_SKIP)
    assert case.input_pcap and case.golden and case.count
    golden = scripts / case.golden
    if not golden.is_file():
        return Verdict("ERROR", f"{case.golden} is not in the checkout")
    exp = read_packets(golden)
    packet = parsed_packet(read_packets(scripts / case.input_pcap)[0])
    options = {"count": case.count, "format": "packets"}
    try:
        got = simulate(packet, {"instructions": case.instructions}, options)
    except Exception as exc:  # noqa: BLE001
        return Verdict("ERROR", f"simulate_vm: {exc}", len(exp), sum(map(len, exp)))
    return judge(got, exp, len(packet))
