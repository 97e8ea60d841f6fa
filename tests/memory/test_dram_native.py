"""The compiled DRAM core (memory/dram/csrc/) against the Python controller: the stats dicts and
the engine's final time must be bit-identical on every standard, pattern, policy and queue shape."""
import contextlib
import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archsim import native_build
from archsim.errors import ArchsimError
from dram_helpers import make
from memory.dram import native
from memory.patterns import PATTERNS, generate
from memory.trace import read_trace, replay

STANDARDS = ["DDR4-3200", "DDR5-4800", "LPDDR5-6400", "HBM2", "HBM3", "GDDR6"]
PER_BANK = [s for s in STANDARDS if make(s).spec.timing["tREFIsb"] > 0]

try:
    HAVE_CC = native.compiler() is not None
except ArchsimError:                 # $CC names a missing compiler: the error test covers that
    HAVE_CC = False
needs_cc = pytest.mark.skipif(not HAVE_CC, reason="no C compiler (cc/gcc) on PATH: native core unavailable")


@contextlib.contextmanager
def native_env(value: str):
    old = os.environ.get("ARCHSIM_NATIVE")
    os.environ["ARCHSIM_NATIVE"] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ["ARCHSIM_NATIVE"]
        else:
            os.environ["ARCHSIM_NATIVE"] = old


def both(std, addrs, writes, cycles, tx=None, **kw):
    """(python stats, native stats) of one trace on two fresh, identical levels; engine end times,
    latency lists and per-channel counters equal."""
    py, nat = make(std, **kw), make(std, **kw)
    tx = tx or py.spec.burst_bytes
    with native_env("0"):
        s_py = replay(py, addrs, writes, cycles, tx, py.clock)
    with native_env("1"):
        s_nat = native.replay_native(nat, addrs, writes, cycles, tx)
    assert s_nat is not None
    assert nat.engine.now == py.engine.now
    assert nat.read_latencies == py.read_latencies                  # every read, in completion order
    assert [(c.cmd_counts, c.hits, c.misses, c.conflicts) for c in nat.ctrls] == \
        [(c.cmd_counts, c.hits, c.misses, c.conflicts) for c in py.ctrls]      # per channel
    return s_py, s_nat


def pattern_pair(pattern, n, std="DDR4-3200", seed=1, **kw):
    a, w, c = generate(pattern, make(std, **kw).mapping, n, seed)
    return both(std, a, w, c, **kw)


@needs_cc
@pytest.mark.parametrize("std", STANDARDS)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_standard_and_pattern(std, pattern):
    s_py, s_nat = pattern_pair(pattern, 400, std)
    assert s_nat == s_py
    assert s_nat["reads"] + s_nat["writes"] == 400


POLICIES = [
    {"page_policy": "closed"},
    {"scheduler": "fcfs"},
    {"scheduler": "fcfs", "page_policy": "closed"},
    {"refresh": "none"},
    {"ranks": 2, "mapping": "rorabacobgch"},
    {"channels": 4, "read_queue": 4, "write_queue": 4, "xor_bank_hash": True},
    {"channels": 2, "mapping": "rorababgcoch", "read_queue": 2, "write_queue": 3, "high_wm": 0.5, "low_wm": 0.0},
    {"read_queue": 1, "write_queue": 1, "frontend_latency_cycles": 5},
    {"trace_frontend": "per_channel", "channels": 2},
    {"trace_per_cycle": 0, "channels": 4, "read_queue": 3, "write_queue": 2},
    {"trace_per_cycle": 3, "channels": 2, "mapping": "rorababgcoch"},
]


