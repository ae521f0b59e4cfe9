"""Helpers for the Field Engine runtime tests: compiled instructions in TRex's JSON, and a run."""

from __future__ import annotations

from typing import Any

from scapyrpc.packets import registry

registry.load()

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from scapyrpc.packets.field_engine import runtime
from scapyrpc.packets.field_engine.vm_program import read_program

SIM_MACS = {"dst": "10:10:10:10:10:10", "src": "18:18:18:18:18:18"}  # stl-sim's port-0 addresses


def udp_packet(payload: bytes = b"x" * 18, **ip: Any) -> bytes:
    """Ether/IP(16.0.0.1 > 48.0.0.1)/UDP(1025 > 12)/payload, with the simulator's MAC addresses
    (the exp pcaps have them): 60 bytes by default, as TRex's examples build it."""
    ip = {"src": "16.0.0.1", "dst": "48.0.0.1", **ip}
    return bytes(Ether(**SIM_MACS) / IP(**ip) / UDP(dport=12, sport=1025) / payload)


PKT = udp_packet()
IP_SRC, IP_DST, IP_CHECKSUM, SPORT, DPORT = 26, 30, 24, 34, 36  # offsets in PKT


def var(
    name: str,
    min_value: int = 0,
    max_value: int = 255,
    size: int = 1,
    op: str = "inc",
    step: int = 1,
    init_value: int | None = None,
    **more: Any,
) -> dict:
    """A compiled flow_var (init_value defaults as TRex's Python sets it: max for dec, else min)."""
    if init_value is None:
        init_value = max_value if op == "dec" else min_value
    return {
        "type": "flow_var",
        "name": name,
        "size": size,
        "op": op,
        "init_value": init_value,
        "min_value": min_value,
        "max_value": max_value,
        "step": step,
        "split_to_cores": True,
        "next_var": None,
        **more,
    }


def list_var(name: str, values: list[int], size: int = 1, op: str = "inc", step: int = 1, **more: Any) -> dict:
    return {
        "type": "flow_var",
        "name": name,
        "size": size,
        "op": op,
        "value_list": values,
        "step": step,
        "split_to_cores": True,
        "next_var": None,
        **more,
    }


def rand_limit(
    name: str, size: int = 2, limit: int = 3, seed: int = 1, min_value: int = 0, max_value: int = 0x7FFF, **more: Any
) -> dict:
    return {
        "type": "flow_var_rand_limit",
        "name": name,
        "size": size,
        "limit": limit,
        "seed": seed,
        "min_value": min_value,
        "max_value": max_value,
        "split_to_cores": True,
        "next_var": None,
        **more,
    }


def write(name: str, offset: int, add: int = 0, big: bool = True) -> dict:
    return {"type": "write_flow_var", "name": name, "pkt_offset": offset, "add_value": add, "is_big_endian": big}


def write_mask(
    name: str, offset: int, cast: int = 1, mask: int = 0xFF, shift: int = 0, add: int = 0, big: bool = True
) -> dict:
    return {
        "type": "write_mask_flow_var",
        "name": name,
        "pkt_offset": offset,
        "pkt_cast_size": cast,
        "mask": mask,
        "shift": shift,
        "add_value": add,
        "is_big_endian": big,
    }


def tuple_var(
    name: str,
    ip_min: int,
    ip_max: int,
    port_min: int = 1025,
    port_max: int = 65535,
    limit_flows: int = 100000,
    flags: int = 0,
) -> dict:
    return {
        "type": "tuple_flow_var",
        "name": name,
        "ip_min": ip_min,
        "ip_max": ip_max,
        "port_min": port_min,
        "port_max": port_max,
        "limit_flows": limit_flows,
        "flags": flags,
    }


FIX_IPV4 = {"type": "fix_checksum_ipv4", "pkt_offset": 14}


def run(
    instructions: list[dict],
    count: int,
    packet: bytes = PKT,
    cores: int = 1,
    seed: int = 1,
    nic: bool = False,
    cache: int | None = None,
) -> list[bytes]:
    """The packets the runtime makes (`seed`: the stream's random_seed)."""
    program: dict[str, Any] = {"instructions": instructions}
    if cache is not None:
        program["cache"] = cache
    return runtime.run(packet, read_program(program), runtime.Simulation(count, cores, seed, nic))


def values(packets: list[bytes], offset: int, size: int = 1) -> list[int]:
    """The big-endian field at `offset` in each packet."""
    return [int.from_bytes(p[offset : offset + size], "big") for p in packets]


def lcg(seed: int, draws: int) -> list[int]:
    """`draws` outputs of the generator TRex calls fastrand, written out here from its definition
    (s = 214013·s + 2531011 mod 2³², output bits 16..30) so that tests do not check it against itself."""
    out = []
    for _ in range(draws):
        seed = (214013 * seed + 2531011) % 2**32
        out.append((seed >> 16) & 0x7FFF)
    return out
