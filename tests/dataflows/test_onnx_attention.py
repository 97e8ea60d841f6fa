"""ONNX attention, built in code as exporters write it: subgraphs (HF BERT, GPT-2, torch SDPA with GQA,
nn.MultiheadAttention's bmm) and attention nodes (ONNX Attention, com.microsoft Attention,
MultiHeadAttention, GroupQueryAttention) lower to one AttentionOp when fused, to the same parts when not."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx", reason="ONNX import is the optional onnx extra")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from archsim.cli import main  # noqa: E402
from archsim.errors import WorkloadError  # noqa: E402
from dataflows.ir import AttentionOp  # noqa: E402
from dataflows.lowering.onnx_graph import lower_onnx  # noqa: E402

F32 = TensorProto.FLOAT


def _vi(name, shape, dtype=F32):
    return helper.make_tensor_value_info(name, dtype, shape)


def _const(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def _model(nodes, inputs, inits=(), opset=17, ms=False, out="y"):
    g = helper.make_graph(nodes, "attn", [_vi(n, s) for n, s in inputs], [_vi(out, None)], list(inits))
    ops = [helper.make_opsetid("", opset)] + ([helper.make_opsetid("com.microsoft", 1)] if ms else [])
    return helper.make_model(g, opset_imports=ops)


def _n(op, ins, outs, name, **kw):
    return helper.make_node(op, ins, outs, name=name, **kw)


def _heads(x, B, S, H, E, prefix, perm=(0, 2, 1, 3)):
    """x (B, S, H*E) -> Reshape (B, S, H, E) -> Transpose: HF's transpose_for_scores."""
    return ([_n("Reshape", [x, f"{prefix}_shape"], [f"{prefix}_r"], f"{prefix}/Reshape"),
             _n("Transpose", [f"{prefix}_r"], [f"{prefix}_t"], f"{prefix}/Transpose", perm=list(perm))],
            [_const(f"{prefix}_shape", np.array([B, S, H, E], np.int64))])


def bert(B=2, S=16, H=4, E=16):
    """HF BERT self-attention: projections, transpose_for_scores, /sqrt(E), + extended mask, softmax,
    dropout, context, merge heads, output projection."""
    D = H * E
    nodes, inits = [], [_const(f"w{c}", np.zeros((D, D), np.float32)) for c in "qkvo"]
    for c in "qkv":
        nodes.append(_n("MatMul", ["x", f"w{c}"], [c], f"/self/{c}/MatMul"))
        more, consts = _heads(c, B, S, H, E, f"/self/{c}", (0, 2, 3, 1) if c == "k" else (0, 2, 1, 3))
        nodes += more
        inits += consts
    nodes += [_n("MatMul", ["/self/q_t", "/self/k_t"], ["s"], "/self/MatMul"),
              _n("Div", ["s", "sqrt_e"], ["sd"], "/self/Div"),
              _n("Add", ["sd", "mask"], ["sm"], "/self/Add"),
              _n("Softmax", ["sm"], ["p"], "/self/Softmax", axis=-1),
              _n("Dropout", ["p"], ["pd"], "/self/dropout/Dropout"),
              _n("MatMul", ["pd", "/self/v_t"], ["c"], "/self/MatMul_1"),
              _n("Transpose", ["c"], ["ct"], "/self/Transpose_3", perm=[0, 2, 1, 3]),
              _n("Reshape", ["ct", "merge"], ["cm"], "/self/Reshape_3"),
              _n("MatMul", ["cm", "wo"], ["y"], "/output/MatMul")]
    inits += [_const("sqrt_e", np.float32(math.sqrt(E))), _const("merge", np.array([B, S, D], np.int64))]
    return _model(nodes, [("x", [B, S, D]), ("mask", [B, 1, 1, S])], inits)


