"""Field Engine runtime: how variables step, wrap, chain, draw random values and split between cores.

Each test names the TRex source (trex-core v3.0.8) its rule comes from; `vm.h` and `vm.cpp` are
src/stx/stl/trex_stl_stream_vm.h and .cpp. Expected values are worked out by hand from those rules.
"""

from __future__ import annotations

import pytest
from fe_runtime import IP_SRC, PKT, SPORT, lcg, list_var, rand_limit, run, tuple_var, udp_packet, values, var, write

from scapyrpc.packets.field_engine import fastrand

OFF = 42  # the first payload byte of PKT


def one_var(count: int, **spec) -> list[int]:
    """The values a 1-byte variable takes in `count` packets (written at OFF)."""
    return values(run([var("v", **spec), write("v", OFF)], count), OFF)


def test_inc_starts_at_init_and_wraps_to_min():
    """vm.h:77 inc_mod: past max the value restarts at min (the wrap costs one step); vm.cpp:149
    set_bss_init_value stores the value one step before init_value, so packet 0 has init_value."""
    assert one_var(7, min_value=5, max_value=7) == [5, 6, 7, 5, 6, 7, 5]
    assert one_var(5, min_value=0, max_value=9, init_value=7) == [7, 8, 9, 0, 1]


def test_dec_starts_at_init_and_wraps_to_max():
    """vm.h:88 dec_mod: below min the value restarts at max."""
    assert one_var(5, min_value=5, max_value=7, op="dec") == [7, 6, 5, 7, 6]


def test_an_uneven_inc_range_is_padded_up_to_whole_steps():
    """trex_stl_rpc_cmds.cpp:712 handle_range_padding: an inc range grows its max by
    step - (max - min + 1) % step; 0..4 step 2 becomes 0..5, so 4 + 2 wraps to 0 (not to 1)."""
    assert one_var(7, min_value=0, max_value=4, step=2) == [0, 2, 4, 0, 2, 4, 0]


def test_an_uneven_dec_range_is_padded_down():
    """trex_stl_rpc_cmds.cpp:738: a dec range lowers its min instead; 3..7 step 2 becomes 2..7."""
    assert one_var(5, min_value=3, max_value=7, op="dec", step=2) == [7, 5, 3, 7, 5]


def test_a_step_of_the_whole_range_keeps_the_value():
    """vm.h:1470: the step kept is step % (max - min + 1)."""
    assert one_var(4, min_value=0, max_value=2, step=3) == [0, 0, 0, 0]


def test_wide_variables_wrap_in_their_own_width():
    """vm.h:540 run_inc on a 4-byte variable: the full 32-bit range wraps to min."""
    top = 2**32 - 1
    pkts = run([var("v", min_value=top - 1, max_value=top, size=4), write("v", IP_SRC)], 3)
    assert values(pkts, IP_SRC, 4) == [top - 1, top, top - 1]
    pkts = run([var("v", min_value=0, max_value=2**64 - 2, size=8, init_value=2**64 - 3), write("v", OFF)], 3)
    assert values(pkts, OFF, 8) == [2**64 - 3, 2**64 - 2, 0]


def test_value_list_inc_and_dec_walk_the_list():
    """vm.h:350/367 run_inc/run_dec with a list: the value at the index, then the index moves
    (vm.h:107/115 inc_mod_list, dec_mod_list); dec starts at the last value (vm.h:1487)."""

    def walk(**spec):
        return values(run([list_var("v", [10, 20, 30], **spec), write("v", OFF)], 5), OFF)

    assert walk() == [10, 20, 30, 10, 20]
    assert walk(op="dec") == [30, 20, 10, 30, 20]
    assert walk(step=2) == [10, 30, 20, 10, 30]


def test_fastrand_is_the_msvc_rand_generator():
    """vm.h:162 fastrand: s = 214013·s + 2531011, (s >> 16) & 0x7FFF; from seed 1 it is the C
    library rand() sequence of Microsoft's runtime: 41, 18467, 6334, 26500."""
    gen = fastrand.FastRand(1)
    assert [gen.rand16() for _ in range(4)] == [41, 18467, 6334, 26500] == lcg(1, 4)


