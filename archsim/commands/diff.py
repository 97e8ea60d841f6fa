"""`archsim diff A.json B.json`: two `archsim run --json` reports side by side, with ratios."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from archsim.errors import ArchsimError
from archsim.commands._common import nonnegative_int

TOTALS = (("time", "time_ns", 1e-9, "s"), ("cycles", "cycles", 1, ""), ("energy", "energy_pj", 1e-12, "J"),
          ("utilisation", "utilization", None, "%"), ("MACs", "macs", 1, ""), ("SRAM rd", "sram_reads", 1, "B"),
          ("SRAM wr", "sram_writes", 1, "B"), ("DRAM rd", "dram_read_bytes", 1, "B"),
          ("DRAM wr", "dram_write_bytes", 1, "B"), ("tokens/s", "tokens_per_s", 1, ""))


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("diff", help="compare two run reports (JSON) side by side with ratios",
                       description="Compare two reports written by `archsim run --json PATH`: the totals side by "
                                   "side with B/A ratios, then the ops both ran (matched by name), then what "
                                   "differs between the two designs' configs.")
    p.add_argument("a", metavar="A.json")
    p.add_argument("b", metavar="B.json")
    p.add_argument("--ops", type=nonnegative_int, default=20, help="ops to list (default 20, by A's time)")
    return p


def load(path: str) -> dict:
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise ArchsimError(f"{path}: no such file (write one with `archsim run ... --json {path}`)") from None
    except ValueError as exc:
        raise ArchsimError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or "totals" not in data or "ops" not in data:
        raise ArchsimError(f"{path}: not an `archsim run --json` report (needs 'totals' and 'ops')")
    return data


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _ratio(a, b) -> str:
    if a in (None, 0) or b is None:
        return "-"
    return f"{b / a:.3f}x"


def _val(v, scale, unit) -> str:
    from archsim.textfmt import eng

    if v is None:
        return "-"
    return f"{100 * v:.1f}%" if scale is None else eng(v * scale, unit)


def render(a: dict, b: dict, name_a: str, name_b: str, n_ops: int = 20, width: int = 80) -> str:
    from archsim.textfmt import eng, render_table, wrap

    da, db = (x.get("config", {}).get("name", "?") for x in (a, b))
    out = [wrap(f"A: {name_a} ({da})", width, "   "), wrap(f"B: {name_b} ({db})", width, "   ")]
    rows = [[label, _val(a["totals"].get(k), s, u), _val(b["totals"].get(k), s, u),
             _ratio(a["totals"].get(k), b["totals"].get(k))]
            for label, k, s, u in TOTALS if k in a["totals"] or k in b["totals"]]
    out.append(render_table(("total", "A", "B", "B/A"), rows, width))
    ops_b = {o["name"]: o for o in b["ops"]}
    both = sorted((o for o in a["ops"] if o["name"] in ops_b), key=lambda o: -o["time_ns"])[:n_ops]
    if both:
        orows = [[o["name"], eng(o["time_ns"] * 1e-9, "s"), eng(ops_b[o["name"]]["time_ns"] * 1e-9, "s"),
                  _ratio(o["time_ns"], ops_b[o["name"]]["time_ns"]), eng(o["energy_pj"] * 1e-12, "J"),
                  eng(ops_b[o["name"]]["energy_pj"] * 1e-12, "J"),
                  _ratio(o["energy_pj"], ops_b[o["name"]]["energy_pj"])] for o in both]
        out.append(render_table(("op", "time A", "time B", "B/A", "energy A", "energy B", "B/A"), orows, width,
                                title=f"ops in both ({len(both)} by A's time)"))
    only = sorted(set(o["name"] for o in a["ops"]) ^ set(ops_b))
    if only:
        out.append(wrap(f"ops in one report only: {', '.join(only)}", width, "  "))
    ca, cb = _flat(a.get("config", {})), _flat(b.get("config", {}))
    changed = [k for k in sorted(set(ca) | set(cb)) if ca.get(k) != cb.get(k)]
    if changed:
        crow = [[k, str(ca.get(k, "-")), str(cb.get(k, "-"))] for k in changed]
        out.append(render_table(("config key", "A", "B"), crow, width, text_cols=(0, 1, 2), title="config"))
    return "\n".join(out)


def main(args) -> int:
    print(render(load(args.a), load(args.b), args.a, args.b, args.ops))
    return 0
