"""archsim's SCALE-Sim-compatible timing side by side with SCALE-Sim v3, with ratios.

    python validation/scalesim/compare.py                        # recorded SCALE-Sim numbers
    python validation/scalesim/compare.py --live                 # + SCALE-Sim run live (small cases)
    python validation/scalesim/compare.py --live --random 40 --record live_cases.csv

Recorded numbers: cases.csv, representative.csv and live_cases.csv (see README.md). SCALE-Sim is
never an archsim dependency: it runs in-process if importable, otherwise through the interpreter
named by --scalesim-python or $SCALESIM_PYTHON (a venv with scalesim==3.0.0 and numpy<2.4).
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from archsim.frontends.scalesim import conv_layers  # noqa: E402
from archsim.units.systolic.pipelined import pipelined_cycles  # noqa: E402
from archsim.units.systolic import scalesim_cycles  # noqa: E402

FIELDS = ("compute_cycles", "overall_util_pct", "mapping_eff_pct", "compute_util_pct",
          "sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes")
CONV = ("H", "W", "R", "S", "C", "F", "stride")
RECORD_COLUMNS = ("case_id", "kind", "name", "M", "N", "K", *(f"conv_{k}" for k in CONV),
                  "rows", "cols", "dataflow", "layer", *FIELDS)


def layers_of(case: dict) -> list[tuple[int, int, int]]:
    """The GEMMs SCALE-Sim runs for a case: one, or several for a depthwise conv."""
    if case["kind"] == "conv":
        return [(lay.gemm.M, lay.gemm.N, lay.gemm.K) for lay in conv_layers(case["name"], *case["conv"])]
    return [(case["M"], case["N"], case["K"])]


def load_cases(names=("cases.csv", "representative.csv", "live_cases.csv")) -> list[dict]:
    """Recorded cases, one per case_id, with SCALE-Sim's numbers per layer in case['ref']."""
    cases: dict[str, dict] = {}
    for name in names:
        if not (HERE / name).exists():
            continue
        with open(HERE / name, newline="") as f:
            for r in csv.DictReader(f):
                cid = r["case_id"].split("|1024")[0]
                if cid not in cases:
                    c = {"id": cid, "kind": r["kind"], "name": r.get("name") or cid,
                         "rows": int(r["rows"]), "cols": int(r["cols"]), "dataflow": r["dataflow"],
                         "ref": [], "source": name}
                    if r["kind"] == "conv":
                        c["conv"] = [int(r[f"conv_{k}"]) for k in CONV]
                    else:
                        c.update(M=int(r["M"]), N=int(r["N"]), K=int(r["K"]))
                    cases[cid] = c
                cases[cid]["ref"].append({k: float(r[k]) for k in FIELDS if r.get(k)})
    return list(cases.values())


