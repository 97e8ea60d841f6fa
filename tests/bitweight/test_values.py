"""Operand values: parsing, seeded draws at the operand's bits, files checked against shape and bits."""
from __future__ import annotations

import numpy as np
import pytest

from archsim.errors import WorkloadError
from dataflows.ir import gemm_op
from dataflows.values import OperandValues, parse_distribution, parse_source, values_for


@pytest.mark.parametrize("text", ["normal:10", "uniform", "laplace:4", "sparse:0.5,normal:20", "normal:1e1"])
def test_distributions_draw_in_range_deterministically(text):
    op = gemm_op("g", 64, 32, 48, bits=4)
    a1 = values_for(op, "A", {"activation": text}, seed=3)
    a2 = values_for(op, "A", {"activation": text}, seed=3)
    a3 = values_for(op, "A", {"activation": text}, seed=4)
    assert a1.shape == (64, 48) and np.array_equal(a1, a2) and not np.array_equal(a1, a3)
    assert a1.min() >= -8 and a1.max() <= 7


def test_pmf_matches_draws():
    d = parse_distribution("sparse:0.3,laplace:6")
    rng = np.random.default_rng(0)
    x = d.draw((200_000,), 8, rng)
    emp = np.bincount(x + 128, minlength=256) / x.size
    assert np.abs(emp - d.pmf(8)).max() < 0.005
    assert d.pmf(8).sum() == pytest.approx(1.0) and d.pmf(8)[128] > 0.3


@pytest.mark.parametrize("bad", ["normal", "normal:-1", "gauss:3", "sparse:2,normal:3", "sparse:0.1,sparse:0.2,uniform",
                                 "weights.csv"])
def test_bad_strings_are_clear_errors(bad):
    with pytest.raises(WorkloadError, match="values"):
        parse_source(bad)


def test_files_checked_for_shape_and_bits(tmp_path):
    op = gemm_op("g", 4, 3, 2, bits=8)
    good = np.arange(6).reshape(2, 3) - 3
    np.save(tmp_path / "w.npy", good)
    assert np.array_equal(values_for(op, "B", {"weight": str(tmp_path / "w.npy")}), good)
    np.save(tmp_path / "t.npy", good.T)
    with pytest.raises(WorkloadError, match=r"shape \(3, 2\) does not match"):
        values_for(op, "B", {"weight": str(tmp_path / "t.npy")})
    np.save(tmp_path / "big.npy", good * 100)
    with pytest.raises(WorkloadError, match="outside the operand's 8-bit"):
        values_for(op, "B", {"weight": str(tmp_path / "big.npy")})
    np.savez(tmp_path / "m.npz", **{"g.B": good, "other": good})
    assert np.array_equal(values_for(op, "B", {"weight": str(tmp_path / "m.npz")}), good)
    assert values_for(op, "A", {"weight": "uniform"}) is None


def test_keys_are_hashable_and_distinguish_sources():
    a = OperandValues.from_spec({"weight": "normal:10"}, 1)
    b = OperandValues.from_spec({"weight": "normal:20"}, 1)
    assert hash(a.key) != hash(b.key) and a.key == OperandValues.from_spec({"weight": "normal:10"}, 1).key
    arr = parse_source(np.ones((2, 2), int))
    assert arr.key == parse_source(np.ones((2, 2), int)).key
    with pytest.raises(WorkloadError, match="unknown operand role"):
        OperandValues.from_spec({"weights": "uniform"})


def test_pmf_for_draws_nothing_and_matches_the_source(tmp_path):
    from dataflows.values import pmf_for

    op = gemm_op("g", 8, 4, 6, bits=4)
    p = pmf_for(op, "B", {"weight": "laplace:2"})
    assert p.shape == (16,) and p.sum() == pytest.approx(1.0)
    assert np.allclose(p, parse_distribution("laplace:2").pmf(4))
    w = np.array([[-8, 7, 0, 0]] * 6)
    np.save(tmp_path / "w.npy", w)
    h = pmf_for(op, "B", {"weight": str(tmp_path / "w.npy")})
    assert h[0] == pytest.approx(0.25) and h[15] == pytest.approx(0.25) and h[8] == pytest.approx(0.5)
    assert pmf_for(op, "A", {"weight": "uniform"}) is None


def test_a_design_workload_section_carries_values():
    import archsim

    design = archsim.load_config({
        "name": "d", "units": {"tpe": {"kind": "bitweight", "serial": "activation", "encoding": "popcount",
                                       "rows": 4, "cols": 4, "k_lanes": 4, "sync_rows": 4}},
        "workload": {"gemm": ["g=32x32x64"], "values": {"activation": "sparse:0.9,uniform"}, "seed": 2}})
    row = archsim.run(design, None, fidelity="cycle").ops[0]
    assert row["detail"]["values"] == "given"
    dense = archsim.run(design, None, fidelity="cycle", values={"activation": "uniform"}).ops[0]
    assert row["detail"]["engine_cycles"] < dense["detail"]["engine_cycles"]