def gpt2(B=1, S=32, H=2, E=8, n_pos=32):
    """HF GPT-2 eager attention on Q, K, V given in heads: Div, Where(causal bias, scores, min), softmax, A.V."""
    bias = np.tril(np.ones((n_pos, n_pos), bool)).reshape(1, 1, n_pos, n_pos)
    nodes = [_n("Transpose", ["k"], ["kt"], "h.0/attn/Transpose", perm=[0, 1, 3, 2]),
             _n("MatMul", ["q", "kt"], ["s"], "h.0/attn/MatMul"),
             _n("Div", ["s", "scale"], ["sd"], "h.0/attn/Div"),
             _n("Where", ["bias", "sd", "minval"], ["sw"], "h.0/attn/Where"),
             _n("Softmax", ["sw"], ["p"], "h.0/attn/Softmax", axis=3),
             _n("MatMul", ["p", "v"], ["y"], "h.0/attn/MatMul_1")]
    inits = [_const("bias", bias), _const("scale", np.float32(math.sqrt(E))), _const("minval", np.float32(-3e38))]
    return _model(nodes, [(t, [B, H, S, E]) for t in "qkv"], inits)


def sdpa(B=1, H=8, kvh=2, P=16, M=16, E=32, F=32, causal=True):
    """torch scaled_dot_product_attention exported at opset 14+ (is_causal: a Trilu mask), after Llama's
    repeat_kv: K, V (B, kv, M, .) -> Unsqueeze -> Expand (B, kv, H/kv, M, .) -> Reshape (B, H, M, .)."""
    rep = H // kvh
    nodes, inits = [], [_const("ax2", np.array([2], np.int64)), _const("sq", np.float32(E ** -0.25)),
                        _const("zero", np.float32(0)), _const("ninf", np.float32(-np.inf)),
                        _const("ls", np.array([P, M], np.int64))]
    for c, d in (("k", E), ("v", F)):
        inits += [_const(f"{c}_rep", np.array([B, kvh, rep, M, d], np.int64)),
                  _const(f"{c}_heads", np.array([B, H, M, d], np.int64))]
        nodes += [_n("Unsqueeze", [c, "ax2"], [f"{c}u"], f"/attn/{c}/Unsqueeze"),
                  _n("Expand", [f"{c}u", f"{c}_rep"], [f"{c}e"], f"/attn/{c}/Expand"),
                  _n("Reshape", [f"{c}e", f"{c}_heads"], [f"{c}h"], f"/attn/{c}/Reshape")]
    nodes += [_n("Mul", ["q", "sq"], ["qs"], "/attn/Mul"),
              _n("Transpose", ["kh"], ["kt"], "/attn/Transpose", perm=[0, 1, 3, 2]),
              _n("Mul", ["kt", "sq"], ["kts"], "/attn/Mul_1"),
              _n("MatMul", ["qs", "kts"], ["s"], "/attn/MatMul")]
    if causal:
        nodes += [_n("ConstantOfShape", ["ls"], ["ones"], "/attn/ConstantOfShape",
                     value=helper.make_tensor("one", F32, [1], [1.0])),
                  _n("Trilu", ["ones"], ["tri"], "/attn/Trilu", upper=0),
                  _n("Cast", ["tri"], ["trib"], "/attn/Cast", to=TensorProto.BOOL),
                  _n("Where", ["trib", "zero", "ninf"], ["bias"], "/attn/Where"),
                  _n("Add", ["s", "bias"], ["sb"], "/attn/Add")]
    nodes += [_n("Softmax", ["sb" if causal else "s"], ["p"], "/attn/Softmax", axis=-1),
              _n("MatMul", ["p", "vh"], ["y"], "/attn/MatMul_1")]
    return _model(nodes, [("q", [B, H, P, E]), ("k", [B, kvh, M, E]), ("v", [B, kvh, M, F])], inits)


