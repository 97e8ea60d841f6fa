"""ONNX import (the optional `onnx` extra): a model's graph, shapes only, lowered into IR ops.

Shapes come from ONNX shape inference after the symbolic input dims are given values (`dims`).
Lowered: Conv (groups, dilations, strides, pads; depthwise when groups = C = F), Gemm and MatMul
(batched when both sides carry the batch; attention's QK^T and A.V are such MatMuls), pooling
(Max, Average, global, ReduceMean over H and W), element-wise ops and activations, Softmax,
normalisations and Resize. Layout-only nodes (Reshape, Transpose, Concat, Flatten, Slice, ...)
make no op: their consumers read their inputs where they lie. Anything else is listed by node
name: an error, or with `skip_unsupported` a list of skipped nodes in the workload's meta.
No weights are read (initializers give shapes only); the layout is NCHW as ONNX defines it.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from archsim.errors import WorkloadError
from dataflows.ir import Graph, Op, Operand, conv_op, gemm_op

ACTIVATIONS = {"Relu": 1, "LeakyRelu": 2, "PRelu": 2, "Clip": 2, "Sigmoid": 4, "HardSigmoid": 3,
               "HardSwish": 4, "Tanh": 5, "Gelu": 8, "Erf": 5, "Exp": 4, "Log": 4, "Sqrt": 4,
               "Reciprocal": 1, "Neg": 1, "Abs": 1, "Elu": 4, "Selu": 4, "Softplus": 5, "Mish": 8,
               "Swish": 5}
ELEMENTWISE = {"Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 4, "Max": 1, "Min": 1, "Where": 1,
               "Equal": 1, "Greater": 1, "Less": 1, "Sum": 1}
NORMS = {"BatchNormalization": 2, "LayerNormalization": 7, "InstanceNormalization": 7,
         "GroupNormalization": 7, "LpNormalization": 3, "SimplifiedLayerNormalization": 4}
LAYOUT = frozenset({"Reshape", "Transpose", "Concat", "Flatten", "Squeeze", "Unsqueeze", "Identity",
                    "Shape", "Gather", "Constant", "ConstantOfShape", "Dropout", "Slice", "Split",
                    "Cast", "Expand", "Pad", "DepthToSpace", "SpaceToDepth", "Range", "Tile"})
POOLS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
                   "ReduceMax", "ReduceSum", "LpPool"})


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise WorkloadError("ONNX import needs the onnx extra: pip install -e '.[onnx]'") from None
    return onnx


def load_model(source: str | Path | Any) -> Any:
    """An onnx.ModelProto from a path (or one given), or an error naming the file."""
    onnx = _onnx()
    if not isinstance(source, (str, Path)):
        return source
    try:
        return onnx.load(str(source), load_external_data=False)
    except FileNotFoundError:
        raise WorkloadError(f"--onnx {source}: no such file") from None
    except Exception as exc:   # protobuf's DecodeError and friends: not an ONNX model
        raise WorkloadError(f"--onnx {source}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None


def _fix_inputs(model: Any, dims: Mapping[str, int], where: str) -> None:
    """Give every symbolic input dim its value from `dims`; a missing one is an error naming it."""
    inits = {i.name for i in model.graph.initializer}
    missing = []
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        for i, d in enumerate(inp.type.tensor_type.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                continue
            key = d.dim_param or f"{inp.name}[{i}]"
            val = dims.get(key, dims.get(f"{inp.name}[{i}]"))
            if val is None:
                missing.append(f"input {inp.name!r} dim {i} ({key})")
            else:
                d.Clear()
                d.dim_value = int(val)
    if missing:
        raise WorkloadError(f"{where}: dynamic shape without a value: {', '.join(missing)}; give each with "
                            "--onnx-dim NAME=VALUE (e.g. --onnx-dim batch=1)")


def _shapes(model: Any, where: str) -> dict[str, tuple[int, ...]]:
    onnx = _onnx()
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as exc:
        raise WorkloadError(f"{where}: ONNX shape inference failed: {exc}") from None
    g = inferred.graph
    out: dict[str, tuple[int, ...]] = {i.name: tuple(i.dims) for i in g.initializer}
    for vi in (*g.input, *g.value_info, *g.output):
        shp = vi.type.tensor_type.shape
        if vi.type.HasField("tensor_type") and all(d.HasField("dim_value") for d in shp.dim):
            out[vi.name] = tuple(d.dim_value for d in shp.dim)
    return out


def _same_pads(n: int, k: int, stride: int, dilation: int, mode: str) -> tuple[int, int]:
    total = max(0, (-(-n // stride) - 1) * stride + (k - 1) * dilation + 1 - n)
    small, big = total // 2, total - total // 2
    return (small, big) if mode == "SAME_UPPER" else (big, small)


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


class _Lowering:
    def __init__(self, model: Any, shapes: dict, bits: int, where: str) -> None:
        self.shapes, self.bits, self.where = shapes, bits, where
        self.weights = {i.name for i in model.graph.initializer}
        self.graph = Graph(Path(where).stem or "onnx", {"onnx": where})
        self.src: dict[str, tuple[str, ...]] = {}     # tensor -> IR ops whose outputs form it
        self.skipped: list[str] = []

    def shape(self, node: Any, tensor: str) -> tuple[int, ...]:
        try:
            return self.shapes[tensor]
        except KeyError:
            raise WorkloadError(f"{self.where}: node {node.name!r} ({node.op_type}): no static shape for "
                                f"tensor {tensor!r}") from None

    def deps(self, node: Any) -> list[str]:
        return sorted({s for t in node.input if t for s in self.src.get(t, ())})

    def emit(self, node: Any, op: Op) -> None:
        self.graph.add(op, self.deps(node))
        for t in node.output:
            self.src[t] = (op.name,)

    def passthrough(self, node: Any) -> None:
        srcs = tuple(self.deps(node))
        for t in node.output:
            self.src[t] = srcs

    def name(self, node: Any) -> str:
        return node.name or f"{node.op_type}_{len(self.graph)}"

    # ---- op kinds ----------------------------------------------------------------------------
    def conv(self, node: Any) -> Op:
        x, w = self.shape(node, node.input[0]), self.shape(node, node.input[1])
        if len(x) != 4:
            raise WorkloadError(f"{self.where}: node {node.name!r} (Conv): only 2-D convolutions are lowered, "
                                f"input shape {x}")
        N, C, H, W = x
        F, _, R, S = w
        groups = int(_attr(node, "group", 1))
        sh, sw = _attr(node, "strides", [1, 1])
        dh, dw = _attr(node, "dilations", [1, 1])
        if sh != sw or dh != dw:
            raise WorkloadError(f"{self.where}: node {node.name!r} (Conv): strides {sh}x{sw} / dilations "
                                f"{dh}x{dw} differ per axis; archsim's conv takes one of each")
        pt, pl, pb, pr = _attr(node, "pads", [0, 0, 0, 0])
        auto = _attr(node, "auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if auto in ("SAME_UPPER", "SAME_LOWER"):   # output = ceil(input / stride); the odd pad at the end (upper)
            (pt, pb), (pl, pr) = (_same_pads(n, k, sh, dh, auto) for n, k in ((H, R), (W, S)))
        out = self.shape(node, node.output[0])
        if (pt, pl) == (pb, pr) and pt == pl:
            op = conv_op(self.name(node), H, W, R, S, C, F, sh, pt, N, self.bits, groups, dh)
        else:   # asymmetric (or auto) padding: the padded input, unpadded
            op = conv_op(self.name(node), H + pt + pb, W + pl + pr, R, S, C, F, sh, 0, N, self.bits, groups, dh)
        if (op.dims["p"], op.dims["q"]) != tuple(out[2:]):
            raise WorkloadError(f"{self.where}: node {node.name!r} (Conv): output {out[2:]} does not follow from "
                                f"input {H}x{W}, kernel {R}x{S}, stride {sh}, pads {[pt, pl, pb, pr]}")
        return op

    def matmul(self, node: Any) -> Op:
        a, b = self.shape(node, node.input[0]), self.shape(node, node.input[1])
        if node.op_type == "Gemm":
            a = a[::-1] if _attr(node, "transA", 0) else a
            b = b[::-1] if _attr(node, "transB", 0) else b
        if len(a) < 2 or len(b) < 1:
            raise WorkloadError(f"{self.where}: node {node.name!r} ({node.op_type}): operands {a} and {b}")
        b2 = b if len(b) >= 2 else (b[0], 1)
        K, N = b2[-2], b2[-1]
        if a[-1] != K:
            raise WorkloadError(f"{self.where}: node {node.name!r}: inner dims {a} x {b} disagree")
        lead_a, lead_b = math.prod(a[:-2]), math.prod(b2[:-2])
        M = a[-2]
        name = self.name(node)
        b_role = "weight" if node.input[1] in self.weights else "activation"
        if lead_b == 1:                       # shared right operand: fold the batch into M
            op = gemm_op(name, lead_a * M, N, K, bits=self.bits)
            if b_role == "activation":
                op = Op(name, "gemm", op.einsum, dict(op.dims),
                        (op.operands[0], Operand("B", "activation", ("k", "n"), self.bits), op.operands[2]))
            return op
        if lead_a != lead_b:
            raise WorkloadError(f"{self.where}: node {node.name!r}: broadcast batch {a[:-2]} x {b2[:-2]} "
                                "is not lowered")
        return Op(name, "gemm", "bmk,bkn->bmn", {"b": lead_a, "m": M, "n": N, "k": K},
                  (Operand("A", "activation", ("b", "m", "k"), self.bits),
                   Operand("B", b_role, ("b", "k", "n"), self.bits),
                   Operand("C", "output", ("b", "m", "n"), self.bits)))

    def pool(self, node: Any) -> Op:
        x, y = self.shape(node, node.input[0]), self.shape(node, node.output[0])
        window = max(1, math.prod(x) // max(1, math.prod(y)))
        if node.op_type in ("MaxPool", "AveragePool", "LpPool"):
            window = math.prod(_attr(node, "kernel_shape", [1]))
        return self._flat(node, "pool", x, y, window)

    def _flat(self, node: Any, kind: str, x: tuple[int, ...], y: tuple[int, ...], fpp: int) -> Op:
        """An op over the output's elements (`fpp` element operations each) reading `x` and the
        node's other tensor inputs."""
        dims = {"x": max(1, math.prod(y)), "i": max(1, math.prod(x))}
        extra = []
        for j, t in enumerate(node.input[1:], 1):
            if t and t in self.shapes and math.prod(self.shapes[t]) > 0:
                dims[f"e{j}"] = math.prod(self.shapes[t])
                extra.append(Operand(f"in{j}", "weight" if t in self.weights else "activation", (f"e{j}",),
                                     self.bits))
        return Op(self.name(node), kind, "x->x", dims,
                  (Operand("in0", "activation", ("i",), self.bits), *extra,
                   Operand("out", "output", ("x",), self.bits)), flops_per_point=fpp)

    def lower(self, node: Any) -> None:
        t = node.op_type
        if t in LAYOUT:
            self.passthrough(node)
            return
        if t == "Conv":
            self.emit(node, self.conv(node))
        elif t in ("Gemm", "MatMul"):
            self.emit(node, self.matmul(node))
        elif t in POOLS:
            self.emit(node, self.pool(node))
        elif t in ACTIVATIONS or t in ELEMENTWISE or t in NORMS or t in ("Softmax", "Resize", "Upsample"):
            kind = ("activation" if t in ACTIVATIONS else "norm" if t in NORMS else "softmax" if t == "Softmax"
                    else "elementwise")
            x = self.shape(node, node.input[0])
            y = self.shape(node, node.output[0])
            fpp = {**ACTIVATIONS, **ELEMENTWISE, **NORMS, "Softmax": 5}.get(t, 1)
            self.emit(node, self._flat(node, kind, x, y, fpp))
        else:
            self.skipped.append(f"{node.name or '?'} ({t})")
            self.passthrough(node)


def lower_onnx(source: str | Path | Any, dims: Mapping[str, int] | None = None, bits: int = 8,
               skip_unsupported: bool = False) -> Graph:
    """The IR graph of an ONNX model; unsupported nodes fail (naming them) unless `skip_unsupported`,
    which lists them in `graph.meta["onnx_skipped"]`."""
    where = str(source) if isinstance(source, (str, Path)) else "<onnx model>"
    model = load_model(source)
    _fix_inputs(model, dict(dims or {}), where)
    low = _Lowering(model, _shapes(model, where), bits, where)
    for node in model.graph.node:
        low.lower(node)
    if low.skipped and not skip_unsupported:
        raise WorkloadError(f"{where}: {len(low.skipped)} node(s) cannot be lowered: {', '.join(low.skipped)}; "
                            "pass --skip-unsupported to run the rest and list them as skipped")
    if not len(low.graph):
        raise WorkloadError(f"{where}: no node lowers to a compute op")
    low.graph.meta["onnx_skipped"] = low.skipped
    return low.graph
