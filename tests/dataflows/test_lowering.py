"""Transformer lowering against the analytic formulas (models.md), GenZ's per-op golden and the
published per-layer table, plus phase, GQA, sliding-window and MoE behaviour."""
from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings, strategies as st

from archsim.errors import WorkloadError
from dataflows.lowering import expert_loads, lower
from dataflows.models import get_model

VALIDATION = Path(__file__).resolve().parents[2] / "validation" / "models"
_spec = importlib.util.spec_from_file_location("validation_models_compare_l", VALIDATION / "compare.py")
REF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REF)
MIB = 1 << 20


def formulas(name: str, B: int, S: int, L: int, b: int, touched: int) -> dict[str, int]:
    """models.md's per-layer formulas, written out independently of the lowering."""
    c = get_model(name)
    d, h, hkv, dh, f, E, k = c.hidden, c.heads, c.kv_heads, c.head_dim, c.ffn, c.experts, c.top_k
    n_mat = 3 if c.gated else 2
    router = 2 * B * S * d * E if E > 1 else 0
    return {
        "qkvo": 2 * (2 * B * S * d * d) + 2 * (2 * B * S * d * hkv * dh),
        "attention": 2 * (2 * B * h * S * L * dh),
        "ffn": n_mat * 2 * B * S * d * f * k + router,
        "weights": b * (2 * d * d + 2 * d * hkv * dh + n_mat * d * f * touched + (d * E if E > 1 else 0)),
        "kv_write": 2 * B * S * hkv * dh * b,
        "kv_read_decode": 2 * B * L * hkv * dh * b,   # the cache after this step's append
        "lm_head": 2 * B * S * d * c.vocab,
    }


def ours(g) -> dict[str, int]:
    ops = {o.name: o for o in g}
    layer = [o for o in g if o.layer == "layer" and o.kind == "gemm"]
    return {
        "qkvo": ops["qkv"].flops + ops["o_proj"].flops,
        "attention": ops["qk"].flops + ops["av"].flops,
        "ffn": sum(o.flops for o in layer if "ffn" in o.tags or o.name == "router"),
        "weights": sum(o.bytes_by_role["weight"] for o in layer),
        "kv_write": ops["kv_write"].bytes_by_role["kv_cache"],
        "kv_read": ops["qk"].bytes_by_role["kv_cache"] + ops["av"].bytes_by_role["kv_cache"],
        "lm_head": ops["lm_head"].flops,
    }


DECODERS = ["gpt2", "opt-1.3b", "llama-2-7b", "llama-3-8b", "mistral-7b", "mixtral-8x7b", "llama-2-70b"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(DECODERS), st.sampled_from(["prefill", "decode"]), st.integers(1, 16),
       st.integers(1, 2048), st.sampled_from([4, 8, 16]))
