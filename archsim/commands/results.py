"""`archsim results DB`: summarise, filter and export a sweep's results store."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("results", help="query and export a sweep's results store",
                       description="Print the points of a results database as a table, filtered by --where "
                                   "(e.g. \"status == 'ok' and units.sa.rows >= 64\"), or export them.")
    p.add_argument("db", help="results database written by archsim sweep")
    p.add_argument("--where", help="filter expression over columns (names, numbers, comparisons, and/or/not)")
    p.add_argument("--export", metavar="OUT", help="write the (filtered) rows to OUT.csv or OUT.parquet")
    p.add_argument("--sort", metavar="COLUMN", help="sort the table by COLUMN (ascending)")
    p.add_argument("--max-rows", type=int, default=40, help="rows to print (default 40)")
    return p


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def main(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from archsim.sweep.results import export, rows
    from archsim.sweep.store import METRICS, Store

    data = rows(args.db, args.where)
    if args.sort:
        data.sort(key=lambda r: (r.get(args.sort) is None, r.get(args.sort) if r.get(args.sort) is not None else 0))
    if args.export:
        out = export(data, args.export)
        print(f"wrote {len(data)} rows to {out}")
        return 0
    with Store(args.db) as store:
        params = store.param_columns()
    counts: dict[str, int] = {}
    for r in data:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    cols = ["status", "workload", *[p for p in params if p != "workload"],
            *[m for m in METRICS if any(r.get(m) is not None for r in data)], "error"]
    table = Table(title=f"{args.db}: {len(data)} points ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))})")
    for c in cols:
        table.add_column(c, overflow="fold", justify="right" if c in METRICS else "left")
    for r in data[: args.max_rows]:
        table.add_row(*[_fmt(r.get(c))[:80] for c in cols])
    Console().print(table)
    if len(data) > args.max_rows:
        print(f"... {len(data) - args.max_rows} more rows (use --export, --max-rows or --where)")
    return 0