def test_wide_random_values_put_the_first_draw_high():
    """vm.h:178/183 vm_rand32 = (draw << 16) + draw, vm_rand64 = (rand32 << 32) + rand32. C leaves the
    order of the two calls open; the first draw is the high half in TRex's build (its vm_rand_len2
    values below, and syn_attack.pcap in test_runtime_trex_exp)."""
    d = lcg(1, 4)
    assert fastrand.FastRand(1).rand32() == (d[0] << 16) + d[1]
    assert fastrand.FastRand(1).rand64() == (((d[0] << 16) + d[1]) << 32) + (d[2] << 16) + d[3]


def test_each_core_seeds_the_stream_generator_apart():
    """trex_stl_dp_core.cpp:347 generate_random_seed: the stream's random_seed × (core + 1) ×
    514229, modulo 2³² (a random_seed of 0 means a seed from the clock)."""
    assert fastrand.per_core_seed(4660, 0) == (4660 * 514229) % 2**32
    assert fastrand.per_core_seed(4660, 1) == (4660 * 2 * 514229) % 2**32


def test_a_random_variable_draws_from_the_stream_generator():
    """vm.h:447 run_rand (2 bytes): min + rand16 % (max - min + 1); vm.h:384 with a list:
    list[rand16 % size]. All random variables of a stream share its generator."""
    seed = fastrand.per_core_seed(7, 0)
    draws = lcg(seed, 6)
    pkts = run(
        [
            var("r", min_value=1000, max_value=1999, size=2, op="random"),
            write("r", SPORT, big=True),
            list_var("l", [5, 6, 7], op="random"),
            write("l", OFF),
        ],
        3,
        seed=7,
    )
    assert values(pkts, SPORT, 2) == [1000 + d % 1000 for d in draws[0::2]]
    assert values(pkts, OFF) == [[5, 6, 7][d % 3] for d in draws[1::2]]


def test_a_4_byte_random_variable_draws_32_bits():
    """vm.h:511 run_rand (4 bytes): min + rand32 % (max - min + 1), in 64-bit arithmetic."""
    d = lcg(fastrand.per_core_seed(3, 0), 2)
    pkts = run([var("r", min_value=10, max_value=2**32 - 1, size=4, op="random"), write("r", IP_SRC)], 1, seed=3)
    assert values(pkts, IP_SRC, 4) == [10 + ((d[0] << 16) + d[1]) % (2**32 - 10)]


def test_repeatable_random_restarts_its_own_seed_every_limit_values():
    """vm.h:233 StreamDPOpFlowRandLimit: when the count reaches the limit, the seed and count
    reset; the value is min + draw % (max - min + 1); the stream's random_seed is not used."""
    pkts = run([rand_limit("r", limit=3, seed=1), write("r", SPORT)], 7, seed=99)
    assert values(pkts, SPORT, 2) == [41, 18467, 6334] * 2 + [41]
    d = lcg(1, 2)
    pkts = run([rand_limit("r", size=4, limit=1, seed=1, max_value=2**32 - 1), write("r", IP_SRC)], 2)
    assert values(pkts, IP_SRC, 4) == [(d[0] << 16) + d[1]] * 2


def test_repeatable_random_values_of_trex_s_own_unit_tests():
    """src/gtest/trex_stateless_gtest.cpp basic_vm.vm_rand_len1 and vm_rand_len2 (seed 0x1234, limit
    10, the full 2- and 4-byte ranges) list the values TRex's runner writes, read back little-endian
    from the packet: the same ten, twice."""

    def read_le(size):
        prog = [rand_limit("r", size=size, limit=10, seed=0x1234, max_value=2 ** (8 * size) - 1), write("r", 15)]
        return [int.from_bytes(p[15 : 15 + size], "little") for p in run(prog, 20)]

    assert read_le(2) == [0x983B, 0xBD64, 0xB512, 0x715, 0x1410, 0xD664, 0x371, 0x9058, 0x5D3B, 0x884D] * 2
    assert (
        read_le(4)
        == [
            0xBD64983B,
            0x715B512,
            0xD6641410,
            0x90580371,
            0x884D5D3B,
            0x8E0F8212,
            0xF00B2F39,
            0xA015EE4E,
            0x540B390E,
            0xDB778538,
        ]
        * 2
    )


