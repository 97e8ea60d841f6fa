"""Parameter counts from the config alone (no weights): total and active per token.

The count follows each family's published module list: token/position (/type) embeddings,
per-layer attention (+ biases), norms (gamma, + beta for LayerNorm), FFN or experts + router,
final norm, untied LM head, BERT pooler. "Active" drops the experts a token does not visit,
each expert together with its router row (the convention that gives Mixtral's published
12,879,138,816 active parameters).
"""
from __future__ import annotations

from dataflows.models.config import ModelConfig


def _norm(cfg: ModelConfig) -> int:
    return cfg.hidden * (2 if cfg.norm == "layernorm" else 1)


def attention_params(cfg: ModelConfig) -> int:
    d, q, kv = cfg.hidden, cfg.heads * cfg.head_dim, cfg.kv_heads * cfg.head_dim
    bias = (q + 2 * kv + d) if cfg.bias else 0
    return d * q + 2 * d * kv + q * d + bias


def expert_params(cfg: ModelConfig) -> int:
    """One FFN (or one expert): n_mat matrices of d x f, plus biases for non-gated families."""
    d, f = cfg.hidden, cfg.ffn
    bias = (f + d) if cfg.bias else 0
    return cfg.ffn_mats * d * f + bias


def layer_params(cfg: ModelConfig, experts: int | None = None) -> int:
    """One block; `experts` = how many experts (with their router rows) to count (default all)."""
    e = cfg.experts if experts is None else experts
    router = cfg.hidden * e if cfg.is_moe else 0
    return attention_params(cfg) + 2 * _norm(cfg) + e * expert_params(cfg) + router


def embedding_params(cfg: ModelConfig) -> int:
    """Token rows (at the embedding width), positions, token types, BERT's embedding norm, and
    OPT-350m's project_in (embedding width -> hidden, no bias)."""
    n = cfg.vocab * cfg.embed_width
    if cfg.projected:
        n += cfg.embed_width * cfg.hidden
    if cfg.pos == "learned":
        n += (cfg.max_pos + cfg.pos_offset) * cfg.hidden
    n += cfg.type_vocab * cfg.hidden
    if cfg.encoder_only:
        n += _norm(cfg)                       # BERT embedding LayerNorm
    return n


def head_params(cfg: ModelConfig) -> int:
    """Final norm, project_out (hidden -> embedding width, OPT-350m), LM head when untied, pooler."""
    n = _norm(cfg) if cfg.final_norm else 0
    if cfg.projected:
        n += cfg.hidden * cfg.embed_width
    if not cfg.tied:
        n += cfg.vocab * cfg.embed_width
    if cfg.pooler:
        n += cfg.hidden * cfg.hidden + cfg.hidden
    return n


def param_counts(cfg: ModelConfig) -> dict[str, int]:
    """{'total', 'active', 'embedding', 'per_layer', 'per_layer_active', 'head'}."""
    per, per_active = layer_params(cfg), layer_params(cfg, cfg.top_k if cfg.is_moe else None)
    fixed = embedding_params(cfg) + head_params(cfg)
    return {"total": fixed + cfg.layers * per, "active": fixed + cfg.layers * per_active,
            "embedding": embedding_params(cfg), "per_layer": per, "per_layer_active": per_active,
            "head": head_params(cfg)}
