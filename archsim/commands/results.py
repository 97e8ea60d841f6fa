"""`archsim results DB`: summarise, filter and export a sweep's results store."""
from __future__ import annotations

import argparse

from archsim.errors import ArchsimError
from archsim.commands._common import positive_int

DEFAULT_METRICS = ("time_ns", "energy_pj", "dram_bytes", "utilization")
UNITS = {"time_ns": ("time", 1e-9, "s"), "energy_pj": ("energy", 1e-12, "J"), "dram_bytes": ("DRAM", 1, "B"),
         "dram_read_bytes": ("DRAM rd", 1, "B"), "dram_write_bytes": ("DRAM wr", 1, "B"),
         "cycles": ("cycles", 1, ""), "macs": ("MACs", 1, ""), "stall_cycles": ("stalls", 1, ""),
         "area_mm2": ("area mm2", None, ""), "macs_per_s_per_mm2": ("MAC/s/mm2", 1, "")}


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("results", help="query and export a sweep's results store",
                       description="Print the points of a results database as a table, filtered by --where "
                                   "(e.g. \"status == 'ok' and units.sa.rows >= 64\"), or export them. "
                                   "Parameters that are the same for every point are listed above the table.")
    p.add_argument("db", help="results database written by archsim sweep")
    p.add_argument("--where", help="filter expression over columns (names, numbers, comparisons, and/or/not)")
    p.add_argument("--export", metavar="OUT", help="write the (filtered) rows to OUT.csv or OUT.parquet")
    p.add_argument("--sort", metavar="COLUMN", help="sort the table by COLUMN (ascending)")
    p.add_argument("--columns", metavar="A,B,..", help="metrics to show (default: time_ns,energy_pj,dram_bytes,"
                                                        "utilization; also cycles, macs, stall_cycles, "
                                                        "dram_read_bytes, dram_write_bytes)")
    p.add_argument("--max-rows", type=positive_int, default=40, help="rows to print (default 40)")
    return p


def short_names(names: list[str]) -> dict[str, str]:
    """Each dotted name as its shortest suffix that no other name ends with (units.sa.rows -> rows)."""
    out = {}
    for n in names:
        parts = n.split(".")
        for k in range(1, len(parts) + 1):
            cand = ".".join(parts[-k:])
            if not any(o != n and (o == cand or o.endswith("." + cand)) for o in names):
                out[n] = cand
                break
        else:
            out[n] = n
    return out


def _cell(metric: str, v) -> str:
    from archsim.textfmt import eng, pct, plain

    if v is None:
        return ""
    if metric == "utilization":
        return pct(v)
    if metric in UNITS:
        _, scale, unit = UNITS[metric]
        return f"{v:.3g}" if scale is None else eng(v * scale, unit)
    return plain(v)


def render(data: list[dict], params: list[str], title: str, metrics: tuple[str, ...], max_rows: int,
           width: int = 80) -> str:
    from archsim.textfmt import join_wrapped, plain, render_table, wrap

    for r in data:
        if r.get("dram_read_bytes") is not None:
            r["dram_bytes"] = r["dram_read_bytes"] + (r.get("dram_write_bytes") or 0)
    keys = [*params, "workload"]
    fixed = {k: data[0].get(k) for k in keys if data and len({plain(r.get(k)) for r in data}) == 1}
    varying = [k for k in keys if k not in fixed]
    lines = [wrap(title, width)]
    if fixed:
        lines.append(join_wrapped([f"{k}={plain(v)}" for k, v in fixed.items()], width, ", "))
    cols = ([] if all(r["status"] == "ok" for r in data) else ["status"]) + varying + list(metrics)
    if any(r.get("error") for r in data):
        cols.append("error")
    short = short_names(varying)
    heads = [UNITS[c][0] if c in UNITS else short.get(c, c) for c in cols]
    text = [i for i, c in enumerate(cols) if c in ("error", "workload", "status")]
    rows = [[_cell(c, r.get(c)) if c in metrics else plain(r.get(c)) for c in cols] for r in data[:max_rows]]
    lines.append(render_table(heads, rows, width, text_cols=text, keep=len(cols) - len(metrics) - ("error" in cols),
                              more="choose with --columns, or --export all"))
    if len(data) > max_rows:
        lines.append(f"... {len(data) - max_rows} more rows (use --export, --max-rows or --where)")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from archsim.sweep.results import export, rows
    from archsim.sweep.store import METRICS, Store

    data = rows(args.db, args.where)
    with Store(args.db) as store:
        params = store.param_columns()
    known = ["status", "workload", *params, *METRICS, "dram_bytes", "runtime_s", "idx"]
    if args.sort:
        if args.sort not in known:
            raise ArchsimError(f"--sort: no column {args.sort!r}; columns: {', '.join(known)}")
        for r in data:
            r.setdefault("dram_bytes", (r.get("dram_read_bytes") or 0) + (r.get("dram_write_bytes") or 0))
        data.sort(key=lambda r: (r.get(args.sort) is None, r.get(args.sort) if r.get(args.sort) is not None else 0))
    if args.export:
        out = export(data, args.export)
        print(f"wrote {len(data)} rows to {out}")
        return 0
    metrics = tuple(args.columns.split(",")) if args.columns else DEFAULT_METRICS
    bad = [m for m in metrics if m not in (*METRICS, "dram_bytes")]
    if bad:
        raise ArchsimError(f"--columns: unknown metric {', '.join(bad)}; "
                           f"metrics: {', '.join((*METRICS, 'dram_bytes'))}")
    counts: dict[str, int] = {}
    for r in data:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    title = f"{args.db}: {len(data)} points ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))})"
    print(render(data, params, title, metrics, args.max_rows))
    return 0
