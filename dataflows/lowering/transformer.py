"""Lower a transformer (prefill or one decode step) to the Einsum IR.

Layers are identical, so one layer's ops are emitted once with `count = layers` between the
non-repeated ops (embeddings before; final norm, LM head / pooler after); `expand=True` returns
one op per layer instead. Dim letters used throughout:

  b batch   s new tokens   l attended keys   d hidden   h KV heads   g query heads per KV head
  e head dim   n fused projection width   f FFN width   v vocab   x experts   m tokens per expert
  j experts per token   c K-and-V pair (2)   r RoPE width

FLOPs per point of non-contraction ops (documented in docs/workloads.md): RMSNorm 4, LayerNorm 7,
softmax 5, RoPE 3, SiLU-and-gate 5, GELU 8, ReLU 1, residual add 1, MoE combine 2, top-k 1 per
candidate per slot, embedding gather 0.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import WorkloadError
from dataflows.ir import Graph, Op, Operand, attention_op
from dataflows.lowering.moe import expert_loads, load_groups
from dataflows.models.config import ModelConfig, get_model
from dataflows.models.params import param_counts

ACT_FLOPS = {"silu": 5, "swish": 5, "gelu": 8, "gelu_new": 8, "gelu_pytorch_tanh": 8, "gelu_fast": 8, "relu": 1}
NORM_FLOPS = {"rmsnorm": 4, "layernorm": 7}
PHASES = ("prefill", "decode")


@dataclass(frozen=True)
class Shape:
    """What one forward pass processes: B sequences of S new tokens attending to L keys each."""

    phase: str
    batch: int
    new_tokens: int
    attended: int      # keys each new token attends to (after any sliding window)
    context: int       # tokens in the sequence after this step (prefill S, decode L)


def _positive(name: str, v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise WorkloadError(f"{name} must be a positive integer, got {v!r}")
    return v


def resolve_shape(cfg: ModelConfig, phase: str, batch: int, seq: int | None, kv: int | None,
                  allow_long: bool = False) -> Shape:
    """Check the run parameters against the model and fix S and L (see docs/workloads.md)."""
    if phase not in PHASES:
        raise WorkloadError(f"phase must be one of {PHASES}, got {phase!r}")
    _positive("batch", batch)
    default = min(1024, cfg.max_pos)
    if phase == "prefill":
        if kv is not None:
            raise WorkloadError("--kv applies to decode; prefill takes the prompt length as --seq")
        s = _positive("sequence length", default if seq is None else seq)
        context = s
    else:
        if cfg.encoder_only:
            raise WorkloadError(f"{cfg.name} is encoder-only ({cfg.family}); it has no decode phase, use prefill")
        if seq is not None and seq != 1:
            raise WorkloadError("decode generates one token per step; give the context length as --kv, not --seq")
        s, context = 1, _positive("KV length", default if kv is None else kv)
    if context > cfg.max_pos and not allow_long:
        raise WorkloadError(f"{phase} context of {context} tokens exceeds {cfg.name}'s maximum of "
                            f"{cfg.max_pos} positions (max_position_embeddings); pass --allow-long to lower it anyway")
    window = cfg.sliding_window or context
    return Shape(phase, batch, s, min(context, window), context)


class _Emitter:
    """Adds ops to a graph with shared precisions and a default dependency on the previous op."""

    def __init__(self, graph: Graph, bits: int, kv_bits: int) -> None:
        self.g, self.bits, self.kv_bits = graph, bits, kv_bits
        self.last: Op | None = None

    def a(self, name: str, *dims: str, bits: int | None = None) -> Operand:
        return Operand(name, "activation", dims, bits or self.bits)

    def w(self, name: str, *dims: str) -> Operand:
        return Operand(name, "weight", dims, self.bits)

    def o(self, name: str, *dims: str) -> Operand:
        return Operand(name, "output", dims, self.bits)

    def kv(self, name: str, *dims: str) -> Operand:
        return Operand(name, "kv_cache", dims, self.kv_bits)

    def op(self, name: str, kind: str, einsum: str, dims: dict[str, int], operands: tuple[Operand, ...],
           count: int = 1, fpp: int | None = None, tags: tuple[str, ...] = (),
           deps: tuple[Op, ...] | None = None) -> Op:
        op = Op(name, kind, einsum, dims, operands, count, "layer" if count > 1 else None, fpp, tags)
        self.g.add(op, deps if deps is not None else ((self.last,) if self.last else ()))
        self.last = op
        return op


def _norm(em: _Emitter, cfg: ModelConfig, name: str, bs: dict[str, int], count: int) -> Op:
    beta = (em.w("beta", "d"),) if cfg.norm == "layernorm" else ()
    return em.op(name, "norm", "bsd->bsd", dict(bs, d=cfg.hidden),
                 (em.a("x", "b", "s", "d"), em.w("gamma", "d"), *beta, em.o("y", "b", "s", "d")),
                 count, NORM_FLOPS[cfg.norm])


def _residual(em: _Emitter, name: str, bs: dict[str, int], d: int, count: int, skip: Op | None) -> Op:
    deps = (em.last,) + ((skip,) if skip is not None else ())
    return em.op(name, "elementwise", "bsd,bsd->bsd", dict(bs, d=d),
                 (em.a("x", "b", "s", "d"), em.a("residual", "b", "s", "d"), em.o("y", "b", "s", "d")),
                 count, 1, deps=deps)


def _gemm(em: _Emitter, name: str, bs: dict[str, int], k: int, n: int, count: int, tags=()) -> Op:
    return em.op(name, "gemm", "bsk,kn->bsn", dict(bs, k=k, n=n),
                 (em.a("x", "b", "s", "k"), em.w("W", "k", "n"), em.o("y", "b", "s", "n")), count, tags=tags)


def _attention(em: _Emitter, cfg: ModelConfig, shp: Shape, bs: dict[str, int], L: int, fused: bool = False) -> None:
    """Fused QKV, RoPE, KV append, QK^T, softmax, A.V, output projection (GQA via the g dim).

    `fused`: QK^T, softmax and A.V become one `attention` op (dataflows.ir.AttentionOp) whose parts
    are exactly the three ops emitted otherwise."""
    h, g, e = cfg.kv_heads, cfg.group, cfg.head_dim
    _gemm(em, "qkv", bs, cfg.hidden, (cfg.heads + 2 * h) * e, L, ("attention",))
    if cfg.pos == "rope":
        em.op("rope", "elementwise", "bsr->bsr", dict(bs, r=(cfg.heads + h) * e),
              (em.a("qk", "b", "s", "r"), em.o("qk_rot", "b", "s", "r")), L, 3, ("attention",))
    cached = not cfg.encoder_only
    if cached:
        em.op("kv_write", "kv_write", "cbshe->cbshe", dict(bs, c=2, h=h, e=e),
              (em.a("kv_new", "c", "b", "s", "h", "e"), em.kv("kv_cache", "c", "b", "s", "h", "e")),
              L, 0, ("attention", "kv"))
    # Decode streams K and V from the cache (already holding this step's token); prefill and
    # encoders use the K and V just computed.
    key = em.kv if cached and shp.phase == "decode" else em.a
    if fused:
        op = attention_op("attention", shp.batch, cfg.heads, shp.new_tokens, shp.attended, e, e, h, False,
                          em.bits, em.kv_bits, L, kv_cached=key == em.kv)
        em.g.add(op, (em.last,) if em.last else ())
        em.last = op
        _gemm(em, "o_proj", bs, cfg.heads * e, cfg.hidden, L, ("attention",))
        return
    att = dict(b=shp.batch, h=h, g=g, s=shp.new_tokens, l=shp.attended, e=e)
    em.op("qk", "gemm", "bhgse,bhle->bhgsl", att,
          (em.a("q", "b", "h", "g", "s", "e"), key("k", "b", "h", "l", "e"), em.o("scores", "b", "h", "g", "s", "l")),
          L, tags=("attention",))
    em.op("softmax", "softmax", "bhgsl->bhgsl", att,
          (em.a("scores", "b", "h", "g", "s", "l"), em.o("probs", "b", "h", "g", "s", "l")), L, 5, ("attention",))
    em.op("av", "gemm", "bhgsl,bhle->bhgse", att,
          (em.a("probs", "b", "h", "g", "s", "l"), key("v", "b", "h", "l", "e"), em.o("ctx", "b", "h", "g", "s", "e")),
          L, tags=("attention",))
    _gemm(em, "o_proj", bs, cfg.heads * e, cfg.hidden, L, ("attention",))


def _act_flops(cfg: ModelConfig) -> int:
    try:
        return ACT_FLOPS[cfg.act]
    except KeyError:
        raise WorkloadError(f"{cfg.name}: activation {cfg.act!r} is not modelled; "
                            f"known: {', '.join(ACT_FLOPS)}") from None


def _ffn(em: _Emitter, cfg: ModelConfig, bs: dict[str, int], L: int) -> None:
    f = cfg.ffn
    _gemm(em, "gate_up" if cfg.gated else "fc1", bs, cfg.hidden, (2 if cfg.gated else 1) * f, L, ("ffn",))
    ins = (em.a("gate", "b", "s", "f"), em.a("up", "b", "s", "f")) if cfg.gated else (em.a("x", "b", "s", "f"),)
    em.op("act", "elementwise", ",".join(["bsf"] * len(ins)) + "->bsf", dict(bs, f=f),
          (*ins, em.o("y", "b", "s", "f")), L, _act_flops(cfg), ("ffn",))
    _gemm(em, "down" if cfg.gated else "fc2", bs, f, cfg.hidden, L, ("ffn",))


def _moe(em: _Emitter, cfg: ModelConfig, bs: dict[str, int], L: int, imbalance: float,
         histogram: list[int] | None) -> dict[str, object]:
    """Router, top-k, one batched expert GEMM group per distinct load, weighted combine."""
    tokens, E, k, d, f = bs["b"] * bs["s"], cfg.experts, cfg.top_k, cfg.hidden, cfg.ffn
    _gemm(em, "router", bs, d, E, L, ("moe",))
    topk = em.op("topk", "topk", "bsx->bsj", dict(bs, x=E, j=k),
                 (em.a("logits", "b", "s", "x"), em.o("routes", "b", "s", "j")), L, 1, ("moe",))
    loads = expert_loads(tokens, E, k, imbalance, histogram)
    groups = load_groups(loads)
    downs = []
    for m, x in groups:
        sfx = f".m{m}" if len(groups) > 1 else ""
        em.last = topk
        dims = dict(x=x, m=m, d=d, n=(2 if cfg.gated else 1) * f, f=f)
        em.op(f"expert_gate_up{sfx}", "gemm", "xmd,xdn->xmn", dims,
              (em.a("x", "x", "m", "d"), em.w("W", "x", "d", "n"), em.o("y", "x", "m", "n")), L, tags=("moe", "ffn"))
        ins = (em.a("gate", "x", "m", "f"), em.a("up", "x", "m", "f")) if cfg.gated else (em.a("x", "x", "m", "f"),)
        em.op(f"expert_act{sfx}", "elementwise", ",".join(["xmf"] * len(ins)) + "->xmf", dims,
              (*ins, em.o("y", "x", "m", "f")), L, _act_flops(cfg), ("moe", "ffn"))
        downs.append(em.op(f"expert_down{sfx}", "gemm", "xmf,xfd->xmd", dims,
                           (em.a("x", "x", "m", "f"), em.w("W", "x", "f", "d"), em.o("y", "x", "m", "d")),
                           L, tags=("moe", "ffn")))
    em.op("moe_combine", "elementwise", "bsjd->bsd", dict(bs, j=k, d=d),
          (em.a("expert_out", "b", "s", "j", "d"), em.a("route_w", "b", "s", "j"), em.o("y", "b", "s", "d")),
          L, 2, ("moe",), deps=tuple(downs))
    return {"expert_loads": loads}


def lower(model: ModelConfig | str, phase: str = "prefill", batch: int = 1, seq: int | None = None,
          kv: int | None = None, bits: int = 16, kv_bits: int | None = None, expand: bool = False,
          moe_imbalance: float = 0.0, expert_histogram: list[int] | None = None,
          allow_long: bool = False, attention: str = "unfused") -> Graph:
    """The ops of one forward pass: prefill of `seq` tokens, or one decode step at KV length `kv`.

    `kv` counts the keys attended in decode including the token being generated (models.md's L);
    `bits` sets weights and activations, `kv_bits` the KV cache (default `bits`); `attention`
    "fused" emits QK^T, softmax and A.V as one attention op (units that cannot run it run its parts).
    """
    if attention not in ("unfused", "fused"):
        raise WorkloadError(f"attention must be 'unfused' or 'fused', got {attention!r}")
    cfg = model if isinstance(model, ModelConfig) else get_model(model)
    shp = resolve_shape(cfg, phase, batch, seq, kv, allow_long)
    _positive("bits", bits)
    kv_bits = _positive("kv_bits", bits if kv_bits is None else kv_bits)
    g = Graph(f"{cfg.name}-{phase}")
    em = _Emitter(g, bits, kv_bits)
    bs, L, d = dict(b=shp.batch, s=shp.new_tokens), cfg.layers, cfg.hidden

    em.op("embed", "embedding", "bs,bsd->bsd", dict(bs, d=cfg.embed_width),
          (em.a("ids", "b", "s", bits=32), em.w("rows", "b", "s", "d"), em.o("y", "b", "s", "d")), fpp=0)
    if cfg.projected:               # OPT-350m: narrow token rows, projected up before the positions add
        _gemm(em, "project_in", bs, cfg.embed_width, d, 1)
    if cfg.pos == "learned":
        types = (em.w("type_rows", "b", "s", "d"),) if cfg.type_vocab else ()
        em.op("pos_embed", "elementwise", "bsd,sd->bsd", dict(bs, d=d),
              (em.a("x", "b", "s", "d"), em.w("pos_rows", "s", "d"), *types, em.o("y", "b", "s", "d")),
              fpp=1 + len(types))
    if cfg.encoder_only:
        _norm(em, cfg, "embed_norm", bs, 1)
    layer_in = em.last

    if not cfg.post_norm:
        _norm(em, cfg, "attn_norm", bs, L)
    _attention(em, cfg, shp, bs, L, attention == "fused")
    stream = _residual(em, "attn_residual", bs, d, L, layer_in)
    if cfg.post_norm:               # BERT: normalise after the add; the normalised value is the stream
        stream = _norm(em, cfg, "attn_norm", bs, L)
    else:
        _norm(em, cfg, "ffn_norm", bs, L)
    info: dict[str, object] = {}
    if cfg.is_moe:
        info = _moe(em, cfg, bs, L, moe_imbalance, expert_histogram)
    else:
        _ffn(em, cfg, bs, L)
    _residual(em, "ffn_residual", bs, d, L, stream)
    if cfg.post_norm:
        _norm(em, cfg, "ffn_norm", bs, L)

    if cfg.final_norm:
        _norm(em, cfg, "final_norm", bs, 1)
    if cfg.pooler:
        em.op("pooler", "gemm", "bk,kn->bn", dict(b=shp.batch, k=d, n=d),
              (em.a("cls", "b", "k"), em.w("W", "k", "n"), em.o("y", "b", "n")))
    else:
        if cfg.projected:
            _gemm(em, "project_out", bs, d, cfg.embed_width, 1)
        _gemm(em, "lm_head", bs, cfg.embed_width, cfg.vocab, 1)
    g.meta.update(model=cfg.name, family=cfg.family, phase=phase, batch=shp.batch, new_tokens=shp.new_tokens,
                  attended=shp.attended, context=shp.context, bits=bits, kv_bits=kv_bits,
                  params=param_counts(cfg), **info)
    return g.expanded() if expand else g
