"""Attention in ONNX graphs, found and given its shape: B, H, kv_heads, P, M, E, F and causal.

Two forms carry it. Exporters write a subgraph, MatMul(Q, K^T) -> optional scale (Mul/Div by a
constant) -> optional mask (Add, Where) -> Softmax over the last axis -> MatMul(., V), with layout
nodes between (torch.onnx's nn.MultiheadAttention and scaled_dot_product_attention, HF BERT,
GPT-2 and Llama); `match_subgraph` finds it from the Softmax, taking kv_heads from the repeat
(Expand, Tile) on the K path and causal from a triangular constant, a Trilu or a comparison of
index Ranges in the mask's ancestry. Or a node says it: ONNX `Attention` (opset 23) and the
com.microsoft contrib `Attention`, `MultiHeadAttention` and `GroupQueryAttention`; `node_spec`
reads their shapes and attributes (and the contrib nodes' output shapes, which ONNX shape
inference does not know; onnx_contrib.py). Masks and scales fold into the fused op:
an attention unit applies them as it goes; bias or rotary embedding on Q/K (contrib nodes) is
not costed.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from archsim.errors import WorkloadError

SCORE_CHAIN = frozenset({"Cast", "Identity", "Reshape", "Squeeze", "Unsqueeze", "Dropout"})
HEAD_LAYOUT = frozenset({"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Expand", "Tile", "Cast", "Identity"})
CONST_OPS = frozenset({"Constant", "ConstantOfShape", "Shape", "Size"})


@dataclass
class AttentionSpec:
    """The fused op's shape, the nodes it replaces and (com.microsoft Attention) its QKV projection."""

    B: int
    H: int
    kv_heads: int
    P: int
    M: int
    E: int
    F: int
    causal: bool = False
    nodes: list[Any] = field(default_factory=list)     # the subgraph's nodes, Q K^T first, A.V last
    masks: list[str] = field(default_factory=list)     # the subgraph's mask tensors
    proj: tuple[int, int, int] | None = None           # rows, inputs, outputs of a fused QKV projection
    outputs: dict[str, tuple[int, ...]] = field(default_factory=dict)   # contrib nodes: output shapes


def _kind(node: Any) -> str:
    """`Attention` (the ONNX domain) or `com.microsoft.Attention` etc."""
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def is_attention_node(node: Any) -> bool:
    return _kind(node) in SPECS


def node_attr(node: Any, name: str, default: Any) -> Any:
    """A node's attribute value, or `default`."""
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


class GraphIndex:
    """Producers, consumers and constant values of a graph's tensors."""

    def __init__(self, model: Any, shapes: dict[str, tuple[int, ...]]) -> None:
        self.shapes = shapes
        self.producer: dict[str, Any] = {}
        self.consumers: dict[str, list[Any]] = defaultdict(list)
        for node in model.graph.node:
            for t in node.output:
                self.producer[t] = node
            for t in node.input:
                self.consumers[t].append(node)
        self.inits = {i.name: i for i in model.graph.initializer}
        self.outputs = {o.name for o in model.graph.output}
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)

    def value(self, t: str) -> np.ndarray | None:
        """The value of an initializer or a Constant node's output (None for anything computed)."""
        from onnx import numpy_helper

        if t in self.inits:
            return numpy_helper.to_array(self.inits[t])
        node = self.producer.get(t)
        if node is not None and node.op_type == "Constant" and node_attr(node, "value", None) is not None:
            return numpy_helper.to_array(node_attr(node, "value", None))
        return None

    def is_const(self, t: str, depth: int = 0) -> bool:
        """A tensor computed from constants and static shapes only."""
        if t in self.inits:
            return True
        node = self.producer.get(t)
        if node is None or depth > 8:
            return False
        return node.op_type in CONST_OPS or all(self.is_const(i, depth + 1) for i in node.input if i)

    def scalar_const(self, t: str) -> bool:
        return self.is_const(t) and math.prod(self.shapes.get(t, (2,))) == 1

    def readers(self, t: str) -> list[Any]:
        """The nodes that read `t`'s values (not Shape, Size or CastLike's type input, which read its metadata)."""
        return [c for c in self.consumers[t]
                if c.op_type not in ("Shape", "Size") and not (c.op_type == "CastLike" and c.input[0] != t)]

    def single_use(self, t: str) -> bool:
        return len(self.readers(t)) == 1 and t not in self.outputs


