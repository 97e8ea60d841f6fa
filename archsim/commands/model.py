"""`archsim model`: lower a transformer (or build a vision network) and print its operator table and
parameter counts."""
from __future__ import annotations

import argparse
import json
import sys

from archsim.errors import WorkloadError
from archsim.fileio import atomic_write_text
from archsim.commands._common import positive_int

MIB = 1 << 20


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("model", help="lower a transformer and print its operator table",
                       description="Lower a bundled preset or a Hugging Face config.json to operators and "
                                   "print FLOPs, bytes per operand role and arithmetic intensity per op.")
    p.add_argument("model", nargs="?", help="preset name (see --list), path to a config.json, or a vision "
                                            "network (e.g. mobilenet-v1)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="vision network parameter, e.g. --param width=0.5 (repeatable)")
    p.add_argument("--list", action="store_true", help="list the bundled presets and exit")
    p.add_argument("--phase", choices=("prefill", "decode"), default="prefill")
    p.add_argument("--batch", type=positive_int, default=1, help="sequences in the batch (default 1)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--seq", type=positive_int,
                   help="prefill: prompt length in tokens (default min(1024, max positions))")
    g.add_argument("--kv", type=positive_int,
                   help="decode: keys attended incl. the new token (default min(1024, max positions))")
    p.add_argument("--bits", type=positive_int, default=16, help="weight and activation precision (default 16)")
    p.add_argument("--kv-bits", type=positive_int, help="KV-cache precision (default --bits)")
    p.add_argument("--expand", action="store_true", help="one row per layer instead of one row x count")
    p.add_argument("--moe-imbalance", type=float, default=0.0,
                   help="MoE routing skew: expert i gets a share ~ (i+1)^-x (0 = balanced)")
    p.add_argument("--expert-histogram", help="MoE tokens per expert, comma separated (overrides --moe-imbalance)")
    p.add_argument("--allow-long", action="store_true", help="allow contexts beyond max_position_embeddings")
    p.add_argument("--json", metavar="PATH", help="write the table as JSON to PATH ('-' = stdout)")
    return p


def _histogram(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise WorkloadError(f"--expert-histogram: expected comma-separated integers, got {text!r}") from None


def _shape(op) -> str:
    if op.kind in ("gemm", "conv"):
        return str(op.as_gemm())
    return "x".join(str(op.dims[d]) for d in op.operands[-1].dims)


def op_rows(graph) -> list[dict]:
    rows = []
    for op in graph:
        by_role = op.bytes_by_role
        rows.append({"name": op.name, "kind": op.kind, "count": op.count, "shape": _shape(op),
                     "flops": op.flops, "bytes": op.bytes, "intensity": op.intensity,
                     "weight_bytes": by_role["weight"], "activation_bytes": by_role["activation"],
                     "kv_cache_bytes": by_role["kv_cache"], "output_bytes": by_role["output"],
                     "total_flops": op.total_flops, "total_bytes": op.total_bytes})
    return rows


def summary(graph) -> dict:
    meta = dict(graph.meta)
    return {"model": meta.pop("model"), "meta": meta, "ops": op_rows(graph),
            "totals": {"flops": graph.total_flops, "bytes": graph.total_bytes,
                       "bytes_by_role": graph.bytes_by_role(),
                       "intensity": graph.total_flops / graph.total_bytes}}


def render(s: dict, width: int = 80) -> str:
    """The op table and totals, `width` columns wide (bytes and FLOPs in engineering units)."""
    from archsim.textfmt import eng, join_wrapped, render_table, wrap

    m = s["meta"]
    kv = f"attended {m['attended']}" + (f" of context {m['context']}" if m["attended"] != m["context"] else "")
    out = [wrap(f"{s['model']} ({m['family']}) {m['phase']}: batch {m['batch']}, new tokens {m['new_tokens']}, "
                f"{kv}, {m['bits']}-bit weights/activations, {m['kv_bits']}-bit KV", width)]
    heads = ("op", "x", "shape", "FLOP", "weight", "act", "KV", "out", "FLOP/B", "kind")
    rows = [[r["name"], str(r["count"]), r["shape"], eng(r["flops"]), eng(r["weight_bytes"], "B"),
             eng(r["activation_bytes"], "B"), eng(r["kv_cache_bytes"], "B"), eng(r["output_bytes"], "B"),
             f"{r['intensity']:.1f}", r["kind"]] for r in s["ops"]]
    out.append(render_table(heads, rows, width, text_cols=(0, 2, 9)))
    t = s["totals"]
    roles = [f"{k} {eng(v, 'B')}" for k, v in t["bytes_by_role"].items()]
    out.append(join_wrapped([f"total (x count): {eng(t['flops'])}FLOP,", f"{eng(t['bytes'], 'B')} moved",
                             f"({', '.join(roles)}),", f"{t['intensity']:.1f} FLOP/B"], width, " "))
    p = m["params"]
    out.append(wrap(f"parameters: {p['total']:,} total, {p['active']:,} active per token "
                    f"({p['per_layer']:,} per layer, {p['embedding']:,} embedding)", width))
    if "expert_loads" in m:
        out.append(wrap(f"tokens per expert: {m['expert_loads']}", width))
    return "\n".join(out)


def _print(s: dict, out) -> None:
    print(render(s), file=out)


def main(args) -> int:
    from dataflows.lowering import lower
    from dataflows.models import preset_names

    from dataflows.vision import NETWORKS, is_network

    if args.list:
        print("\n".join(preset_names()))
        print("\n".join(f"{n}  ({net.summary}; parameters: {', '.join(f'{k}={v}' for k, v in net.params.items())})"
                        for n, net in NETWORKS.items()))
        return 0
    if args.model and is_network(args.model):
        return _network(args)
    if not args.model:
        raise WorkloadError("archsim model needs a preset name or a config.json path; presets: "
                            + ", ".join(preset_names()))
    graph = lower(args.model, phase=args.phase, batch=args.batch, seq=args.seq, kv=args.kv, bits=args.bits,
                  kv_bits=args.kv_bits, expand=args.expand, moe_imbalance=args.moe_imbalance,
                  expert_histogram=_histogram(args.expert_histogram), allow_long=args.allow_long)
    s = summary(graph)
    if args.json:
        text = json.dumps(s, indent=2, default=lambda v: None)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            atomic_write_text(args.json, text + "\n")
            _print(s, sys.stdout)
    else:
        _print(s, sys.stdout)
    return 0


def _network(args) -> int:
    """A bundled vision network's layer table: MACs and parameters per layer, totals per convention."""
    from archsim.workload import key_values
    from dataflows.vision import build_network

    params = key_values(",".join(args.param), "--param", "width=0.5") if args.param else {}
    net = build_network(args.model, batch=args.batch, **params)
    layers = [{"name": la.name, "type": la.type, "macs": la.macs, "weights": la.weights, "biases": la.biases,
               "bn_channels": la.bn_channels} for la in net.layers]
    t = {"macs": net.macs, "params": net.params(0), "params_with_bn": net.params(2),
         "params_with_bn_stats": net.params(4)}
    s = {"model": net.name, "meta": dict(net.graph.meta), "layers": layers, "totals": t}
    if args.json:
        text = json.dumps(s, indent=2)
        if args.json == "-":
            sys.stdout.write(text + "\n")
            return 0
        atomic_write_text(args.json, text + "\n")
    print(f"{net.name}: {', '.join(f'{k}={v}' for k, v in net.graph.meta.items() if k != 'network')}, "
          f"input {net.h}x{net.w}x{net.c}, batch {net.batch}")
    head = f"{'layer':<18}{'type':<11}{'MACs (per image)':>18}{'weights':>12}{'biases':>9}{'BN ch':>8}"
    print(head)
    print("-" * len(head))
    for r in layers:
        print(f"{r['name']:<18}{r['type']:<11}{r['macs']:>18,}{r['weights']:>12,}{r['biases']:>9,}{r['bn_channels']:>8,}")
    print("-" * len(head))
    print(f"total: {t['macs']:,} MACs per image; parameters {t['params']:,} (weights + biases), "
          f"{t['params_with_bn']:,} (+ batch-norm scale and shift), {t['params_with_bn_stats']:,} (+ running stats)")
    return 0
