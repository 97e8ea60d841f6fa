"""ONNX import (the optional `onnx` extra): a model's graph, shapes only, lowered into IR ops.

Shapes come from ONNX shape inference after the symbolic input dims are given values (`dims`),
with data propagation (exporters compute Reshape and Expand shapes with Shape, Gather, Concat);
com.microsoft nodes get theirs from onnx_contrib.py (ONNX Runtime's fused activations and
normalisations lower like the standard ones).
Lowered: Conv (groups, dilations, strides, pads; depthwise when groups = C = F), Gemm and MatMul
(batched when both sides carry the batch; attention's QK^T and A.V are such MatMuls), pooling
(Max, Average, global, ReduceMean over H and W), element-wise ops and activations, Softmax,
normalisations and Resize. Layout-only nodes (Reshape, Transpose, Concat, Flatten, Slice, ...)
make no op: their consumers read their inputs where they lie. Attention (onnx_attention.py): with
`fused`, each exported subgraph MatMul(Q, K^T) -> scale -> mask -> Softmax -> MatMul(., V) becomes
one attention op (dataflows.ir.AttentionOp: GQA, causal); without, it stays the ops above, as
before. Attention nodes (ONNX Attention, com.microsoft Attention / MultiHeadAttention /
GroupQueryAttention) become that op, or its QK^T, softmax and A.V parts when not fused (the
contrib Attention's QKV projection a GEMM before it). Anything else is listed by node name: an
error, or with `skip_unsupported` a list of skipped nodes in the workload's meta.
No weights are read (initializers give shapes only); the layout is NCHW as ONNX defines it.
"""
from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from archsim.errors import WorkloadError
from dataflows.ir import Graph, Op, Operand, attention_op, conv_op, gemm_op
from dataflows.lowering.onnx_attention import (AttentionSpec, GraphIndex, is_attention_node, mask_nodes,
                                               match_subgraph, node_attr, node_spec)
from dataflows.lowering.onnx_contrib import contrib_output_shapes

ACTIVATIONS = {"Relu": 1, "LeakyRelu": 2, "PRelu": 2, "Clip": 2, "Sigmoid": 4, "HardSigmoid": 3,
               "HardSwish": 4, "Tanh": 5, "Gelu": 8, "Erf": 5, "Exp": 4, "Log": 4, "Sqrt": 4,
               "Reciprocal": 1, "Neg": 1, "Abs": 1, "Elu": 4, "Selu": 4, "Softplus": 5, "Mish": 8,
               "Swish": 5, "FastGelu": 8, "BiasGelu": 9, "QuickGelu": 5}
ELEMENTWISE = {"Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 4, "Max": 1, "Min": 1, "Where": 1,
               "Equal": 1, "Greater": 1, "Less": 1, "Sum": 1, "Trilu": 1, "Not": 1, "And": 1, "Or": 1,
               "LessOrEqual": 1, "GreaterOrEqual": 1, "Mod": 1, "BiasAdd": 2, "RotaryEmbedding": 3}
NORMS = {"BatchNormalization": 2, "LayerNormalization": 7, "InstanceNormalization": 7,
         "GroupNormalization": 7, "LpNormalization": 3, "SimplifiedLayerNormalization": 4,
         "SkipLayerNormalization": 8, "SkipSimplifiedLayerNormalization": 5}
LAYOUT = frozenset({"Reshape", "Transpose", "Concat", "Flatten", "Squeeze", "Unsqueeze", "Identity",
                    "Shape", "Gather", "Constant", "ConstantOfShape", "Dropout", "Slice", "Split",
                    "Cast", "CastLike", "Expand", "Pad", "DepthToSpace", "SpaceToDepth", "Range", "Tile"})
POOLS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
                   "ReduceMax", "ReduceSum", "LpPool"})


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise WorkloadError("ONNX import needs the onnx extra: pip install -e '.[onnx]'") from None
    return onnx


def load_model(source: str | Path | Any) -> Any:
    """An onnx.ModelProto from a path (or a copy of one given: the import sets its symbolic dims), or an
    error naming the file."""
    onnx = _onnx()
    if not isinstance(source, (str, Path)):
        model = onnx.ModelProto()
        model.CopyFrom(source)
        return model
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


