"""The digit engine: tables decode, cycle follows the laws by brute force, fast holds cycle within 1%."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.errors import ConfigError
from archsim.units.bitweight.encodings import ENCODINGS, encoding
from archsim.units.bitweight.engine import Schedule, cycle_cost, fast_cost, histogram
from dataflows.values import parse_distribution


@pytest.mark.parametrize("bits", [3, 4, 8, 16])
@pytest.mark.parametrize("name", ENCODINGS)
def test_every_table_decodes_to_its_value(name, bits):
    e = encoding(name, bits)
    assert np.array_equal(e.decode(), e.values())


def test_ent_digits_follow_the_recoder_rule():
    e = encoding("ent", 8)
    assert set(np.unique(e.digits)) <= {-2, -1, 0, 1, 2}
    assert list(e.digits[127 - e.lo]) == [-1, 0, 0, 2]      # 127 = -1 + 2*64
    assert list(e.digits[-128 - e.lo]) == [0, 0, 0, -2]


def _opt3_brute(a: np.ndarray) -> int:
    """The reference law written as loops: sum over b, groups of 4, max(1, nnz)."""
    nz = encoding("ent", 8).nz
    total = 0
    for row in a:
        for b in range(4):
            for g in range(0, len(row), 4):
                total += max(1, sum(int(nz[v + 128, b]) for v in row[g:g + 4]))
    return total


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 40), st.integers(1, 70), st.integers(0, 2**31))
def test_opt3_cycle_equals_the_law(M, N, K, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (M, K))
    s = Schedule("activation", "ent", True, rows=1, cols=32, lane_k=4, per_digit_pass=True)
    assert cycle_cost(s, a, np.zeros((K, N), int)).cycles == _opt3_brute(a) * -(-N // 32)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 50), st.integers(1, 4), st.integers(0, 2**31))
def test_pragmatic_and_laconic_cycle_equal_brute_force(M, K, sync, seed):
    rng = np.random.default_rng(seed)
    a, w = rng.integers(-128, 128, (M, K)), rng.integers(-128, 128, (K, 5))
    pc, bt = encoding("popcount", 8).count, encoding("booth", 8).count
    rows, lanes = 4 if sync != 3 else 3, 8
    s = Schedule("activation", "popcount", True, rows=rows, cols=2, k_lanes=lanes,
                 sync_rows=sync if rows % sync == 0 else 1)
    want = 0
    for r0 in range(0, M, rows):           # rounds: groups of sync_rows rows step together, meet at the end
        groups = []
        for g0 in range(r0, r0 + rows, s.sync_rows):
            t = 0
            for k0 in range(0, K, lanes):
                t += max(1, max((pc[a[m, k] + 128] for m in range(g0, min(g0 + s.sync_rows, M))
                                 for k in range(k0, min(k0 + lanes, K))), default=0))
            groups.append(t)
        want += max(groups)
    assert cycle_cost(s, a, w).cycles == want * 3
    lac = Schedule("both", "booth", True, rows=2, cols=2, k_lanes=4, sync_rows=2)
    want = 0
    for m0 in range(0, M, 2):
        for n0 in range(0, 5, 2):
            for k0 in range(0, K, 4):
                want += max(1, max(bt[a[m, k] + 128] * bt[w[k, n] + 128] for m in range(m0, min(m0 + 2, M))
                                   for n in range(n0, min(n0 + 2, 5)) for k in range(k0, min(k0 + 4, K))))
    assert cycle_cost(lac, a, w).cycles == want


DESIGNS = {
    "opt4c": Schedule("activation", "ent", True, rows=8, cols=32, lane_k=4, per_digit_pass=True),
    "pragmatic": Schedule("activation", "popcount", True, rows=16, cols=16, k_lanes=16, sync_rows=16),
    "pragmatic-free-rows": Schedule("activation", "popcount", True, rows=16, cols=16, k_lanes=16, sync_rows=4),
    "ent-weight": Schedule("weight", "ent", True, rows=32, cols=32, k_lanes=4),
    "laconic": Schedule("both", "booth", True, rows=4, cols=16, k_lanes=16, sync_rows=4),
    "csd-lanes": Schedule("activation", "csd", True, rows=4, cols=8, k_lanes=8, lane_k=2, sync_rows=2),
    "pragmatic-window": Schedule("activation", "popcount", True, rows=8, cols=16, k_lanes=16, sync_rows=2,
                                 window=2),
    "pragmatic-slack": Schedule("activation", "popcount", True, rows=16, cols=16, k_lanes=16, sync_rows=16,
                                slack=2),
}


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(sorted(DESIGNS)), st.sampled_from(["normal:10", "normal:20", "uniform", "laplace:8",
                                                          "sparse:0.4,normal:30"]),
       st.integers(0, 2**31), st.sampled_from([(512, 256, 1024), (999, 300, 777)]))
def test_fast_within_one_percent_of_cycle_on_large_random_tensors(name, dist, seed, shape):
    M, N, K = shape
    d, rng = parse_distribution(dist), np.random.default_rng(seed)
    a, w = d.draw((M, K), 8, rng), d.draw((K, N), 8, rng)
    s = DESIGNS[name]
    c = cycle_cost(s, a, w)
    f = fast_cost(s, M, N, K, 1, histogram(a, 8), histogram(w, 8))
    assert f.cycles == pytest.approx(c.cycles, rel=0.01)
    assert f.stall_share == pytest.approx(c.stall_share, abs=0.01)


def test_slack_lies_between_independent_and_lockstep_and_fast_follows_it():
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, (256, 512))
    w = np.zeros((512, 16), int)
    kw = dict(rows=16, cols=16, k_lanes=16)
    lock = cycle_cost(Schedule("activation", "popcount", True, sync_rows=16, **kw), a, w).cycles
    free = cycle_cost(Schedule("activation", "popcount", True, sync_rows=1, **kw), a, w).cycles
    prev = lock
    for slack in (1, 2, 4):
        s = Schedule("activation", "popcount", True, sync_rows=16, slack=slack, **kw)
        c = cycle_cost(s, a, w).cycles
        assert free <= c <= prev
        assert fast_cost(s, 256, 16, 512, 1, histogram(a, 8), None).cycles == pytest.approx(c, rel=0.01)
        prev = c


def test_zero_values_cost_the_floor_and_dense_designs_ignore_values():
    z = np.zeros((16, 64), int)
    s = Schedule("activation", "ent", True, rows=1, cols=1, lane_k=4, per_digit_pass=True)
    assert cycle_cost(s, z, np.zeros((64, 1), int)).cycles == 16 * 4 * 16   # 16 groups x 4 passes x 16 rows
    bp = Schedule("none", "parallel", False, rows=4, cols=4)
    x = np.random.default_rng(0).integers(-128, 128, (16, 64))
    assert cycle_cost(bp, x, x.T).cycles == cycle_cost(bp, z, z.T).cycles == 4 * 4 * 64


def test_bad_schedules_are_config_errors():
    with pytest.raises(ConfigError, match="sync_rows"):
        Schedule(rows=4, sync_rows=8)
    with pytest.raises(ConfigError, match="lane_k 1"):
        Schedule("both", "booth", lane_k=2)
    with pytest.raises(ConfigError, match="unknown"):
        encoding("ent2", 8)


def test_limited_shifter_follows_the_rule_and_a_wide_window_is_the_plain_law():
    from archsim.units.bitweight.encodings import encoding
    from archsim.units.bitweight.shifter import brick_cycles

    enc = encoding("popcount", 8)
    # lanes |a| = 0b100_0001 and 0b000_0010 with a window of 1: cycle 1 issues bit 0 (only lane 0 at
    # the base); cycle 2 bit 1 (lane 1); cycle 3 bit 6 (lane 0): 3 cycles, where unlimited takes 2
    idx = np.array([[0b1000001 + 128, 0b10 + 128]])
    assert brick_cycles(enc, idx, 1).tolist() == [3]
    assert brick_cycles(enc, idx, 8).tolist() == [2]
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, (64, 256))
    w = np.zeros((256, 4), int)
    wide = Schedule("activation", "popcount", True, rows=4, cols=4, k_lanes=16, sync_rows=4, window=8)
    free = Schedule("activation", "popcount", True, rows=4, cols=4, k_lanes=16, sync_rows=4)
    narrow = Schedule("activation", "popcount", True, rows=4, cols=4, k_lanes=16, sync_rows=4, window=1)
    assert cycle_cost(wide, a, w).cycles == cycle_cost(free, a, w).cycles < cycle_cost(narrow, a, w).cycles
