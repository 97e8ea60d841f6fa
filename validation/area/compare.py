"""Our 45 nm area model beside TPU v1's floor plan (Jouppi et al., ISCA 2017), scaled to 45 nm.

The published areas are 28 nm floor-plan blocks (cells, wiring, control, placement slack); ours are
datapath and storage from 45 nm synthesis-level tables (archsim/area.py), so ours should come out
smaller. Scaling 28 -> 45 nm by (45/28)^2 is the ideal square law: real SRAM and logic scale worse,
which also makes the scaled published figure a lower estimate of its 45 nm area.

    python validation/area/compare.py
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from archsim.area import NODE_NM, sram_um2, systolic_um2  # noqa: E402


def reference() -> dict[str, dict]:
    rows = csv.DictReader(line for line in (HERE / "reference.csv").open() if not line.startswith("#"))
    return {r["block"]: r for r in rows}


def rows() -> list[dict]:
    ref = reference()
    ours = {"mxu": sum(systolic_um2(256, 256, 8, 8, 32).values()) / 1e6,
            "unified_buffer": sram_um2(24 * 2**20) / 1e6}
    out = []
    for block, r in ref.items():
        published = float(r["die_mm2"]) * float(r["share"]) * (NODE_NM / float(r["node_nm"])) ** 2
        out.append({"block": block, "ours_mm2": ours[block], "published_mm2_at_45nm": published,
                    "ratio": ours[block] / published})
    return out


if __name__ == "__main__":
    print(f"{'block':<15} {'ours mm2':>9} {'TPU v1 at 45 nm':>16} {'ratio':>6}")
    for r in rows():
        print(f"{r['block']:<15} {r['ours_mm2']:>9.1f} {r['published_mm2_at_45nm']:>16.1f} {r['ratio']:>6.2f}")
