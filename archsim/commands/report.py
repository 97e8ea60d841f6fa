"""`archsim report (DB | RUN.json) --out DIR`: figures and an HTML page for a sweep or a single run."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="make figures and an HTML report from results",
                       description="Roofline, latency/energy/traffic breakdowns and per-layer utilisation for a "
                                   "run report (.json); Pareto fronts and heatmaps for a sweep database.")
    p.add_argument("source", help="sweep database (archsim sweep --db) or run report JSON (archsim run --json)")
    p.add_argument("--out", required=True, help="output directory for index.html and the PNG figures")
    p.add_argument("--x", default="time_ns", help="sweep Pareto x metric, minimised (default time_ns; e.g. "
                                                  "area_mm2 for a Pareto against area)")
    p.add_argument("--y", default="energy_pj", help="sweep Pareto y metric, minimised (default energy_pj)")
    return p


def main(args: argparse.Namespace) -> int:
    from archsim.commands._common import progress
    from archsim.errors import ArchsimError
    from archsim.sweep.html import build_report
    from archsim.sweep.store import METRICS

    for axis in (args.x, args.y):
        if axis not in METRICS:
            raise ArchsimError(f"--x/--y: no metric {axis!r}; metrics: {', '.join(METRICS)}")
    with progress(f"drawing the figures and tables of {args.source}"):
        page = build_report(args.source, args.out, args.x, args.y)
    print(f"wrote {page}")
    return 0
