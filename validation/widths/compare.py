"""Multi-pass MAC energy beside a datapath built for the width (Horowitz ISSCC 2014, 45 nm).

An n-bit array runs w-bit operands as (w/n)^2 native passes (archsim/units/widths.py); its energy
per op-MAC is passes x the native MAC. A w-bit datapath's MAC is a w x w multiply plus a w_acc-bit
add, from the published 8/32-bit points (reference.csv) through the power law between them. The
decomposition should cost about what the wide datapath does (a multiplier's partial products grow
as w^2 either way) and somewhat more, since each pass also adds into the full-width accumulator.

    python validation/widths/compare.py
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from archsim.units.widths import Widening, native_mac_pj  # noqa: E402

CASES = [(8, 8, 16, 32), (8, 8, 32, 64), (4, 4, 8, 16), (4, 4, 16, 32)]   # native n_a, n_b, op w, acc


def reference() -> dict[tuple[str, int], float]:
    rows = csv.DictReader(line for line in (HERE / "reference.csv").open() if not line.startswith("#"))
    return {(r["op"], int(r["bits"])): float(r["pj"]) for r in rows}


def rows() -> list[dict]:
    ref = reference()
    out = []
    for n_a, n_b, w, acc in CASES:
        passes = Widening(-(-w // n_a), -(-w // n_b)).passes
        native = native_mac_pj(n_a, n_b, 2 * n_a)
        ours, wide = passes * native, native_mac_pj(w, w, acc)
        out.append({"native": f"{n_a}x{n_b}", "operands": f"{w}x{w}", "passes": passes, "ours_pj": ours,
                    "wide_datapath_pj": wide, "ratio": ours / wide})
    assert abs(native_mac_pj(8, 8, 8) - ref[("mult", 8)] - ref[("add", 8)]) < 1e-9
    assert abs(native_mac_pj(32, 32, 32) - ref[("mult", 32)] - ref[("add", 32)]) < 1e-9
    return out


if __name__ == "__main__":
    print(f"{'native':>7} {'operands':>9} {'passes':>6} {'ours pJ':>8} {'wide pJ':>8} {'ratio':>6}")
    for r in rows():
        print(f"{r['native']:>7} {r['operands']:>9} {r['passes']:>6} {r['ours_pj']:>8.3f} "
              f"{r['wide_datapath_pj']:>8.3f} {r['ratio']:>6.3f}")
