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