def test_flops_and_bytes_equal_the_formulas(name, phase, B, n, bits):
    c = get_model(name)
    n = min(n, c.max_pos)
    g = lower(name, phase, batch=B, seq=n if phase == "prefill" else None, kv=n if phase == "decode" else None,
              bits=bits)
    S = n if phase == "prefill" else 1
    L = min(n, c.sliding_window or n)
    touched = sum(1 for v in g.meta.get("expert_loads", [1]) if v)
    f, o = formulas(name, B, S, L, bits // 8 if bits >= 8 else 1, touched), ours(g)
    if bits == 4:   # sub-byte: compare in bits, since bytes round up per tensor
        f = formulas(name, B, S, L, 1, touched)
        assert o["weights"] == pytest.approx(f["weights"] / 2, rel=1e-6)
    else:
        assert o["weights"] == f["weights"] and o["kv_write"] == f["kv_write"]
        assert o["kv_read"] == (f["kv_read_decode"] if phase == "decode" else 0)
    for key in ("qkvo", "attention", "ffn", "lm_head"):
        assert o[key] == f[key], key


GENZ = REF.read_csv("genz_llama2_7b_prefill.csv")


@pytest.mark.parametrize("row", GENZ, ids=[r["genz_op"] for r in GENZ])
def test_genz_per_op_golden_llama2_7b_prefill(row):
    op = lower("llama-2-7b", "prefill", seq=1024)[row["our_ops"]]
    got = op.flops if row["quantity"] == "mflop" else op.bytes_by_role["weight"]
    want = Decimal(row["value"]) * (10 ** 6 if row["quantity"] == "mflop" else MIB)
    assert got == want


TABLE = REF.read_csv("per_layer.csv")
CHECKED = ["qkvo_gflop", "attention_gflop", "ffn_gflop", "total_gflop", "weights_mib", "kv_read_mib",
           "kv_bytes_per_token_layer"]


@pytest.mark.parametrize("row", TABLE, ids=[f"{r['model']}-{r['phase']}" for r in TABLE])
def test_per_layer_table_to_its_printed_digits(row):
    got = REF.layer_summary(row["model"], row["phase"], int(row["tokens"]), int(row["context"]))
    for key in CHECKED:
        text = row[key]
        if not text:
            continue
        places = len(text.split(".")[1]) if "." in text else 0
        assert round(got[key], places) == pytest.approx(float(text), abs=1e-9), key


def test_decode_reads_kv_from_the_cache_and_prefill_from_activations():
    dec = lower("llama-3-8b", "decode", batch=2, kv=300)
    pre = lower("llama-3-8b", "prefill", batch=2, seq=300)
    assert {o.role for o in dec["qk"].operands} == {"activation", "kv_cache", "output"}
    assert pre["qk"].bytes_by_role["kv_cache"] == 0
    w = dec["kv_write"]                                          # the append writes the cache
    assert w.write_bytes == w.bytes_by_role["kv_cache"] == 2 * 2 * 8 * 128 * 2 and w.read_bytes == w.write_bytes
    assert dec["qk"].write_bytes == dec["qk"].bytes_by_role["output"]
    g = dec["qk"].as_gemm()
    assert (g.M, g.N, g.K, g.batch) == (4, 300, 128, 2 * 8)     # GQA group of 4 query heads per KV head


def test_sliding_window_caps_attended_keys():
    g = lower("mistral-7b", "decode", kv=8000)
    assert g.meta["attended"] == 4096 and g.meta["context"] == 8000 and g["qk"].dims["l"] == 4096
    assert lower("llama-3-8b", "decode", kv=8000)["qk"].dims["l"] == 8000


def test_encoder_has_no_kv_cache_and_no_decode():
    g = lower("bert-base", "prefill", seq=128)
    assert "kv_write" not in {o.name for o in g} and g.bytes_by_role()["kv_cache"] == 0
    names = [o.name for o in g if o.layer == "layer"]
    assert names.index("attn_residual") < names.index("attn_norm")           # post-norm
    with pytest.raises(WorkloadError, match="encoder-only"):
        lower("bert-base", "decode", kv=10)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(phase="prefill", batch=0), "batch must be a positive integer"),
    (dict(phase="decode", kv=5000), "exceeds llama-2-7b's maximum of 4096"),
    (dict(phase="prefill", seq=0), "sequence length"),
    (dict(phase="prefill", kv=3), "--kv applies to decode"),
    (dict(phase="decode", seq=4), "one token per step"),
    (dict(phase="train"), "phase must be one of"),
    (dict(bits=0), "bits must be a positive integer"),
])
def test_bad_run_parameters(kwargs, msg):
    with pytest.raises(WorkloadError, match=msg):
        lower("llama-2-7b", **kwargs)


def test_allow_long_lowers_past_max_positions():
    assert lower("llama-2-7b", "decode", kv=5000, allow_long=True).meta["attended"] == 5000


def test_layers_are_one_op_times_count_and_expand_matches():
    g = lower("llama-2-7b", "decode", kv=64)
    x = lower("llama-2-7b", "decode", kv=64, expand=True)
    per_layer = [o for o in g if o.count == 32]
    assert len(x) == len(g) - len(per_layer) + 32 * len(per_layer)
    assert x.total_flops == g.total_flops and x.total_bytes == g.total_bytes
    for graph in (g, x):
        assert nx.is_directed_acyclic_graph(graph.g)
        assert nx.descendants(graph.g, "embed") == set(graph.g) - {"embed"}
    assert [o.name for o in lower("llama-2-7b", "decode", kv=64)] == [o.name for o in g]   # deterministic


def test_moe_loads_follow_batch_and_histogram():
    dec = lower("mixtral-8x7b", "decode", kv=128)
    assert dec.meta["expert_loads"] == [1, 1, 0, 0, 0, 0, 0, 0]
    assert dec["expert_gate_up"].as_gemm().batch == 2                 # two experts, one token each
    h = [4, 0, 3, 0, 1, 0, 0, 0]
    g = lower("mixtral-8x7b", "decode", batch=4, kv=128, expert_histogram=h)
    assert [o.name for o in g if o.name.startswith("expert_gate_up")] == [
        "expert_gate_up.m4", "expert_gate_up.m3", "expert_gate_up.m1"]
    assert g["expert_down.m3"].as_gemm().M == 3
    with pytest.raises(WorkloadError, match="must sum to"):
        lower("mixtral-8x7b", "decode", batch=4, kv=128, expert_histogram=[8, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(WorkloadError, match="imbalance"):
        lower("mixtral-8x7b", "decode", kv=128, moe_imbalance=-1)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 16), st.data(), st.floats(0, 4))
def test_expert_loads_are_feasible_and_skew_orders_them(tokens, experts, data, skew):
    k = data.draw(st.integers(1, experts))
    loads = expert_loads(tokens, experts, k, skew)
    assert sum(loads) == tokens * k and max(loads) <= tokens and min(loads) >= 0
    assert loads == sorted(loads, reverse=True)
    if skew == 0:
        assert max(loads) - min(loads) <= 1