def llama_eager(B=2, S=12, H=8, kvh=2, E=16):
    """HF Llama eager attention as torch.onnx writes it: shapes computed at run time (Shape, Gather,
    Concat: ONNX data propagation resolves them), repeat_kv as Unsqueeze -> Expand -> Reshape, the
    causal mask from Trilu(upper) of a full matrix of the dtype's minimum, scores upcast around Softmax."""
    rep = H // kvh
    inits = [_const(f"w{c}", np.zeros((H * E, n * E), np.float32)) for c, n in (("q", H), ("k", kvh), ("v", kvh))]
    inits += [_const("i0", np.array([0], np.int64)), _const("ax2", np.array([2], np.int64)),
              _const("scale", np.float32(E ** -0.5)), _const("ss", np.array([S, S], np.int64)),
              _const("one", np.array([1], np.int64))]
    nodes = [_n("Shape", ["x"], ["xs"], "/Shape"), _n("Gather", ["xs", "i0"], ["b"], "/Gather", axis=0)]

    def dyn(name, rest):
        inits.append(_const(f"{name}_rest", np.array(rest, np.int64)))
        nodes.append(_n("Concat", ["b", f"{name}_rest"], [name], f"/{name}/Concat", axis=0))
        return name

    for c, n in (("q", H), ("k", kvh), ("v", kvh)):
        nodes += [_n("MatMul", ["x", f"w{c}"], [c], f"/attn/{c}_proj/MatMul"),
                  _n("Reshape", [c, dyn(f"{c}_shape", [S, n, E])], [f"{c}r"], f"/attn/{c}/Reshape"),
                  _n("Transpose", [f"{c}r"], [f"{c}t"], f"/attn/{c}/Transpose", perm=[0, 2, 1, 3])]
    for c in "kv":
        nodes += [_n("Unsqueeze", [f"{c}t", "ax2"], [f"{c}u"], f"/attn/{c}/Unsqueeze"),
                  _n("Expand", [f"{c}u", dyn(f"{c}_rep", [kvh, rep, S, E])], [f"{c}e"], f"/attn/{c}/Expand"),
                  _n("Reshape", [f"{c}e", dyn(f"{c}_heads", [H, S, E])], [f"{c}h"], f"/attn/{c}/Reshape_1")]
    nodes += [_n("Transpose", ["kh"], ["kT"], "/attn/Transpose", perm=[0, 1, 3, 2]),
              _n("MatMul", ["qt", "kT"], ["s"], "/attn/MatMul"),
              _n("Mul", ["s", "scale"], ["s2"], "/attn/Mul"),
              _n("ConstantOfShape", ["ss"], ["full"], "/mask/ConstantOfShape",
                 value=helper.make_tensor("min", F32, [1], [-3.4e38])),
              _n("Trilu", ["full", "one"], ["tri"], "/mask/Trilu", upper=1),
              _n("Add", ["s2", "tri"], ["s3"], "/attn/Add"),
              _n("Cast", ["s3"], ["s4"], "/attn/Cast", to=F32),
              _n("Softmax", ["s4"], ["p"], "/attn/Softmax", axis=-1),
              _n("Cast", ["p"], ["p2"], "/attn/Cast_1", to=F32),
              _n("MatMul", ["p2", "vh"], ["y"], "/attn/MatMul_1")]
    return _model(nodes, [("x", [B, S, H * E])], inits)


def mha_bmm(L=10, N=3, H=4, E=8, S=12):
    """nn.MultiheadAttention's bmm path: (L, N, H*E) -> view (L, N*H, E) -> transpose; (N*H, L, S) scores."""
    nodes, inits = [], [_const("scale", np.float32(E ** -0.5))]
    for c, n in (("q", L), ("k", S), ("v", S)):
        inits.append(_const(f"{c}_shape", np.array([n, N * H, E], np.int64)))
        nodes += [_n("Reshape", [c, f"{c}_shape"], [f"{c}r"], f"{c}_view"),
                  _n("Transpose", [f"{c}r"], [f"{c}t"], f"{c}_tr", perm=[1, 0, 2])]
    nodes += [_n("Mul", ["qt", "scale"], ["qs"], "q_scaled"),
              _n("Transpose", ["kt"], ["ktt"], "k_T", perm=[0, 2, 1]),
              _n("MatMul", ["qs", "ktt"], ["s"], "bmm"),
              _n("Softmax", ["s"], ["p"], "softmax", axis=-1),
              _n("MatMul", ["p", "vt"], ["y"], "bmm_1")]
    return _model(nodes, [("q", [L, N, H * E]), ("k", [S, N, H * E]), ("v", [S, N, H * E])], inits)


def the_attention(graph):
    ops = [op for op in graph if isinstance(op, AttentionOp)]
    assert len(ops) == 1
    return ops[0]