def test_next_var_chains_advance_like_an_odometer():
    """vm.cpp:644 (third iteration) marks a variable pointed at by the one before; vm.cpp:919 gives
    each variable a jump over the chained ones after it, taken while it does not wrap (vm.h:350
    run_inc). The chained variable also moves on packet 0, to its init_value."""
    prog = [var("a", 1, 3, next_var="b"), var("b", 7, 8, split_to_cores=False), write("a", OFF), write("b", OFF + 1)]
    pkts = run(prog, 7)
    assert list(zip(values(pkts, OFF), values(pkts, OFF + 1))) == [
        (1, 7),
        (2, 7),
        (3, 7),
        (1, 8),
        (2, 8),
        (3, 8),
        (1, 7),
    ]


def test_a_value_list_or_repeatable_random_head_moves_its_chain_when_it_restarts():
    """vm.h:350 with a list: no jump when the index is below the step (it has just wrapped);
    vm.h:233: a repeatable random variable jumps unless its count is 0 (packet 0 and each restart)."""
    prog = [
        list_var("a", [1, 2], next_var="b"),
        var("b", 0, 2, split_to_cores=False),
        write("a", OFF),
        write("b", OFF + 1),
    ]
    pkts = run(prog, 7)
    assert list(zip(values(pkts, OFF), values(pkts, OFF + 1))) == [
        (1, 0),
        (2, 0),
        (1, 1),
        (2, 1),
        (1, 2),
        (2, 2),
        (1, 0),
    ]
    prog = [rand_limit("r", limit=2, next_var="b"), var("b", 0, 9, split_to_cores=False), write("b", OFF)]
    assert values(run(prog, 6), OFF) == [0, 0, 1, 1, 2, 2]


def test_tuple_steps_the_ip_then_the_port_when_the_ips_wrap():
    """vm.h:853 StreamDPOpClientsLimit: the IP steps; on its wrap the port steps once; after
    limit_flows flows both restart from their first values."""
    prog = [tuple_var("t", 1, 2, 1025, 2048, limit_flows=10000), write("t.ip", IP_SRC), write("t.port", SPORT)]
    pkts = run(prog, 5)
    assert list(zip(values(pkts, IP_SRC, 4), values(pkts, SPORT, 2))) == [
        (1, 1025),
        (2, 1025),
        (1, 1026),
        (2, 1026),
        (1, 1027),
    ]
    prog[0] = tuple_var("t", 1, 2, 1025, 2048, limit_flows=3)
    pkts = run(prog, 5)
    assert list(zip(values(pkts, IP_SRC, 4), values(pkts, SPORT, 2))) == [
        (1, 1025),
        (2, 1025),
        (1, 1026),
        (1, 1025),
        (2, 1025),
    ]


def test_an_unlimited_tuple_counts_ips_by_one_and_ports_from_1025():
    """vm.h:903 StreamDPOpClientsUnLimit (flags bit 0): IP + 1; past ip_max back to ip_min and the
    port + 1, a port of 0 becoming 1025."""
    prog = [tuple_var("t", 1, 2, flags=1), write("t.ip", IP_SRC), write("t.port", SPORT)]
    pkts = run(prog, 4)
    assert list(zip(values(pkts, IP_SRC, 4), values(pkts, SPORT, 2))) == [(1, 1025), (2, 1025), (1, 1026), (2, 1026)]


