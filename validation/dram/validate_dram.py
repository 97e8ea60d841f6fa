"""Reproduce the DRAM reference: closed forms (dram.md 4.3) and DRAMSim3 / Ramulator 2.1 measurements.

    .venv/bin/python validation/dram/validate_dram.py [--n 10000]

Prints ours beside theirs with ratios and a verdict per row; exits 1 if a target is missed.
Targets: closed forms within 1 %; measured figures within 3 % where the two simulators agree
(within 0.5 %), and between them (with 3 % slack) where they disagree.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from archsim.engine import Engine                       # noqa: E402
from memory import Request                              # noqa: E402
from memory.dram.level import DramLevel                 # noqa: E402
from memory.dram.spec import load_spec                  # noqa: E402
from memory.patterns import generate                    # noqa: E402
from memory.trace import replay                         # noqa: E402

MAPPINGS = {"ddr4": "rochrababgco", "ddr4_bgil": "rorabacobgch"}
# DRAMSim3 and Ramulator both report ~2 cycles more than tRCD + CL + BL/2 for an unloaded closed-bank
# read (DRAMSim3's median idle latency is 50 = 48 + 2): their controllers spend a cycle accepting the
# request and a cycle returning data. We model that pipeline explicitly for the comparison.
FRONTEND_CYCLES = 2
METRICS = [("total_cycles", "total_cycles"), ("avg_rd_lat_cyc", "avg_read_latency_cycles"),
           ("row_hit_rate", "row_hit_rate"), ("acts", "activates"), ("refs", "refreshes")]
LATENCY_ONLY_ON = {"idle_rand"}     # saturating patterns' latency measures queueing, not DRAM timing


def level(mapping="rochrababgco", frontend=FRONTEND_CYCLES, **kw) -> DramLevel:
    return DramLevel("ddr4", Engine(), load_spec("DDR4-3200"), mapping=mapping,
                     frontend_latency_cycles=frontend, **kw)


def run(pattern: str, org: str, n: int, **kw) -> dict:
    lvl = level(MAPPINGS[org], **kw)
    a, w, c = generate(pattern, lvl.mapping, n, seed=1)
    return replay(lvl, a, w, c, 64, lvl.clock)


def closed_forms(n: int) -> list[tuple[str, float, float]]:
    t = load_spec("DDR4-3200").timing
    ref = 1 + t["tRFC"] / t["tREFI"]
    rows = []
    lvl = level(frontend=0, refresh="none")
    m, out = lvl.mapping, []
    for addr, at in ((m.encode(ro=3), 0), (m.encode(ro=3, co=1), 1000), (m.encode(ro=4), 2000)):
        lvl.engine.at(at * 625, lambda a=addr: lvl.submit(Request(a, 64, False, "v", out.append)))
    lvl.engine.run()
    lat = [lvl.clock.ps_to_cycles(r.done_ps - r.issue_ps) for r in out]
    rows += [("unloaded read, closed bank (tRCD+CL+BL/2)", lat[0], t["tRCD"] + t["CL"] + t["tBL"]),
             ("unloaded read, row hit (CL+BL/2)", lat[1], t["CL"] + t["tBL"]),
             ("unloaded read, conflict (+tRP)", lat[2], t["tRP"] + t["tRCD"] + t["CL"] + t["tBL"])]
    s = run("rowconf", "ddr4", n, frontend=0)
    rows.append(("conflict stream cycles/access = tRC(1+tRFC/tREFI)", s["total_cycles"] / n, t["tRC"] * ref))
    s = run("rowhit", "ddr4", n, frontend=0)
    per_row = 127 * t["tCCD_L"] + t["tRTP"] + t["tRP"] + t["tRCD"]
    rows.append(("hit stream cycles/access", s["total_cycles"] / n, per_row / 128 * ref))
    s = run("seq_rd", "ddr4_bgil", n, frontend=0)
    rows.append(("bank-group-interleaved stream cycles/access = BL/2(1+tRFC/tREFI)", s["total_cycles"] / n, t["tBL"] * ref))
    return rows


def load_reference() -> dict:
    ref: dict = {}
    with open(HERE / "reference.csv") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            ref.setdefault((row["org"], row["pattern"]), {})[row["simulator"]] = row
    return ref


def verdict(ours: float, a: float, b: float) -> tuple[str, bool]:
    lo, hi = min(a, b), max(a, b)
    if hi == 0:
        return ("ok" if ours == 0 else "MISS"), ours == 0
    if (hi - lo) / hi <= 0.005:
        ok = abs(ours / hi - 1) <= 0.03
        return ("within 3% (agree)" if ok else "MISS (agree)"), ok
    ok = lo * 0.97 <= ours <= hi * 1.03
    inside = lo <= ours <= hi
    return ("between" if inside else "near (3%)" if ok else "MISS (disagree)"), ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    failed = 0
    print("Closed forms (DDR4-3200, pure DRAM timing, no controller pipeline)")
    print(f"{'quantity':66s} {'ours':>10s} {'closed':>10s} {'ratio':>7s}")
    for name, ours, closed in closed_forms(args.n):
        ok = abs(ours / closed - 1) <= 0.01
        failed += not ok
        print(f"{name:66s} {ours:10.3f} {closed:10.3f} {ours / closed:7.4f} {'ok' if ok else 'MISS'}")
    print(f"\nMeasured (DDR4-3200, {args.n} requests, seed 1; controller pipeline {FRONTEND_CYCLES} cycles)")
    hdr = f"{'org':9s} {'pattern':9s} {'metric':14s} {'ours':>10s} {'DRAMSim3':>10s} {'Ramulator':>10s} {'/DS3':>6s} {'/Ram':>6s}  verdict"
    print(hdr)
    for (org, pattern), sims in load_reference().items():
        s = run(pattern, org, args.n)
        for key, our_key in METRICS:
            if key == "avg_rd_lat_cyc" and pattern not in LATENCY_ONLY_ON:
                continue
            ours = float(s[our_key])
            ds3, ram = float(sims["DRAMSim3"][key]), float(sims["Ramulator 2.1"][key])
            v, ok = verdict(ours, ds3, ram)
            failed += not ok
            r1 = ours / ds3 if ds3 else float("nan")
            r2 = ours / ram if ram else float("nan")
            print(f"{org:9s} {pattern:9s} {key:14s} {ours:10.4g} {ds3:10.4g} {ram:10.4g} {r1:6.3f} {r2:6.3f}  {v}")
    print("\nWhere the simulators disagree we follow DRAMSim3's refresh (staggered per rank, tRFC = 350 ns per"
          " JEDEC) and Ramulator's one-command-per-cycle bus with strict oldest-first FR-FCFS; see docs/memory.md.")
    print(f"\n{'all targets met' if not failed else f'{failed} target(s) missed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