@pytest.mark.parametrize("build, shape, name", [
    (bert, dict(B=2, H=4, kv_heads=4, P=16, M=16, E=16, F=16, causal=False), "/self/attention"),
    (gpt2, dict(B=1, H=2, kv_heads=2, P=32, M=32, E=8, F=8, causal=True), "h.0/attn/attention"),
    (sdpa, dict(B=1, H=8, kv_heads=2, P=16, M=16, E=32, F=32, causal=True), "/attn/attention"),
    (mha_bmm, dict(B=3, H=4, kv_heads=4, P=10, M=12, E=8, F=8, causal=False), "attention_1"),
    (llama_eager, dict(B=2, H=8, kv_heads=2, P=12, M=12, E=16, F=16, causal=True), "/attn/attention"),
])
def test_exported_subgraphs_fuse_with_their_shape(build, shape, name):
    g = lower_onnx(build(), fused=True)
    op = the_attention(g)
    assert op.shape == shape and op.name == name and g.meta["onnx_unfused"] == []
    assert not any(o.kind == "softmax" for o in g)          # the softmax, scale and mask went into the op


@pytest.mark.parametrize("build", [bert, gpt2, mha_bmm])
def test_unfused_lowering_is_the_fused_ops_parts(build):
    """Not fused, the graph keeps its MatMuls and Softmax, and they are the fused op's parts in MACs and bytes."""
    fused = the_attention(lower_onnx(build(), fused=True))
    ops = list(lower_onnx(build()))
    assert not any(isinstance(o, AttentionOp) for o in ops)
    sm = next(i for i, o in enumerate(ops) if o.kind == "softmax")
    qk = max(i for i, o in enumerate(ops[:sm]) if o.kind == "gemm")
    av = sm + next(i for i, o in enumerate(ops[sm:]) if o.kind == "gemm")
    for part, mine in zip(fused.parts, (ops[qk], ops[sm], ops[av])):
        assert (part.macs, part.flops, part.bytes) == (mine.macs, mine.flops, mine.bytes), part.name


def test_gqa_fused_reads_k_and_v_once_per_kv_head():
    """GQA: the same MACs as the broadcast MatMuls; K and V are read at kv_heads, not at H."""
    fused = the_attention(lower_onnx(sdpa(), fused=True))
    ops = [o for o in lower_onnx(sdpa()) if o.kind == "gemm"]
    assert fused.macs == sum(o.macs for o in ops) == 2 * 8 * 16 * 16 * 32
    kv_at_h, kv_at_kvh = 8 * 16 * 32, 2 * 16 * 32
    assert ops[0].bytes - fused.parts[0].bytes == kv_at_h - kv_at_kvh


def test_a_softmax_read_elsewhere_stays_unfused_and_is_listed():
    m = bert()
    m.graph.output.append(_vi("p", None))                # the probabilities are a model output
    g = lower_onnx(m, fused=True)
    assert not any(isinstance(o, AttentionOp) for o in g)
    assert g.meta["onnx_unfused"] == ["/self/Softmax (its output is not read by one MatMul(., V) alone)"]
    assert [o.name for o in g] == [o.name for o in lower_onnx(bert())]


# ---- attention nodes -----------------------------------------------------------------------------
def onnx_attention_3d():
    node = _n("Attention", ["q", "k", "v"], ["y"], "attn0", q_num_heads=8, kv_num_heads=2, is_causal=1)
    return _model([node], [("q", [2, 16, 8 * 32]), ("k", [2, 16, 2 * 32]), ("v", [2, 16, 2 * 24])], opset=23)


def onnx_attention_4d_past():
    node = _n("Attention", ["q", "k", "v", "", "pk", "pv"], ["y", "present_k", "present_v"], "attn0")
    ins = [("q", [1, 4, 1, 16]), ("k", [1, 4, 1, 16]), ("v", [1, 4, 1, 16]), ("pk", [1, 4, 63, 16]),
           ("pv", [1, 4, 63, 16])]
    return _model([node], ins, opset=23)