def test_a_split_variable_gives_each_core_a_phase_and_a_longer_step():
    """trex_stl_vm_splitter.cpp:142 update(core, cores); vm.h:1516: init_value moves `core` steps on,
    the step is multiplied by the cores. Core c's packet k is the merged packet k·cores + c, so an
    even range reads as on one core; a variable not split repeats on every core."""
    assert values(run([var("v", 0, 9), write("v", OFF)], 6, cores=2), OFF) == [0, 1, 2, 3, 4, 5]
    assert values(run([var("v", 0, 9, split_to_cores=False), write("v", OFF)], 6, cores=2), OFF) == [0, 0, 1, 1, 2, 2]
    assert values(run([var("v", 0, 2), write("v", OFF)], 6, cores=2), OFF) == [0, 1, 2, 0, 1, 2]


def test_split_by_var_of_older_trex_changes_nothing():
    """TRex v3 reads no split_by_var (trex_stl_rpc_cmds.cpp:974 parse_vm): split_to_cores decides."""
    from scapyrpc.packets.field_engine import runtime
    from scapyrpc.packets.field_engine.vm_program import read_program

    program = {"instructions": [var("v", 0, 9, split_to_cores=False), write("v", OFF)], "split_by_var": "v"}
    pkts = runtime.run(PKT, read_program(program), runtime.Simulation(4, cores=2))
    assert values(pkts, OFF) == [0, 0, 1, 1]


def test_count_and_limits_are_shared_between_cores_the_first_taking_the_remainder():
    """trex_sim_stateless.cpp:457 get_limit_per_core and vm.h:46 utl_split_limit: count / cores
    each, the first core also the remainder; its extra packets come last when merged; vm.h:1691:
    a split repeatable random variable's seed is spread per core like the stream's."""
    pkts = run([var("v", 0, 99), write("v", OFF)], 5, cores=2)
    assert values(pkts, OFF) == [0, 1, 2, 3, 4]
    pkts = run([rand_limit("r", limit=5, seed=1), write("r", SPORT)], 8, cores=2)
    c0 = lcg(fastrand.per_core_seed(1, 0), 3)  # core 0: limit 5 // 2 + 5 % 2, seed 1 × 514229
    c1 = lcg(fastrand.per_core_seed(1, 1), 2)  # core 1: limit 5 // 2, seed 1 × 2 × 514229
    assert values(pkts, SPORT, 2) == [c0[0], c1[0], c0[1], c1[1], c0[2], c1[0], c0[0], c1[1]]


def test_a_split_tuple_interleaves_the_ips():
    """vm.h:1865 StreamVmInstructionFlowClient::update: the IPs split like a variable."""
    prog = [tuple_var("t", 1, 4, 1025, 2048), write("t.ip", IP_SRC), write("t.port", SPORT)]
    pkts = run(prog, 6, cores=2)
    assert list(zip(values(pkts, IP_SRC, 4), values(pkts, SPORT, 2))) == [
        (1, 1025),
        (2, 1025),
        (3, 1025),
        (4, 1025),
        (1, 1026),
        (2, 1026),
    ]


def test_a_random_variable_on_two_cores_uses_two_generators():
    """Random variables are not split (vm.h:1421 need_split); each core seeds its own generator."""
    pkts = run([var("r", 0, 0x7FFF, size=2, op="random"), write("r", SPORT)], 4, cores=2, seed=5)
    c0, c1 = lcg(fastrand.per_core_seed(5, 0), 2), lcg(fastrand.per_core_seed(5, 1), 2)
    assert values(pkts, SPORT, 2) == [c0[0], c1[0], c0[1], c1[1]]


@pytest.mark.parametrize("size", [1, 2, 4, 8])
def test_variables_of_every_size_step(size):
    """The same inc rule for each width (vm.h:350, 413, 476, 540)."""
    pkts = run([var("v", 1, 3, size=size), write("v", OFF)], 4, packet=udp_packet(b"x" * 18))
    assert values(pkts, OFF, size) == [1, 2, 3, 1]
    assert PKT[:OFF] == pkts[0][:OFF]
