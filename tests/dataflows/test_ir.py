"""The Einsum IR: costs, the GEMM view, the graph, stand-alone workload constructors."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from archsim.errors import WorkloadError
from archsim.units.base import GemmShape
from dataflows.ir import Graph, Op, Operand, conv_op, gemm_op


def test_gemm_op_costs_are_first_principles():
    op = gemm_op("g", 64, 128, 256, bits=8)
    assert op.as_gemm() == GemmShape(64, 128, 256)
    assert op.flops == 2 * 64 * 128 * 256 and op.macs == 64 * 128 * 256
    assert op.bytes_by_role == {"weight": 256 * 128, "activation": 64 * 256, "kv_cache": 0, "output": 64 * 128}
    assert op.bytes == 256 * 128 + 64 * 256 + 64 * 128
    assert op.intensity == pytest.approx(op.flops / op.bytes)


def test_batched_matmul_gives_batch_and_gqa_group_folds_into_m():
    # QK^T with 8 KV heads, 4 query heads each, 3 new tokens, 100 keys, head dim 64
    dims = dict(b=2, h=8, g=4, s=3, l=100, e=64)
    op = Op("qk", "gemm", "bhgse,bhle->bhgsl", dims,
            (Operand("q", "activation", ("b", "h", "g", "s", "e")), Operand("k", "kv_cache", ("b", "h", "l", "e")),
             Operand("p", "output", ("b", "h", "g", "s", "l"))))
    assert op.as_gemm() == GemmShape(M=12, N=100, K=64, batch=16)
    assert op.bytes_by_role["kv_cache"] == 2 * 8 * 100 * 64 * 2


def test_conv_im2col_view_and_stored_input_size():
    op = conv_op("c", H=7, W=9, R=3, S=3, C=5, F=4, stride=2, pad=1)
    P, Q = (7 + 2 - 3) // 2 + 1, (9 + 2 - 3) // 2 + 1
    assert op.as_gemm() == GemmShape(M=P * Q, N=4, K=45)
    assert op.flops == 2 * P * Q * 45 * 4
    assert op.bytes_by_role["activation"] == 7 * 9 * 5      # stored input, not the im2col matrix


def test_non_gemm_ops_refuse_as_gemm_and_count_documented_flops():
    op = Op("sm", "softmax", "bsl->bsl", dict(b=2, s=3, l=5),
            (Operand("x", "activation", ("b", "s", "l")), Operand("y", "output", ("b", "s", "l"))), flops_per_point=5)
    assert op.flops == 5 * 30 and op.macs == 0
    with pytest.raises(WorkloadError, match="not GEMM-like"):
        op.as_gemm()
    assert not op.is_gemm and gemm_op("g", 1, 2, 3).is_gemm and conv_op("c", 3, 3, 3, 3, 1, 1).is_gemm
    reduce = Op("r", "gemm", "mk,kn->m", dict(m=2, k=3, n=4),
                (Operand("a", "activation", ("m", "k")), Operand("b", "weight", ("k", "n")),
                 Operand("c", "output", ("m",))))
    assert not reduce.is_gemm
    with pytest.raises(WorkloadError, match="neither contracted nor kept"):
        reduce.as_gemm()


def test_subbyte_operands_round_up_to_whole_bytes():
    op = gemm_op("g", 3, 5, 7, bits=4)
    assert op.operand("B").nbytes(op.dims) == 18   # 35 nibbles -> 18 bytes


@pytest.mark.parametrize("bad", [
    lambda: gemm_op("g", 0, 1, 1),
    lambda: Op("x", "gemm", "mk,kn", {"m": 1}, ()),
    lambda: Operand("a", "scratch", ("m",)),
    lambda: Operand("a", "weight", ("m",), bits=0),
    lambda: Op("x", "elementwise", "m->m", {"m": 2}, (Operand("a", "activation", ("m",)),)),
    lambda: gemm_op("g", 1, 1, 1, count=0),
    lambda: conv_op("c", 2, 2, 3, 3, 1, 1),
])
def test_malformed_ops_are_workload_errors(bad):
    with pytest.raises(WorkloadError):
        bad()


def test_ops_are_hashable_and_equal_by_value():
    assert gemm_op("g", 2, 3, 4) == gemm_op("g", 2, 3, 4)
    assert len({gemm_op("g", 2, 3, 4), gemm_op("g", 2, 3, 4), gemm_op("g", 2, 3, 5)}) == 2


def test_graph_order_deps_and_errors():
    g = Graph("w")
    a = g.add(gemm_op("a", 2, 2, 2))
    g.add(gemm_op("b", 2, 2, 2, count=3), [a])
    g.add(gemm_op("c", 2, 2, 2, count=3), ["b"])
    g.add(gemm_op("d", 2, 2, 2), ["c"])
    assert [o.name for o in g] == ["a", "b", "c", "d"] and g.deps("c") == ["b"] and g["d"].name == "d"
    assert g.total_flops == 16 * (1 + 3 + 3 + 1)
    with pytest.raises(WorkloadError, match="duplicate"):
        g.add(gemm_op("a", 1, 1, 1))
    with pytest.raises(WorkloadError, match="unknown op"):
        g.add(gemm_op("e", 1, 1, 1), ["zz"])
    x = g.expanded()
    assert [o.name for o in x] == ["a", "b.0", "c.0", "b.1", "c.1", "b.2", "c.2", "d"]
    assert all(o.count == 1 for o in x) and x.total_flops == g.total_flops
    assert x.deps("b.1") == ["c.0"] and x.deps("c.2") == ["b.2"] and x.deps("d") == ["c.2"]
    assert x["b.2"].layer == "2"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=4, max_size=4))
def test_as_gemm_macs_equal_iteration_space(sizes):
    b, m, n, k = sizes
    op = Op("bmm", "gemm", "bmk,bkn->bmn", dict(b=b, m=m, n=n, k=k),
            (Operand("a", "activation", ("b", "m", "k")), Operand("w", "weight", ("b", "k", "n")),
             Operand("c", "output", ("b", "m", "n"))))
    gs = op.as_gemm()
    assert (gs.M, gs.N, gs.K, gs.batch) == (m, n, k, b)
    assert gs.macs == op.macs == op.flops // 2
