"""The trace front ends: `per_channel` (the default) keeps a FIFO per channel, as the runner's DMA
does, so every channel is fed; `in_order` admits requests in trace order, at most
`frontend_per_cycle` a DRAM cycle, a full channel queue at the head blocking the rest (DRAMSim3's and
Ramulator's trace drivers). Set from the config and `--set`."""
import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from archsim.cli import main
from archsim.config.memory_schema import DramConfig
from archsim.engine import Engine
from archsim.errors import ConfigError
from dram_helpers import make
from memory import Request, build_offchip
from memory.trace import replay


def _done_cycles(lvl, addrs):
    """Submit reads at cycle 0 through the trace front end; their completion cycles in trace order."""
    lvl.start_trace_frontend()
    done = {}
    for k, a in enumerate(addrs):
        lvl.submit(Request(a, lvl.spec.burst_bytes, False, "t", lambda r, k=k: done.__setitem__(k, r.done_ps)))
    lvl.engine.run()
    return [lvl.clock.ps_to_cycles(done[k]) for k in range(len(addrs))]


def _level(**kw):
    kw.setdefault("trace_frontend", "in_order")
    return make("DDR4-3200", channels=4, mapping="rorababgcoch", refresh="none", **kw)


def test_in_order_admits_one_per_cycle_by_default():
    lvl = _level()
    t = lvl.spec.timing
    closed = t["tRCD"] + t["CL"] + t["tBL"]
    addrs = [lvl.mapping.encode(ch=k, ro=1) for k in range(4)]           # one idle channel each
    assert _done_cycles(lvl, addrs) == [closed + k for k in range(4)]   # admitted at cycles 0, 1, 2, 3
    assert _done_cycles(_level(trace_per_cycle=0), addrs) == [closed] * 4
    assert _done_cycles(_level(trace_per_cycle=2), addrs) == [closed, closed, closed + 1, closed + 1]


def test_a_full_channel_queue_blocks_the_requests_behind_it():
    """Three reads for channel 0 (queue of 2), then one for idle channel 1: in order, the last waits
    until channel 0 issues its first column command; per channel, it is served at once."""
    m = _level().mapping
    addrs = [m.encode(ch=0, ro=1, co=k) for k in range(3)] + [m.encode(ch=1, ro=1)]
    lvl = _level(read_queue=2, trace_per_cycle=0)
    t = lvl.spec.timing
    closed = t["tRCD"] + t["CL"] + t["tBL"]
    in_order = _done_cycles(lvl, addrs)
    per_channel = _done_cycles(_level(read_queue=2, trace_frontend="per_channel"), addrs)
    assert per_channel[3] == closed
    assert in_order[3] == t["tRCD"] + closed                 # admitted when channel 0's RD frees a slot
    assert in_order[:3] == per_channel[:3]


def test_the_runner_path_stays_per_channel():
    """Without start_trace_frontend (the event-driven runner), submissions use per-channel FIFOs."""
    lvl = _level()
    addrs = [lvl.mapping.encode(ch=k, ro=1) for k in range(4)]
    done = []
    for a in addrs:
        lvl.submit(Request(a, 64, False, "dma", lambda r: done.append(r.done_ps)))
    lvl.engine.run()
    assert len(set(done)) == 1


def test_config_keys_reach_the_level_and_bad_values_are_rejected():
    cfg = DramConfig.model_validate({"standard": "HBM2", "frontend": "per_channel", "frontend_per_cycle": 4})
    lvl = build_offchip(cfg, Engine())
    assert (lvl.trace_frontend, lvl.trace_per_cycle) == ("per_channel", 4)
    d = DramConfig(standard="DDR4-3200")
    assert (d.frontend, d.frontend_per_cycle) == ("per_channel", 1)
    assert make().trace_frontend == "per_channel"
    for bad in ({"frontend": "fifo"}, {"frontend_per_cycle": -1}, {"frontend_per_cycle": 1.5}):
        with pytest.raises(ValidationError):
            DramConfig.model_validate({"standard": "DDR4-3200", **bad})
    with pytest.raises(ConfigError, match="frontend 'fifo'"):
        make(trace_frontend="fifo")
    with pytest.raises(ConfigError, match="frontend_per_cycle"):
        make(trace_per_cycle=-2)


