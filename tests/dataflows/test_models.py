"""Model presets and the config.json loader: exact parameter counts, aliases, clear errors."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from archsim.errors import WorkloadError
from dataflows.models import get_model, load_config, normalise, param_counts, preset_names

def compare_module():
    """validation/models/compare.py, found relative to this file."""
    path = Path(__file__).resolve().parents[2] / "validation" / "models" / "compare.py"
    spec = importlib.util.spec_from_file_location("validation_models_compare", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


REF = compare_module()
PARAMS = REF.read_csv("params.csv")
CONFIGS = REF.read_csv("params_configs.csv")


@pytest.mark.parametrize("row", PARAMS + CONFIGS, ids=[r["model"] for r in PARAMS + CONFIGS])
def test_parameter_counts_equal_published(row):
    """Presets, and family members read from their config.json as a user would pass them."""
    p = param_counts(REF.model_of(row["model"]))
    assert p["total"] == int(row["total"])
    assert p["active"] == int(row["active"])


def test_every_models_md_preset_has_a_reference_count():
    names = {r["model"] for r in PARAMS if r["source"].startswith("models.md")}
    assert names == {"gpt2", "llama-2-7b", "llama-3-8b", "mistral-7b", "mixtral-8x7b", "opt-1.3b", "bert-base"}
    assert names <= set(preset_names())


@pytest.mark.parametrize("name, hidden, layers, heads, kv, ffn, vocab", [
    ("opt-6.7b", 4096, 32, 32, 32, 16384, 50272),
    ("opt-13b", 5120, 40, 40, 40, 20480, 50272),
    ("opt-30b", 7168, 48, 56, 56, 28672, 50272),
    ("opt-66b", 9216, 64, 72, 72, 36864, 50272),
    ("llama-2-13b", 5120, 40, 40, 40, 13824, 32000),
    ("llama-2-70b", 8192, 80, 64, 8, 28672, 32000),
    ("llama-3-8b", 4096, 32, 32, 8, 14336, 128256),
    ("gpt2", 768, 12, 12, 12, 3072, 50257),        # n_inner null => 4 d, no kv heads => MHA
])
def test_preset_shapes(name, hidden, layers, heads, kv, ffn, vocab):
    c = get_model(name)
    assert (c.hidden, c.layers, c.heads, c.kv_heads, c.ffn, c.vocab) == (hidden, layers, heads, kv, ffn, vocab)
    assert c.head_dim * c.heads == c.hidden


def test_family_traits():
    mx, ms, bert, opt = (get_model(n) for n in ("mixtral-8x7b", "mistral-7b", "bert-base", "opt-1.3b"))
    assert (mx.experts, mx.top_k, mx.sliding_window, mx.gated) == (8, 2, None, True)
    assert ms.sliding_window == 4096 and bert.encoder_only and bert.post_norm
    assert opt.pos_offset == 2 and opt.tied and opt.act == "relu" and not opt.gated


@pytest.mark.parametrize("alias", ["meta-llama/Llama-2-7b-hf", "LLaMA-2-7B", "llama_2_7b", "Llama-2-7b-hf"])
def test_names_and_hf_ids_resolve(alias):
    assert get_model(alias).name == "llama-2-7b"


def test_loader_normalises_aliases(tmp_path):
    raw = {"model_type": "gpt2", "n_embd": 64, "n_head": 4, "n_layer": 2, "vocab_size": 100,
           "n_positions": 32, "n_inner": None}
    c = normalise(raw, "tiny")
    assert (c.hidden, c.heads, c.kv_heads, c.layers, c.ffn, c.max_pos) == (64, 4, 4, 2, 256, 32)
    qwen = {"model_type": "mixtral", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1,
            "vocab_size": 10, "max_position_embeddings": 8, "num_experts": 4, "num_experts_per_tok": 1,
            "moe_intermediate_size": 32, "intermediate_size": 999, "head_dim": 32}
    c = normalise(qwen, "moe")
    assert (c.experts, c.top_k, c.ffn, c.head_dim) == (4, 1, 32, 32)
    p = tmp_path / "config.json"
    p.write_text(json.dumps(raw))
    assert load_config(p).hidden == 64 and get_model(str(p)).hidden == 64


@pytest.mark.parametrize("raw, msg", [
    ({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "vocab_size": 10,
      "max_position_embeddings": 8}, "missing required field 'num_hidden_layers'"),
    ({"model_type": "t5", "d_model": 64}, "supported families: bert, falcon, gpt2, gpt_neox,"),
    ({"hidden_size": 64}, "model_type None is not supported"),
    ({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 6, "num_key_value_heads": 4,
      "num_hidden_layers": 1, "vocab_size": 10, "max_position_embeddings": 8}, "not a multiple"),
    ({"model_type": "llama", "hidden_size": -1, "num_attention_heads": 4, "num_hidden_layers": 1,
      "vocab_size": 10, "max_position_embeddings": 8}, "'hidden_size' must be a positive integer"),
    ([1, 2], "expected a JSON object"),
])
def test_bad_configs_say_what_is_wrong(raw, msg):
    with pytest.raises(WorkloadError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        normalise(raw, "bad")


def test_unreadable_and_malformed_files(tmp_path):
    p = tmp_path / "config.json"
    p.write_text('{"model_type": "llama",\n "hidden_size": 4096')
    with pytest.raises(WorkloadError, match=r"not valid JSON at line 2"):
        get_model(str(p))
    with pytest.raises(WorkloadError, match="cannot read"):
        load_config(tmp_path / "missing.json")
    with pytest.raises(WorkloadError, match="unknown model 'gpt-5'.*bundled presets: bert-base"):
        get_model("gpt-5")


def test_opt_350m_projects_narrow_embeddings():
    """word_embed_proj_dim 512 < hidden 1024: 512-wide token rows and LM head, project_in/out, post-norm."""
    from dataflows.lowering import lower

    c = REF.model_of("opt-350m")
    assert (c.embed_width, c.projected, c.post_norm, c.final_norm, c.tied) == (512, True, True, False, True)
    ops = {op.name: op for op in lower(c, "decode", batch=2, kv=16)}
    assert ops["project_in"].dims == {"b": 2, "s": 1, "k": 512, "n": 1024}
    assert ops["project_out"].dims == {"b": 2, "s": 1, "k": 1024, "n": 512}
    assert ops["lm_head"].dims["k"] == 512 and ops["embed"].dims["d"] == 512
    assert ops["project_in"].flops == 2 * 2 * 512 * 1024
    assert "final_norm" not in ops