def ms_attention(**attrs):
    """com.microsoft Attention (packed QKV projection inside), then a MatMul that needs its output shape."""
    attrs = {"num_heads": 4, "unidirectional": 1, **attrs}
    nodes = [_n("Attention", ["x", "wqkv", "b"], ["a"], "ms_attn", domain="com.microsoft", **attrs),
             _n("MatMul", ["a", "wo"], ["y"], "o_proj")]
    inits = [_const("wqkv", np.zeros((64, 192), np.float32)), _const("b", np.zeros(192, np.float32)),
             _const("wo", np.zeros((64, 64), np.float32))]
    return _model(nodes, [("x", [2, 16, 64])], inits, ms=True)


def ms_mha():
    node = _n("MultiHeadAttention", ["q", "k", "v"], ["y"], "mha", domain="com.microsoft", num_heads=4)
    return _model([node], [("q", [2, 10, 64]), ("k", [2, 20, 64]), ("v", [2, 20, 32])], ms=True)


def ms_gqa(**attrs):
    attrs = {"num_heads": 8, "kv_num_heads": 2, **attrs}
    node = _n("GroupQueryAttention", ["q", "k", "v", "pk", "pv"], ["y", "present_k", "present_v"], "gqa",
              domain="com.microsoft", **attrs)
    ins = [("q", [1, 8, 256]), ("k", [1, 8, 64]), ("v", [1, 8, 64]), ("pk", [1, 2, 24, 32]), ("pv", [1, 2, 24, 32])]
    return _model([node], ins, ms=True)


@pytest.mark.parametrize("build, shape", [
    (onnx_attention_3d, dict(B=2, H=8, kv_heads=2, P=16, M=16, E=32, F=24, causal=True)),
    (onnx_attention_4d_past, dict(B=1, H=4, kv_heads=4, P=1, M=64, E=16, F=16, causal=False)),
    (ms_attention, dict(B=2, H=4, kv_heads=4, P=16, M=16, E=16, F=16, causal=True)),
    (ms_mha, dict(B=2, H=4, kv_heads=4, P=10, M=20, E=16, F=8, causal=False)),
    (ms_gqa, dict(B=1, H=8, kv_heads=2, P=8, M=32, E=32, F=32, causal=True)),
])
def test_attention_nodes_lower_to_the_fused_op_or_its_parts(build, shape):
    fused = lower_onnx(build(), fused=True)
    op = the_attention(fused)
    assert op.shape == shape
    parts = [o for o in lower_onnx(build()) if o.name.startswith(op.name + "/") and o.name != op.name + "/qkv"]
    assert [p.name for p in parts] == [f"{op.name}/{p.name}" for p in op.parts]
    assert [(p.macs, p.flops, p.bytes) for p in parts] == [(p.macs, p.flops, p.bytes) for p in op.parts]


def test_contrib_attention_projects_qkv_first_and_shapes_flow_on():
    ops = {o.name: o for o in lower_onnx(ms_attention(), fused=True)}
    assert list(ops) == ["ms_attn/qkv", "ms_attn", "o_proj"]
    assert ops["ms_attn/qkv"].macs == 2 * 16 * 64 * 192 and ops["o_proj"].macs == 2 * 16 * 64 * 64


@pytest.mark.parametrize("model, match", [
    (lambda: ms_gqa(local_window_size=4), r"node 'gqa' \(com.microsoft.GroupQueryAttention\): local_window_size 4"),
    (lambda: ms_attention(num_heads=0), r"node 'ms_attn' \(com.microsoft.Attention\): needs a positive num_heads"),
    (lambda: ms_attention(qkv_hidden_sizes=[64, 32, 96]), r"node 'ms_attn'.*Q and K hidden sizes differ"),
    (lambda: ms_gqa(num_heads=6, kv_num_heads=4), r"node 'gqa'.*query heads 6 are not a multiple of kv_num_heads 4"),
    (lambda: ms_attention(past_present_share_buffer=1), r"node 'ms_attn'.*past_present_share_buffer"),
])
def test_bad_attention_nodes_are_errors_naming_the_node(model, match):
    with pytest.raises(WorkloadError, match=match):
        lower_onnx(model(), fused=True)