def test_cli_set_front_end(capsys):
    base = ["mem", "--standard", "HBM2", "--set", "channels=8", "--pattern", "seq_rd", "--n", "2000", "--json", "-"]
    runs = {}
    for sets in (["--set", "frontend=in_order"], ["--set", "frontend=in_order", "--set", "frontend_per_cycle=0"],
                 []):
        assert main(base + sets) == 0
        runs[tuple(sets)] = json.loads(capsys.readouterr().out)["total_cycles"]
    one, unlimited, per_channel = runs.values()
    assert one >= 2000 and one >= unlimited > per_channel  # 1 a cycle bounds in_order from below
    for bad in ("frontend=sideways", "frontend_per_cycle=-1"):
        assert main(base + ["--set", bad]) == 2
        assert "frontend" in capsys.readouterr().err


def _random_trace(lvl, rng, n):
    lines = lvl.mapping.capacity_bytes // lvl.spec.burst_bytes
    hot = rng.integers(0, lines, 3)
    addrs = np.where(rng.random(n) < 0.5, hot[rng.integers(0, 3, n)], rng.integers(0, lines, n)) * lvl.spec.burst_bytes
    cycles = np.cumsum(rng.choice([0, 0, 0, 1, 5, 60], n))
    return addrs.astype(np.int64), rng.random(n) < 0.3, cycles.astype(np.int64)


@settings(max_examples=25, deadline=None)
@given(std=st.sampled_from(["DDR4-3200", "HBM2", "LPDDR5-6400"]), channels=st.sampled_from([1, 2, 4]),
       per_cycle=st.integers(0, 3), rq=st.integers(1, 6), wq=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_admissions_follow_trace_order_within_the_per_cycle_limit(std, channels, per_cycle, rq, wq, seed):
    """Python path, every admission observed: bursts enter the controllers in trace order, never before
    they arrive, and never more than `per_cycle` in one cycle."""
    lvl = make(std, channels=channels, mapping="rorababgcoch", read_queue=rq, write_queue=wq,
               trace_per_cycle=per_cycle, trace_frontend="in_order")
    admitted = []
    for c in lvl.ctrls:
        c.log = []                                      # keeps replay on the Python path
        enqueue = c.enqueue
        c.enqueue = lambda t, now, enqueue=enqueue: (admitted.append((t.tag.req.issue_ps, now, t)), enqueue(t, now))
    submitted, submit = [], lvl.submit
    lvl.submit = lambda req: (submitted.append(req), submit(req))
    a, w, cyc = _random_trace(lvl, np.random.default_rng(seed), 120)
    s = replay(lvl, a, w, cyc, lvl.spec.burst_bytes, lvl.clock)
    assert s["reads"] + s["writes"] == 120 and len(admitted) == 120
    assert [t.tag.req for _, _, t in admitted] == submitted            # exactly the trace's order
    arrive = [lvl.clock.ps_to_cycles(p) for p, _, _ in admitted]
    now = [n for _, n, _ in admitted]
    assert arrive == sorted(arrive) and now == sorted(now)          # trace order, in time order
    assert all(n >= a_ for a_, n in zip(arrive, now))
    if per_cycle:
        assert max(Counter(now).values()) <= per_cycle


@settings(max_examples=20, deadline=None)
@given(std=st.sampled_from(["DDR4-3200", "HBM2", "GDDR6"]), q=st.integers(1, 8), seed=st.integers(0, 2**31))
def test_one_channel_without_a_limit_is_the_per_channel_fifo(std, q, seed):
    """With one channel and no per-cycle limit the two front ends are the same FIFO: identical stats."""
    out = []
    for fe in ("in_order", "per_channel"):
        lvl = make(std, read_queue=q, write_queue=q, trace_frontend=fe, trace_per_cycle=0)
        a, w, c = _random_trace(lvl, np.random.default_rng(seed), 150)
        out.append((replay(lvl, a, w, c, lvl.spec.burst_bytes, lvl.clock), lvl.engine.now))
    assert out[0] == out[1]