def _infer(model: Any, where: str) -> tuple[dict[str, tuple[int, ...]], dict[str, int]]:
    """Static shapes and element types of the model's tensors after ONNX shape inference."""
    onnx = _onnx()
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise WorkloadError(f"{where}: ONNX shape inference failed: {exc}") from None
    g = inferred.graph
    out: dict[str, tuple[int, ...]] = {i.name: tuple(i.dims) for i in g.initializer}
    types = {i.name: i.data_type for i in g.initializer}
    for vi in (*g.input, *g.value_info, *g.output):
        shp = vi.type.tensor_type.shape
        types[vi.name] = vi.type.tensor_type.elem_type
        if vi.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in shp.dim):
            out[vi.name] = tuple(d.dim_value for d in shp.dim)
    return out, types


def _shapes_only(model: Any) -> Any:
    """A copy of the model whose weights are inputs of their shape: shape inference serialises the
    model, weights and all, and needs only the small constants (shapes, axes) as values."""
    from onnx import helper

    probe = type(model)()
    probe.CopyFrom(model)
    inputs = {i.name for i in probe.graph.input}
    keep = [i for i in probe.graph.initializer if math.prod(i.dims) <= 64]
    for init in probe.graph.initializer:
        if math.prod(init.dims) > 64 and init.name not in inputs:
            probe.graph.input.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    del probe.graph.initializer[:]
    probe.graph.initializer.extend(keep)
    return probe


def _shapes(model: Any, where: str) -> dict[str, tuple[int, ...]]:
    """Shapes from ONNX shape inference; it does not know com.microsoft attention nodes, so their
    outputs get shapes here and inference runs again (once per node that was in the way)."""
    from onnx import helper

    probe = _shapes_only(model)
    for _ in range(len(model.graph.node) + 1):
        out, types = _infer(probe, where)
        try:
            more = contrib_output_shapes(probe, out)
        except WorkloadError as exc:
            raise WorkloadError(f"{where}: {exc}") from None
        if not more:
            break
        for node in probe.graph.node:
            for t in node.output:
                if t in more:
                    probe.graph.value_info.append(helper.make_tensor_value_info(t, types.get(node.input[0], 1),
                                                                                more[t]))
    return out