def random_cases(n: int, seed: int) -> list[dict]:
    """Shapes nobody tuned for (GEMMs, strided convs, depthwise): held-out checks of the law."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        c = {"id": f"rand{seed}_{i}", "rows": rng.choice([1, 2, 3, 4, 5, 8, 16, 32]),
             "cols": rng.choice([1, 2, 3, 4, 7, 8, 16, 32]),
             "dataflow": rng.choice(["os", "ws", "is"]), "ref": [], "source": "live"}
        if i % 3 == 2:
            H, W = rng.randint(3, 20), rng.randint(3, 20)
            R, S = rng.randint(1, min(H, 5)), rng.randint(1, min(W, 5))
            c.update(kind="conv", name=rng.choice(["conv", "DPconv"]) + str(i),
                     conv=[H, W, R, S, rng.randint(1, 6), rng.randint(1, 12), rng.randint(1, 3)])
        else:
            c.update(kind="gemm", name=f"gemm{i}",
                     **{k: rng.choice([rng.randint(1, 40), rng.randint(1, 160)]) for k in "MNK"})
        out.append(c)
    return out


def run_live(cases: list[dict], python: str | None) -> list[dict]:
    """SCALE-Sim's per-layer numbers for each case (in-process, or via another interpreter)."""
    from archsim.frontends.scalesim import scalesim_cfg_text

    keys = ("M", "N", "K", "conv", "name", "rows", "cols", "dataflow")
    payload = [{**{k: c[k] for k in keys if k in c},
                "cfg": scalesim_cfg_text(c["rows"], c["cols"], c["dataflow"], run_name="live")} for c in cases]
    if python is None:
        sys.path.insert(0, str(HERE))
        import live
        res = []
        for c in payload:
            with tempfile.TemporaryDirectory() as d:
                res.append(live.run_case(c, Path(d)))
        return res
    done = subprocess.run([python, str(HERE / "live.py")], input=json.dumps(payload),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def scalesim_python(arg: str | None) -> str | None | bool:
    """None = in-process; a path = that interpreter; False = SCALE-Sim not available."""
    if arg or os.environ.get("SCALESIM_PYTHON"):
        return arg or os.environ["SCALESIM_PYTHON"]
    return None if importlib.util.find_spec("scalesim") else False


def ours(case: dict) -> list[dict]:
    out = []
    for M, N, K in layers_of(case):
        t = scalesim_cycles(M, N, K, case["rows"], case["cols"], case["dataflow"])
        out.append({k: getattr(t, k) for k in FIELDS} | {"gemm": (M, N, K)})
    return out


def record(cases: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(RECORD_COLUMNS)
        for c in cases:
            for i, ref in enumerate(c["ref"]):
                gemm = ["", "", ""] if c["kind"] == "conv" else [c["M"], c["N"], c["K"]]
                conv = c.get("conv", [""] * len(CONV))
                w.writerow([c["id"], c["kind"], c["name"], *gemm, *conv, c["rows"], c["cols"],
                            c["dataflow"], i, *(ref[k] if k.endswith("pct") else int(ref[k]) for k in FIELDS)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--live", action="store_true", help="also run SCALE-Sim live on small cases")
    ap.add_argument("--scalesim-python", help="interpreter that can import scalesim")
    ap.add_argument("--max-live-cycles", type=int, default=20000, help="skip bigger cases live")
    ap.add_argument("--random", type=int, default=0, help="add N random shapes (needs --live)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--record", type=Path, help="write the live SCALE-Sim rows of the random cases here")
    args = ap.parse_args()

    from rich.console import Console
    from rich.table import Table

    cases = load_cases()
    py = scalesim_python(args.scalesim_python)
    if args.live and py is False:
        print("SCALE-Sim is not importable here; give --scalesim-python. Showing recorded numbers only.")
    live = args.live and py is not False
    fresh = random_cases(args.random, args.seed) if live else []
    cases += fresh
    for c in cases:
        c["ours"] = ours(c)
    if live:
        todo = [c for c in cases if sum(o["compute_cycles"] for o in c["ours"]) <= args.max_live_cycles]
        for c, r in zip(todo, run_live(todo, py or None)):
            c["live"] = [{k: r[k][i] for k in FIELDS} for i in range(len(r["compute_cycles"]))]
            c["live_cpu_s"] = r["cpu_s"]
            if c["source"] == "live":
                c["ref"] = c["live"]
    if args.record and fresh:
        kept = [c for c in fresh if c.get("live")]
        record(kept, args.record)
        print(f"recorded {len(kept)} live cases to {args.record}")
    table = Table(title="archsim (timing: scalesim) vs SCALE-Sim v3, per SCALE-Sim layer")
    for col in ("case", "layers", "array", "df", "MxNxK", "archsim cyc", "SCALE-Sim cyc", "ratio",
                "util ratio", "SRAM ratio", "live", "exact", "pipelined cyc"):
        table.add_column(col, justify="left" if col in ("case", "df") else "right")
    exact = 0
    for c in cases:
        checks, o = [], c["ours"]
        for refs, rounded in ((c["ref"], c["source"] == "representative.csv"), (c.get("live") or [], False)):
            for mine, ref in zip(o, refs):            # representative.csv has utils to 2 decimals
                tol = (lambda r: 0.006) if rounded else (lambda r: 1e-9 * max(1.0, r))
                checks += [mine[k] == ref[k] if not k.endswith("pct")
                           else abs(mine[k] - ref[k]) <= tol(ref[k]) for k in ref]
            checks.append(len(refs) in (0, len(o)))
        if not c["ref"]:
            continue                                  # too big to run live, nothing recorded
        exact += all(checks)
        ref = c["ref"]
        cyc = sum(x["compute_cycles"] for x in o)
        theirs = sum(x["compute_cycles"] for x in ref)
        util = f"{o[0]['overall_util_pct'] / ref[0]['overall_util_pct']:.6f}" if "overall_util_pct" in ref[0] else ""
        sram_keys = ("sram_ifmap_reads", "sram_filter_reads", "sram_ofmap_writes")
        sram = f"{sum(x[k] for x in o for k in sram_keys) / sum(x[k] for x in ref for k in sram_keys):.6f}" \
            if sram_keys[0] in ref[0] else ""
        M, N, K = o[0]["gemm"]
        pcyc = str(sum(int(pipelined_cycles(*x["gemm"], c["rows"], c["cols"], c["dataflow"]).total_cycles)
                       for x in o))
        table.add_row(c["id"], str(len(o)), f"{c['rows']}x{c['cols']}", c["dataflow"], f"{M}x{N}x{K}",
                      str(cyc), str(int(theirs)), f"{cyc / theirs:.6f}", util, sram,
                      "yes" if c.get("live") else "", "yes" if all(checks) else "NO", pcyc)
    Console(width=170).print(table)
    compared = sum(bool(c["ref"]) for c in cases)
    print(f"{exact}/{compared} cases exact on every compared field "
          f"(cycles, util %, mapping eff %, compute util %, SRAM counts where recorded)")
    return 0 if exact == compared else 1


if __name__ == "__main__":
    sys.exit(main())
