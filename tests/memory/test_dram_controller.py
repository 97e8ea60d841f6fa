"""Controller timing: closed forms of dram.md section 4.3 on every standard, rule legality, determinism."""
import pytest
from hypothesis import given, settings, strategies as st

from archsim.errors import ArchsimError
from memory import Request
from memory.dram import native as native_core
from dram_helpers import make, run_pattern, violations

STANDARDS = ["DDR4-3200", "DDR5-4800", "LPDDR5-6400", "HBM2", "HBM3", "GDDR6"]


def _latency(lvl, addr, at_cycle):
    out = []
    lvl.engine.at(lvl.clock.cycles_to_ps(at_cycle),
                  lambda: lvl.submit(Request(addr, lvl.spec.burst_bytes, False, "t", out.append)))
    lvl.engine.run()
    return lvl.clock.ps_to_cycles(out[0].done_ps) - at_cycle


@pytest.mark.parametrize("std", STANDARDS)
def test_unloaded_latency_closed_forms(std):
    lvl = make(std, refresh="none")
    t = lvl.spec.timing
    m = lvl.mapping
    assert _latency(lvl, m.encode(ro=5), 0) == t["tRCD"] + t["CL"] + t["tBL"]          # closed bank
    assert _latency(lvl, m.encode(ro=5, co=1), 1000) == t["CL"] + t["tBL"]             # row hit
    assert _latency(lvl, m.encode(ro=9), 2000) == t["tRP"] + t["tRCD"] + t["CL"] + t["tBL"]  # conflict


@pytest.mark.parametrize("std", STANDARDS)
def test_stream_closed_forms(std):
    """Without refresh: conflict stream = tRC per access; hit stream = tCCD_L per burst + a row switch per row."""
    lvl, s = run_pattern("rowconf", 600, std, refresh="none")
    t = lvl.spec.timing
    assert s["total_cycles"] == pytest.approx(600 * t["tRC"], rel=0.01)
    n = 8 * lvl.spec.bursts_per_row
    lvl, s = run_pattern("rowhit", n, std, refresh="none")
    per_row = (lvl.spec.bursts_per_row - 1) * t["tCCD_L"] + t["tRTP"] + t["tRP"] + t["tRCD"]
    assert s["total_cycles"] == pytest.approx(8 * per_row, rel=0.01)
    assert s["row_hit_rate"] == pytest.approx(1 - 1 / lvl.spec.bursts_per_row, abs=1e-9)


@pytest.mark.parametrize("pattern", ["rowconf", "rowhit"])
def test_refresh_overhead_factor(pattern):
    """Long single-bank streams slow down by (1 + tRFC/tREFI) with all-bank refresh."""
    n = 10_000 if pattern == "rowconf" else 20_000
    lvl, on = run_pattern(pattern, n)
    _, off = run_pattern(pattern, n, refresh="none")
    t = lvl.spec.timing
    assert on["total_cycles"] / off["total_cycles"] == pytest.approx(1 + t["tRFC"] / t["tREFI"], rel=0.01)


def test_bank_group_interleaved_stream_is_data_bus_bound():
    lvl, s = run_pattern("seq_rd", 5000, mapping="rorabacobgch", refresh="none")
    assert s["total_cycles"] == pytest.approx(5000 * lvl.spec.timing["tBL"], rel=0.01)


def test_random_reads_respect_ceiling():
    lvl, s = run_pattern("rand_rd", 3000)
    t = lvl.spec.timing
    act_bound = 3000 * t["tFAW"] / 4 / lvl.ranks
    assert s["total_cycles"] >= max(3000 * t["tBL"], act_bound, 3000 * 2)


@pytest.mark.parametrize("std,kw", [("DDR4-3200", {}), ("DDR4-3200", {"page_policy": "closed"}),
                                    ("DDR4-3200", {"scheduler": "fcfs"}),
                                    ("HBM2", {"channels": 2, "refresh": "per_bank"}),
                                    ("DDR5-4800", {"refresh": "per_bank"})])
def test_command_log_obeys_every_rule(std, kw):
    lvl, s = run_pattern("rand_mix", 300, std, log=True, **kw)
    for c in lvl.ctrls:
        assert c.log and violations(c) == []
    assert s["reads"] + s["writes"] == 300


