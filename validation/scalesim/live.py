"""Run SCALE-Sim v3 itself on GEMM cases, through its Python API with save_disk_space=True.

Needs only the standard library and `scalesim` (3.0.0, numpy < 2.4), so it can run in a separate
venv: `python live.py < cases.json > results.json`, where cases are [{"M","N","K","rows","cols",
"dataflow","cfg"}, ...] (or "conv": [H,W,R,S,C,F,stride] instead of M,N,K; "cfg" is the SCALE-Sim
.cfg text, which compare.py renders with archsim.frontends.scalesim.scalesim_cfg_text). Each result lists, per
SCALE-Sim layer, its compute report and SRAM counts, plus the run's CPU and wall seconds.
"""
from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from pathlib import Path



def run_case(case: dict, workdir: Path) -> dict:
    """One GEMM through SCALE-Sim; returns its COMPUTE_REPORT row plus timings."""
    from scalesim.scale_sim import scalesim

    cfg, topo, layout = workdir / "c.cfg", workdir / "t.csv", workdir / "l.csv"
    cfg.write_text(case["cfg"])   # rendered by archsim.frontends.scalesim.scalesim_cfg_text
    if "conv" in case:      # [H, W, R, S, C, F, stride], with an optional "name" (DP = depthwise)
        topo.write_text("Layer,H,W,R,S,C,F,stride,\n" + case.get("name", "l0") + ","
                        + ",".join(str(v) for v in case["conv"]) + ",\n")
    else:
        topo.write_text(f"Layer,M,N,K,\nl0,{case['M']},{case['N']},{case['K']},\n")
    layout.write_text("Layer,\n")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                   layout=str(layout), input_type_gemm="conv" not in case)
    sim.run_scale(top_path=str(workdir / "out"))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    comp, acc = (_report(workdir / "out" / "live" / n) for n in ("COMPUTE_REPORT.csv",
                                                                   "DETAILED_ACCESS_REPORT.csv"))
    return {"compute_cycles": [int(float(r["Total Cycles"])) for r in comp],
            "overall_util_pct": [float(r["Overall Util %"]) for r in comp],
            "mapping_eff_pct": [float(r["Mapping Efficiency %"]) for r in comp],
            "compute_util_pct": [float(r["Compute Util %"]) for r in comp],
            "sram_ifmap_reads": [int(float(r["SRAM IFMAP Reads"])) for r in acc],
            "sram_filter_reads": [int(float(r["SRAM Filter Reads"])) for r in acc],
            "sram_ofmap_writes": [int(float(r["SRAM OFMAP Writes"])) for r in acc],
            "cpu_s": cpu, "wall_s": wall}


def _report(path: Path) -> list[dict[str, str]]:
    """SCALE-Sim's report CSVs: ', '-separated with a trailing comma; one dict per layer."""
    with open(path) as f:
        rows = [[v.strip() for v in r if v.strip()] for r in csv.reader(f) if r]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def main() -> None:
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        with tempfile.TemporaryDirectory() as d:
            out.append(run_case(case, Path(d)))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
