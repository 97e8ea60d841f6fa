"""The search: optimal over a small space, constraints honoured, deterministic, cached, above the bound."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from archsim.config.mapper_schema import MapConstraint, MapperConfig
from archsim.units.systolic import SystolicConfig
from archsim.errors import ArchsimError
from archsim.units.base import GemmShape
from archsim.units.systolic import SystolicArray
from dataflows.cache import MapCache
from dataflows.cost import EnergySpec
from dataflows.mapper import Mapper, Resolved, rank
from dataflows.mapspace import MemorySpec

ENERGY = EnergySpec(mac_pj=0.2, sram_byte_pj=1.0, offchip_byte_pj=20.0)


def _unit(timing="pipelined", df="ws", r=4, c=8):
    return SystolicArray("sa", SystolicConfig(rows=r, cols=c, dataflow=df, timing=timing), 1e9,
                         {"mac": 0.2, "sram_byte": 1.0})


def _mem(kib=2, db=True, gbps=4.0):
    return MemorySpec.make({"ifmap": kib * 1024, "filter": kib * 1024, "ofmap": 2 * kib * 1024},
                           gbps * 1e9, 20_000, double_buffered=db)


def _brute(mapper: Mapper, g: GemmShape):
    """Every mapping of the space scored and ranked as the mapper ranks (objective and tolerance)."""
    costs = [mapper.cost.evaluate(m) for m in mapper.space(g, Resolved())]
    return rank(costs, mapper.cfg.objective, mapper.cfg.latency_tolerance)


def _key(c):
    return c.cycles, round(c.total_energy_pj, 6), c.dram_total_bytes


@settings(max_examples=16, deadline=None)
@given(st.integers(1, 70), st.integers(1, 70), st.integers(1, 70),
       st.sampled_from(["latency", "energy", "edp"]), st.sampled_from(["scalesim", "pipelined"]),
       st.booleans(), st.sampled_from([0.0, 0.02, 0.2]))
def test_best_is_never_worse_than_any_mapping(M, N, K, objective, timing, db, tol):
    cfg = MapperConfig(objective=objective, exhaustive_limit=10**9, budget="60 s", dataflows=["os", "ws"],
                       tile_candidates=5, latency_tolerance=tol)
    mapper = Mapper(_unit(timing), _mem(db=db), ENERGY, cfg)
    g = GemmShape(M, N, K)
    res = mapper.map_gemm(g)
    assert res.method == "exhaustive" and not res.truncated
    brute = _brute(mapper, g)
    assert [_key(c) for c in res.top] == [_key(c) for c in brute[:len(res.top)]]   # the exact top-K
    assert len(res.top) == min(cfg.top_k, len(brute))
    assert res.best.cycles >= res.lower_bound["cycles"] - 1e-9
    assert [str(c.mapping) for c in res.top] == [str(c.mapping) for c in rank(res.top, objective, tol)]


def test_near_ties_go_to_energy_within_the_stated_tolerance():
    """Default objective: no slower than (1 + tolerance) x the fastest, and never more energy than the
    fastest; with tolerance 0 it is the fastest mapping."""
    g = GemmShape(256, 384, 512)
    fastest = Mapper(_unit(), _mem(kib=8), ENERGY, MapperConfig(latency_tolerance=0)).map_gemm(g).best
    res = Mapper(_unit(), _mem(kib=8), ENERGY, MapperConfig()).map_gemm(g)
    assert MapperConfig().latency_tolerance == 0.02
    assert res.best.cycles <= 1.02 * fastest.cycles
    assert res.best.total_energy_pj <= fastest.total_energy_pj
    assert res.best.total_energy_pj < 0.98 * fastest.total_energy_pj    # this case has a cheaper near-tie


def test_capped_search_is_exact_when_it_finishes_and_labelled_when_cut():
    g = GemmShape(300, 200, 250)
    cfg = dict(tile_candidates=12, budget="120 s")
    exhaustive = Mapper(_unit(), _mem(kib=8), ENERGY, MapperConfig(exhaustive_limit=10**9, **cfg))
    capped = Mapper(_unit(), _mem(kib=8), ENERGY, MapperConfig(exhaustive_limit=1, max_evaluations=400, **cfg))
    e, s = exhaustive.map_gemm(g), capped.map_gemm(g)
    assert s.method == "exhaustive" and s.evaluated <= 400     # the bound closed the search under the cap
    assert [c.objective("latency") for c in s.top] == [c.objective("latency") for c in e.top]
    assert s.best.mapping.fits(capped.mem)
    cut = Mapper(_unit(), _mem(kib=8), ENERGY, MapperConfig(exhaustive_limit=1, max_evaluations=20, **cfg)).map_gemm(g)
    assert cut.method == "best-first" and cut.evaluated <= 20 + 1  # a row holds at most 2 loop orders
    assert e.best.cycles <= cut.best.cycles <= 1.05 * e.best.cycles


def test_deterministic_for_a_seed():
    g = GemmShape(300, 500, 200)
    runs = [Mapper(_unit(), _mem(kib=8), ENERGY, MapperConfig(exhaustive_limit=1, max_evaluations=300,
                                                              seed=s, budget="60 s")).map_gemm(g)
            for s in (7, 7, 8)]
    assert [str(c.mapping) for c in runs[0].top] == [str(c.mapping) for c in runs[1].top]
    assert [c.cycles for c in runs[0].top] == [c.cycles for c in runs[1].top]
    assert runs[0].evaluated == runs[1].evaluated


def test_constraints_are_honoured():
    cfg = MapperConfig(dataflows=["os", "ws", "is"], constraints=[
        MapConstraint(match="layer*.ffn", tile={"K": 16, "M": 8}, loop_order="knm", dataflow="os"),
        MapConstraint(match="other", tile={"N": 8})])
    mapper = Mapper(_unit(), _mem(), ENERGY, cfg)
    res = mapper.map_gemm(GemmShape(40, 64, 48), op_name="layer3.ffn")
    for c in res.top:
        assert c.mapping.tile[0] == 8 and c.mapping.tile[2] == 16
        assert c.mapping.order == "knm" and c.mapping.dataflow == "os"
    other = mapper.map_gemm(GemmShape(40, 64, 48), op_name="other")
    assert all(c.mapping.tile[1] == 8 for c in other.top)


@pytest.mark.parametrize("constraint, words", [
    (MapConstraint(tile={"M": 2048, "K": 4096}), "fits"),            # no such tile fits the SRAM
    (MapConstraint(tile={"M": 1000}), "larger than"),               # bigger than the op
    (MapConstraint(dataflow="is"), "not available"),               # array limited to its own dataflow
])
def test_infeasible_constraint_is_an_error(constraint, words):
    g = GemmShape(2048, 64, 4096) if "fits" in words else GemmShape(64, 64, 64)
    mapper = Mapper(_unit(), _mem(), ENERGY, MapperConfig(constraints=[constraint]))
    with pytest.raises(ArchsimError, match=words):
        mapper.map_gemm(g)


def test_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSIM_CACHE_DIR", str(tmp_path))
    g = GemmShape(96, 80, 64)
    first = Mapper(_unit(), _mem(), ENERGY, MapperConfig(), MapCache()).map_gemm(g)
    again = Mapper(_unit(), _mem(), ENERGY, MapperConfig(), MapCache()).map_gemm(g)
    assert not first.from_cache and again.from_cache
    assert [c.as_dict() for c in first.top] == [c.as_dict() for c in again.top]
    assert list((tmp_path / "mapper").glob("*.json"))
    other = Mapper(_unit(), _mem(), ENERGY, MapperConfig(objective="energy"), MapCache()).map_gemm(g)
    assert not other.from_cache                      # the objective is part of the key


def test_batch_problems_cost_batch_times_traffic():
    mapper = Mapper(_unit(), _mem(), ENERGY, MapperConfig())
    one = mapper.map_gemm(GemmShape(32, 40, 24))
    four = mapper.map_gemm(GemmShape(32, 40, 24, batch=4))
    assert four.best.macs == 4 * one.best.macs
    assert four.best.cycles <= 4 * one.best.cycles   # later problems' loads overlap earlier compute
    assert four.best.cycles >= 3 * one.best.compute_cycles
