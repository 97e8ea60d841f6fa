"""Level 0 against the FuseMax artifact's BERT figures (copied in validation/fusemax/), and its errors."""
import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from archsim.errors import ConfigError, WorkloadError
from archsim.units.attention import AttentionConfig, AttentionShape, level0

REF = Path(__file__).resolve().parents[3] / "validation" / "fusemax"
BW, CLOCK = 400 * 2**30, 940e6


def cloud(variant: str, **kw) -> AttentionConfig:
    """The paper's cloud designs: FuseMax steps on a 16 MiB buffer, FLAT and unfused on 32 MiB."""
    kw.setdefault("buffer", "32 MiB" if variant in ("flat", "unfused") else "16 MiB")
    return AttentionConfig(variant=variant, **kw)


def bert(seq: int, **kw) -> AttentionShape:
    return AttentionShape(B=64, H=12, P=seq, M=seq, E=64, F=64, **kw)


def rows(name: str):
    with open(REF / name) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


@pytest.mark.parametrize("row", rows("bert_artifact.csv"), ids=lambda r: f"{r['variant']}-{r['seq']}")
def test_bert_points_match_the_artifact(row):
    r = level0(bert(int(row["seq"])), cloud(row["variant"]), BW, CLOCK)
    # unfused comes from Timeloop-mapper mappings: exact while they move each tensor once (<= 64K),
    # a few re-reads beyond (the issue accepts 10%)
    tol = 1e-3 if row["variant"] == "unfused" and int(row["seq"]) > 65536 else 1e-9
    assert rel(r.time_s, float(row["latency_s"])) < tol
    assert rel(r.traffic.total, float(row["traffic_bytes"])) < tol
    assert rel(r.util_2d, float(row["util_2d"])) < tol
    assert rel(r.util_1d, float(row["util_1d"])) < tol


def test_issue_targets_at_bert_1k():
    u = 64 * 12 * 1024 * 1024 / 256**2
    units = {v: level0(bert(1024), cloud(v), BW, CLOCK).cycles / u for v in ("flat", "cascade", "architecture",
                                                                           "fusemax")}
    assert units == {"flat": 1024, "cascade": 1173, "architecture": 458, "fusemax": 154}
    fm = level0(bert(1024), cloud("fusemax"), BW, CLOCK)
    assert rel(fm.time_s, 2.01314e-3) < 1e-5 and fm.traffic.total == 402_653_184
    assert round(fm.util_2d, 4) == 0.8896 and fm.util_1d == 1.0
    assert fm.p1 == 4 and fm.bound == "compute"
    assert [level0(bert(s), cloud("fusemax"), BW, CLOCK).p1 for s in (4096, 16384, 65536, 2**18, 2**20)] == \
        [16, 64, 128, 128, 128]


@pytest.mark.parametrize("row", rows("bert_pareto.csv"), ids=lambda r: r["pe_dim"])
def test_pareto_points_scale_with_the_array(row):
    n = int(row["pe_dim"])
    r = level0(bert(2**18), cloud("fusemax", rows=n, cols=n, width_1d=n), BW, CLOCK)
    assert rel(r.time_s, float(row["latency_s"])) < 1e-9


def test_fusemax_latency_is_the_1d_array_when_F_plus_divide_exceeds_E():
    """Closed form: (max(E+1, F+1+a) + F + 9) u with a = 256 F / M."""
    for E, F, seq in ((64, 64, 4096), (128, 128, 8192), (64, 128, 2048), (128, 64, 1024)):
        s = AttentionShape(B=2, H=3, P=seq, M=seq, E=E, F=F)
        r = level0(s, cloud("fusemax"), BW, CLOCK)
        u = 2 * 3 * seq * seq / 256**2
        a = 256 * F / seq
        assert rel(r.compute_cycles, (max(E + 1, F + 1 + a) + F + 9) * u) < 1e-12


def test_padding_is_charged_and_shown_or_refused():
    exact = level0(AttentionShape(B=1, H=1, P=512, M=512, E=64, F=64), cloud("fusemax"), BW, CLOCK)
    padded = level0(AttentionShape(B=1, H=1, P=500, M=300, E=64, F=64), cloud("fusemax"), BW, CLOCK)
    d = padded.detail()
    assert (d["padding"]["P"], d["padding"]["M"]) == (12, 212) and d["tiles"]["masked"] == 2  # padded keys masked
    assert d["padding"]["wasted_work"] == pytest.approx(512 * 512 / (500 * 300) - 1)
    assert padded.compute_cycles == exact.compute_cycles          # padded tiles cost as much as full ones
    assert padded.busy["MASK"] == 2 and exact.busy["MASK"] == 0   # plus the mask (hidden here by the 1D array)
    assert padded.array_busy("2d") == exact.array_busy("2d") + 2
    assert padded.traffic.total < exact.traffic.total            # DRAM moves the real data only
    with pytest.raises(WorkloadError, match="padding: refuse"):
        level0(AttentionShape(B=1, H=1, P=500, M=512, E=64, F=64), cloud("fusemax", padding="refuse"), BW, CLOCK)


