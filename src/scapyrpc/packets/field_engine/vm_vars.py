"""The control-plane side of TRex's variables: where each starts, how far it steps, and how a
stream split between cores gives each core its own phase (trex_stl_stream_vm.h: `inc_mod`,
`dec_mod`, `StreamVmInstructionFlowMan::peek/update`, `StreamVmInstructionFlowClient::update`,
`StreamVmInstructionFlowRandLimit::update`, `utl_split_limit`).

All arithmetic is TRex's unsigned 64-bit arithmetic, wrap-arounds included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scapyrpc.packets.field_engine import fastrand
from scapyrpc.packets.field_engine.vm_program import U32, U64, FlowVar, RandLimit, Tuple

__all__ = ["Stepper", "TupleState", "flow_var_stepper", "inc_mod", "split_rand_limit"]

UNLIMITED_FLOWS = 1  # tuple_flow_var flags bit: no flow limit, ports advance when the IPs wrap


def inc_mod(low: int, high: int, cur: int, step: int) -> tuple[int, bool]:
    """`cur` advanced by `step` in [low, high], wrapping to `low` (the wrap itself costs one);
    and whether it wrapped."""
    left = (high - cur) & U64
    if step <= left:
        return (cur + step) & U64, False
    return (low + (step - left - 1)) & U64, True


def dec_mod(low: int, high: int, cur: int, step: int) -> tuple[int, bool]:
    """`cur` moved back by `step` in [low, high], wrapping to `high`."""
    left = (cur - low) & U64
    if step <= left:
        return (cur - step) & U64, False
    return (high - (step - left - 1)) & U64, True


def split_limit(limit: int, phase: int, cores: int) -> int:
    """A per-stream count shared between cores: each gets limit / cores, the first also the
    remainder, and none less than 1 (`utl_split_limit`)."""
    share = limit // cores + (limit % cores if phase == 0 else 0)
    return share or 1


@dataclass(frozen=True)
class Stepper:
    """A variable that steps through [low, high] (a `flow_var` range, or the indexes of its
    value list, or one half of a tuple): its first value `init`, its `step` below the range
    and the whole ranges its step spans (`wraps`)."""

    op: str
    low: int
    high: int
    init: int
    step: int
    wraps: int

    @classmethod
    def create(cls, op: str, low: int, high: int, init: int, step: int) -> Stepper:
        span = high - low + 1
        return cls(op, low, high, init, step % span, (step // span) & U32)

    @property
    def span(self) -> int:
        return self.high - self.low + 1

    def peek(self, skip: int, forward: bool, carry: bool = False) -> tuple[int, bool]:
        """The value `skip` steps from `init` (back if not `forward`); `carry` adds one step of
        one; and whether it wrapped. A random variable stays at `init`."""
        if self.op == "random":
            return self.init, False
        distance = (((self.step * skip) & U64) + carry) & U64
        distance %= self.span
        if (self.op == "inc") == forward:
            return inc_mod(self.low, self.high, self.init, distance)
        return dec_mod(self.low, self.high, self.init, distance)

    def before_first(self) -> int:
        """The value one step before `init`: what the variable holds before its first packet."""
        return self.peek(1, False)[0]

    def wraps_in(self, steps: int = 1) -> int:
        """How many whole ranges `steps` steps cover (`get_wrap_arounds`)."""
        return (self.wraps * steps + ((steps * self.step) & U64) // self.span) & U32

    def split(self, phase: int, cores: int) -> Stepper:
        """This variable on core `phase` of `cores`: starting `phase` steps on, stepping `cores` times as far."""
        total = (((self.wraps * self.span + self.step) & U64) * cores) & U64
        return replace(self, init=self.peek(phase, True)[0], step=total % self.span, wraps=(total // self.span) & U32)


def flow_var_stepper(var: FlowVar) -> Stepper:
    """A `flow_var` as TRex constructs it: over its range, or over its value list's indexes
    (first index 0 when it increments, the last otherwise)."""
    if var.value_list is None:
        return Stepper.create(var.op, var.min, var.max, var.init, var.step)
    last = len(var.value_list) - 1
    return Stepper.create(var.op, 0, last, 0 if var.op == "inc" else last, var.step)


@dataclass(frozen=True)
class TupleState:
    """A `tuple_flow_var` on one core: its IP stepper (outer) and port stepper (inner), its flow limit."""

    ip: Stepper
    port: Stepper
    limit_flows: int
    unlimited: bool

    @classmethod
    def create(cls, var: Tuple) -> TupleState:
        ip = Stepper.create("inc", var.ip_min, var.ip_max, var.ip_min, 1)
        port = Stepper.create("inc", var.port_min, var.port_max, var.port_min, 1)
        return cls(ip, port, var.limit_flows, bool(var.flags & UNLIMITED_FLOWS)).split(0, 1)

    def split(self, phase: int, cores: int) -> TupleState:
        """The IPs split as a variable; the ports advance by the whole IP ranges the split skips."""
        port_phase = self.ip.wraps_in(phase) & 0xFFFF
        ip = self.ip.split(phase, cores)
        port_mul = ip.wraps_in() & 0xFFFF
        port = replace(self.port, step=1).split(port_phase, port_mul)
        limit = split_limit(self.limit_flows, phase, cores) if self.limit_flows else 0
        return TupleState(ip, port, limit, self.unlimited)

    def before_first(self) -> tuple[int, int]:
        """(IP, port) one step before the first packet's."""
        ip, wrapped = self.ip.peek(1, False)
        port, _ = self.port.peek(1, False, carry=wrapped)
        return ip & U32, port & 0xFFFF


def split_rand_limit(var: RandLimit, phase: int, cores: int) -> RandLimit:
    """A repeatable-random variable on core `phase`: its own seed spread per core, its limit shared."""
    return replace(var, seed=fastrand.per_core_seed(var.seed, phase), limit=split_limit(var.limit, phase, cores))
