"""`archsim report`: figures plus one self-contained HTML page (PNG files beside it) for a run or a sweep.

A RUN.json (a Report dict) gets a roofline, latency/energy/traffic breakdowns, utilisation per
layer and the op table. A sweep database gets a Pareto front, heatmaps over pairs of swept axes,
the best points, the failures, and the run figures of its fastest point.
"""
from __future__ import annotations

import html
import json
from itertools import combinations
from pathlib import Path
from typing import Any, Mapping, Sequence

from archsim.errors import ArchsimError
from archsim.sweep import figures
from archsim.sweep.store import METRICS
from archsim.fileio import atomic_write_text

OP_COLUMNS = ("name", "kind", "unit", "count", "cycles", "time_ns", "utilization", "macs", "stall_cycles",
              "dram_read_bytes", "dram_write_bytes", "energy_pj")
_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;margin:.5em 0}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em}"""


def _fmt(v: Any, column: str = "") -> str:
    """A cell for people: metrics in SI units of their quantity (time_ns 1.2e7 -> 12.0 ms)."""
    if column in figures.METRIC_UNITS and isinstance(v, (int, float)) and not isinstance(v, bool):
        return figures.fmt_metric(column, v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return "" if v is None else str(v)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], limit: int = 200) -> str:
    """An HTML table of `rows` (escaped), numbers right-aligned."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows[:limit]:
        cells = "".join(
            f"<td class='n'>{_fmt(r.get(c), c)}</td>"
            if isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
            else f"<td>{html.escape(_fmt(r.get(c)))[:300]}</td>" for c in columns)
        body.append(f"<tr>{cells}</tr>")
    more = f"<p>... {len(rows) - limit} more rows</p>" if len(rows) > limit else ""
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


def _img(path: Path, out: Path) -> str:
    return f"<img src='{html.escape(path.relative_to(out).as_posix())}' alt='{html.escape(path.stem)}'>"


def run_section(report: Mapping[str, Any], out: Path, prefix: str = "") -> str:
    """Figures and tables for one Report dict."""
    figs = [figures.roofline(report, out / f"{prefix}roofline.png"),
            figures.breakdowns(report, out / f"{prefix}breakdowns.png"),
            figures.utilisation_by_layer(report, out / f"{prefix}utilisation.png")]
    totals = [{"metric": k, "value": v} for k, v in report.get("totals", {}).items() if not isinstance(v, dict)]
    return ("".join(_img(f, out) for f in figs) + "<h3>totals</h3>" + table(totals, ("metric", "value"))
            + "<h3>operators</h3>" + table(report.get("ops", []), OP_COLUMNS))


def report_run(run_json: Path, out: Path) -> Path:
    try:
        report = json.loads(run_json.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArchsimError(f"{run_json}: cannot read a run report: {exc}") from None
    if not isinstance(report, dict) or "ops" not in report:
        raise ArchsimError(f"{run_json}: not a run report (expected a JSON object with 'ops' and 'totals', "
                           f"as written by archsim run --json)")
    name = report.get("config", {}).get("name", run_json.stem)
    return _page(out, f"archsim run: {name}", run_section(report, out))


def swept_axes(rows: Sequence[Mapping[str, Any]], params: Sequence[str]) -> list[str]:
    """Swept parameters that actually take more than one value."""
    return [p for p in params if p != "workload" and len({json.dumps(r.get(p), default=str) for r in rows}) > 1]


def crossed_pairs(rows: Sequence[Mapping[str, Any]], axes: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of axes that were actually crossed (zipped axes move together: their heatmap is a diagonal)."""
    def crossed(a: str, b: str) -> bool:
        combos = {(json.dumps(r.get(a), default=str), json.dumps(r.get(b), default=str)) for r in rows}
        return len(combos) > max(len({c[0] for c in combos}), len({c[1] for c in combos}))

    kept: list[str] = []  # one representative per group of zipped axes
    for a in axes:
        if all(crossed(a, k) for k in kept):
            kept.append(a)
    return list(combinations(kept, 2))


def report_sweep(db: Path, out: Path, x: str = "time_ns", y: str = "energy_pj") -> Path:
    from archsim.sweep.results import rows as load_rows
    from archsim.sweep.store import Store

    rows = load_rows(db)
    with Store(db) as store:
        params = store.param_columns()
    ok = [r for r in rows if r["status"] == "ok"]
    counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "skipped", "failed")}
    parts = [f"<p>{len(rows)} points: {counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed</p>"]
    if ok:
        axes = swept_axes(ok, params)
        color = "workload" if len({r["workload"] for r in ok}) > 1 else figures.separating_axis(ok, axes, x, y)
        parts.append("<h2>Pareto front</h2>" + _img(figures.pareto(ok, x, y, out / "pareto.png", color), out))
        heat = []
        for wl in sorted({r["workload"] for r in ok})[:4]:
            sub = [r for r in ok if r["workload"] == wl]
            for a, b in crossed_pairs(sub, swept_axes(sub, params))[:3]:
                for metric in (x, y):
                    p = out / f"heat_{len(heat)}_{metric}.png"
                    heat.append(f"<h3>{html.escape(wl)}</h3>" + _img(figures.heatmap(sub, a, b, metric, p), out))
        if heat:
            parts.append("<h2>Heatmaps over swept axes</h2>" + "".join(heat))
        cols = ["workload", *[p for p in params if p != "workload"], *[m for m in METRICS if ok[0].get(m) is not None]]
        best = sorted(ok, key=lambda r: r.get(x) or 0)
        parts.append(f"<h2>Points by {html.escape(x)}</h2>" + table(best, cols, limit=50))
        with Store(db) as store:
            fastest = store.db.execute("SELECT report FROM points WHERE point_id = ?",
                                       (best[0]["point_id"],)).fetchone()
        if fastest and fastest[0]:
            parts.append(f"<h2>Fastest point ({html.escape(best[0]['workload'])})</h2>"
                         + run_section(json.loads(fastest[0]), out, prefix="best_"))
    failed = [r for r in rows if r["status"] in ("failed", "skipped")]
    if failed:
        parts.append("<h2>Failed and skipped points</h2>"
                     + table(failed, ["status", "workload", *[p for p in params if p != "workload"], "error"]))
    return _page(out, f"archsim sweep: {db.name}", "".join(parts))


def _page(out: Path, title: str, body: str) -> Path:
    page = out / "index.html"
    return atomic_write_text(page, f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
                             f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}"
                             "</body></html>")


def build_report(source: str | Path, out: str | Path, x: str = "time_ns", y: str = "energy_pj") -> Path:
    """Report on a sweep database (.sqlite/.db) or a run's JSON; returns the HTML page's path."""
    src, out = Path(source), Path(out)
    if not src.is_file():
        raise ArchsimError(f"{src}: no such file (expected a sweep database or a run report .json)")
    out.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".json":
        return report_run(src, out)
    with src.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise ArchsimError(f"{src}: neither a run report (.json) nor a sweep database (SQLite)")
    return report_sweep(src, out, x, y)
