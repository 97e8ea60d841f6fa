"""A transformer described by its Hugging Face `config.json` fields, normalised across families.

Every family spells the same quantity differently (`n_embd`/`d_model`/`hidden_size`, ...); this
module turns any supported config into one `ModelConfig` so lowering and parameter counting see a
single vocabulary. No weights are read and nothing is fetched from the network.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from archsim.errors import WorkloadError

# model_type -> architectural traits that config.json does not spell out.
FAMILIES: dict[str, dict[str, Any]] = {
    "gpt2": dict(norm="layernorm", bias=True, pos="learned", pos_offset=0, tied=True, gated=False,
                 encoder_only=False, post_norm=False, final_norm=True),
    "opt": dict(norm="layernorm", bias=True, pos="learned", pos_offset=2, tied=True, gated=False,
                encoder_only=False, post_norm=False, final_norm=True),
    "bert": dict(norm="layernorm", bias=True, pos="learned", pos_offset=0, tied=True, gated=False,
                 encoder_only=True, post_norm=True, final_norm=False),
    "llama": dict(norm="rmsnorm", bias=False, pos="rope", pos_offset=0, tied=False, gated=True,
                  encoder_only=False, post_norm=False, final_norm=True),
    "mistral": dict(norm="rmsnorm", bias=False, pos="rope", pos_offset=0, tied=False, gated=True,
                    encoder_only=False, post_norm=False, final_norm=True),
    "mixtral": dict(norm="rmsnorm", bias=False, pos="rope", pos_offset=0, tied=False, gated=True,
                    encoder_only=False, post_norm=False, final_norm=True),
    # Lowered as sequential blocks: both run attention and MLP in parallel from one input (the same
    # weights, MACs and bytes; only the ops' dependence differs), NeoX rotates a quarter of each head.
    "gpt_neox": dict(norm="layernorm", bias=True, pos="rope", pos_offset=0, tied=False, gated=False,
                     encoder_only=False, post_norm=False, final_norm=True),
    "falcon": dict(norm="layernorm", bias=False, pos="rope", pos_offset=0, tied=True, gated=False,
                   encoder_only=False, post_norm=False, final_norm=True),
}

# normalised name -> aliases, first present wins (order = precedence).
ALIASES: dict[str, tuple[str, ...]] = {
    "hidden": ("hidden_size", "n_embd", "d_model"),
    "heads": ("num_attention_heads", "n_head"),
    "layers": ("num_hidden_layers", "n_layer"),
    "vocab": ("vocab_size",),
    "ffn": ("intermediate_size", "ffn_dim", "n_inner"),
    "kv_heads": ("num_key_value_heads", "num_kv_heads"),
    "head_dim": ("head_dim",),
    "max_pos": ("max_position_embeddings", "n_positions", "n_ctx"),
    "experts": ("num_local_experts", "num_experts", "n_routed_experts"),
    "top_k": ("num_experts_per_tok",),
    "moe_ffn": ("moe_intermediate_size",),
    "act": ("hidden_act", "activation_function"),
    "sliding_window": ("sliding_window",),
    "tied": ("tie_word_embeddings",),
    "embed_proj": ("word_embed_proj_dim",),
    "type_vocab": ("type_vocab_size",),
}
REQUIRED = ("hidden", "heads", "layers", "vocab", "max_pos")


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a transformer: everything the lowering and the parameter count need."""

    name: str
    family: str
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    layers: int
    vocab: int
    max_pos: int
    act: str
    norm: str                 # layernorm | rmsnorm
    gated: bool               # SwiGLU-style gate+up+down
    bias: bool                # linear layers carry biases
    pos: str                  # learned | rope
    pos_offset: int           # extra learned position rows (OPT: 2)
    tied: bool                # LM head shares the token embedding
    encoder_only: bool
    post_norm: bool           # norm after the residual add (BERT)
    final_norm: bool
    experts: int = 1          # routed experts per layer (1 = dense)
    top_k: int = 1
    sliding_window: int | None = None
    type_vocab: int = 0       # BERT token-type rows
    embed_dim: int = 0        # OPT word_embed_proj_dim: token rows this wide, projected to hidden (0: hidden)
    pooler: bool = False      # BERT pooler (d x d dense)

    @property
    def is_moe(self) -> bool:
        return self.experts > 1

    @property
    def group(self) -> int:
        """Query heads per KV head (1 = MHA, heads = MQA)."""
        return self.heads // self.kv_heads

    @property
    def embed_width(self) -> int:
        """Width of the token embedding (and of the tied LM head): OPT-350m keeps it below hidden."""
        return self.embed_dim or self.hidden

    @property
    def projected(self) -> bool:
        """project_in / project_out matrices sit between the embedding width and hidden (OPT-350m)."""
        return self.embed_width != self.hidden

    @property
    def ffn_mats(self) -> int:
        return 3 if self.gated else 2