def test_onnx_attention_errors_name_the_node():
    """ONNX's own checks (3-D inputs without head counts) and ours (the scores asked for as an output)."""
    node = _n("Attention", ["q", "k", "v"], ["y"], "attn3")
    m = _model([node], [("q", [2, 16, 64]), ("k", [2, 16, 64]), ("v", [2, 16, 64])], opset=23)
    with pytest.raises(WorkloadError, match=r"node name: attn3\).*q_num_heads"):
        lower_onnx(m)
    node = _n("Attention", ["q", "k", "v"], ["y", "", "", "qk"], "attn4", qk_matmul_output_mode=0)
    m = _model([node], [(t, [1, 2, 8, 16]) for t in "qkv"], opset=23)
    with pytest.raises(WorkloadError, match=r"node 'attn4' \(Attention\): its Q K\^T output"):
        lower_onnx(m, fused=True)


def test_fused_onnx_attention_runs_on_fusemax_end_to_end(tmp_path, capsys):
    path = tmp_path / "gpt2.onnx"
    onnx.save(gpt2(B=1, S=64, H=2, E=64, n_pos=64), str(path))
    assert main(["run", "configs/fusemax/fusemax.yaml", "--onnx", str(path), "--fused-attention",
                 "--json", "-"]) == 0
    fused = json.loads(capsys.readouterr().out)
    assert [(o["name"], o["unit"]) for o in fused["ops"]] == [("h.0/attn/attention", "attn")]
    assert main(["run", "configs/fusemax/fusemax.yaml", "--attention", "B=1,H=2,P=64,M=64,E=64,causal=1",
                 "--json", "-"]) == 0
    by_hand = json.loads(capsys.readouterr().out)           # the same op written on the command line
    assert fused["totals"] == by_hand["totals"]
    assert main(["run", "configs/fusemax/fusemax.yaml", "--onnx", str(path), "--json", "-"]) == 0
    unfused = json.loads(capsys.readouterr().out)
    assert "attn" not in {o["unit"] for o in unfused["ops"]}
    dense = sum(o["macs"] * o["count"] for o in unfused["ops"] if o["kind"] == "gemm")
    assert dense == 2 * 2 * 64 * 64 * 64
    assert fused["totals"]["macs"] == 2 * 2 * (64 * 65 // 2) * 64    # causal: the unit skips the masked half


def test_workload_spec_takes_attention_fused_beside_onnx(tmp_path):
    from archsim.workload import resolve_workload

    path = tmp_path / "bert.onnx"
    onnx.save(bert(), str(path))
    wl = resolve_workload({"onnx": str(path), "attention": "fused"})
    assert sum(isinstance(op, AttentionOp) for op in wl.ops) == 1
    with pytest.raises(WorkloadError, match="attention must be 'unfused' or 'fused', got 'flash'"):
        resolve_workload({"onnx": str(path), "attention": "flash"})


def test_a_classifier_softmax_is_no_attention():
    """Softmax(MatMul(x, W)) as a model output: not attention, so neither fused nor listed; a Softmax at
    opset 11 takes axis 1 by default, so between attention's MatMuls it is not over the keys."""
    nodes = [_n("MatMul", ["x", "w"], ["z"], "fc"), _n("Softmax", ["z"], ["y"], "probs", axis=-1)]
    g = lower_onnx(_model(nodes, [("x", [4, 32])], [_const("w", np.zeros((32, 10), np.float32))]), fused=True)
    assert [o.kind for o in g] == ["gemm", "softmax"] and g.meta["onnx_unfused"] == []
    m = gpt2()
    m.opset_import[0].version = 11
    del m.graph.node[4].attribute[:]
    assert lower_onnx(m, fused=True).meta["onnx_unfused"] == [
        "h.0/attn/Softmax (softmax not over the last axis of a known shape)"]


def test_k_and_v_broadcast_over_the_batch_are_not_gqa():
    """Cross-attention to one memory shared by the batch: K, V (1, H, M, E) expanded to (B, H, M, E)."""
    nodes = [_n("Expand", [c, "bshape"], [f"{c}b"], f"expand_{c}") for c in "kv"]
    nodes += [_n("Transpose", ["kb"], ["kt"], "kt", perm=[0, 1, 3, 2]), _n("MatMul", ["q", "kt"], ["s"], "qk"),
              _n("Softmax", ["s"], ["p"], "sm", axis=-1), _n("MatMul", ["p", "vb"], ["y"], "av")]
    m = _model(nodes, [("q", [3, 4, 5, 8]), ("k", [1, 4, 7, 8]), ("v", [1, 4, 7, 8])],
               [_const("bshape", np.array([3, 4, 7, 8], np.int64))])
    assert the_attention(lower_onnx(m, fused=True)).shape == dict(B=3, H=4, kv_heads=4, P=5, M=7, E=8, F=8,
                                                                  causal=False)


def test_a_mask_from_comparing_index_ranges_is_causal():
    """Recent exporters build the causal mask as key index <= query index over two Range nodes."""
    m = bert(B=1, S=8)
    m.graph.input.pop()                                   # the padding mask input goes; a causal one comes
    nodes = [_n("Range", ["z", "n", "st"], ["idx"], "/mask/Range"),
             _n("Unsqueeze", ["idx", "ax1"], ["qi"], "/mask/Unsqueeze"),
             _n("LessOrEqual", ["idx", "qi"], ["keep"], "/mask/LessOrEqual"),
             _n("Where", ["keep", "zero", "neg"], ["mask"], "/mask/Where")]
    for i, n in enumerate(nodes):
        m.graph.node.insert(i, n)
    m.graph.initializer.extend([_const("z", np.array(0, np.int64)), _const("n", np.array(8, np.int64)),
                                _const("st", np.array(1, np.int64)), _const("ax1", np.array([1], np.int64)),
                                _const("zero", np.float32(0)), _const("neg", np.float32(-1e9))])
    assert the_attention(lower_onnx(m, fused=True)).causal
    m.graph.node[2].input[1] = "n"                         # key index against a length: padding, not causal
    assert not the_attention(lower_onnx(m, fused=True)).causal


def test_contrib_nodes_in_a_chain_get_shapes_layer_after_layer():
    """Shape inference stops at each com.microsoft node; the importer fills in its outputs and infers on."""
    nodes, x = [], "x"
    for i in range(3):
        nodes += [_n("MultiHeadAttention", [x, x, x], [f"a{i}"], f"mha{i}", domain="com.microsoft", num_heads=4),
                  _n("Relu", [f"a{i}"], [f"r{i}"], f"relu{i}")]
        x = f"r{i}"
    nodes[-1].output[0] = "y"
    g = lower_onnx(_model(nodes, [("x", [1, 6, 32])], ms=True), fused=True)
    assert [o.name for o in g] == ["mha0", "relu0", "mha1", "relu1", "mha2", "relu2"]
    assert g["relu2"].flops == 6 * 32 and g.deps("mha2") == ["relu1"]


def test_a_tensor_of_unknown_rank_has_no_shape():
    """After a node shape inference does not know (skipped), its consumers fail naming the tensor."""
    nodes = [_n("Mystery", ["x"], ["g"], "odd", domain="com.microsoft"), _n("Relu", ["g"], ["y"], "relu")]
    with pytest.raises(WorkloadError, match=r"node 'relu' \(Relu\): no static shape for tensor 'g'"):
        lower_onnx(_model(nodes, [("x", [2, 8])], ms=True), skip_unsupported=True)


@settings(max_examples=20, deadline=None)
@given(B=st.integers(1, 3), kvh=st.integers(1, 3), rep=st.integers(1, 3), P=st.integers(1, 9),
       M=st.integers(2, 9), E=st.integers(1, 9), F=st.integers(1, 9), causal=st.booleans())
def test_any_sdpa_shape_fuses_to_itself_and_its_parts_are_the_unfused_ops(B, kvh, rep, P, M, E, F, causal):
    """Whatever the shape, the subgraph and the ONNX Attention node give the op drawn, and the unfused
    MatMuls carry its MACs."""
    shape = dict(B=B, H=kvh * rep, kv_heads=kvh, P=P, M=M, E=E, F=F, causal=causal)
    op = the_attention(lower_onnx(sdpa(B, kvh * rep, kvh, P, M, E, F, causal), fused=True))
    assert op.shape == shape
    assert op.macs == sum(o.macs for o in lower_onnx(sdpa(B, kvh * rep, kvh, P, M, E, F, causal)) if o.kind == "gemm")
    node = _n("Attention", ["q", "k", "v"], ["y"], "a", is_causal=int(causal))
    m = _model([node], [("q", [B, kvh * rep, P, E]), ("k", [B, kvh, M, E]), ("v", [B, kvh, M, F])], opset=23)
    assert the_attention(lower_onnx(m, fused=True)).shape == shape


def test_weights_listed_as_inputs_too_lower_alike():
    """Older exports list every initializer among the graph inputs as well; inference takes weights
    by shape only either way."""
    m = ms_attention()
    m.graph.input.extend([_vi(i.name, list(i.dims)) for i in m.graph.initializer])
    assert [(o.name, o.macs) for o in lower_onnx(m, fused=True)] == \
        [(o.name, o.macs) for o in lower_onnx(ms_attention(), fused=True)]


def ort_bert(layers=2, B=2, S=16, D=64, H=4):
    """What ONNX Runtime's transformer optimizer makes of BERT layers: contrib Attention (QKV packed),
    output MatMul, SkipLayerNormalization, FFN MatMul -> BiasGelu -> MatMul, SkipLayerNormalization."""
    nodes, inits, x = [], [], "x"
    for i in range(layers):
        nodes += [_n("Attention", [x, f"wqkv{i}", f"bqkv{i}"], [f"a{i}"], f"Attention_{i}", domain="com.microsoft",
                     num_heads=H),
                  _n("MatMul", [f"a{i}", f"wo{i}"], [f"o{i}"], f"MatMul_o{i}"),
                  _n("SkipLayerNormalization", [f"o{i}", x, f"g{i}", f"b{i}"], [f"n{i}"], f"SkipLN_{i}",
                     domain="com.microsoft"),
                  _n("MatMul", [f"n{i}", f"w1{i}"], [f"h{i}"], f"MatMul_ff1{i}"),
                  _n("BiasGelu", [f"h{i}", f"b1{i}"], [f"gl{i}"], f"BiasGelu_{i}", domain="com.microsoft"),
                  _n("MatMul", [f"gl{i}", f"w2{i}"], [f"f{i}"], f"MatMul_ff2{i}"),
                  _n("SkipLayerNormalization", [f"f{i}", f"n{i}", f"g{i}", f"b{i}"], [f"x{i}"], f"SkipLN2_{i}",
                     domain="com.microsoft")]
        inits += [_const(n, np.zeros(shape, np.float32)) for n, shape in (
            (f"wqkv{i}", (D, 3 * D)), (f"bqkv{i}", (3 * D,)), (f"wo{i}", (D, D)), (f"g{i}", (D,)), (f"b{i}", (D,)),
            (f"w1{i}", (D, 4 * D)), (f"b1{i}", (4 * D,)), (f"w2{i}", (4 * D, D)))]
        x = f"x{i}"
    nodes[-1].output[0] = "y"
    return _model(nodes, [("x", [B, S, D])], inits, ms=True)


def test_an_onnx_runtime_optimized_bert_lowers_through_its_contrib_nodes():
    """Shapes flow through Attention, SkipLayerNormalization and BiasGelu (contrib nodes ONNX inference
    does not know); fused, each layer's attention is one op, the FFN and norms as the standard ops lower."""
    fused = {o.name: o for o in lower_onnx(ort_bert(), fused=True)}
    assert [o.shape for o in fused.values() if isinstance(o, AttentionOp)] == \
        [dict(B=2, H=4, kv_heads=4, P=16, M=16, E=16, F=16, causal=False)] * 2
    assert fused["MatMul_ff21"].macs == 2 * 16 * 256 * 64 and fused["BiasGelu_1"].kind == "activation"
    assert fused["SkipLN2_1"].kind == "norm" and fused["SkipLN2_1"].points == 2 * 16 * 64
    unfused = lower_onnx(ort_bert())
    assert sum(o.macs for o in unfused) == sum(o.macs for o in fused.values())
    assert len(unfused) == len(fused) + 2 * 2                       # qk, softmax, av for each fused op
