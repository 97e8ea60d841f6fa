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
    from rich.console import Console
    from rich.table import Table

    cfg = fe.read_config(args.config)
    layers = fe.read_topology(args.topology, args.input_type)
    rows = fe.compute_report(cfg, layers)
    dest = fe.write_compute_report(rows, args.outdir)

    console = Console(width=max(Console().width, 120))  # keep the table readable when piped
    table = Table(title=f"{cfg.run_name}: {cfg.rows}x{cfg.cols} {cfg.dataflow.upper()} "
                        f"(SCALE-Sim v3 timing)")
    short = {"Total Cycles": "Cycles", "Stall Cycles": "Stalls", "Overall Util %": "Util %",
             "Mapping Efficiency %": "Map eff %", "Compute Util %": "Cmp util %",
             fe.PIPELINED_COLUMN: "Pipelined"}
    cols = [c for c in rows[0] if c != "LayerID"]
    for col in ("ID", "Layer", "M", "N", "K", *(short[c] for c in cols)):
        table.add_column(col, justify="left" if col == "Layer" else "right", no_wrap=col != "Layer")
    for layer, r in zip(layers, rows):
        g = layer.gemm
        cells = [str(r["LayerID"]), layer.name, str(g.M), str(g.N), str(g.K)]
        cells += [f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in cols]
        table.add_row(*cells)
    console.print(table)
    if fe.PIPELINED_COLUMN not in rows[0]:
        console.print("note: the pipelined-array model (archsim/units/systolic/pipelined.py) is not "
                      f"available, so the '{fe.PIPELINED_COLUMN}' column is left out.")
    if cfg.interface_bandwidth == "USER":
        console.print("note: InterfaceBandwidth is USER; archsim reports stall-free (CALC) cycles, "
                      "SCALE-Sim would add its own USER-mode stall cycles.")
    console.print(f"wrote {dest}")
    return 0