@needs_cc
@pytest.mark.parametrize("std", STANDARDS)
@pytest.mark.parametrize("kw", POLICIES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("pattern", ["rand_mix", "stream_add"])
def test_policies_queues_channels(std, kw, pattern):
    s_py, s_nat = pattern_pair(pattern, 500, std, seed=7, **kw)
    assert s_nat == s_py


@needs_cc
@pytest.mark.parametrize("std", PER_BANK)
@pytest.mark.parametrize("kw", [{}, {"page_policy": "closed", "ranks": 2}, {"channels": 2, "scheduler": "fcfs"}])
def test_per_bank_refresh(std, kw):
    s_py, s_nat = pattern_pair("rand_mix", 600, std, refresh="per_bank", **kw)
    assert s_nat == s_py and s_nat["commands"]["REFsb"] > 0


@needs_cc
def test_long_run_with_refresh_and_write_drain():
    s_py, s_nat = pattern_pair("rand_mix", 6000, "DDR4-3200", write_queue=8, read_queue=8)
    assert s_nat == s_py and s_nat["refreshes"] > 0


@needs_cc
@pytest.mark.parametrize("std", ["DDR4-3200", "HBM2"])
def test_dramsim3_trace_file_with_gaps(tmp_path, std):
    """Bursts of requests separated by idle gaps longer than tREFI (refresh catch-up), same-cycle arrivals."""
    lvl = make(std, channels=2)
    rng = np.random.default_rng(5)
    lines = lvl.mapping.capacity_bytes // lvl.spec.burst_bytes
    text, cycle = ["# DRAMSim3 format"], 0
    for _burst in range(12):
        cycle += int(rng.integers(0, 3 * lvl.spec.timing["tREFI"]))
        for _ in range(int(rng.integers(1, 40))):
            cycle += int(rng.integers(0, 3))
            kind = "WRITE" if rng.random() < 0.3 else "READ"
            text.append(f"{int(rng.integers(0, lines)) * lvl.spec.burst_bytes:#x} {kind} {cycle}")
    path = tmp_path / "gaps.trace"
    path.write_text("\n".join(text) + "\n")
    a, w, c = read_trace(path)
    s_py, s_nat = both(std, a, w, c, channels=2)
    assert s_nat == s_py and s_nat["refreshes"] > 0


def _config(std, data):
    spec = make(std).spec
    refresh = ["all_bank", "none"] + (["per_bank"] if std in PER_BANK else [])
    rq = data.draw(st.integers(1, 12))
    return dict(channels=data.draw(st.sampled_from([1, 2, 4])), ranks=data.draw(st.sampled_from([1, 2])),
                mapping=data.draw(st.sampled_from(["rochrababgco", "rorabacobgch", "rorababgcoch"])),
                xor_bank_hash=data.draw(st.booleans()), page_policy=data.draw(st.sampled_from(["open", "closed"])),
                scheduler=data.draw(st.sampled_from(["frfcfs", "fcfs"])), refresh=data.draw(st.sampled_from(refresh)),
                read_queue=rq, write_queue=data.draw(st.integers(1, 12)),
                high_wm=data.draw(st.sampled_from([0.5, 0.75, 1.0])), low_wm=data.draw(st.sampled_from([0.0, 0.25])),
                frontend_latency_cycles=data.draw(st.integers(0, 4)),
                trace_frontend=data.draw(st.sampled_from(["in_order", "per_channel"])),
                trace_per_cycle=data.draw(st.integers(0, 3))), spec


@needs_cc
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STANDARDS), st.data())
def test_random_traces_and_configs(std, data):
    """Random configurations and traces: hot rows and random lines, multi-burst unaligned requests
    that span channels, same-cycle and gapped arrivals, in any order in the file."""
    kw, spec = _config(std, data)
    lvl = make(std, **kw)
    n = data.draw(st.integers(1, 150))
    tx = data.draw(st.sampled_from([spec.burst_bytes, 2 * spec.burst_bytes, 3 * spec.burst_bytes + 5]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    hot = rng.integers(0, lvl.mapping.capacity_bytes - tx, 4)
    addrs = np.where(rng.random(n) < 0.4, hot[rng.integers(0, 4, n)] + rng.integers(0, 256, n),
                     rng.integers(0, lvl.mapping.capacity_bytes - tx, n))
    addrs = np.minimum(addrs, lvl.mapping.capacity_bytes - tx).astype(np.int64)
    gaps = rng.choice([0, 0, 1, 7, 40, 3 * spec.timing["tREFI"]], n)
    cycles = np.cumsum(gaps).astype(np.int64)
    if data.draw(st.booleans()):
        cycles = rng.permutation(cycles)             # replay sorts by arrival, stably
    s_py, s_nat = both(std, addrs, rng.random(n) < 0.35, cycles, tx=tx, **kw)
    assert s_nat == s_py


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(STANDARDS), st.sampled_from(["rochrababgco", "rorabacobgch", "corobgbarach"]),
       st.booleans(), st.lists(st.integers(0, 2**40), min_size=1, max_size=50))
def test_decode_array_equals_decode(std, order, xor, raw):
    m = make(std, channels=2, ranks=2, mapping=order, xor_bank_hash=xor).mapping
    addrs = np.asarray(raw, dtype=np.int64) % m.capacity_bytes
    cols = m.decode_array(addrs)
    assert [tuple(int(c[i]) for c in cols) for i in range(len(addrs))] == [m.decode(int(a)) for a in addrs]


@needs_cc
@pytest.mark.parametrize("argv", [
    ["--standard", "DDR4-3200", "--pattern", "rand_mix", "--n", "700", "--set", "write_queue_entries=6"],
    ["--standard", "HBM2", "--pattern", "idle_rand", "--n", "300", "--set", "channels=2", "--set", "refresh=per_bank"],
])
def test_archsim_mem_end_to_end(argv, capsys):
    """`archsim mem --json -` prints the same document with the core on and off."""
    from archsim.cli import main
    out = {}
    for env in ("1", "0"):
        with native_env(env):
            assert main(["mem", *argv, "--json", "-"]) == 0
        out[env] = json.loads(capsys.readouterr().out)
    assert out["1"] == out["0"] and out["1"]["reads"] + out["1"]["writes"] == int(argv[5])


# -- switches, fallbacks, errors --------------------------------------------------------------------

@needs_cc
def test_replay_uses_native_only_when_it_may():
    """replay() takes the compiled path (no engine events run) on a fresh untraced level, and the
    Python path with ARCHSIM_NATIVE=0, a command log, or a trace clock other than the level's."""
    def run(setup=None, env="1", clock=None):
        lvl = make("DDR4-3200")
        if setup:
            setup(lvl)
        a, w, c = generate("rand_mix", lvl.mapping, 200, 2)
        with native_env(env):
            s = replay(lvl, a, w, c, 64, clock or lvl.clock)
        return lvl.engine.events_run, s

    ev_nat, s_nat = run()
    assert ev_nat == 0
    ev_off, s_off = run(env="0")
    assert ev_off > 0 and s_off == s_nat

    def logged(lvl):
        for c in lvl.ctrls:
            c.log = []
    ev_log, s_log = run(logged)
    assert ev_log > 0 and s_log == s_nat
    from archsim.engine import ClockDomain
    ev_clk, _ = run(clock=ClockDomain("trace", 1e9))
    assert ev_clk > 0


@needs_cc
def test_native_off_returns_none_and_used_level_is_refused():
    lvl = make("DDR4-3200")
    a, w, c = generate("rand_rd", lvl.mapping, 50)
    with native_env("0"):
        assert native.library() is None
        assert native.replay_native(lvl, a, w, c, 64) is None
    with native_env("1"):
        assert native.replay_native(lvl, a, w, c, 64) is not None
        assert native.replay_native(lvl, a, w, c, 64) is None        # no longer fresh


def test_missing_compiler_named_by_cc_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHSIM_NATIVE", "1")
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    with pytest.raises(ArchsimError, match=r"\$CC=.*not found.*ARCHSIM_NATIVE=0"):
        native.library()


def test_failing_compiler_is_a_clear_error(monkeypatch, tmp_path):
    fake = tmp_path / "badcc"
    fake.write_text("#!/bin/sh\necho 'replay.c:1: error: pretend failure' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ARCHSIM_NATIVE", "1")
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CC", str(fake))
    failed = r"(?s)compiling controller.c, level.c .* failed \(exit 3\).*pretend failure"
    with pytest.raises(ArchsimError, match=failed):
        native.library()
    assert not list((tmp_path / "cache" / "native").glob("*"))     # no half-written object left behind


def test_unwritable_cache_dir_is_a_clear_error(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ARCHSIM_NATIVE", "1")
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(blocker))
    if not HAVE_CC:
        pytest.skip("no C compiler (cc/gcc) on PATH: nothing would be built")
    with pytest.raises(ArchsimError, match="cannot write to .*ARCHSIM_CACHE_DIR"):
        native.library()


def test_no_compiler_on_path_falls_back(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHSIM_NATIVE", "1")
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert native.compiler() is None and native.library() is None


@needs_cc
def test_compiled_object_is_cached_by_source_and_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHSIM_NATIVE", "1")
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    assert native.library() is not None
    built = list((tmp_path / "native").glob("dram-core-*.so"))
    assert len(built) == 1
    mtime = built[0].stat().st_mtime_ns
    native_build._loaded.clear()
    assert native.library() is not None                             # loaded, not rebuilt
    assert built[0].stat().st_mtime_ns == mtime


# -- incremental driving: the core inside the event-driven engine (memory/dram/native.py NativeDram) --

def _closed_loop(std, env, seed, agents=3, n=60, tx=None, **kw):
    """Agents issue requests at arbitrary picosecond times (on and between DRAM clock edges, several
    at once); each completion may issue the next request at once or after a delay, and other timers
    run meanwhile. Returns (every callback as (time, agent, request, done_ps), stats, end time, engine
    sequence, whether the core drove the level)."""
    from archsim.engine import Engine
    from memory.dram.level import DramLevel
    from memory.dram.spec import load_spec
    from memory.request import Request

    eng = Engine()
    lvl = DramLevel("dram", eng, load_spec(std), **kw)
    rng = np.random.default_rng(seed)
    tck = lvl.clock.cycles_to_ps(1)
    tx = tx or lvl.spec.burst_bytes
    cap = lvl.mapping.capacity_bytes - 4 * tx
    hot = rng.integers(0, cap, 3)
    log, left = [], [n] * agents

    def issue(a):
        if not left[a]:
            return
        left[a] -= 1
        addr = int(hot[rng.integers(0, 3)] + rng.integers(0, 4096)) if rng.random() < 0.5 else int(rng.integers(0, cap))
        nbytes = int(rng.choice([tx, 2 * tx, 3 * tx + 5, 40 * tx]))
        req = Request(min(addr, cap), nbytes, bool(rng.random() < 0.3), f"a{a}", None)
        req.on_done = lambda r, a=a, k=n - left[a]: done(r, a, k)
        if rng.random() < 0.1:
            req.on_done = None                     # fire and forget: no completion event
            log.append((eng.now, a, "nocb"))
            eng.after(int(rng.integers(0, 50 * tck)), issue, a)
        lvl.submit(req)

    def done(r, a, k):
        log.append((eng.now, a, k, r.done_ps))
        u = rng.random()
        if u < 0.3:
            eng.after(int(rng.choice([0, 1, tck, tck + 1, 7 * tck // 3])), issue, a)   # on and off clock edges
        elif u < 0.36:    # idle for refresh intervals while other agents (a pseudo-channel's sibling) go on
            eng.after(int(rng.integers(1, 4)) * lvl.spec.timing["tREFI"] * tck + int(rng.integers(0, tck)), issue, a)
        else:
            issue(a)
        if rng.random() < 0.2:
            eng.after(int(rng.integers(0, 30 * tck)), lambda: log.append((eng.now, "tick")))

    for a in range(agents):
        eng.at(int(rng.choice([0, 0, tck * int(rng.integers(0, 40)), int(rng.integers(0, 100 * tck))])), issue, a)
    with native_env(env):
        eng.run()
    return log, lvl.stats(), eng.now, eng._seq, bool(lvl._native)


def _incremental_pair(std, seed, **kw):
    a = _closed_loop(std, "0", seed, **kw)
    b = _closed_loop(std, "1", seed, **kw)
    assert not a[4] and b[4]                      # Python, then the compiled core
    assert b[:4] == a[:4]
    return a


@needs_cc
@pytest.mark.parametrize("std", STANDARDS)
@pytest.mark.parametrize("kw", [{}, {"channels": 4, "read_queue": 4, "write_queue": 4, "xor_bank_hash": True},
                                {"page_policy": "closed", "scheduler": "fcfs", "ranks": 2},
                                {"channels": 2, "mapping": "rorababgcoch", "read_queue": 2, "write_queue": 3,
                                 "high_wm": 0.5, "low_wm": 0.0, "frontend_latency_cycles": 3}],
                         ids=["default", "4ch-small-queues", "closed-fcfs-2rank", "2ch-tiny"])
def test_incremental_driving_is_bit_identical(std, kw):
    log, stats, *_ = _incremental_pair(std, 3, **kw)
    assert stats["reads"] + stats["writes"] > 100 and len(log) > 100


@needs_cc
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STANDARDS), st.data())
def test_incremental_random_configs(std, data):
    """Random configurations (per-channel front end, as the runner's DMA) under closed-loop agents."""
    kw, _spec = _config(std, data)
    kw["trace_frontend"] = "per_channel"
    _incremental_pair(std, data.draw(st.integers(0, 2**32 - 1)), agents=data.draw(st.integers(1, 4)),
                      n=data.draw(st.integers(1, 30)), **kw)


@needs_cc
def test_runner_cycle_report_is_identical_with_and_without_the_core():
    """`archsim run --fidelity cycle` on an HBM2 design: the same report, and the core really ran."""
    import archsim
    from archsim.runner import run
    design = archsim.load_config("configs/tpu_like_hbm2.yaml")
    wl = {"gemm": ["16x2048x1024", "200x300x500"], "conv": []}
    with native_env("0"):
        py = run(design, wl, fidelity="cycle").to_dict()
    with native_env("1"):
        nat = run(design, wl, fidelity="cycle").to_dict()
    assert nat == py


@needs_cc
def test_attach_refuses_what_the_core_does_not_model(monkeypatch):
    from memory.dram import native as nat
    lvl = make("DDR4-3200")
    lvl.ctrls[0].log = []
    assert nat.attach(lvl) is None                  # a command log is a Python-only feature
    lvl = make("DDR4-3200", trace_frontend="in_order")
    lvl.start_trace_frontend()
    assert nat.attach(lvl) is None                  # the in-order trace front end: whole-trace replay only
    monkeypatch.setattr(nat, "command_set_mismatch", lambda spec: "a PIM command")
    assert nat.attach(make("DDR4-3200")) is None    # a command set the core does not know
    monkeypatch.undo()
    with native_env("1"):
        assert nat.attach(make("DDR4-3200")) is not None
