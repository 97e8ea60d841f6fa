"""ONNX import: small graphs built in code (no files shipped), lowered to IR ops with shapes inferred;
unsupported nodes and dynamic dims fail naming the node; --skip-unsupported lists them."""
import json
import math

import pytest

onnx = pytest.importorskip("onnx", reason="ONNX import is the optional onnx extra")
from onnx import TensorProto, helper  # noqa: E402

from archsim.cli import main  # noqa: E402
from archsim.errors import WorkloadError  # noqa: E402
from dataflows.lowering.onnx_graph import lower_onnx  # noqa: E402
from dataflows.vision import build_network  # noqa: E402


def _init(name, shape):
    """A zero initializer: the importer reads its shape only."""
    return helper.make_tensor(name, TensorProto.FLOAT, shape, [0.0] * math.prod(shape))


def _model(nodes, inits, inp=("x", [1, 3, 32, 32]), out=("y", None), extra_inputs=()):
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info(inp[0], TensorProto.FLOAT, inp[1]),
                                       *extra_inputs],
                          [helper.make_tensor_value_info(out[0], TensorProto.FLOAT, out[1])],
                          [_init(n, s) for n, s in inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _mobile_block():
    """conv 3x3/2 -> relu -> depthwise 3x3 -> pointwise 1x1 -> add -> global pool -> flatten -> gemm."""
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="stem", strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "wd"], ["d1"], name="dw", group=16, pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["d1", "wp"], ["p1"], name="pw"),
             helper.make_node("Add", ["p1", "p1"], ["a1"], name="add"),
             helper.make_node("GlobalAveragePool", ["a1"], ["g1"], name="gap"),
             helper.make_node("Flatten", ["g1"], ["f1"], name="flat"),
             helper.make_node("Gemm", ["f1", "wf", "bf"], ["y"], name="fc", transB=1)]
    inits = [("w1", [16, 3, 3, 3]), ("wd", [16, 1, 3, 3]), ("wp", [32, 16, 1, 1]), ("wf", [10, 32]), ("bf", [10])]
    return _model(nodes, inits)


def test_conv_net_lowers_with_shapes_inferred():
    g = lower_onnx(_mobile_block())
    ops = {op.name: op for op in g}
    assert list(ops) == ["stem", "relu1", "dw", "pw", "add", "gap", "fc"]
    stem, dw, pw, fc = ops["stem"], ops["dw"], ops["pw"], ops["fc"]
    assert (stem.dims["p"], stem.dims["q"], stem.macs) == (16, 16, 16 * 16 * 27 * 16)
    assert "depthwise" in dw.tags and dw.as_gemm().batch == 16 and dw.macs == 16 * 16 * 9 * 16
    assert pw.macs == 16 * 16 * 16 * 32 and fc.macs == 32 * 10
    assert g.deps("pw") == ["dw"] and g.deps("fc") == ["gap"]      # Flatten is layout only
    assert ops["gap"].kind == "pool" and ops["relu1"].kind == "activation"


def test_same_macs_as_the_builder_for_a_mobilenet_layer():
    """A 3x3 depthwise conv of 32 channels at 112x112, as ONNX and as the bundled builder see it."""
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="dw", group=32, pads=[1, 1, 1, 1])
    g = lower_onnx(_model([node], [("w", [32, 1, 3, 3])], inp=("x", [1, 32, 112, 112])))
    net = build_network("mobilenet-v1")
    assert g.ops[0].macs == net.layers[1].macs == 3_612_672


def test_attention_subgraph_lowers_to_batched_gemms_and_softmax():
    q = helper.make_tensor_value_info("k", TensorProto.FLOAT, [2, 4, 64, 16])
    v = helper.make_tensor_value_info("v", TensorProto.FLOAT, [2, 4, 64, 16])
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], name="kt", perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["q", "kt"], ["s"], name="qk"),
             helper.make_node("Softmax", ["s"], ["p"], name="softmax", axis=-1),
             helper.make_node("MatMul", ["p", "v"], ["y"], name="av")]
    g = lower_onnx(_model(nodes, [], inp=("q", [2, 4, 64, 16]), extra_inputs=(q, v)))
    qk, sm, av = g.ops
    assert (qk.as_gemm().batch, qk.as_gemm().M, qk.as_gemm().N, qk.as_gemm().K) == (8, 64, 64, 16)
    assert qk.operand("B").role == "activation" and sm.kind == "softmax" and av.macs == 8 * 64 * 16 * 64


