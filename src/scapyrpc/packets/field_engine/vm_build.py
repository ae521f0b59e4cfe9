"""A program compiled for one stream packet, then for each core, as TRex's `StreamVm::compile`
and `TrexVmSplitter` do (trex_stl_stream_vm.cpp, trex_stl_vm_splitter.cpp): the variable table,
the `next_var` chains, the packet-size variable's clamping, every offset checked against the
packet, the checksum positions read from the packet, each core's phase of split variables.

Problems are `ServiceError`s naming the instruction; anything TRex would refuse is refused, and
so is anything that would touch bytes outside the packet (which TRex checks only in part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from scapyrpc.packets.errors import ServiceError
from scapyrpc.packets.field_engine import checksum, vm_ops, vm_vars
from scapyrpc.packets.field_engine.fastrand import FastRand, per_core_seed
from scapyrpc.packets.field_engine.instructions import L4_TYPE_IP
from scapyrpc.packets.field_engine.vm_program import (
    FixHw,
    FixIcmpv6,
    FixIpv4,
    FlowVar,
    Instruction,
    Program,
    RandLimit,
    Trim,
    Tuple,
    Write,
    WriteMask,
)

__all__ = ["CoreVm", "Plan", "cache_share", "core_vm", "padded", "plan"]

MIN_PACKET, MAX_PACKET = 14, 9 * 1024 + 22  # the stream packet sizes TRex accepts
PADDED_PACKET = 60  # TRex pads a shorter stream packet with zeros
MAX_VAR_BYTES = 64  # all variables together, in TRex's per-stream memory
MAX_TOUCHED_OFFSET = 512  # the last packet byte a program may change, plus one
MAX_CACHE_SPLIT = 10000  # the largest cache TRex splits between cores
RANDOM_STATE_BYTES = 4  # the stream generator's state, kept with the variables when one is random
TUPLE_BYTES = 10  # IP, port, flow number
MIN_TRIM = 60  # the shortest packet trim_pkt_size makes
L4_TYPE_UDP, L4_TYPE_TCP = 11, 13  # fix_checksum_hw l4_type values (besides L4_TYPE_IP)
TCP_HEADER, UDP_HEADER = 20, 8
TCP_CHECKSUM, UDP_CHECKSUM = 16, 6  # the L4 checksum's offset in its header
PROTO_ICMPV6 = 58
TUPLE_PARTS = (("ip", 4), ("port", 2), ("flow_limit", 4))


def refuse(inst: Instruction, message: str, offset: int | None = None, packet: int = 0) -> ServiceError:
    """The error for an instruction, with the packet and the offset it concerns."""
    at = f"packet {packet}" if offset is None else f"packet {packet}, offset {offset}"
    return ServiceError(f"{inst.where}: {message} ({at})")


def padded(packet: bytes) -> bytes:
    """The stream packet as TRex stores it: 14 to 9238 bytes, zero-padded to 60."""
    if not MIN_PACKET <= len(packet) <= MAX_PACKET:
        raise ServiceError(f"the packet has {len(packet)} bytes; TRex takes {MIN_PACKET} to {MAX_PACKET}")
    return packet.ljust(PADDED_PACKET, b"\0")


@dataclass(frozen=True)
class Var:
    """A variable's slot in the per-core value list, its width and the instruction defining it."""

    slot: int
    size: int
    inst: Instruction


@dataclass(frozen=True)
class HwFix:
    """A fix_checksum_hw resolved against the packet: IP header offset, L4 offset, where the
    software writes the pseudo-header sum, and what the NIC is asked to finish."""

    l3: int
    l4: int
    ipv4: bool
    software_l4: int | None
    nic_l4: int | None
    udp: bool


@dataclass
class Plan:
    """The program checked against one packet: what every core's compile starts from."""

    packet: bytes
    program: Program
    vars: dict[str, Var] = field(default_factory=dict)
    slots: int = 0
    chained: set[int] = field(default_factory=set)  # indexes of variables with a next_var
    follows: set[int] = field(default_factory=set)  # indexes of variables pointed at by the one before
    trim_ranges: dict[int, tuple[int, int]] = field(default_factory=dict)  # flow_var index -> clamped range
    hw: dict[int, HwFix] = field(default_factory=dict)

    @property
    def splits(self) -> bool:
        """Whether any variable is divided between cores (else every core runs the same program)."""
        return any(_needs_split(inst) for inst in self.program.instructions)