def _same_pads(n: int, k: int, stride: int, dilation: int, mode: str) -> tuple[int, int]:
    total = max(0, (-(-n // stride) - 1) * stride + (k - 1) * dilation + 1 - n)
    small, big = total // 2, total - total // 2
    return (small, big) if mode == "SAME_UPPER" else (big, small)


class _Lowering:
    def __init__(self, model: Any, shapes: dict, bits: int, where: str, fused: bool = False) -> None:
        self.shapes, self.bits, self.where, self.fused = shapes, bits, where, fused
        self.weights = {i.name for i in model.graph.initializer}
        self.graph = Graph(Path(where).stem or "onnx", {"onnx": where})
        self.src: dict[str, tuple[str, ...]] = {}     # tensor -> IR ops whose outputs form it
        self.skipped: list[str] = []
        self.subgraphs: dict[str, AttentionSpec] = {}  # first output of a node in an attention subgraph -> it
        self.unfused: list[str] = []                   # fused: Softmax nodes left unfused, with the reason
        self.n_attention = 0
        self.folded: set[str] = set()                 # fused: nodes that only build attention masks
        if fused:
            ix = GraphIndex(model, shapes)
            for node in (n for n in model.graph.node if n.op_type == "Softmax"):
                found = match_subgraph(ix, node)
                if isinstance(found, AttentionSpec):
                    self.subgraphs.update({n.output[0]: found for n in found.nodes})
                elif found is not None:
                    self.unfused.append(f"{node.name or '?'} ({found})")
            specs = list({id(s): s for s in self.subgraphs.values()}.values())
            self.folded = mask_nodes(ix, list(model.graph.node), specs)

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
        groups = int(node_attr(node, "group", 1))
        sh, sw = node_attr(node, "strides", [1, 1])
        dh, dw = node_attr(node, "dilations", [1, 1])
        if sh != sw or dh != dw:
            raise WorkloadError(f"{self.where}: node {node.name!r} (Conv): strides {sh}x{sw} / dilations "
                                f"{dh}x{dw} differ per axis; archsim's conv takes one of each")
        pt, pl, pb, pr = node_attr(node, "pads", [0, 0, 0, 0])
        auto = node_attr(node, "auto_pad", b"NOTSET")
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
            a = a[::-1] if node_attr(node, "transA", 0) else a
            b = b[::-1] if node_attr(node, "transB", 0) else b
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
            window = math.prod(node_attr(node, "kernel_shape", [1]))
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

    def attention(self, node: Any, spec: AttentionSpec, name: str) -> None:
        """The fused attention op (or, not fused, its parts in a chain) and a contrib node's projection."""
        deps = self.deps(node)
        if spec.proj is not None:
            rows, k, n = spec.proj
            deps = [self.graph.add(gemm_op(f"{name}/qkv", rows, n, k, bits=self.bits), deps).name]
        op = attention_op(name, spec.B, spec.H, spec.P, spec.M, spec.E, spec.F, spec.kv_heads, spec.causal, self.bits)
        for part in [op] if self.fused else op.parts:
            part = part if self.fused else replace(part, name=f"{name}/{part.name}")
            deps = [self.graph.add(part, deps).name]
        for t in node.output:
            self.src[t] = (deps[0],)

    def node_spec(self, node: Any) -> AttentionSpec:
        """An attention node's shape; errors name the file and the node."""
        try:
            found = node_spec(node, self.shapes.get)
        except WorkloadError as exc:
            raise WorkloadError(f"{self.where}: {exc}") from None
        if found is None:       # an input without a static shape: the usual error naming it
            self.shape(node, next(i for i in node.input if i and i not in self.shapes))
        assert found is not None
        return found

    def subgraph_name(self, spec: AttentionSpec) -> str:
        """The nodes' common name prefix (an exporter's module path) + 'attention'."""
        prefix = os.path.commonprefix([spec.nodes[0].name, spec.nodes[-1].name])
        cut = max(prefix.rfind(c) for c in "/._")
        self.n_attention += 1
        name = prefix[:cut + 1] + "attention" if cut >= 0 else f"attention_{self.n_attention}"
        return name if name not in self.graph.g else f"{name}_{self.n_attention}"

    def lower(self, node: Any) -> None:
        t = node.op_type
        spec = self.subgraphs.get(node.output[0]) if node.output else None
        if spec is not None:
            if node.output[0] == spec.nodes[-1].output[0]:      # the A.V MatMul: all inputs are ready
                self.attention(node, spec, self.subgraph_name(spec))
            else:
                self.passthrough(node)
            return
        if node.output and node.output[0] in self.folded:
            self.passthrough(node)
            return
        if is_attention_node(node):
            self.attention(node, self.node_spec(node), self.name(node))
            return
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
               skip_unsupported: bool = False, fused: bool = False) -> Graph:
    """The IR graph of an ONNX model; unsupported nodes fail (naming them) unless `skip_unsupported`,
    which lists them in `graph.meta["onnx_skipped"]`. `fused`: attention subgraphs and nodes become one
    attention op each; Softmax nodes between attention's MatMuls that cannot be fused are listed, with
    the reason, in `meta["onnx_unfused"]`."""
    where = str(source) if isinstance(source, (str, Path)) else "<onnx model>"
    model = load_model(source)
    _fix_inputs(model, dict(dims or {}), where)
    low = _Lowering(model, _shapes(model, where), bits, where, fused)
    for node in model.graph.node:
        low.lower(node)
    if low.skipped and not skip_unsupported:
        raise WorkloadError(f"{where}: {len(low.skipped)} node(s) cannot be lowered: {', '.join(low.skipped)}; "
                            "pass --skip-unsupported to run the rest and list them as skipped")
    if not len(low.graph):
        raise WorkloadError(f"{where}: no node lowers to a compute op")
    low.graph.meta["onnx_skipped"] = low.skipped
    low.graph.meta["onnx_unfused"] = low.unfused
    return low.graph
