#!/usr/bin/env python3
"""The hold-out: simulate_vm against the packets TRex's own simulator wrote (`scripts/exp`).

    python tests/holdout/holdout.py --trex PATH/TO/trex-core [--wire] [FILTER ...]

1. TRex's Python, in a child process (`compile_streams.py`), compiles every profile TRex's
   regression (`stl_basic_tests.py`) runs through its simulator into the streams the simulator is
   given, into a temporary directory.
2. Each single-stream case goes through simulate_vm (in this process, or with --wire over ZeroMQ
   to a `scapyrpc serve` started for the run) with the simulator's count, cores and seed, and its
   packets are compared byte for byte with the golden pcap (`profile_runs.py`).
3. The Field Engine programs of TRex's C++ gtests (`src/gtest/trex_stateless_gtest.cpp`) whose
   outputs are in `scripts/exp` get the same treatment (`gtest_runs.py`).

Each case prints one line (verdict.py explains the words); the summary gives cases compared,
packets, bytes and matches. Exit status 0 when nothing FAILs or ERRORs, 1 when something does,
2 when the run could not start. The TRex checkout comes from --trex or $TREX_CORE; see README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import scapyrpc

import backends
import gtest_runs
import profile_runs
from gtest_programs import Unreadable, gtest_cases
from trex_checkout import CheckoutError, TrexCheckout, locate
from verdict import Verdict

HERE = Path(__file__).resolve().parent
STATUSES = ("OK", "PAD", "FAIL", "ERROR", "SKIP")


def compile_profiles(checkout: TrexCheckout, workdir: Path) -> list[dict[str, Any]]:
    """Step 1, in a child process with TRex's bundled Scapy: the compiled regression cases."""
    out = workdir / "streams.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # TRex's imports, not ours
    child = subprocess.run(
        [sys.executable, str(HERE / "compile_streams.py"), str(checkout.scripts), str(out)],
        cwd=checkout.scripts,
        env=env,
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        raise RuntimeError(f"TRex's Python failed (exit {child.returncode}):\n{child.stderr[-3000:]}")
    cases: list[dict[str, Any]] = json.loads(out.read_text())
    return cases


def run_part(title: str, cases: Iterable[tuple[str, Callable[[], Verdict]]]) -> list[Verdict]:
    """Print one line per case as it is judged; the verdicts."""
    print(f"\n== {title}")
    verdicts = []
    for name, judge in cases:
        verdict = judge()
        print(f"{verdict.status:5} {name}: {verdict.detail}", flush=True)
        verdicts.append(verdict)
    return verdicts


def summary(title: str, verdicts: list[Verdict]) -> str:
    counts = Counter(v.status for v in verdicts)
    compared = [v for v in verdicts if v.status != "SKIP"]
    packets, octets = sum(v.packets for v in compared), sum(v.octets for v in compared)
    outcome = "".join(f", {counts[s]} {s}" for s in STATUSES[1:-1] if counts[s])
    cases = f"{len(verdicts)} case" + ("" if len(verdicts) == 1 else "s")
    return (
        f"{title}: {cases}, {len(compared)} compared ({packets:,} packets, {octets:,} bytes): "
        f"{counts['OK']} match byte for byte{outcome}; {counts['SKIP']} skipped"
    )


def selected(name: str, filters: list[str]) -> bool:
    return not filters or any(f in name for f in filters)


def run(checkout: TrexCheckout, simulate: backends.Simulate, filters: list[str]) -> dict[str, list[Verdict]]:
    parts: dict[str, list[Verdict]] = {}
    with tempfile.TemporaryDirectory(prefix="scapyrpc-holdout-") as workdir:
        compiled = compile_profiles(checkout, Path(workdir))
    profiles = [
        (profile_runs.case_name(c), lambda c=c: profile_runs.run_case(c, checkout.scripts, simulate))
        for c in compiled
        if selected(profile_runs.case_name(c), filters)
    ]
    parts["profiles of stl_basic_tests.py"] = run_part("profiles TRex's regression simulates", profiles)
    if checkout.gtest_source is None:
        print(f"\n== gtests: skipped, {checkout.root}/src/gtest is not in the checkout (a release package has no src/)")
        return parts
    try:
        programs = gtest_cases(checkout.gtest_source.read_text())
    except Unreadable as exc:
        print(f"ERROR {checkout.gtest_source}: {exc}")
        parts["programs of trex_stateless_gtest.cpp"] = [Verdict("ERROR", str(exc))]
        return parts
    gtests = [
        (case.name, lambda case=case: gtest_runs.run_case(case, checkout.scripts, simulate))
        for case in programs
        if selected(case.name, filters)
    ]
    parts["programs of trex_stateless_gtest.cpp"] = run_part("programs of TRex's C++ gtests (basic_vm)", gtests)
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trex", help="the trex-core checkout (or unpacked release); default $TREX_CORE")
    parser.add_argument("--wire", action="store_true", help="call simulate_vm over the wire, on a server of our own")
    parser.add_argument("filters", nargs="*", help="only the cases whose name contains one of these")
    args = parser.parse_args(argv)
    try:
        checkout = locate(args.trex)
    except CheckoutError as exc:
        print(f"holdout: {exc}", file=sys.stderr)
        return 2
    mode = "over the wire" if args.wire else "in process"
    print(f"TRex: {checkout.root} ({checkout.version})")
    print(f"scapyrpc: {Path(scapyrpc.__file__).parent}, simulate_vm {mode}")
    started: list[str] = []
    try:
        with backends.over_the_wire(started) if args.wire else backends.in_process() as simulate:
            for line in started:
                print(f"server: {line}")
            parts = run(checkout, simulate, args.filters)
    except RuntimeError as exc:
        print(f"holdout: {exc}", file=sys.stderr)
        return 2
    print()
    for title, verdicts in parts.items():
        print(summary(title, verdicts))
    every = [v for verdicts in parts.values() for v in verdicts]
    print(summary("all", every))
    failed = sum(v.failed for v in every)
    print(f"holdout ({mode}): " + (f"FAILED, {failed} of {len(every)} cases" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