def _needs_split(inst: Instruction) -> bool:
    if isinstance(inst, FlowVar):
        return inst.split and inst.op != "random"
    return isinstance(inst, Tuple) or (isinstance(inst, RandLimit) and inst.split)


def plan(packet: bytes, program: Program, cores: int) -> Plan:
    """Check `program` against the (padded) `packet` for `cores` cores."""
    result = Plan(packet, program)
    _variables(result, cores)
    _chains(result)
    _trims(result)
    for inst in program.instructions:
        end = _touched(result, inst)
        if end > MAX_TOUCHED_OFFSET:
            raise refuse(
                inst,
                f"changes the packet up to offset {end}; TRex changes only its first {MAX_TOUCHED_OFFSET} bytes",
                end,
            )
    if cores > 1 and program.instructions and program.cache > MAX_CACHE_SPLIT:
        raise ServiceError(f"cache {program.cache} is too big to split between cores (at most {MAX_CACHE_SPLIT})")
    return result


def _variables(plan: Plan, cores: int) -> None:
    used = RANDOM_STATE_BYTES if plan.program.random else 0
    for inst in plan.program.instructions:
        if isinstance(inst, FlowVar):
            _define(plan, inst, inst.name, inst.size)
            used += inst.size
        elif isinstance(inst, RandLimit):
            _define(plan, inst, inst.name, inst.size)
            used += 2 * inst.size + 4
        elif isinstance(inst, Tuple):
            if inst.limit_flows and inst.limit_flows < cores:
                raise refuse(inst, f"limit_flows {inst.limit_flows} is less than the {cores} cores")
            for part, size in TUPLE_PARTS:
                _define(plan, inst, f"{inst.name}.{part}", size)
            used += TUPLE_BYTES
        if used > MAX_VAR_BYTES:
            raise refuse(inst, f"the variables take {used} bytes; TRex keeps at most {MAX_VAR_BYTES}")


def _define(plan: Plan, inst: Instruction, name: str, size: int) -> None:
    if name in plan.vars:
        raise refuse(inst, f"variable '{name}' is defined twice")
    plan.vars[name] = Var(plan.slots, size, inst)
    plan.slots += 1


def _chains(plan: Plan) -> None:
    """A variable's next_var must be the very next instruction, a variable that is not split."""
    instructions = plan.program.instructions
    for inst in instructions:
        if not isinstance(inst, (FlowVar, RandLimit)) or not inst.next_var:
            continue
        after = instructions[inst.index + 1] if inst.index + 1 < len(instructions) else None
        if after is None:
            raise refuse(inst, "the last instruction has a next_var")
        if not isinstance(after, (FlowVar, RandLimit)):
            raise refuse(inst, f"next_var '{inst.next_var}' must be the next instruction, a variable")
        if after.name != inst.next_var:
            raise refuse(inst, f"next_var '{inst.next_var}' is not the next instruction's variable '{after.name}'")
        if _needs_split(after):
            raise refuse(after, "a variable pointed at by next_var must run on one core (split_to_cores false)")
        plan.chained.add(inst.index)
        plan.follows.add(after.index)


def _var(plan: Plan, inst: Instruction, name: str, offset: int | None = None) -> Var:
    var = plan.vars.get(name)
    if var is None:
        raise refuse(inst, f"no variable named '{name}'", offset)
    return var