# ---- the exported subgraph ------------------------------------------------------------------------
def _scores(ix: GraphIndex, t: str, depth: int = 0) -> tuple[Any, list[Any], list[str]] | None:
    """From a score tensor back to the Q K^T MatMul: (that MatMul, the nodes passed, mask tensors)."""
    node = ix.producer.get(t)
    if node is None or depth > 12 or not ix.single_use(t):
        return None
    op = node.op_type
    if op == "MatMul":
        return node, [node], []
    tries: list[tuple[str, list[str]]] = []
    if op in SCORE_CHAIN or op == "Tanh":        # Tanh: softcap, c * tanh(scores / c)
        tries = [(node.input[0], [])]
    elif op in ("Mul", "Div") and ix.scalar_const(node.input[1]):
        tries = [(node.input[0], [])]
    elif op == "Mul" and ix.scalar_const(node.input[0]):
        tries = [(node.input[1], [])]
    elif op == "Add":
        tries = [(node.input[0], [node.input[1]]), (node.input[1], [node.input[0]])]
    elif op == "Where":
        tries = [(node.input[1], [node.input[0], node.input[2]]), (node.input[2], [node.input[0], node.input[1]])]
    for src, masks in tries:
        found = _scores(ix, src, depth + 1)
        if found is not None:
            return found[0], [*found[1], node], [*found[2], *masks]
    return None


def _context(ix: GraphIndex, t: str) -> tuple[Any, list[Any], list[str]] | None:
    """From the probabilities forward to the A.V MatMul: (that MatMul, the nodes passed, mask tensors
    of a Where on the way, e.g. zeroing fully masked rows)."""
    passed: list[Any] = []
    masks: list[str] = []
    for _ in range(8):
        if not ix.single_use(t):
            return None
        node = ix.readers(t)[0]
        passed.append(node)
        if node.op_type == "MatMul" and node.input[0] == t:
            return node, passed, masks
        if node.op_type == "Where" and t in node.input[1:]:
            masks += [i for i in node.input if i != t]
        elif node.op_type not in SCORE_CHAIN or node.input[0] != t:
            return None
        t = node.output[0]
    return None


def _chain(ix: GraphIndex, t: str) -> list[tuple[str, Any]]:
    """`t` and the tensors it is a relayout, broadcast or scaling of, nearest first, each with the
    node that made it (None where the chain stops)."""
    out: list[tuple[str, Any]] = []
    for _ in range(16):
        node = ix.producer.get(t)
        out.append((t, node))
        if node is None:
            break
        if node.op_type in HEAD_LAYOUT or (node.op_type in ("Mul", "Div") and ix.scalar_const(node.input[1])):
            t = node.input[0]
        elif node.op_type == "Mul" and ix.scalar_const(node.input[0]):
            t = node.input[1]
        else:
            break
    return out


def _split_heads(ix: GraphIndex, q: str, lead: tuple[int, ...], E: int) -> tuple[int, int]:
    """B and H from the score's batch dims: (B, H) when it keeps them apart; when they are merged
    (torch's bmm over B*H), H from the projection the heads were reshaped out of (its last dim, H*E)."""
    if len(lead) >= 2:
        return math.prod(lead[:-1]), lead[-1]
    bh = math.prod(lead)
    for t, _ in _chain(ix, q):
        shp = ix.shapes.get(t, ())
        h = shp[-1] // E if shp and shp[-1] % E == 0 else 0
        if h > 1 and bh % h == 0:
            return bh // h, h
    return bh, 1