def test_causal_skips_masked_tiles_and_charges_the_diagonal():
    full = level0(bert(4096), cloud("fusemax"), BW, CLOCK)
    causal = level0(bert(4096, causal=True), cloud("fusemax"), BW, CLOCK)
    g = causal.geo
    assert g.live_tiles == 16 * 17 // 2 and g.partial_tiles == 16
    assert causal.busy["QK"] * 16 * 16 == full.busy["QK"] * g.live_tiles
    assert causal.busy["MASK"] == 64 * 12 * 16
    assert causal.traffic.total == full.traffic.total      # one P1 block holds every query: all keys needed
    full, causal = (level0(bert(65536, causal=c), cloud("fusemax"), BW, CLOCK) for c in (False, True))
    assert full.p1 == 128 and full.traffic.notes["kv_reloads"] == 2
    kv = 64 * 12 * 65536 * 128 * 2
    assert full.traffic.tensors["K"][0] * 128 == 2 * kv * 64 and causal.traffic.tensors["K"][0] * 128 == 3 * kv * 32


def test_gqa_shares_kv_streams():
    mha = level0(AttentionShape(B=4, H=32, P=8192, M=8192, E=128, F=128), cloud("fusemax"), BW, CLOCK)
    gqa = level0(AttentionShape(B=4, H=32, P=8192, M=8192, E=128, F=128, kv_heads=8), cloud("fusemax"), BW, CLOCK)
    assert gqa.compute_cycles == mha.compute_cycles
    k_mha, k_gqa = mha.traffic.tensors["K"][0], gqa.traffic.tensors["K"][0]
    assert k_gqa * 4 * mha.p1 == k_mha * gqa.p1
    assert gqa.traffic.tensors["Q"] == mha.traffic.tensors["Q"]


def test_clear_errors():
    with pytest.raises(WorkloadError, match="rank E must be a positive integer"):
        AttentionShape(B=1, H=1, P=8, M=8, E=0, F=8)
    with pytest.raises(WorkloadError, match="kv_heads"):
        AttentionShape(B=1, H=12, P=8, M=8, E=8, F=8, kv_heads=5)
    with pytest.raises(ValidationError, match="variant"):
        AttentionConfig(variant="flash")
    with pytest.raises(ConfigError, match="too small for one K/V tile"):
        level0(bert(1024), cloud("fusemax", buffer="64 KiB"), BW, CLOCK)
    with pytest.raises(ConfigError, match="not one tile of 256 queries"):
        level0(bert(1024), cloud("fusemax", buffer="100 KiB"), BW, CLOCK)


@pytest.mark.parametrize("seq, where", [(2**16, "on chip"), (2**17, "off chip"), (2**18, "off chip")])
def test_flat_auto_keeps_the_faster_of_its_two_dataflows(seq, where):
    """FLAT's search: QK/A on chip (spilling the share the buffer cannot hold) or off chip, whichever is
    faster; at 128K a P0-query row block of QK is twice the 32 MiB buffer and half of it would spill."""
    auto = level0(bert(seq), cloud("flat"), BW, CLOCK)
    on = level0(bert(seq), cloud("flat", flat_intermediates="onchip"), BW, CLOCK)
    off = level0(bert(seq), cloud("flat", flat_intermediates="offchip"), BW, CLOCK)
    assert auto.cycles == min(on.cycles, off.cycles) and auto.traffic.notes["intermediates"] == where
    assert on.traffic.notes["intermediates"] == "on chip" and off.traffic.notes["intermediates"] == "off chip"
    assert off.traffic.tensors["QK"] == (64 * 12 * seq * seq * 2,) * 2


@given(st.sampled_from([2**k for k in range(8, 20)]), st.sampled_from(["512 KiB", "4 MiB", "32 MiB"]),
       st.sampled_from([1, 2, 4]))
@settings(max_examples=25, deadline=None)
def test_flat_auto_is_never_slower_than_a_fixed_choice(seq, buffer, e_mult):
    shape = AttentionShape(B=2, H=2, P=seq, M=seq, E=32 * e_mult, F=32 * e_mult)
    auto = level0(shape, cloud("flat", buffer=buffer), BW, CLOCK)
    for where in ("onchip", "offchip"):
        assert auto.cycles <= level0(shape, cloud("flat", buffer=buffer, flat_intermediates=where), BW, CLOCK).cycles
