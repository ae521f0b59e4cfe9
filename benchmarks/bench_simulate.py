"""Cost of `simulate_vm`: in process and over the wire, and how it grows with packets and instructions.

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_simulate.py [--no-wire] [rounds]

The stream is Ether/IP/UDP, 64 bytes, with one 4-byte flow variable written into IP.src and the
IPv4 checksum fixed. Prints the median of `rounds` (default 3) in milliseconds:

- in process, `service.simulate_vm` (the runtime plus base64 or pcap encoding), and `rpc.handle`
  (the same, plus the JSON request and reply a worker reads and writes);
- over the wire, `ScapyClient.call` against `scapyrpc serve --workers 1` on 127.0.0.1 (the broker
  hop and the reply's megabytes crossing ZeroMQ included);
- the growth with packets (10 000 to 100 000) and with instructions (more writes of the variable).
"""

from __future__ import annotations

import base64
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import orjson

from scapyrpc.packets import service
from scapyrpc.worker import rpc


def stream_packet() -> bytes:
    """Ether/IP(16.0.0.1 > 48.0.0.1)/UDP/22 bytes: 64 bytes."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    return bytes(Ether() / IP(src="16.0.0.1", dst="48.0.0.1") / UDP() / (b"x" * 22))


VAR = {
    "type": "flow_var",
    "name": "src",
    "size": 4,
    "op": "inc",
    "init_value": 0x10000001,
    "min_value": 0x10000001,
    "max_value": 0x100000FE,
    "step": 1,
    "split_to_cores": True,
    "next_var": None,
}
WRITE = {"type": "write_flow_var", "name": "src", "pkt_offset": 26, "add_value": 0, "is_big_endian": True}
FIX = {"type": "fix_checksum_ipv4", "pkt_offset": 14}


def program(extra_writes: int = 0) -> dict:
    """The benchmark program, with `extra_writes` more writes of the variable (into IP.dst)."""
    writes = [dict(WRITE, pkt_offset=30, add_value=i) for i in range(extra_writes)]
    return {"instructions": [VAR, WRITE, *writes, FIX]}


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    rounds = int(args[0]) if args else 3
    raw = stream_packet()
    assert len(raw) == 64
    packet = base64.b64encode(raw).decode()

    print("in process, 100 000 packets, 3 instructions (ms)")
    for fmt in ("packets", "pcap"):
        options = {"count": 100_000, "format": fmt}
        call = median_ms(partial(service.simulate_vm, packet, program(), options), rounds)
        frame = orjson.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "simulate_vm", "params": [packet, program(), options]}
        )
        handle = median_ms(partial(rpc.handle, frame), rounds)
        print(f"  format {fmt:8} service call {call:7.0f}   rpc.handle {handle:7.0f}")

    print("growth with packets, 3 instructions (ms, in process)")
    for count in (10_000, 25_000, 50_000, 100_000):
        ms = median_ms(partial(service.simulate_vm, packet, program(), {"count": count}), rounds)
        print(f"  {count:7} packets {ms:7.0f}   {ms * 1000 / count:5.2f} us a packet")

    print("growth with instructions, 100 000 packets (ms, in process)")
    for extra in (0, 3, 6, 12):
        ms = median_ms(partial(service.simulate_vm, packet, program(extra), {"count": 100_000}), rounds)
        print(f"  {3 + extra:3} instructions {ms:7.0f}")

    if "--no-wire" in sys.argv:
        return
    from scapyrpc.client import ScapyClient
    from scapyrpc.testing import ManagedServer

    print("over the wire, scapyrpc serve --workers 1, 100 000 packets (ms)")
    with ManagedServer(workers=1) as server, ScapyClient(server.endpoint, timeout_ms=60_000) as client:
        for fmt in ("packets", "pcap"):
            options = {"count": 100_000, "format": fmt}
            client.call("simulate_vm", packet, program(), options)  # warm-up
            ms = median_ms(partial(client.call, "simulate_vm", packet, program(), options), rounds)
            print(f"  format {fmt:8} {ms:7.0f}")


if __name__ == "__main__":
    main()
