"""Measure the connect-time metadata calls: server start-up, get_definitions(null), get_payload_classes.

Usage: python benchmarks/bench_metadata.py [--workers N] [--rounds N]
Starts a real server on a free local port, times the calls over ZeroMQ as the GUI
makes them, then the same service functions in-process, and prints a summary.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from scapyrpc.client import ScapyClient
from scapyrpc.testing import ManagedServer


def timed(fn: Callable[[], Any], rounds: int) -> tuple[list[float], Any]:
    result = fn()  # warm the path once
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples, result


def line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{label:<44} p50 {statistics.median(samples) * 1e6:10.1f} us   p95 {p95 * 1e6:10.1f} us   n={len(samples)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    started = time.perf_counter()
    server = ManagedServer(args.workers)
    startup = time.perf_counter() - started
    try:
        with ScapyClient(server.endpoint, timeout_ms=30000) as cli:
            defs, result = timed(lambda: cli.get_definitions(None), args.rounds)
            size = len(orjson.dumps(result))
            ether = [{"id": "Ether"}]
            payload, _ = timed(lambda: cli.get_payload_classes(ether), args.rounds * 20)
    finally:
        server.stop()

    from scapyrpc.packets import definitions, registry, service

    started = time.perf_counter()
    service.warm_up()
    warm = time.perf_counter() - started
    local_defs, _ = timed(lambda: definitions.get_definitions(None), args.rounds * 20)
    local_dump, _ = timed(lambda: orjson.dumps(service.get_definitions(None)), args.rounds)
    ether_cls = registry.layer_class("Ether")
    local_payload, _ = timed(lambda: definitions.payload_classes(ether_cls), args.rounds * 200)
    local_service_payload, _ = timed(lambda: service.get_payload_classes(ether), args.rounds * 20)

    print(f"server start-up to banner, {args.workers} workers, caches built: {startup:.2f} s")
    print(f"in-process service.warm_up() (Scapy load + every cache):   {warm:.2f} s")
    print(f"get_definitions(null) reply: {len(result['protocols'])} protocols, {size / 1e6:.2f} MB of JSON")
    print(line("wire  get_definitions(null)", defs))
    print(line("wire  get_payload_classes([Ether])", payload))
    print(line("local definitions.get_definitions(None)", local_defs))
    print(line("local orjson.dumps(service.get_definitions)", local_dump))
    print(line("local definitions.payload_classes(Ether)", local_payload))
    print(line("local service.get_payload_classes([Ether])", local_service_payload))


if __name__ == "__main__":
    main()