def _trims(plan: Plan) -> None:
    """A packet-size variable must be a 2-byte flow_var; its range is clamped to [60, packet size]."""
    size = len(plan.packet)
    for inst in plan.program.instructions:
        if not isinstance(inst, Trim):
            continue
        var = _var(plan, inst, inst.name)
        if var.size != 2:
            raise refuse(inst, f"the packet-size variable '{inst.name}' must have 2 bytes, not {var.size}")
        source = var.inst
        if not isinstance(source, FlowVar):
            raise refuse(inst, f"the packet-size variable '{inst.name}' must be a flow_var")
        if source.value_list is not None:
            for value in source.value_list:
                if not MIN_TRIM <= value <= size:
                    raise refuse(
                        inst,
                        f"packet size {value} in the value_list is not between {MIN_TRIM} and "
                        f"the packet's {size} bytes",
                    )
            continue
        low, high = plan.trim_ranges.get(source.index, (source.min, source.max))
        high, low = min(high, size), min(low, size)
        if low >= high:
            raise refuse(
                inst,
                f"the smallest packet size {low} is not below the largest {high} "
                f"(clamped to the packet's {size} bytes)",
            )
        plan.trim_ranges[source.index] = (max(low, MIN_TRIM), high)


def _fits(plan: Plan, inst: Instruction, what: str, offset: int, length: int) -> None:
    if offset + length > len(plan.packet):
        raise refuse(
            inst,
            f"{what} {length} bytes at offset {offset}, past the end of the {len(plan.packet)}-byte packet",
            offset,
        )


def _touched(plan: Plan, inst: Instruction) -> int:
    """Check what `inst` reads and writes against the packet; the end of what it may change."""
    pkt = plan.packet
    if isinstance(inst, Write):
        var = _var(plan, inst, inst.name, inst.offset)
        _fits(plan, inst, "writes", inst.offset, var.size)
        return inst.offset + var.size
    if isinstance(inst, WriteMask):
        var = _var(plan, inst, inst.name, inst.offset)
        _fits(plan, inst, "writes", inst.offset, inst.cast)
        if not inst.big:  # little-endian, TRex writes as many bytes as the variable has (at most 4)
            _fits(plan, inst, "writes", inst.offset, vm_ops.mask_read(var.size, False)[0])
        return inst.offset + inst.cast
    if isinstance(inst, FixIpv4):
        _fits(plan, inst, "checks an IPv4 header of", inst.offset, checksum.IPV4_HEADER)
        length = max((pkt[inst.offset] & 0x0F) * 4, checksum.IPV4_HEADER)
        _fits(plan, inst, "checks an IPv4 header of", inst.offset, length)
        return inst.offset + length
    if isinstance(inst, FixHw):
        return _hw_fix(plan, inst)
    if isinstance(inst, FixIcmpv6):
        _fits(plan, inst, "reads an IPv6 header of", inst.l2_len, checksum.IPV6_HEADER)
        if pkt[inst.l2_len] >> 4 != 6:
            raise refuse(inst, "works only on IPv6: the packet has no IPv6 header at l2_len", inst.l2_len)
        if pkt[inst.l2_len + 6] != PROTO_ICMPV6:
            raise refuse(inst, f"found no ICMPv6 layer: IPv6's next header is {pkt[inst.l2_len + 6]}", inst.l2_len + 6)
        end = inst.l2_len + inst.l3_len + 4
        _fits(plan, inst, "reads and writes the ICMPv6 header's first", inst.l2_len + inst.l3_len, 4)
        return end
    return 0


