"""`archsim report (DB | RUN.json) --out DIR`: figures and an HTML page for a sweep or a single run."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="make figures and an HTML report from results",
                       description="Roofline, latency/energy/traffic breakdowns and per-layer utilisation for a "
                                   "run report (.json); Pareto fronts and heatmaps for a sweep database.")
    p.add_argument("source", help="sweep database (archsim sweep --db) or run report JSON (archsim run --json)")
    p.add_argument("--out", required=True, help="output directory for index.html and the PNG figures")
    return p


def main(args: argparse.Namespace) -> int:
    from archsim.sweep.html import build_report

    from archsim.commands._common import progress

    with progress(f"drawing the figures and tables of {args.source}"):
        page = build_report(args.source, args.out)
    print(f"wrote {page}")
    return 0