def _get(raw: Mapping[str, Any], key: str) -> tuple[str | None, Any]:
    for alias in ALIASES[key]:
        if alias in raw:
            return alias, raw[alias]
    return None, None


def _int(raw: Mapping[str, Any], key: str, source: str, default: int | None = None) -> int | None:
    alias, v = _get(raw, key)
    if v is None:
        if default is None and key in REQUIRED:
            raise WorkloadError(f"{source}: missing required field {ALIASES[key][0]!r} "
                                f"(also accepted: {', '.join(ALIASES[key][1:]) or 'no alias'})")
        return default
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise WorkloadError(f"{source}: field {alias!r} must be a positive integer, got {v!r}")
    return v


def normalise(raw: Mapping[str, Any], name: str, source: str = "config.json") -> ModelConfig:
    """Map a Hugging Face config dict onto a `ModelConfig`, with errors that name the field."""
    if not isinstance(raw, Mapping):
        raise WorkloadError(f"{source}: expected a JSON object, got {type(raw).__name__}")
    mtype = raw.get("model_type")
    if mtype not in FAMILIES:
        raise WorkloadError(f"{source}: model_type {mtype!r} is not supported; supported families: "
                            f"{', '.join(sorted(FAMILIES))}")
    traits = dict(FAMILIES[mtype])
    hidden = _int(raw, "hidden", source)
    heads = _int(raw, "heads", source)
    kv_heads = _int(raw, "kv_heads", source, heads)
    head_dim = _int(raw, "head_dim", source, hidden // heads)
    if heads % kv_heads:
        raise WorkloadError(f"{source}: num_attention_heads {heads} is not a multiple of "
                            f"num_key_value_heads {kv_heads}")
    if head_dim * heads != hidden and "head_dim" not in raw:
        raise WorkloadError(f"{source}: hidden size {hidden} is not divisible by {heads} heads")
    experts = _int(raw, "experts", source, 1)
    ffn = _int(raw, "moe_ffn", source) if experts > 1 else None
    ffn = ffn or _int(raw, "ffn", source, 4 * hidden)      # n_inner: null => 4*d
    _, act = _get(raw, "act")
    _, tied = _get(raw, "tied")
    if tied is not None:
        traits["tied"] = bool(tied)
    embed_dim = 0
    if mtype == "opt":
        proj = _int(raw, "embed_proj", source, hidden)
        embed_dim = proj if proj != hidden else 0
        if raw.get("do_layer_norm_before") is False:
            traits.update(post_norm=True, final_norm=False)
    window = _int(raw, "sliding_window", source)
    return ModelConfig(
        name=name, family=mtype, hidden=hidden, heads=heads, kv_heads=kv_heads, head_dim=head_dim, ffn=ffn,
        layers=_int(raw, "layers", source), vocab=_int(raw, "vocab", source), max_pos=_int(raw, "max_pos", source),
        act=str(act or ("gelu" if mtype in ("gpt2", "bert") else "relu" if mtype == "opt" else "silu")),
        experts=experts, top_k=_int(raw, "top_k", source, 2 if experts > 1 else 1),
        sliding_window=window, type_vocab=_int(raw, "type_vocab", source, 2 if mtype == "bert" else 0) or 0,
        pooler=mtype == "bert", embed_dim=embed_dim, **traits)


PRESET_DIR = Path(__file__).parent / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def _key(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum() or ch == ".")


def load_config(path: str | Path) -> ModelConfig:
    """Read a config.json from disk."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise WorkloadError(f"cannot read model config {p}: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkloadError(f"{p}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    name = raw.get("_name_or_path") if isinstance(raw, dict) else None
    return normalise(raw, str(name or p.parent.name or p.stem), source=str(p))


@lru_cache(maxsize=None)
def _preset(want: str) -> ModelConfig | None:
    """Presets are package data that never change while running, so each is parsed once."""
    for stem in preset_names():
        raw = json.loads((PRESET_DIR / f"{stem}.json").read_text())
        hf = _key(str(raw.get("_name_or_path", "")).split("/")[-1])
        if want in (_key(stem), hf, hf.removesuffix("hf"), _key(stem).removesuffix("base")):
            return normalise(raw, stem, source=f"preset {stem}")
    return None


def get_model(name_or_path: str | Path) -> ModelConfig:
    """A bundled preset by name (case/punctuation-insensitive, HF ids accepted) or a config.json path."""
    s = str(name_or_path)
    if s.endswith(".json") or Path(s).is_file():
        return load_config(s)
    cfg = _preset(_key(s.split("/")[-1]))
    if cfg is not None:
        return cfg
    raise WorkloadError(f"unknown model {s!r}; bundled presets: {', '.join(preset_names())} "
                        "(or pass a path to a Hugging Face config.json)")
