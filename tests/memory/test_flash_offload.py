"""Host flash offload (LLM in a flash): the read curve, the token I/O model against Table 2, the DRAM budget."""
import importlib.util
from pathlib import Path

import pytest

from archsim.errors import ConfigError
from memory.flash.host_offload import M1_MAX, StepShares, batch_shares, offload_io, union_share

ROOT = Path(__file__).resolve().parents[2]


def test_read_curve_points_threads_and_bounds():
    assert M1_MAX.rate(16 << 10) == pytest.approx(1.25e9)
    assert M1_MAX.rate(32 << 10) == pytest.approx(2.25e9)
    assert M1_MAX.rate(4 << 30) == 6.1e9
    assert M1_MAX.rate(16 << 10) < M1_MAX.rate(24 << 10) < M1_MAX.rate(32 << 10)   # larger chunks read faster
    assert M1_MAX.rate(32 << 10, threads=8) == pytest.approx(2.25e9 / 4)             # fewer reads in flight
    assert M1_MAX.rate(4 << 10) == pytest.approx(1.25e9 / 4)


def test_table2_io_latencies():
    spec = importlib.util.spec_from_file_location("lf", ROOT / "validation" / "flash" / "validate_llm_in_a_flash.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.rows()
    ratios = {r["step"]: r["ms"] / r["ref_ms"] for r in rows}
    assert sum(abs(x - 1) <= 0.05 for x in ratios.values()) >= 3
    assert all(abs(x - 1) <= 0.08 for x in ratios.values())
    assert ratios["naive"] / ratios["bundling"] > 0.9        # the 25x naive-to-bundled I/O gain emerges
    implied = {r["step"]: r["implied_ffn_share"] for r in rows}
    assert implied["windowing"] == pytest.approx(0.024, rel=0.01)   # the paper's own share at its rate
    assert implied["bundling"] < implied["windowing"] < implied["predictor"]   # the rows disagree (README)


def test_dram_budget_is_checked():
    with pytest.raises(ConfigError, match="dram_budget"):
        offload_io(6_658_473_984, 4_294_967_296, 4096, 2, predictor=0.1, dram_budget=1 << 30)


def test_batch_union_of_active_rows():
    """Independent sequences: the union law; one sequence gives back its own shares unrounded."""
    assert batch_shares(0.10, 0.024, 0.24, 1) == StepShares(0.10, 0.024, 0.24)
    # B = 4 by hand: 1 - 0.9^4 = 1 - 0.6561; 1 - 0.976^4 = 1 - 0.907401035776; 1 - 0.76^4 = 1 - 0.33362176
    four = batch_shares(0.10, 0.024, 0.24, 4)
    assert four.active == pytest.approx(0.3439, abs=1e-15)
    assert four.load == pytest.approx(0.092598964224, abs=1e-15)
    assert four.cache == pytest.approx(0.66637824, abs=1e-15)
    # the DRAM holds only a third of that union window: a third of the rows kept out of the load
    capped = batch_shares(0.10, 0.024, 0.24, 4, cache_cap=0.66637824 / 3)
    assert capped.cache == pytest.approx(0.66637824 / 3)
    assert capped.load == pytest.approx(0.3439 - (0.3439 - 0.092598964224) / 3)


def test_batch_shares_grow_with_batch_and_never_pass_the_ffn():
    prev = batch_shares(0.10, 0.024, 0.24, 1, cache_cap=0.25)
    for b in (2, 3, 4, 8, 16, 64, 256, 4096):
        s = batch_shares(0.10, 0.024, 0.24, b, cache_cap=0.25)
        assert prev.active <= s.active <= 1.0 and prev.load <= s.load <= s.active and s.cache <= 0.25
        prev = s
    assert union_share(0.5, 10_000) == 1.0