def _hw_fix(plan: Plan, inst: FixHw) -> int:
    """Resolve a fix_checksum_hw from the packet as TRex's compile does."""
    pkt, is_ip = plan.packet, inst.l4_type == L4_TYPE_IP
    if inst.l2_len < 14:
        raise refuse(inst, f"l2_len {inst.l2_len} is lower than 14", inst.l2_len)
    if not is_ip and inst.l3_len < 20:
        raise refuse(inst, f"l3_len {inst.l3_len} is lower than 20", inst.l2_len)
    _fits(plan, inst, "reads an IP header of", inst.l2_len, checksum.IPV4_HEADER)
    l3, version = inst.l2_len, pkt[inst.l2_len] >> 4
    if version == 4:
        ihl = (pkt[l3] & 0x0F) * 4
        proto = pkt[l3 + 9]
        if not is_ip:
            if ihl != inst.l3_len:
                raise refuse(inst, f"l3_len {inst.l3_len} is not the IPv4 header's length {ihl}", l3)
            if proto not in (checksum.PROTO_TCP, checksum.PROTO_UDP):
                raise refuse(inst, f"the IPv4 protocol {proto} is neither TCP nor UDP", l3 + 9)
        l4 = l3 + ihl
        if proto == checksum.PROTO_TCP:
            fix = HwFix(l3, l4, True, l4 + TCP_CHECKSUM, l4 + TCP_CHECKSUM, False)
        elif proto == checksum.PROTO_UDP:
            fix = HwFix(l3, l4, True, l4 + UDP_CHECKSUM, l4 + UDP_CHECKSUM, True)
        else:  # only the IPv4 checksum is offloaded, yet TRex still writes the sum where UDP's would be
            fix = HwFix(l3, l4, True, l4 + UDP_CHECKSUM, None, False)
        header = {checksum.PROTO_TCP: TCP_HEADER, checksum.PROTO_UDP: UDP_HEADER}.get(proto, 0)
    elif version == 6:
        _fits(plan, inst, "reads an IPv6 header of", l3, checksum.IPV6_HEADER)
        l4 = l3 + inst.l3_len
        if inst.l4_type == L4_TYPE_TCP:
            fix, header = HwFix(l3, l4, False, l4 + TCP_CHECKSUM, l4 + TCP_CHECKSUM, False), TCP_HEADER
        elif inst.l4_type == L4_TYPE_UDP:
            fix, header = HwFix(l3, l4, False, l4 + UDP_CHECKSUM, l4 + UDP_CHECKSUM, True), UDP_HEADER
        else:
            raise refuse(
                inst, f"l4_type {inst.l4_type} is neither TCP ({L4_TYPE_TCP}) nor UDP ({L4_TYPE_UDP}) for IPv6", l3
            )
    else:
        raise refuse(inst, f"works on IPv4 or IPv6, and the packet has IP version {version} at l2_len", l3)
    end = inst.l2_len + (0 if is_ip else inst.l3_len) + header
    _fits(plan, inst, "covers", inst.l2_len, end - inst.l2_len)
    if fix.software_l4 is not None:
        _fits(plan, inst, "writes the L4 checksum,", fix.software_l4, 2)
    plan.hw[inst.index] = fix
    return end


# ---------------------------------------------------------------- one core


@dataclass
class CoreVm:
    """One core's program: the operations per packet, and what is applied after them."""

    ops: list[vm_ops.PktOp]
    finish: Callable[[bytearray], bytearray] | None
    cache: int


def cache_share(cache: int, core: int, cores: int) -> int:
    """A core's part of the stream's cache: cache / cores, the remainder one each to the first
    cores, at least 1 (0: no cache)."""
    if cache == 0 or cores == 1:
        return cache
    share, leftover = divmod(cache, cores)
    if share < 1:
        return 1
    return share + (1 if core < leftover else 0)


def core_vm(plan: Plan, core: int, cores: int, stream_seed: int, nic: bool) -> CoreVm:
    """Compile the planned program for `core` of `cores` (`stream_seed`: the stream's random_seed)."""
    split = cores > 1 and plan.splits
    vals = [0] * plan.slots
    gen = FastRand(per_core_seed(stream_seed, core))
    steps: list[vm_ops.PktOp | list[vm_ops.VarOp]] = []  # packet operations, and chains of variables
    trim_box = [0]
    trim: Trim | None = None
    for inst in plan.program.instructions:
        advance = _variable_op(plan, inst, vals, gen, core if split else 0, cores if split else 1)
        if advance is None:
            trim = inst if isinstance(inst, Trim) else trim
            steps.append(_packet_op(plan, inst, vals, trim_box))
        elif inst.index in plan.follows:  # always right after the variable that points at it
            steps[-1].append(advance)  # type: ignore[union-attr]
        else:
            steps.append([advance])
    ops = [vm_ops.chain_op(step) if isinstance(step, list) else step for step in steps]
    finish = _finish(plan, (trim_box, trim.where) if trim is not None else None, nic)
    return CoreVm(ops, finish, cache_share(plan.program.cache, core, cores))


