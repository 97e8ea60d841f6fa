"""Our parameter counts and per-layer FLOPs/bytes beside the published / GenZ numbers.

Run from the repository root:  .venv/bin/python validation/models/compare.py
Reference figures live in the CSVs next to this file, each with its source.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))   # repository root, so this runs as a plain script

from dataflows.lowering import lower          # noqa: E402
from dataflows.models import get_model, param_counts  # noqa: E402

MIB = 1 << 20
QKVO = {"qkv", "o_proj"}
ATTN = {"qk", "av"}


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV, skipping '#' comment lines."""
    with open(HERE / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def model_of(name: str):
    """A bundled preset, or a family member's config.json from configs/ (loaded as a user's file)."""
    path = HERE / "configs" / f"{name}.json"
    return get_model(str(path) if path.is_file() else name)


def layer_summary(model: str, phase: str, tokens: int, context: int, bits: int = 16) -> dict[str, float]:
    """One layer's FLOPs and bytes, grouped as in models.md's table (B = 1)."""
    g = lower(model, phase, batch=1, seq=tokens if phase == "prefill" else None,
              kv=context if phase == "decode" else None, bits=bits)
    layer = [op for op in g if op.layer == "layer"]
    gemms = [op for op in layer if op.kind == "gemm"]
    qkvo = sum(op.flops for op in gemms if op.name in QKVO)
    attn = sum(op.flops for op in gemms if op.name in ATTN)
    ffn = sum(op.flops for op in gemms if "ffn" in op.tags or op.name == "router")
    kv_write = [op for op in layer if op.kind == "kv_write"]
    return {
        "qkvo_gflop": qkvo / 1e9, "attention_gflop": attn / 1e9, "ffn_gflop": ffn / 1e9,
        "total_gflop": (qkvo + attn + ffn) / 1e9,
        "weights_mib": sum(op.bytes_by_role["weight"] for op in gemms) / MIB,
        "kv_read_mib": sum(op.bytes_by_role["kv_cache"] for op in gemms) / MIB,
        "kv_bytes_per_token_layer": (sum(op.bytes_by_role["kv_cache"] for op in kv_write) / tokens
                                     if kv_write else float("nan")),
        "flop_per_byte_approx": (qkvo + attn + ffn) / sum(op.bytes for op in gemms),
    }


def comparisons() -> list[tuple[str, str, float, float]]:
    """(what, quantity, ours, theirs) for every reference figure."""
    out = []
    for r in read_csv("params.csv") + read_csv("params_configs.csv"):
        p = param_counts(model_of(r["model"]))
        out += [(r["model"], "params total", p["total"], int(r["total"])),
                (r["model"], "params active", p["active"], int(r["active"]))]
    for r in read_csv("per_layer.csv"):
        ours = layer_summary(r["model"], r["phase"], int(r["tokens"]), int(r["context"]))
        for key, theirs in r.items():
            if key in ours and theirs not in ("", None):
                out.append((f"{r['model']} {r['phase']}", key, ours[key], float(theirs)))
    g = {op.name: op for op in lower("llama-2-7b", "prefill", seq=1024)}
    for r in read_csv("genz_llama2_7b_prefill.csv"):
        op = g[r["our_ops"]]
        ours = op.flops / 1e6 if r["quantity"] == "mflop" else op.bytes_by_role["weight"] / MIB
        out.append((f"GenZ {r['genz_op']}", r["quantity"], ours, float(r["value"])))
    return out


def main() -> int:
    print(f"{'what':<26}{'quantity':<26}{'ours':>24}{'reference':>24}{'ratio':>10}")
    for what, q, ours, theirs in comparisons():
        ratio = ours / theirs if theirs else float("nan")
        print(f"{what:<26}{q:<26}{ours:>24,.6f}{theirs:>24,.6f}{ratio:>10.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
