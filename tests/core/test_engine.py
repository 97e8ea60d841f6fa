"""Event kernel: time order, deterministic ties, exact clock edges."""
from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.engine import ClockDomain, Engine


def test_time_order_and_fifo_ties():
    e = Engine()
    seen = []
    for t, tag in [(5, "a"), (1, "b"), (5, "c"), (0, "d"), (1, "e")]:
        e.at(t, seen.append, tag)
    e.run()
    assert seen == ["d", "b", "e", "a", "c"]
    assert e.now == 5 and e.events_run == 5


def test_callbacks_schedule_more_and_until():
    e = Engine()
    out = []

    def tick(n):
        out.append((e.now, n))
        if n:
            e.after(10, tick, n - 1)

    e.at(0, tick, 3)
    e.run(until_ps=15)
    assert out == [(0, 3), (10, 2)]
    e.run()
    assert out[-1] == (30, 0)


def test_cannot_schedule_in_the_past():
    e = Engine()
    e.at(10, lambda: None)
    e.run()
    try:
        e.at(5, lambda: None)
    except ValueError:
        return
    raise AssertionError("scheduling in the past must fail")


def test_clock_edges_exact_for_non_integer_periods():
    c = ClockDomain("hbm3", Fraction(2_600_000_000))  # 384.615... ps
    assert c.cycles_to_ps(13) == 5000  # 13 cycles at 2.6 GHz = 5 ns exactly
    assert c.cycles_to_ps(1) == 385    # rounded up
    ddr4 = ClockDomain("ddr4", 1.6e9)
    assert ddr4.cycles_to_ps(1) == 625 and ddr4.ps_to_cycles(626) == 2


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5_000_000_000), st.integers(0, 10**6))
def test_edges_round_trip(freq, n):
    c = ClockDomain("x", freq)
    t = c.cycles_to_ps(n)
    assert c.ps_to_cycles(t) == n
    assert c.next_edge(t) == t


def test_stats_registry():
    e = Engine()
    e.stats.add("dram.ch0.reads", 3)
    e.stats.add("dram.ch0.reads")
    e.stats.add("sa.macs", 10)
    assert e.stats.prefixed("dram.ch0") == {"reads": 4}
    assert list(e.stats.as_dict()) == ["dram.ch0.reads", "sa.macs"]


def test_advance_runs_what_falls_due_and_moves_now_to_its_end():
    """`advance` lets time pass for work timed beside the engine: events due by then run, later ones wait."""
    eng = Engine()
    seen = []
    eng.at(5, seen.append, 5)
    eng.at(50, seen.append, 50)
    eng.advance(20)
    assert seen == [5] and eng.now == 20 and eng.pending == 1
    eng.advance(30)
    assert seen == [5, 50] and eng.now == 50
