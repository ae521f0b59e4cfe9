"""TRex's data-plane random generator (`fastrand`) and how a stream seeds it on each core.

A 32-bit linear congruential generator: each draw sets s = 214013·s + 2531011 (mod 2³²) and
yields bits 16..30 of s, a 15-bit number. Wider values are built from successive draws, the
first one in the high bits.
"""

from __future__ import annotations

from scapyrpc.packets.field_engine.checks import MAX_BY_SIZE

__all__ = ["FastRand", "per_core_seed"]

MULTIPLIER = 214013
INCREMENT = 2531011
CORE_SEED_FACTOR = 514229
U32, U64 = MAX_BY_SIZE[4], MAX_BY_SIZE[8]


class FastRand:
    """One generator state, as TRex keeps it per stream and core (or per repeatable-random variable)."""

    __slots__ = ("seed",)

    def __init__(self, seed: int) -> None:
        self.seed = seed & U32

    def rand16(self) -> int:
        """A draw: 0..0x7FFF."""
        self.seed = (MULTIPLIER * self.seed + INCREMENT) & U32
        return (self.seed >> 16) & 0x7FFF

    def rand32(self) -> int:
        """Two draws, the first shifted 16 bits left (so bits 15 and 31 are always 0)."""
        high = self.rand16()
        return ((high << 16) + self.rand16()) & U32

    def rand64(self) -> int:
        """Two 32-bit values, the first shifted 32 bits left."""
        high = self.rand32()
        return ((high << 32) + self.rand32()) & U64


def per_core_seed(seed: int, index: int) -> int:
    """`seed` times (index + 1) times 514229, modulo 2³²: how TRex gives each core its own seed,
    both for a stream's `random` variables (index: the core) and for a repeatable-random
    variable of a stream split between cores (index: the core's phase)."""
    return (seed * (((index + 1) * CORE_SEED_FACTOR) & U32)) & U32
