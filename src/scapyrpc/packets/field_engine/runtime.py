"""The Field Engine runtime: the packets TRex generates from a stream packet and its compiled VM
program, one core or several, in the order TRex's simulator (`stl-sim`) writes them.

Each core gets count / cores packets (the first core also the remainder, as `bp-sim --limit`
shares a limit). A core's packet k starts from the stored packet and runs the program; with a
cache of N, the first N are computed once and repeated (trex_stl_dp_core.cpp:
`alloc_node_with_vm`, `replay_vm_into_cache`). Core c sends its packet k at (k·cores + c)
inter-packet gaps, so the simulator's merge by time interleaves the cores round-robin, core 0
first, and core 0's extra packets come last.
"""

from __future__ import annotations

from dataclasses import dataclass

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.field_engine import vm_build
from scapyrpc.packets.field_engine.vm_ops import OutOfPacket
from scapyrpc.packets.field_engine.vm_program import Program

__all__ = ["Simulation", "computed_packets", "run"]


@dataclass(frozen=True)
class Simulation:
    """What a run needs besides the program: how many packets in all, on how many cores, the
    stream's random_seed (never 0 here: the caller picks one for 0), and whether the NIC
    completes offloaded checksums."""

    count: int
    cores: int = 1
    seed: int = 1
    nic: bool = False


def core_counts(count: int, cores: int) -> list[int]:
    """Packets per core: count / cores each, the first core also the remainder."""
    share, rest = divmod(count, cores)
    return [share + (rest if core == 0 else 0) for core in range(cores)]


def computed_packets(program: Program, count: int, cores: int) -> int:
    """How many packets the cores compute for `count` (with a cache, at most its share each)."""
    return sum(
        min(n, vm_build.cache_share(program.cache, core, cores) or n)
        for core, n in enumerate(core_counts(count, cores))
    )


def run(packet: bytes, program: Program, sim: Simulation) -> list[bytes]:
    """The packets, merged across cores."""
    base = vm_build.padded(packet)
    if not program.instructions:
        return [base] * sim.count
    plan = vm_build.plan(base, program, sim.cores)
    counts = core_counts(sim.count, sim.cores)
    per_core, failures = [], []
    for core, n in enumerate(counts):
        try:
            per_core.append(_core_packets(base, vm_build.core_vm(plan, core, sim.cores, sim.seed, sim.nic), n))
        except _Failed as failed:  # the merged list's first failing packet is the one to name
            failures.append((merged_index(failed.k, core, sim.cores, counts), failed.cause))
    if failures:
        index, cause = min(failures, key=lambda failure: failure[0])
        raise ServiceError(f"{cause.where}: {cause.message} (packet {index}, offset {cause.offset})")
    if sim.cores == 1:
        return per_core[0]
    return merge(per_core)


def merge(per_core: list[list[bytes]]) -> list[bytes]:
    """Round-robin by packet index, core 0 first; what a core has beyond the others comes last."""
    rounds = min(len(packets) for packets in per_core)
    merged = [pkt for k in range(rounds) for pkt in (packets[k] for packets in per_core)]
    for packets in per_core:
        merged.extend(packets[rounds:])
    return merged


class _Failed(Exception):
    """A core's packet k could not be made."""

    def __init__(self, k: int, cause: OutOfPacket) -> None:
        super().__init__(cause.message)
        self.k, self.cause = k, cause


def _core_packets(base: bytes, vm: vm_build.CoreVm, count: int) -> list[bytes]:
    """`count` packets of one core (computing only the cache's worth when there is a cache)."""
    computed = min(count, vm.cache) if vm.cache else count
    ops, finish = vm.ops, vm.finish
    out: list[bytes] = []
    append = out.append
    k = 0
    try:
        if finish is None:
            for k in range(computed):  # noqa: B007 (k names the packet an OutOfPacket stopped)
                pkt = bytearray(base)
                for op in ops:
                    op(pkt)
                append(bytes(pkt))
        else:
            for k in range(computed):  # noqa: B007 (as above)
                pkt = bytearray(base)
                for op in ops:
                    op(pkt)
                append(bytes(finish(pkt)))
    except OutOfPacket as exc:
        raise _Failed(k, exc) from None
    if computed < count:
        out = [out[k % computed] for k in range(count)]
    return out


def merged_index(k: int, core: int, cores: int, counts: list[int]) -> int:
    """Where a core's packet k lands in the merged list."""
    rounds = min(counts)
    if k < rounds:
        return k * cores + core
    return rounds * cores + (k - rounds)  # only core 0 has packets beyond the rounds