def _kv_heads(ix: GraphIndex, t: str, H: int) -> int:
    """K/V heads: H over the factor Expand or Tile nodes on K's (or V's) relayout chain repeat it by
    along axes past the batch (GQA's repeat_kv); a broadcast over the batch alone shares K/V, not heads.
    An Expand whose output shape inference left open repeats by the element ratio to the nearest
    known tensor after it."""
    rep, after = 1, 0
    for out, node in _chain(ix, t):
        b = ix.shapes.get(out)
        after = math.prod(b) if b is not None else after
        if node is None or node.op_type not in ("Expand", "Tile"):
            continue
        a = ix.shapes.get(node.input[0])
        if a is None:
            continue
        if b is not None and len(a) <= len(b):
            a = (1,) * (len(b) - len(a)) + a
            rep *= math.prod(y // x for x, y in zip(a[1:], b[1:]) if x and y % x == 0)
        elif b is None and after and after % max(1, math.prod(a)) == 0:
            rep *= after // max(1, math.prod(a))
    return H // rep if H % rep == 0 else H


def _triangular(a: np.ndarray) -> bool:
    """A causal mask: its first matrix holds one value above the diagonal (aligned to the first or
    the last keys) and another on and below it."""
    if a.ndim < 2 or min(a.shape[-2:]) < 2:
        return False
    m = a.reshape(-1, *a.shape[-2:])[0]
    i, j = np.indices(m.shape)
    for d in {0, m.shape[1] - m.shape[0]}:
        above, rest = m[j > i + d], m[j <= i + d]
        if above.size and rest.size and (above == above.flat[0]).all() and (rest == rest.flat[0]).all() \
                and above.flat[0] != rest.flat[0]:
            return True
    return False


def _ancestors(ix: GraphIndex, tensors: list[str], limit: int = 64) -> Iterator[tuple[str, Any]]:
    """The tensors `tensors` are computed from (themselves first), each with its producer (or None),
    up to `limit` tensors and never through a MatMul or Softmax (the scores' own path)."""
    todo, seen = list(tensors), set[str]()
    while todo and len(seen) < limit:
        t = todo.pop()
        if t in seen or not t:
            continue
        seen.add(t)
        node = ix.producer.get(t)
        yield t, node
        if node is not None and node.op_type not in ("MatMul", "Softmax"):
            todo.extend(node.input)


COMPARE = frozenset({"Less", "LessOrEqual", "Greater", "GreaterOrEqual"})


def _causal(ix: GraphIndex, masks: list[str]) -> bool:
    """Among the masks' ancestors: a Trilu, a triangular constant, or a comparison of two index
    ranges (key index <= query index, as recent exporters build the mask from Range nodes)."""
    for t, node in _ancestors(ix, masks):
        val = ix.value(t)
        if (val is not None and _triangular(val)) or (node is not None and node.op_type == "Trilu"):
            return True
        if node is not None and node.op_type in COMPARE and all(
                any(n is not None and n.op_type == "Range" for _, n in _ancestors(ix, [i], 16)) for i in node.input):
            return True
    return False


def match_subgraph(ix: GraphIndex, softmax: Any) -> AttentionSpec | str | None:
    """The attention a Softmax node is the middle of, why it cannot be fused (a reason), or None
    when nothing around it is attention (no MatMul of two activations on either side)."""
    back = _scores(ix, softmax.input[0])
    fwd = _context(ix, softmax.output[0])
    qk_ok = back is not None and not any(ix.is_const(t) for t in back[0].input)
    av_ok = fwd is not None and not ix.is_const(fwd[0].input[1])
    if not (qk_ok or av_ok):
        return None
    s = ix.shapes.get(softmax.input[0]) or (ix.shapes.get(back[0].output[0]) if back else None)  # masks broadcast
    axis = node_attr(softmax, "axis", -1 if ix.opset >= 13 else 1)
    if s is None or len(s) < 2 or axis not in (-1, len(s) - 1):
        return "softmax not over the last axis of a known shape"
    if back is None or not qk_ok:
        return "no MatMul(Q, K^T) of two activations before it through scale, mask and layout nodes used only there"
    if fwd is None or not av_ok:
        return "its output is not read by one MatMul(., V) alone"
    qk, before, masks = back
    av, after, more = fwd
    masks = [*masks, *more]
    q, kt, v = (ix.shapes.get(x) for x in (qk.input[0], qk.input[1], av.input[1]))
    scores = ix.shapes.get(qk.output[0])
    if q is None or kt is None or v is None or scores is None or min(len(q), len(kt), len(v)) < 2:
        return "Q, K or V without a static shape"
    P, E, M, F = q[-2], q[-1], kt[-1], v[-1]
    lead = scores[:-2]
    if v[-2] != M or math.prod(v[:-2]) != math.prod(lead) or math.prod(q[:-2]) != math.prod(lead):
        return f"Q {q}, K^T {kt} and V {v} do not make one attention"
    B, H = _split_heads(ix, qk.input[0], lead, E)
    kvh = _kv_heads(ix, qk.input[1], H)
    if _kv_heads(ix, av.input[1], H) != kvh:
        return "K and V are broadcast to the query heads differently"
    return AttentionSpec(B, H, kvh, P, M, E, F, _causal(ix, masks), [*before, softmax, *after], masks)


def mask_nodes(ix: GraphIndex, nodes: list[Any], specs: list[AttentionSpec]) -> set[str]:
    """Nodes (by first output) that only build fused subgraphs' masks: an attention unit makes its
    masks itself, so they fold into the op with the mask Add or Where they feed."""
    folded = {n.output[0] for spec in specs for n in spec.nodes}
    cands = {n.output[0] for spec in specs for _, n in _ancestors(ix, spec.masks, 512) if n is not None}
    for node in reversed(nodes):                     # consumers before producers
        outs = [o for o in node.output if o]
        if outs and outs[0] in cands and not any(o in ix.outputs for o in outs) and \
                all(c.output[0] in folded for o in outs for c in ix.consumers[o]):
            folded.add(outs[0])
    return folded - {n.output[0] for spec in specs for n in spec.nodes}


# ---- attention nodes ------------------------------------------------------------------------------
Shape = Callable[[str], "tuple[int, ...] | None"]


def _need(node: Any, what: str, ok: bool) -> None:
    if not ok:
        raise WorkloadError(f"node {node.name!r} ({_kind(node)}): {what}")


def _heads(node: Any, name: str) -> int:
    h = int(node_attr(node, name, 0))
    _need(node, f"needs a positive {name} attribute", h > 0)
    return h


def _div(node: Any, total: int, heads: int, what: str) -> int:
    _need(node, f"{what} {total} does not split over {heads} heads", total % heads == 0)
    return total // heads


def _inp(node: Any, i: int) -> str:
    return node.input[i] if len(node.input) > i else ""


def _onnx_attention(node: Any, shape: Shape) -> AttentionSpec | None:
    """ONNX Attention (opset 23): Q, K, V 4-D (B, heads, seq, head size) or 3-D (B, seq, heads x size)."""
    q, k, v = (shape(_inp(node, i)) for i in range(3))
    if q is None or k is None or v is None:
        return None
    _need(node, f"Q {q}, K {k}, V {v}: expected all 3-D or all 4-D", len(q) == len(k) == len(v) and len(q) in (3, 4))
    if len(q) == 4:
        B, H, P, E = q
        kvh, M, F = k[1], k[2], v[3]
    else:
        H, kvh = _heads(node, "q_num_heads"), _heads(node, "kv_num_heads")
        B, P, E = q[0], q[1], _div(node, q[2], H, "Q hidden size")
        M, F = k[1], _div(node, v[2], kvh, "V hidden size")
    past = shape(_inp(node, 4)) if _inp(node, 4) else None
    M += past[2] if past else 0
    _need(node, f"query heads {H} are not a multiple of kv heads {kvh}", kvh > 0 and H % kvh == 0)
    _need(node, "its Q K^T output (qk_matmul_output) is the score matrix a fused op never writes",
          not _inp_out(node, 3))
    windows = [int(node_attr(node, w, -1)) for w in ("left_window_size", "right_window_size")]
    _need(node, f"left/right_window_size {windows}: sliding-window attention is not lowered", windows == [-1, -1])
    Y = (B, H, P, F) if len(q) == 4 else (B, P, H * F)
    return AttentionSpec(B, H, kvh, P, M, E, F, bool(node_attr(node, "is_causal", 0)), outputs={node.output[0]: Y})


def _inp_out(node: Any, i: int) -> str:
    return node.output[i] if len(node.output) > i else ""


def _ms_attention(node: Any, shape: Shape) -> AttentionSpec | None:
    """com.microsoft Attention: input (B, S, D) times the packed QKV weight (D, q + k + v hidden),
    then attention; `past` (2, B, H, past, E) extends the keys."""
    x, w = shape(_inp(node, 0)), shape(_inp(node, 1))
    if x is None or w is None:
        return None
    H = _heads(node, "num_heads")
    sizes = list(node_attr(node, "qkv_hidden_sizes", [])) or [w[-1] // 3] * 3
    _need(node, f"qkv_hidden_sizes {sizes} do not add up to the weight's {w[-1]} columns",
          len(sizes) == 3 and sum(sizes) == w[-1] and len(x) == 3)
    _need(node, f"Q and K hidden sizes differ ({sizes[0]} and {sizes[1]})", sizes[0] == sizes[1])
    _need(node, "past_present_share_buffer: the past's length is not the keys attended",
          not int(node_attr(node, "past_present_share_buffer", 0)))
    B, S = x[0], x[1]
    E, F = _div(node, sizes[0], H, "Q hidden size"), _div(node, sizes[2], H, "V hidden size")
    past = shape(_inp(node, 4)) if _inp(node, 4) else None
    M = S + (past[3] if past else 0)
    outs: dict[str, tuple[int, ...]] = {node.output[0]: (B, S, sizes[2])}
    if _inp_out(node, 1):
        outs[node.output[1]] = (2, B, H, M, E)
    return AttentionSpec(B, H, H, S, M, E, F, bool(node_attr(node, "unidirectional", 0)), proj=(B * S, x[2], w[-1]),
                         outputs=outs)


def _ms_mha(node: Any, shape: Shape) -> AttentionSpec | None:
    """com.microsoft MultiHeadAttention: query (B, S, D) or packed QKV (B, S, H, 3, E); key (B, L, D),
    already split (B, H, L, E) or packed KV (B, L, H, 2, E); past_key (B, H, past, E)."""
    H = _heads(node, "num_heads")
    q = shape(_inp(node, 0))
    k = shape(_inp(node, 1)) if _inp(node, 1) else None
    v = shape(_inp(node, 2)) if _inp(node, 2) else None
    if q is None or (_inp(node, 1) and k is None) or (_inp(node, 2) and v is None):
        return None
    B, P = q[0], q[1]
    if len(q) == 5:
        _need(node, f"packed QKV {q} is (B, S, heads, 3, head size)", q[2] == H and q[3] == 3 and k is None)
        E = F = q[4]
        M = P
    else:
        E = _div(node, q[2], H, "query hidden size")
        _need(node, "needs a key when the query is not packed QKV", k is not None)
        assert k is not None
        if len(k) == 5:
            M, F = k[1], k[4]
        elif len(k) == 4:
            M, F = k[2], (v[3] if v is not None and len(v) == 4 else E)
        else:
            _need(node, f"key {k} / value {v}: expected (B, L, hidden)", len(k) == 3 and v is not None and len(v) == 3)
            assert v is not None
            M, F = k[1], _div(node, v[2], H, "value hidden size")
    past = shape(_inp(node, 6)) if _inp(node, 6) else None
    M += past[2] if past else 0
    return AttentionSpec(B, H, H, P, M, E, F, bool(node_attr(node, "unidirectional", 0)),
                         outputs={node.output[0]: (B, P, H * F)})


def _ms_gqa(node: Any, shape: Shape) -> AttentionSpec | None:
    """com.microsoft GroupQueryAttention (always causal): query (B, S, H x E) or packed QKV
    (B, S, (H + 2 kv) x E); past_key (B, kv, past, E) extends the keys."""
    H, kvh = _heads(node, "num_heads"), _heads(node, "kv_num_heads")
    q = shape(_inp(node, 0))
    if q is None:
        return None
    _need(node, f"query heads {H} are not a multiple of kv_num_heads {kvh}", H % kvh == 0)
    window = int(node_attr(node, "local_window_size", -1))
    _need(node, f"local_window_size {window}: sliding-window attention is not lowered", window == -1)
    packed = not _inp(node, 1)
    E = _div(node, q[2], H + 2 * kvh if packed else H, "query hidden size")
    B, P = q[0], q[1]
    past = shape(_inp(node, 3)) if _inp(node, 3) else None
    M = P + (past[2] if past else 0)
    outs: dict[str, tuple[int, ...]] = {node.output[0]: (B, P, H * E)}
    outs.update({t: (B, kvh, M, E) for t in node.output[1:3] if t})
    return AttentionSpec(B, H, kvh, P, M, E, E, True, outputs=outs)


SPECS: dict[str, Callable[[Any, Shape], AttentionSpec | None]] = {
    "Attention": _onnx_attention, "com.microsoft.Attention": _ms_attention,
    "com.microsoft.MultiHeadAttention": _ms_mha, "com.microsoft.GroupQueryAttention": _ms_gqa}


def node_spec(node: Any, shape: Shape) -> AttentionSpec | None:
    """The attention an attention node computes (None while its input shapes are unknown)."""
    return SPECS[_kind(node)](node, shape)
