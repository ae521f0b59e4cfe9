"""The data-plane operations of TRex's VM as closures, built once per core and then called per
packet (trex_stl_stream_vm.h: the `StreamDPOp*` structures and `StreamDPOpPktWrMask::wr` in
trex_stl_stream_vm.cpp).

Variables live in one list of integers, `vals`, one slot each (a tuple takes three: IP, port,
flow number); a variable's operation returns whether it skips the variables chained after it
(`next_var`), as TRex's program jumps over them. Every operation takes the packet's bytearray
(variables ignore it), so a lone variable is called like any other operation.
Values are kept in the variable's width, as TRex's typed fields keep them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Literal

from scapyrpc.packets.field_engine import checksum
from scapyrpc.packets.field_engine.checks import MAX_BY_SIZE as MASKS
from scapyrpc.packets.field_engine.fastrand import FastRand
from scapyrpc.packets.field_engine.vm_program import U32, U64
from scapyrpc.packets.field_engine.vm_vars import Stepper, TupleState, inc_mod

__all__ = [
    "MASKS",
    "OutOfPacket",
    "PktOp",
    "VarOp",
    "chain_op",
    "hw_fix_op",
    "icmpv6_fix_op",
    "ipv4_fix_op",
    "list_op",
    "mask_op",
    "mask_read",
    "nic_finish",
    "rand_limit_op",
    "random_op",
    "stepper_op",
    "trim_op",
    "tuple_op",
    "write_op",
]

PktOp = Callable[[bytearray], object]
VarOp = Callable[[bytearray], bool]  # a packet operation too: it ignores the packet

_BIG = {2: struct.Struct(">H"), 4: struct.Struct(">I"), 8: struct.Struct(">Q")}
_LITTLE = {2: struct.Struct("<H"), 4: struct.Struct("<I"), 8: struct.Struct("<Q")}
UNLIMITED_MIN_PORT = 1025  # where an unlimited tuple's port restarts when it wraps to 0


class OutOfPacket(Exception):
    """An operation would read past the packet's end."""

    def __init__(self, where: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.where, self.message, self.offset = where, message, offset


# ---------------------------------------------------------------- variables


def stepper_op(vals: list[int], slot: int, size: int, var: Stepper, chained: bool) -> VarOp:
    """An inc/dec variable over a range; with `chained`, it skips its followers unless it wraps now."""
    mask = MASKS[size]
    low, high, step = var.low & mask, var.high & mask, var.step & mask
    # TRex compares "room left" in int for 1- and 2-byte variables and in the unsigned width otherwise
    room_mask = None if size <= 2 else mask
    if var.op == "inc":

        def advance(pkt: bytearray) -> bool:
            cur = vals[slot]
            room = high - cur if room_mask is None else (high - cur) & room_mask
            left = (high - cur) & U64
            vals[slot] = ((cur + step) if step <= left else (low + step - left - 1)) & mask
            return chained and room >= step
    else:

        def advance(pkt: bytearray) -> bool:
            cur = vals[slot]
            room = cur - low if room_mask is None else (cur - low) & room_mask
            left = (cur - low) & U64
            vals[slot] = ((cur - step) if step <= left else (high - (step - left - 1))) & mask
            return chained and room >= step

    return advance


def list_op(vals: list[int], slot: int, size: int, var: Stepper, values: tuple[int, ...], chained: bool) -> VarOp:
    """An inc/dec variable over a value list: it takes the value at its index, then moves the index
    (by a step TRex keeps in the variable's width, like its values)."""
    mask, count = MASKS[size], len(values)
    step = var.step & mask
    table = [v & mask for v in values]
    index = var.init & 0xFFFF
    if var.op == "inc":

        def advance(pkt: bytearray) -> bool:
            nonlocal index
            skip = chained and index >= step
            vals[slot] = table[index]
            index = index + step - count if index + step >= count else index + step
            return skip
    else:

        def advance(pkt: bytearray) -> bool:
            nonlocal index
            skip = chained and index + step < count
            vals[slot] = table[index]
            index = index - step if index >= step else count + index - step
            return skip

    return advance


def random_op(
    vals: list[int], slot: int, size: int, var: Stepper, values: tuple[int, ...] | None, gen: FastRand
) -> VarOp:
    """A random variable drawing from the stream's generator on this core (it never skips)."""
    mask = MASKS[size]
    if values is not None:
        table = [v & mask for v in values]
        count = len(table)

        def advance_listed(pkt: bytearray) -> bool:
            vals[slot] = table[gen.rand16() % count]
            return False

        return advance_listed
    low, span = var.low & mask, ((var.high & mask) - (var.low & mask) + 1) & U64
    draw = _draw(gen, size)

    def advance(pkt: bytearray) -> bool:
        vals[slot] = (low + draw() % span) & mask
        return False

    return advance


def _draw(gen: FastRand, size: int) -> Callable[[], int]:
    """The generator call TRex uses for a variable of `size` bytes (16 bits for 1 and 2)."""
    return gen.rand16 if size <= 2 else gen.rand32 if size == 4 else gen.rand64


def rand_limit_op(
    vals: list[int], slot: int, size: int, low: int, high: int, limit: int, seed: int, chained: bool
) -> VarOp:
    """A repeatable random variable: its own generator, restarted from `seed` every `limit` values."""
    mask = MASKS[size]
    low, high = low & mask, high & mask
    gen, count = FastRand(seed), 0
    draw = _draw(gen, size)
    full = size == 8 and high - low == U64
    span = high - low + 1

    def advance(pkt: bytearray) -> bool:
        nonlocal count
        if count == limit:
            gen.seed, count = seed & U32, 0
        skip = chained and count != 0
        vals[slot] = draw() if full else (low + draw() % span) & mask
        count += 1
        return skip

    return advance


def tuple_op(vals: list[int], slot: int, state: TupleState) -> VarOp:
    """A tuple: the IP steps; the port steps too (by its own step, which is usually 0) and once
    more when the IP wraps; after `limit_flows` flows both restart from their first values."""
    ip, port = state.ip, state.port
    if state.unlimited:
        ip_low, ip_high = ip.low, ip.high

        def advance_unlimited(pkt: bytearray) -> bool:
            cur = (vals[slot] + 1) & U32
            if cur > ip_high:
                cur = ip_low
                next_port = (vals[slot + 1] + 1) & 0xFFFF
                vals[slot + 1] = next_port or UNLIMITED_MIN_PORT
            vals[slot] = cur
            return False

        return advance_unlimited
    ip_step, port_step = ip.step & U32, port.step & 0xFFFF
    limit, ip_init, port_init = state.limit_flows, ip.init & U32, port.init & 0xFFFF

    def advance(pkt: bytearray) -> bool:
        cur_ip, wrapped = inc_mod(ip.low, ip.high, vals[slot], ip_step)
        cur_port = inc_mod(port.low, port.high, vals[slot + 1], port_step)[0] & 0xFFFF
        if wrapped:
            cur_port = inc_mod(port.low, port.high, cur_port, 1)[0] & 0xFFFF
        if limit:
            flow = (vals[slot + 2] + 1) & U32
            if flow > limit:
                flow, cur_ip, cur_port = 1, ip_init, port_init
            vals[slot + 2] = flow
        vals[slot], vals[slot + 1] = cur_ip & U32, cur_port
        return False

    return advance


def chain_op(members: list[VarOp]) -> PktOp:
    """Variables chained by `next_var`: each runs only if the one before did not skip."""
    if len(members) == 1:
        return members[0]

    def run(pkt: bytearray) -> None:
        for advance in members:
            if advance(pkt):
                return

    return run


# ---------------------------------------------------------------- writes


def write_op(vals: list[int], slot: int, size: int, offset: int, add: int, big: bool) -> PktOp:
    """The variable plus `add_value`, in its width, at `offset` (big- or little-endian)."""
    mask = MASKS[size]
    if size == 1:

        def write_byte(pkt: bytearray) -> None:
            pkt[offset] = (vals[slot] + add) & 0xFF

        return write_byte
    pack = (_BIG if big else _LITTLE)[size].pack_into

    def write(pkt: bytearray) -> None:
        pack(pkt, offset, (vals[slot] + add) & mask)

    return write


def mask_read(size: int, big: bool) -> tuple[int, int]:
    """(bytes read, right shift) of a masked write's variable: 8-byte variables give 32 bits, the
    high half when the write is big-endian (TRex reads the second word of a little-endian value)."""
    if size == 8:
        return 4, 32 if big else 0
    return size, 0


def mask_op(
    vals: list[int], slot: int, size: int, offset: int, cast: int, mask: int, shift: int, add: int, big: bool
) -> PktOp:
    """Read-modify-write of `cast` bytes (little-endian: of the variable's width, as TRex does):
    the packet's bits outside `mask` kept, those inside from (variable + add_value) shifted."""
    width, var_shift = mask_read(size, big)
    var_mask = MASKS[width]
    shift = ((shift + 128) & 0xFF) - 128  # TRex keeps the shift in a signed byte
    left, right = (shift & 31, 0) if shift > 0 else (0, (-shift) & 31)
    pkt_width = cast if big else width
    keep_mask = MASKS[pkt_width]
    inverse = ~mask & U32
    order: Literal["big", "little"] = "big" if big else "little"
    end = offset + pkt_width

    def write_masked(pkt: bytearray) -> None:
        val = (((vals[slot] >> var_shift) & var_mask) + add) & U32
        val = ((val << left) & U32) >> right
        old = int.from_bytes(pkt[offset:end], order)
        pkt[offset:end] = (((old & inverse) | (val & mask)) & keep_mask).to_bytes(pkt_width, order)

    return write_masked


def trim_op(vals: list[int], slot: int, box: list[int]) -> PktOp:
    """Records the packet's new length (the 2-byte variable's value); applied after the program."""

    def trim(pkt: bytearray) -> None:
        box[0] = vals[slot]

    return trim


# ---------------------------------------------------------------- checksums


def ipv4_fix_op(offset: int, where: str) -> PktOp:
    """The IPv4 header checksum, over 20 bytes when the first byte is 0x45, else over IHL × 4."""
    pack = _BIG[2].pack_into

    def fix(pkt: bytearray) -> None:
        pkt[offset + 10] = pkt[offset + 11] = 0
        first = pkt[offset]
        length = 20 if first == 0x45 else (first & 0x0F) * 4
        if offset + length > len(pkt):
            raise OutOfPacket(
                where, f"its IPv4 header of {length} bytes (IHL) runs past the {len(pkt)}-byte packet", offset
            )
        pack(pkt, offset + 10, ~checksum.ones_sum(pkt[offset : offset + length]) & 0xFFFF)

    return fix


def icmpv6_fix_op(l3: int, l4: int, where: str) -> PktOp:
    """The ICMPv6 checksum: the pseudo-header and payload-length bytes from the ICMPv6 header
    (an odd last byte left out, as TRex's word loop does)."""
    pack = _BIG[2].pack_into

    def fix(pkt: bytearray) -> None:
        pkt[l4 + 2] = pkt[l4 + 3] = 0
        length = int.from_bytes(pkt[l3 + 4 : l3 + 6], "big")
        if l4 + length > len(pkt):
            raise OutOfPacket(
                where,
                f"the IPv6 payload length {length} makes it read past the {len(pkt)}-byte "
                "packet (TRex would sum whatever memory follows)",
                l4,
            )
        total = checksum.ipv6_pseudo_sum(pkt, l3) + checksum.ones_sum(pkt[l4 : l4 + length])
        pack(pkt, l4 + 2, ~checksum.fold(total) & 0xFFFF)

    return fix


def hw_fix_op(l3: int, l4_checksum: int | None, ipv4: bool) -> PktOp:
    """What TRex's software does before handing the packet to the NIC: the IPv4 header checksum
    zeroed, the pseudo-header's non-complemented sum written into the L4 checksum."""
    pack = _BIG[2].pack_into
    pseudo = checksum.ipv4_pseudo_sum if ipv4 else checksum.ipv6_pseudo_sum

    def fix(pkt: bytearray) -> None:
        if ipv4:
            pkt[l3 + 10] = pkt[l3 + 11] = 0
        if l4_checksum is not None:
            pack(pkt, l4_checksum, pseudo(pkt, l3))

    return fix


def nic_finish(
    l3: int, l4: int, l4_checksum: int | None, ipv4_checksum: bool, udp: bool
) -> Callable[[bytearray], None]:
    """What a NIC with checksum offload puts on the wire: the IPv4 header checksum, and the L4
    checksum over the pseudo-header sum TRex left there and every byte from the L4 header to the
    frame's end, complemented (a UDP checksum of 0 sent as 0xFFFF)."""
    pack = _BIG[2].pack_into

    def finish(pkt: bytearray) -> None:
        if ipv4_checksum and l3 + checksum.IPV4_HEADER <= len(pkt):
            length = (pkt[l3] & 0x0F) * 4
            pkt[l3 + 10] = pkt[l3 + 11] = 0
            pack(pkt, l3 + 10, ~checksum.ones_sum(pkt[l3 : l3 + length]) & 0xFFFF)
        if l4_checksum is not None and l4_checksum + 2 <= len(pkt):  # a trimmed frame may end before it
            value = ~checksum.ones_sum(pkt[l4:] + (b"\0" if (len(pkt) - l4) & 1 else b"")) & 0xFFFF
            pack(pkt, l4_checksum, 0xFFFF if udp and value == 0 else value)

    return finish
