"""`archsim scalesim -c X.cfg -t TOPO.csv [-i gemm|conv] -o OUTDIR`: SCALE-Sim's inputs, its report."""
from __future__ import annotations

import argparse

from archsim.frontends import scalesim as fe


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("scalesim", help="run SCALE-Sim's own .cfg and topology files",
                       description="Read a SCALE-Sim v3 .cfg and topology CSV and write SCALE-Sim's "
                       "COMPUTE_REPORT, BANDWIDTH_REPORT and DETAILED_ACCESS_REPORT to OUTDIR/<run_name>/: "
                       "its compute timing, its double-buffered memory (USER-mode bandwidth stalls, "
                       "cycles including prefetch), plus archsim's pipelined-array cycles.")
    p.add_argument("-c", "--config", required=True, help="SCALE-Sim .cfg file")
    p.add_argument("-t", "--topology", required=True, help="topology CSV (header line, trailing commas)")
    p.add_argument("-i", "--input-type", choices=("conv", "gemm"), default="conv",
                   help="topology rows are conv layers (default) or GEMMs name,M,N,K,")
    p.add_argument("-o", "-p", "--outdir", default=".", help="the reports go to OUTDIR/<run_name>/ "
                   "(-p as in SCALE-Sim's CLI)")
    p.add_argument("-l", "--layout", help="SCALE-Sim layout CSV: accepted for drop-in use and ignored "
                   "(custom SRAM layouts and bank conflicts are not modelled)")
    p.add_argument("--no-memory", action="store_true", help="closed-form compute timing only (fast): no "
                   "memory model, so no stalls, no prefetch-inclusive total and no bandwidth/access reports")
    return p


def main(args: argparse.Namespace) -> int:
    cfg = fe.read_config(args.config)
    layers = fe.read_topology(args.topology, args.input_type)
    reports = [fe.layer_report(cfg, i, layer, memory=not args.no_memory) for i, layer in enumerate(layers)]
    rows = [r.compute for r in reports]
    dest = fe.write_reports(reports, args.outdir, cfg.run_name)

    from archsim.textfmt import render_table, wrap

    short = {fe.PREFETCH_COLUMN: "incl. prefetch", "Total Cycles": "cycles", "Stall Cycles": "stalls",
             "Overall Util %": "util %",
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
                       keep=6, more=f"all columns in {dest}/COMPUTE_REPORT.csv"))
    if fe.PIPELINED_COLUMN not in rows[0]:
        print(wrap("note: the pipelined-array model (archsim/units/systolic/pipelined.py) is not "
                   f"available, so the '{fe.PIPELINED_COLUMN}' column is left out."))
    if cfg.ignored:
        print(wrap("ignored .cfg keys (addresses, request-buffer depths and bank counts feed SCALE-Sim's traces "
                   "and Ramulator, custom layouts its bank-conflict model, neither modelled here; the "
                   "Ramulator switch needs external trace files): " + ", ".join(cfg.ignored)))
    if args.no_memory:
        print(wrap("note: --no-memory: compute timing only; Stall Cycles are 0 and no bandwidth or access "
                   "reports are written."))
    elif not cfg.memory_modelled:
        print(wrap(f"note: SCALE-Sim's memory is modelled for {', '.join(fe.SCHEDULES)} in CALC and USER mode "
                   f"with known SRAM sizes, not {cfg.dataflow} in {cfg.interface_bandwidth} here; "
                   "these are stall-free compute cycles and only COMPUTE_REPORT.csv is written."))
    print(f"wrote {dest}/")
    return 0