def _variable_op(
    plan: Plan, inst: Instruction, vals: list[int], gen: FastRand, phase: int, cores: int
) -> vm_ops.VarOp | None:
    chained = inst.index in plan.chained
    if isinstance(inst, FlowVar):
        slot = plan.vars[inst.name].slot
        stepper = vm_vars.flow_var_stepper(inst)
        if _needs_split(inst) and cores > 1:
            stepper = stepper.split(phase, cores)
        if inst.index in plan.trim_ranges:
            low, high = plan.trim_ranges[inst.index]
            stepper = replace(stepper, low=low, high=high)
        vals[slot] = stepper.before_first() & vm_ops.MASKS[inst.size]
        if inst.op == "random":
            return vm_ops.random_op(vals, slot, inst.size, stepper, inst.value_list, gen)
        if inst.value_list is not None:
            return vm_ops.list_op(vals, slot, inst.size, stepper, inst.value_list, chained)
        return vm_ops.stepper_op(vals, slot, inst.size, stepper, chained)
    if isinstance(inst, RandLimit):
        var = vm_vars.split_rand_limit(inst, phase, cores) if inst.split and cores > 1 else inst
        return vm_ops.rand_limit_op(
            vals, plan.vars[inst.name].slot, inst.size, var.min, var.max, var.limit, var.seed, chained
        )
    if isinstance(inst, Tuple):
        slot = plan.vars[f"{inst.name}.ip"].slot
        state = vm_vars.TupleState.create(inst)
        if cores > 1:
            state = state.split(phase, cores)
        vals[slot], vals[slot + 1] = state.before_first()
        return vm_ops.tuple_op(vals, slot, state)
    return None


def _packet_op(plan: Plan, inst: Instruction, vals: list[int], trim_box: list[int]) -> vm_ops.PktOp:
    if isinstance(inst, Write):
        var = plan.vars[inst.name]
        return vm_ops.write_op(vals, var.slot, var.size, inst.offset, inst.add, inst.big)
    if isinstance(inst, WriteMask):
        var = plan.vars[inst.name]
        return vm_ops.mask_op(
            vals, var.slot, var.size, inst.offset, inst.cast, inst.mask, inst.shift, inst.add, inst.big
        )
    if isinstance(inst, FixIpv4):
        return vm_ops.ipv4_fix_op(inst.offset, inst.where)
    if isinstance(inst, FixHw):
        fix = plan.hw[inst.index]
        return vm_ops.hw_fix_op(fix.l3, fix.software_l4, fix.ipv4)
    if isinstance(inst, FixIcmpv6):
        return vm_ops.icmpv6_fix_op(inst.l2_len, inst.l2_len + inst.l3_len, inst.where)
    if isinstance(inst, Trim):
        return vm_ops.trim_op(vals, plan.vars[inst.name].slot, trim_box)
    raise AssertionError(f"no packet operation for {inst.where}")


def _finish(plan: Plan, trim: tuple[list[int], str] | None, nic: bool) -> Callable[[bytearray], bytearray] | None:
    """After the program: the packet cut to the trimmed size, then (with `nic`) the offloaded checksums."""
    offload = None
    if nic and plan.hw:
        last = plan.hw[max(plan.hw)]  # the packet's offload settings are the last fix's
        offload = vm_ops.nic_finish(last.l3, last.l4, last.nic_l4, last.ipv4, last.udp)
    if trim is None and offload is None:
        return None
    trim_box, trim_where = trim if trim is not None else ([0], "")

    def finish(pkt: bytearray) -> bytearray:
        if trim_box[0]:
            size, trim_box[0] = trim_box[0], 0
            if size > len(pkt):
                raise vm_ops.OutOfPacket(
                    trim_where,
                    f"the packet-size variable is {size}, longer than the "
                    f"{len(pkt)}-byte packet (TRex would send memory past it)",
                    len(pkt),
                )
            del pkt[size:]
        if offload is not None:
            offload(pkt)
        return pkt

    return finish
