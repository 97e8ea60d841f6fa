"""`archsim scalesim -c X.cfg -t TOPO.csv [-i gemm|conv] -o OUTDIR`: SCALE-Sim's inputs, its report."""
from __future__ import annotations

import argparse

from archsim.frontends import scalesim as fe


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("scalesim", help="run SCALE-Sim's own .cfg and topology files",
                       description="Read a SCALE-Sim v3 .cfg and topology CSV, reproduce its compute "
                       "report (CALC mode, stall-free) and add archsim's pipelined-array cycles.")
    p.add_argument("-c", "--config", required=True, help="SCALE-Sim .cfg file")
    p.add_argument("-t", "--topology", required=True, help="topology CSV (header line, trailing commas)")
    p.add_argument("-i", "--input-type", choices=("conv", "gemm"), default="conv",
                   help="topology rows are conv layers (default) or GEMMs name,M,N,K,")
    p.add_argument("-o", "-p", "--outdir", default=".", help="directory for COMPUTE_REPORT.csv "
                   "(-p as in SCALE-Sim's CLI)")
    p.add_argument("-l", "--layout", help="SCALE-Sim layout CSV: accepted for drop-in use and ignored "
                   "(custom layouts only change USER-mode stalls, which are not modelled)")
    return p


def main(args: argparse.Namespace) -> int:
    cfg = fe.read_config(args.config)
    layers = fe.read_topology(args.topology, args.input_type)
    rows = fe.compute_report(cfg, layers)
    dest = fe.write_compute_report(rows, args.outdir)

    from archsim.textfmt import render_table, wrap

    short = {"Total Cycles": "cycles", "Stall Cycles": "stalls", "Overall Util %": "util %",
             "Mapping Efficiency %": "map eff %", "Compute Util %": "cmp util %",
             fe.PIPELINED_COLUMN: "pipelined"}
    cols = [c for c in rows[0] if c != "LayerID"]
    table = []
    for layer, r in zip(layers, rows):
        g = layer.gemm
        cells = [str(r["LayerID"]), layer.name, str(g.M), str(g.N), str(g.K)]
        cells += [f"{r[c]:.2f}" if isinstance(r[c], float) else f"{r[c]:,}" for c in cols]
        table.append(cells)
    print(render_table(("ID", "layer", "M", "N", "K", *(short[c] for c in cols)), table, text_cols=(1,),
                       title=f"{cfg.run_name}: {cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} (SCALE-Sim v3 timing)",
                       keep=6, more=f"all columns in {dest}"))
    if fe.PIPELINED_COLUMN not in rows[0]:
        print(wrap("note: the pipelined-array model (archsim/units/systolic/pipelined.py) is not "
                   f"available, so the '{fe.PIPELINED_COLUMN}' column is left out."))
    if cfg.ignored:
        print(wrap("ignored .cfg keys (SRAM sizes, offsets, request buffers, layouts, sparsity settings and "
                   "the Ramulator switch shape SCALE-Sim's traces, DRAM model and USER-mode stalls, not this "
                   "compute report): " + ", ".join(cfg.ignored)))
    if cfg.interface_bandwidth == "USER":
        print(wrap("note: InterfaceBandwidth is USER; archsim reports stall-free (CALC) cycles, "
                   "SCALE-Sim would add its own USER-mode stall cycles."))
    print(f"wrote {dest}")
    return 0
