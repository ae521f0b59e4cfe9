"""`simulate_vm`: the packets TRex will send for a stream packet and its compiled VM program,
within this worker's limits, as a list of base64 packets or as a pcap.

A `random_seed` of 0 is TRex's "unpredictable": TRex seeds from the clock, so a seed is drawn
here and returned, and passing it back repeats the result.
"""

from __future__ import annotations

import base64
import binascii
import random
from typing import Any

from scapyrpc.packets import limits, pcap
from scapyrpc.packets.encoding import decode_base64
from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.field_engine import runtime, vm_build
from scapyrpc.packets.field_engine.vm_program import U32, Program, read_program

__all__ = ["DEFAULT_COUNT", "FORMATS", "HW_CHECKSUMS", "MAX_CORES", "simulate"]

DEFAULT_COUNT = 16
MAX_CORES = 255  # TRex counts data-plane cores in a byte
FORMATS = ("packets", "pcap")
HW_CHECKSUMS = ("simulator", "nic")
OPTIONS = ("count", "cores", "random_seed", "format", "hw_checksum")
MAX_INSTRUCTION_RUNS = 2_000_000  # packets computed × instructions: about 2 s at most, well within the deadline
UNPREDICTABLE_NOTE = (
    "random_seed 0 makes TRex seed its random variables from the clock; this run drew "
    "random_seed {seed}: pass it to repeat these packets"
)


def simulate(packet_b64: Any, vm_program: Any, options: Any) -> dict[str, Any]:
    """The reply of `simulate_vm`."""
    packet = decode_base64(packet_b64, "packet")
    program = read_program(vm_program)
    opts = _options(options)
    count, cores = opts["count"], opts["cores"]
    _check_bounds(packet, program, count, cores)
    seed, note = opts["random_seed"], None
    if seed == 0 and program.random:
        seed = random.randint(1, U32)
        note = UNPREDICTABLE_NOTE.format(seed=seed)
    sim = runtime.Simulation(count, cores, seed, opts["hw_checksum"] == "nic")
    packets = runtime.run(packet, program, sim)
    result: dict[str, Any]
    if opts["format"] == "pcap":
        result = {"pcap": base64.b64encode(pcap.write_one_per_second(packets)).decode("ascii")}
    else:
        encode = binascii.b2a_base64
        result = {"packets": [encode(p, newline=False).decode("ascii") for p in packets]}
    result["random_seed"] = seed
    if note:
        result["note"] = note
    return result


def _check_bounds(packet: bytes, program: Program, count: int, cores: int) -> None:
    """The packets must fit a pcap of --max-pcap-bytes (trims only shorten them), and the work
    (packets computed × instructions) must fit well within a request's deadline."""
    size = len(vm_build.padded(packet))
    total, most = pcap.pcap_size([size] * count), limits.current().max_pcap_bytes
    if total > most:
        raise ServiceError(
            f"{count} packets of {size} bytes make a pcap of {total} bytes, more than the "
            f"limit of {most} bytes (--max-pcap-bytes): ask for fewer packets"
        )
    runs = runtime.computed_packets(program, count, cores) * len(program.instructions)
    if runs > MAX_INSTRUCTION_RUNS:
        raise ServiceError(
            f"the program would run {runs} instructions ({len(program.instructions)} per packet), "
            f"more than {MAX_INSTRUCTION_RUNS} in one request: ask for fewer packets or use a cache"
        )


def _options(options: Any) -> dict[str, Any]:
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ServiceError('options must be an object such as {"count": 16}')
    unknown = [key for key in options if key not in OPTIONS]
    if unknown:
        raise ServiceError(f"options: unknown option {unknown[0]!r}; known: {', '.join(OPTIONS)}")
    most = limits.current().max_simulated_packets
    count = _int(options, "count", DEFAULT_COUNT, 1, most)
    cores = _int(options, "cores", 1, 1, MAX_CORES)
    if count < cores:
        raise ServiceError(f"options: count {count} is less than cores {cores}: each core sends at least one packet")
    out: dict[str, Any] = {"count": count, "cores": cores, "random_seed": _int(options, "random_seed", 0, 0, U32)}
    for key, choices in (("format", FORMATS), ("hw_checksum", HW_CHECKSUMS)):
        value = options.get(key, choices[0])
        if value not in choices or not isinstance(value, str):
            raise ServiceError(f"options: {key} must be {' or '.join(map(repr, choices))}")
        out[key] = value
    return out


def _int(options: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = options.get(key, default)
    if type(value) is not int or not low <= value <= high:
        raise ServiceError(f"options: {key} must be an integer from {low} to {high}, got {str(value)[:40]!r}")
    return value
