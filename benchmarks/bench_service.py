"""In-process cost of build_pkt and reconstruct_pkt for Ether/IP/TCP/64-byte payload.

Run: .venv/bin/python benchmarks/bench_service.py [iterations]
Prints microseconds per call (median of 5 rounds) for the service functions the
workers run, without transport.
"""

from __future__ import annotations

import base64
import statistics
import sys
import time

from scapyrpc import service

MODEL = [
    {"id": "Ether", "fields": [{"id": "dst", "value": "10:10:10:10:10:10"}]},
    {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}, {"id": "dst", "value": "48.0.0.1"}]},
    {"id": "TCP", "fields": [{"id": "sport", "value": "1025"}, {"id": "dport", "value": "80"}]},
    {"id": "Raw", "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": base64.b64encode(b"x" * 64).decode()}}]},
]
EDIT = [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP", "fields": [{"id": "dport", "value": "777"}]}]


def per_call_us(fn, n: int) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    service.warm_up()
    frame = service.build_pkt(MODEL)["binary"]
    cases = {
        "build_pkt": lambda: service.build_pkt(MODEL),
        "reconstruct_pkt (no edits)": lambda: service.reconstruct_pkt(frame, []),
        "reconstruct_pkt (one edit)": lambda: service.reconstruct_pkt(frame, EDIT),
    }
    for name, fn in cases.items():
        print(f"{name:28s} {per_call_us(fn, n):8.1f} us/call")


if __name__ == "__main__":
    main()
