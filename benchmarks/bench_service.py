"""In-process cost of the service functions and of the RPC layer around them.

Run: .venv/bin/python benchmarks/bench_service.py [iterations] [rounds]
Prints microseconds per call (median of `rounds` rounds, default 5) for the
service functions the workers run, without transport, and for `rpc.handle`
(envelope, dispatch and serialisation included) on the smallest and a typical
request. The machine is shared: run it several times and compare medians.
"""

from __future__ import annotations

import base64
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from scapyrpc.packets import service
from scapyrpc.worker import rpc

MODEL = [
    {"id": "Ether", "fields": [{"id": "dst", "value": "10:10:10:10:10:10"}]},
    {"id": "IP", "fields": [{"id": "src", "value": "16.0.0.1"}, {"id": "dst", "value": "48.0.0.1"}]},
    {"id": "TCP", "fields": [{"id": "sport", "value": "1025"}, {"id": "dport", "value": "80"}]},
    {
        "id": "Raw",
        "fields": [{"id": "load", "value": {"vtype": "BYTES", "base64": base64.b64encode(b"x" * 64).decode()}}],
    },
]
EDIT = [{"id": "Ether"}, {"id": "IP"}, {"id": "TCP", "fields": [{"id": "dport", "value": "777"}]}]
FIELD_ENGINE = {
    "field_engine": {
        "global_parameters": {"cache_size": "1000"},
        "instructions": [
            {
                "id": "STLVmFlowVar",
                "parameters": {
                    "name": "ip_src",
                    "min_value": "16.0.0.1",
                    "max_value": "16.0.0.254",
                    "size": "4",
                    "op": "inc",
                    "step": "1",
                },
            },
            {"id": "STLVmWrFlowVar", "parameters": {"fv_name": "ip_src", "pkt_offset": "IP.src"}},
            {"id": "STLVmFixIpv4", "parameters": {"offset": "IP"}},
        ],
    }
}
OPTIONS_MODEL = [
    {"id": "Ether"},
    {
        "id": "IP",
        "fields": [
            {"id": "options", "value": {"vtype": "EXPRESSION", "expr": "[IPOption_RR(routers=['1.2.3.4', '5.6.7.8'])]"}}
        ],
    },
    {
        "id": "TCP",
        "fields": [
            {
                "id": "options",
                "value": {"vtype": "EXPRESSION", "expr": "[('MSS', 1460), ('NOP', None), ('SAckOK', b'')]"},
            }
        ],
    },
]


def per_call_us(fn: Callable[[], Any], n: int, rounds: int) -> float:
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        results.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(results)


def request(method: str, *params: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": "1", "method": method, "params": list(params)}).encode()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    service.warm_up()
    frame = service.build_pkt(MODEL)["binary"]
    built_ex = service.build_pkt_ex(MODEL, FIELD_ENGINE)
    program = built_ex["field_engine"]["instructions"]
    fe_model = FIELD_ENGINE["field_engine"]
    version_frame = request("get_version")
    build_frame = request("build_pkt", MODEL)
    cases: dict[str, Callable[[], Any]] = {
        "build_pkt": lambda: service.build_pkt(MODEL),
        "reconstruct_pkt (no edits)": lambda: service.reconstruct_pkt(frame, []),
        "reconstruct_pkt (one edit)": lambda: service.reconstruct_pkt(frame, EDIT),
        "build_pkt (IP/TCP options)": lambda: service.build_pkt(OPTIONS_MODEL),
        "build_pkt_ex (3 instructions)": lambda: service.build_pkt_ex(MODEL, FIELD_ENGINE),
        "load_instruction_param_values": lambda: service.load_instruction_parameter_values(
            MODEL, fe_model, "pkt_offset"
        ),
        "decompile_vm_raw": lambda: service.decompile_vm_raw(frame, program),
        "rpc.handle get_version": lambda: rpc.handle(version_frame),
        "rpc.handle build_pkt": lambda: rpc.handle(build_frame),
    }
    for name, fn in cases.items():
        print(f"{name:32s} {per_call_us(fn, n, rounds):8.1f} us/call", flush=True)


if __name__ == "__main__":
    main()
