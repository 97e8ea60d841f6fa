"""`archsim model` end to end through the CLI dispatcher."""
from __future__ import annotations

import json

import pytest

from archsim.cli import main
from dataflows.lowering import lower


def run(capsys, *argv):
    rc = main(["model", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_table_lists_ops_and_parameter_counts(capsys):
    rc, out, _ = run(capsys, "mixtral-8x7b", "--phase", "decode", "--kv", "512", "--batch", "2")
    assert rc == 0
    for name in ("qkv", "qk", "router", "expert_gate_up", "lm_head"):
        assert f"\n{name} " in out
    assert "46,702,792,704 total, 12,879,138,816 active" in out
    assert "tokens per expert: [1, 1, 1, 1, 0, 0, 0, 0]" in out


def test_json_matches_the_lowering(capsys, tmp_path):
    rc, out, _ = run(capsys, "llama-3-8b", "--phase", "prefill", "--seq", "256", "--bits", "8", "--json", "-")
    assert rc == 0
    s = json.loads(out)
    g = lower("llama-3-8b", "prefill", seq=256, bits=8)
    assert s["totals"]["flops"] == g.total_flops and s["totals"]["bytes"] == g.total_bytes
    assert [r["name"] for r in s["ops"]] == [o.name for o in g]
    assert s["ops"][2]["shape"] == "256x6144x4096" and s["meta"]["params"]["total"] == 8030261248
    path = tmp_path / "out.json"
    assert run(capsys, "gpt2", "--json", str(path))[0] == 0
    assert json.loads(path.read_text())["model"] == "gpt2"


def test_config_json_path_and_list(capsys, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 256, "num_attention_heads": 8,
                               "num_key_value_heads": 2, "num_hidden_layers": 3, "intermediate_size": 512,
                               "vocab_size": 1000, "max_position_embeddings": 128}))
    rc, out, _ = run(capsys, str(cfg), "--phase", "decode", "--kv", "100", "--expand")
    assert rc == 0 and "qkv.2" in out and "qkv.3" not in out
    rc, out, _ = run(capsys, "--list")
    assert rc == 0 and "llama-2-70b" in out.split()


@pytest.mark.parametrize("argv, msg", [
    (["nope"], "unknown model 'nope'"),
    (["llama-2-7b", "--batch", "0"], "--batch: must be a positive integer"),
    (["llama-2-7b", "--phase", "decode", "--kv", "4097"], "--allow-long"),
    (["bert-base", "--phase", "decode"], "encoder-only"),
    (["mixtral-8x7b", "--expert-histogram", "1,x"], "comma-separated integers"),
    ([], "needs a preset name"),
])
def test_bad_input_is_a_clear_error(capsys, argv, msg):
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and msg in err and "Traceback" not in err


def test_malformed_config_json(capsys, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text("{\"model_type\": ")
    rc, _, err = run(capsys, str(cfg))
    assert rc == 2 and "not valid JSON" in err