def test_dynamic_dims_need_values_and_bad_input_is_named(tmp_path):
    node = helper.make_node("Relu", ["x"], ["y"], name="r")
    m = _model([node], [], inp=("x", ["batch", 8]))
    with pytest.raises(WorkloadError, match=r"dynamic shape without a value: input 'x' dim 0 \(batch\)"):
        lower_onnx(m)
    assert lower_onnx(_model([node], [], inp=("x", ["batch", 8])), dims={"batch": 4}).ops[0].flops == 32
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a protobuf at all \x00\xff")
    with pytest.raises(WorkloadError, match="bad.onnx: not a readable ONNX model"):
        lower_onnx(bad)


def test_unsupported_nodes_fail_or_are_skipped(tmp_path, capsys):
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("TopK", ["r", "kk"], ["y", "idx"], name="my_topk", axis=-1)]
    m = _model(nodes, [], inp=("x", [1, 16]), extra_inputs=(), out=("y", None))
    m.graph.initializer.append(helper.make_tensor("kk", TensorProto.INT64, [1], [4]))
    with pytest.raises(WorkloadError, match=r"1 node\(s\) cannot be lowered: my_topk \(TopK\)"):
        lower_onnx(m)
    assert lower_onnx(m, skip_unsupported=True).meta["onnx_skipped"] == ["my_topk (TopK)"]
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    assert main(["run", "--onnx", str(path)]) == 2
    assert "my_topk (TopK)" in capsys.readouterr().err
    assert main(["run", "--onnx", str(path), "--skip-unsupported"]) == 0
    assert "skipped 1 ONNX node(s) that do not lower: my_topk (TopK)" in capsys.readouterr().out


def test_cli_runs_an_onnx_model(tmp_path, capsys):
    path = tmp_path / "net.onnx"
    onnx.save(_mobile_block(), str(path))
    assert main(["run", "--onnx", str(path), "--json", "-"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["totals"]["macs"] == 16 * 16 * 27 * 16 + 16 * 16 * 9 * 16 + 16 * 16 * 16 * 32 + 320
    assert rep["onnx_skipped"] == [] and {op["name"] for op in rep["ops"]} >= {"stem", "dw", "pw", "fc"}


def test_auto_pad_same_and_asymmetric_pads():
    up = helper.make_node("Conv", ["x", "w"], ["y"], name="same", auto_pad="SAME_UPPER", strides=[2, 2])
    op = lower_onnx(_model([up], [("w", [8, 3, 3, 3])], inp=("x", [1, 3, 224, 224]))).ops[0]
    assert (op.dims["p"], op.dims["q"]) == (112, 112) and op.macs == 112 * 112 * 27 * 8
    asym = helper.make_node("Conv", ["x", "w"], ["y"], name="asym", pads=[0, 0, 1, 1], strides=[2, 2])
    op = lower_onnx(_model([asym], [("w", [8, 3, 3, 3])], inp=("x", [1, 3, 224, 224]))).ops[0]
    assert (op.dims["p"], op.dims["q"]) == (112, 112)


def test_mobilenet_v1_in_onnx_has_the_bundled_networks_macs():
    """MobileNetV1 written as an ONNX graph (NCHW, explicit pads) lowers to the MACs of the bundled
    builder (NHWC, 'same' padding) and of the paper (568.7 M)."""
    from dataflows.vision.mobilenet import V1_BLOCKS

    nodes, inits, c, x = [], [], 32, "x"
    nodes.append(helper.make_node("Conv", [x, "w0"], ["t0"], name="c0", strides=[2, 2], pads=[1, 1, 1, 1]))
    inits.append(("w0", [32, 3, 3, 3]))
    x = "t0"
    for i, (f, s) in enumerate(V1_BLOCKS, 1):
        nodes.append(helper.make_node("Conv", [x, f"dw{i}"], [f"d{i}"], name=f"dw{i}", group=c,
                                      strides=[s, s], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Conv", [f"d{i}", f"pw{i}"], [f"p{i}"], name=f"pw{i}"))
        inits += [(f"dw{i}", [c, 1, 3, 3]), (f"pw{i}", [f, c, 1, 1])]
        c, x = f, f"p{i}"
    nodes += [helper.make_node("GlobalAveragePool", [x], ["g"], name="gap"),
              helper.make_node("Flatten", ["g"], ["fl"], name="flat"),
              helper.make_node("Gemm", ["fl", "wf"], ["y"], name="fc", transB=1)]
    inits.append(("wf", [1000, 1024]))
    g = lower_onnx(_model(nodes, inits, inp=("x", [1, 3, 224, 224])))
    assert sum(op.macs for op in g) == build_network("mobilenet-v1").macs == 568_740_352
    assert sum("depthwise" in op.tags for op in g) == 13
