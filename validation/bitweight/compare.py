"""Bit-weight statistics and cycle laws: ours (from the encoding tables and the digit engine) beside the
published figures in reference.csv, with the ratio. Run: python validation/bitweight/compare.py"""
from __future__ import annotations

import csv
import math
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from archsim.units.bitweight.encodings import encoding  # noqa: E402
from archsim.units.bitweight.engine import Schedule, cycle_cost, fast_cost  # noqa: E402
from dataflows.values import parse_distribution  # noqa: E402

HERE = Path(__file__).parent


def pmf(dist: str, bits: int = 8) -> np.ndarray:
    """The reference's operands: rounded, values outside the range rejected (redrawn)."""
    return parse_distribution(dist).pmf(bits, tails="reject")


def mean_nonzero(enc: str, dist: str) -> float:
    return float(pmf(dist) @ encoding(enc, 8).count)


def opt3_cycles_per_mac(dist: str, K: int = 4096) -> float:
    s = Schedule("activation", "ent", True, lane_k=4, per_digit_pass=True)
    return fast_cost(s, 1, 1, K, 1, pmf(dist), None).cycles / K


def emax_group(enc: str, dist: str, group: int = 16) -> float:
    s = Schedule("activation", enc, True, k_lanes=group)
    return fast_cost(s, 1, 1, group, 1, pmf(dist), None).cycles


def stripes_speedups() -> list[tuple[str, float, float]]:
    M = N = K = 256
    dadn = Schedule("none", "parallel", False, rows=1, cols=16, k_lanes=16, act_bits=16, weight_bits=16)
    base = cycle_cost(dadn, np.zeros((M, K), int), np.zeros((K, N), int)).cycles
    out = []
    for pa in range(2, 17):
        st = Schedule("activation", "radix2", False, rows=16, cols=16, k_lanes=16, sync_rows=16,
                      act_bits=pa, weight_bits=16)
        out.append((f"Pa={pa}", base / cycle_cost(st, np.zeros((M, K), int), np.zeros((K, N), int)).cycles, 16 / pa))
    return out


def bitfusion_rates() -> list[tuple[str, float, float]]:
    M, N, K = 64, 64, 256
    out = []
    for pa, pw in [(a, w) for a in (2, 4, 8) for w in (2, 4, 8)] + [(16, 8), (8, 16), (16, 16)]:
        s = Schedule("none", "slice2", False, bricks=16, act_bits=pa, weight_bits=pw)
        c = cycle_cost(s, np.zeros((M, K), int), np.zeros((K, N), int)).cycles
        ref = (8 / min(pa, 8)) * (8 / min(pw, 8)) / (2 if pa == 16 else 1) / (2 if pw == 16 else 1)
        out.append((f"{pa}x{pw}", M * N * K / c, ref))
    return out


def bitmod() -> list[tuple[str, str, float, float]]:
    rows = []
    H = W = 32
    for wb, step in ((3, 2), (4, 2), (6, 3), (8, 4)):
        s = Schedule("weight", "slice2", False, rows=H, cols=W, k_lanes=4, act_bits=16, weight_bits=wb)
        ours_step = cycle_cost(s, np.zeros((1, 4), int), np.zeros((4, 1), int)).cycles
        rows.append(("bitmod_step_cycles", f"w{wb}", ours_step, step))
        for cin, cout, tokens in ((4096, 4096, 1), (4096, 11008, 128), (100, 70, 33)):
            law = math.ceil(cin / 4) * math.ceil(cout / H) * math.ceil(tokens / W) * step
            ours = cycle_cost(s, np.zeros((tokens, cin), int), np.zeros((cin, cout), int)).cycles
            rows.append(("bitmod_layer_cycles", f"w{wb} {cin}x{cout}x{tokens}", ours, law))
    return rows


def table() -> list[tuple[str, str, float, float, float]]:
    """(statistic, case, ours, reference, tolerance) for every row we reproduce."""
    out = []
    with open(HERE / "reference.csv") as f:
        for r in csv.DictReader(f):
            stat, case = r["statistic"], r["case"]
            tol = float(r["tolerance"])
            if stat.endswith("_mean_nonzero"):
                out.append((stat, case, mean_nonzero(stat.split("_")[0], case), float(r["reference"]), tol))
            elif stat == "opt3_cycles_per_mac":
                out.append((stat, case, opt3_cycles_per_mac(case), float(r["reference"]), tol))
            elif "_emax" in stat:      # <design or encoding>_emax<G>[_<encoding>]: E[max over G lanes]
                m = re.fullmatch(r"(\w+?)_emax(\d+)(?:_(\w+))?", stat)
                enc = m.group(3) or {"pragmatic": "popcount", "laconic": "booth"}.get(m.group(1), m.group(1))
                out.append((stat, case, emax_group(enc, case, int(m.group(2))), float(r["reference"]), tol))
            elif stat == "stripes_speedup_vs_dadn16":
                out += [(stat, c, o, ref, 1e-9) for c, o, ref in stripes_speedups()]
            elif stat == "bitfusion_macs_per_cycle":
                out += [(stat, c, o, ref, 1e-9) for c, o, ref in bitfusion_rates()]
    out += [(s, c, o, ref, 1e-9) for s, c, o, ref in bitmod()]
    return out


def main() -> int:
    rows = table()
    bad = 0
    print(f"{'statistic':<28} {'case':<22} {'ours':>9} {'reference':>9} {'ratio':>7}  ok")
    for stat, case, ours, ref, tol in rows:
        ok = abs(ours - ref) <= tol + 1e-12
        bad += not ok
        print(f"{stat:<28} {case:<22} {ours:>9.4f} {ref:>9.4f} {ours / ref:>7.4f}  {'yes' if ok else 'NO'}")
    print(f"{len(rows) - bad}/{len(rows)} within tolerance")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