def test_hbm_pseudo_channels_share_command_bus():
    lvl, _ = run_pattern("rand_rd", 400, "HBM2", channels=2, log=True, mapping="rorababgcoch")
    busy = {}
    for c in lvl.ctrls:
        for t, cmd, *_ in c.log:
            k = 0 if cmd in (0, 1, 6, 7) else 1
            span = 2 if cmd == 0 else 1
            for x in range(t, t + span):
                assert (k, x) not in busy, "two commands on one HBM bus in the same cycle"
                busy[(k, x)] = True


def test_per_bank_refresh_rejected_for_ddr4():
    with pytest.raises(ArchsimError, match="per-bank"):
        make(refresh="per_bank")


def test_address_beyond_capacity():
    lvl = make()
    with pytest.raises(ArchsimError, match="beyond its capacity"):
        lvl.submit(Request(lvl.capacity_bytes, 64, False, "t"))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**20 - 1), st.booleans(), st.integers(0, 3000)), min_size=1, max_size=60),
       st.sampled_from(["frfcfs", "fcfs"]), st.sampled_from(["open", "closed"]))
def test_random_traces_complete_deterministically(entries, sched, page):
    def once():
        lvl = make(scheduler=sched, page_policy=page, read_queue=4, write_queue=4)
        for c in lvl.ctrls:
            c.log = []
        done = []
        for a, w, t in entries:
            lvl.engine.at(lvl.clock.cycles_to_ps(t),
                          lambda a=a, w=w: lvl.submit(Request(a * 64, 64, w, "t", done.append)))
        lvl.engine.run()
        return lvl, done
    lvl, done = once()
    assert len(done) == len(entries)
    t = lvl.spec.timing
    assert all(r.done_ps - r.issue_ps >= lvl.clock.cycles_to_ps(min(t["CL"], t["CWL"]) + t["tBL"]) - 1 for r in done)
    assert violations(lvl.ctrls[0]) == []
    assert once()[0].stats() == lvl.stats()


def _read_after(std, native, monkeypatch, sibling_at, gap):
    """Cycles a 1 KiB read on pseudo-channel 1 takes when it arrives at cycle `gap`, with pseudo-channel 0
    (same command bus) reading at each cycle of `sibling_at`; Python controller or compiled core."""
    monkeypatch.setenv("ARCHSIM_NATIVE", native)
    lvl = make(std, channels=2)
    m, bb = lvl.mapping, lvl.spec.burst_bytes
    done = []
    for k, t in enumerate(sibling_at):
        lvl.engine.at(lvl.clock.cycles_to_ps(t), lambda k=k: lvl.submit(
            Request(m.encode(ch=0, ro=k % 7, co=k % 8), bb, False, "sibling")))
    lvl.engine.at(lvl.clock.cycles_to_ps(gap), lambda: lvl.submit(
        Request(m.encode(ch=1, ro=3), 1024, False, "t", done.append)))
    lvl.engine.run()
    assert (lvl._native is not None) == (native == "1")        # the core ran where asked
    return lvl.clock.ps_to_cycles(done[0].done_ps) - gap


@pytest.mark.parametrize("native", ["0", "1"])
@pytest.mark.parametrize("std", ["HBM2", "HBM3"])
def test_idle_pseudo_channel_refreshes_on_time_beside_its_sibling(std, native, monkeypatch):
    """Idle time costs nothing, also where two pseudo-channels share a command bus: the refreshes a
    channel owes from its idle time were done on time, whether its sibling takes the bus in the cycle
    the channel's work arrives or keeps it busy all along. At most one refresh is still running."""
    if native == "1" and native_core.library() is None:
        pytest.skip("no C compiler: the compiled DRAM core is unavailable")
    t = make(std).spec.timing
    cold = _read_after(std, native, monkeypatch, [], 100)
    limit = cold + t["tRFC"] + t["tRP"]
    gap = 60 * t["tREFI"]
    assert _read_after(std, native, monkeypatch, [gap], gap) <= limit            # sibling wakes with it
    busy = range(0, gap + 1, 97)                                                 # sibling busy throughout
    assert _read_after(std, native, monkeypatch, busy, gap) <= limit + t["tRC"]
