"""Figures for one run (roofline, breakdowns, per-layer utilisation) and for a sweep (Pareto, heatmaps).

matplotlib is the optional `plot` extra; it is imported only here, with the Agg backend, so figures
render the same headless on a cluster node as on a laptop. Every function writes one PNG and returns
its path.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

from archsim.errors import ArchsimError


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ArchsimError("figures need matplotlib: pip install 'archsim[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def op_kind(op: Mapping[str, Any]) -> str:
    return str(op.get("kind") or op.get("name", "op").split(".")[-1].rstrip("0123456789_") or "op")


def peaks(report: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """(peak MAC/s, off-chip bytes/s) of the design, from the report's totals (`peak_macs_per_ns`,
    `peak_offchip_bytes_per_ns`, which every run writes, whatever the off-chip level)."""
    t = report.get("totals", {})
    peak = t.get("peak_macs_per_ns")
    bw = t.get("peak_offchip_bytes_per_ns")
    return (peak * 1e9 if peak else None), (bw * 1e9 if bw else None)


def roofline(report: Mapping[str, Any], path: Path) -> Path:
    """Each op at (MACs per off-chip byte, achieved MAC/s) under the design's compute and bandwidth roofs."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    peak, bw = peaks(report)
    by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    labels: list[tuple[str, float, float]] = []
    for op in report.get("ops", []):
        traffic = op.get("dram_read_bytes", 0) + op.get("dram_write_bytes", 0)
        if not op.get("macs") or not op.get("time_ns") or not traffic:
            continue
        pt = (op["macs"] / traffic, op["macs"] / (op["time_ns"] * 1e-9))
        by_kind[op_kind(op)].append(pt)
        labels.append((str(op.get("name", "")), *pt))
    xs = [x for pts in by_kind.values() for x, _ in pts]
    lo, hi = (min(xs) / 4, max(xs) * 4) if xs else (0.1, 1000.0)
    if peak and bw:
        ridge = peak / bw
        lo, hi = min(lo, ridge / 8), max(hi, ridge * 8)
        grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
        ax.plot(grid, [min(peak, bw * x) for x in grid], color="black", lw=1.5, label="roof")
        ax.axvline(ridge, color="grey", ls=":", lw=1)
        ax.annotate(f"ridge {ridge:.3g} MAC/B", (ridge, peak), textcoords="offset points", xytext=(4, -14),
                    fontsize=8, color="grey")
    for kind, pts in sorted(by_kind.items()):
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=22, alpha=0.8, label=kind)
    if len(labels) <= 40:  # ops that land on the same spot share one label
        spots: dict[tuple[float, float], list[str]] = defaultdict(list)
        for name, x, y in labels:
            spots[(round(math.log10(x), 2), round(math.log10(y), 2))].append(name)
        for (lx, ly), names in spots.items():
            ax.annotate(", ".join(names), (10 ** lx, 10 ** ly), textcoords="offset points", xytext=(5, -10),
                        fontsize=7, alpha=0.85)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("operational intensity (MACs per off-chip byte)")
    ax.set_ylabel("achieved MAC/s")
    title = "roofline"
    if peak and bw:
        title += f" — peak {peak:.3g} MAC/s, {bw / 1e9:.3g} GB/s"
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def breakdowns(report: Mapping[str, Any], path: Path) -> Path:
    """Latency by op type, energy by op type and action, and bytes by memory level."""
    plt = _plt()
    ops = report.get("ops", [])
    time_by: dict[str, float] = defaultdict(float)
    energy_by: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    bytes_by: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for op in ops:
        k = op_kind(op)
        time_by[k] += op.get("time_ns", 0.0)
        parts = op.get("energy_breakdown_pj") or {"total": op.get("energy_pj", 0.0)}
        for action, v in parts.items():
            energy_by[k][action] += v
        bytes_by[k]["SRAM read"] += op.get("sram_reads", 0)
        bytes_by[k]["SRAM write"] += op.get("sram_writes", 0)
        bytes_by[k]["DRAM read"] += op.get("dram_read_bytes", 0)
        bytes_by[k]["DRAM write"] += op.get("dram_write_bytes", 0)
    kinds = sorted(time_by, key=lambda k: -time_by[k])
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax in axes:
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))
    t_scale, t_unit = (1e-6, "ms") if max(time_by.values(), default=0) > 2e6 else (1e-3, "us")
    axes[0].barh(kinds, [time_by[k] * t_scale for k in kinds], color="tab:blue")
    axes[0].set_xlabel(f"time ({t_unit})")
    axes[0].set_title("latency by op type", fontsize=10)
    _stacked(axes[1], kinds, energy_by, scale=1e-6, xlabel="energy (uJ)", title="energy by op type and action")
    _stacked(axes[2], kinds, bytes_by, scale=1 / 2**20, xlabel="traffic (MiB)", title="bytes by memory level")
    for ax in axes:
        ax.invert_yaxis()
        ax.grid(True, axis="x", alpha=0.25)
    return _save(fig, path)


def _stacked(ax: Any, kinds: Sequence[str], data: Mapping[str, Mapping[str, float]], scale: float, xlabel: str,
             title: str) -> None:
    parts = sorted({p for k in kinds for p in data[k]})
    left = [0.0] * len(kinds)
    for part in parts:
        vals = [data[k].get(part, 0.0) * scale for k in kinds]
        if not any(vals):
            continue
        ax.barh(kinds, vals, left=left, label=part)
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")


def utilisation_by_layer(report: Mapping[str, Any], path: Path) -> Path:
    """PE utilisation of every op that uses the PEs, coloured by layer (a repeated block is one layer)."""
    plt = _plt()
    ops = [o for o in report.get("ops", []) if o.get("macs")]  # pure data movement has no PE utilisation
    layers = list(dict.fromkeys(str(o.get("layer") or "-") for o in ops))
    colours = {lay: f"C{i % 10}" for i, lay in enumerate(layers)}
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(ops) + 2), 4))
    ax.bar(range(len(ops)), [100 * o.get("utilization", 0.0) for o in ops],
           color=[colours[str(o.get("layer") or "-")] for o in ops])
    ax.set_xticks(range(len(ops)), [str(o.get("name")) for o in ops], rotation=45 if len(ops) > 5 else 0,
                  ha="right" if len(ops) > 5 else "center", fontsize=8)
    from matplotlib.patches import Patch

    handles = []
    for lay, c in colours.items():
        n = sum(1 for o in ops if str(o.get("layer") or "-") == lay)
        reps = next((o.get("count", 1) for o in ops if str(o.get("layer") or "-") == lay), 1)
        name = "outside layers" if lay == "-" else lay
        handles.append(Patch(color=c, label=f"{name}" + (f" (x{reps})" if reps > 1 else "") + f": {n} ops"))
    ax.set_ylim(0, 125)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("PE utilisation (%)")
    ax.set_title("utilisation per op, by layer", fontsize=10)
    ax.grid(True, axis="y", alpha=0.25)
    if ops:
        ax.legend(handles=handles, fontsize=7, loc="upper center", ncol=min(4, len(handles)), frameon=False)
    return _save(fig, path)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats in both coordinates (both minimised), sorted by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front, best_y = [], math.inf
    for i in order:
        if points[i][1] < best_y:
            front.append(i)
            best_y = points[i][1]
    return front


METRIC_UNITS = {"time_ns": ("time", 1e-9, "s"), "energy_pj": ("energy", 1e-12, "J"),
                "dram_read_bytes": ("DRAM reads", 1.0, "B"), "dram_write_bytes": ("DRAM writes", 1.0, "B"),
                "cycles": ("cycles", 1.0, ""), "macs": ("MACs", 1.0, ""), "stall_cycles": ("stall cycles", 1.0, ""),
                "utilization": ("PE utilisation", 100.0, "%"), "area_mm2": ("area", 1.0, "mm2"),
                "macs_per_s_per_mm2": ("MAC/s per mm2", 1.0, "")}


def metric_scale(metric: str, values: Sequence[float]) -> tuple[float, str]:
    """(factor, axis label with unit) so the largest value reads as 1-999 of an SI prefix:
    time_ns over 1e6-1e9 ns -> (1e-6, 'time (ms)')."""
    from archsim.textfmt import PREFIXES

    name, base, unit = METRIC_UNITS.get(metric, (metric, 1.0, ""))
    if unit in ("%", "mm2"):                # no SI prefix on a percentage or a squared unit
        return base, f"{name} ({unit})"
    top = max((abs(v) * base for v in values if v), default=1.0)
    exp = max(-15, min(18, int(math.floor(math.log10(top) / 3) * 3)))
    label = f"{PREFIXES[exp]}{unit}" if unit else (f"x 1e{exp}" if exp else "")
    return base / 10 ** exp, f"{name} ({label})" if label else name


def fmt_metric(metric: str, v: float) -> str:
    """A metric value for people: SI units of its quantity (time_ns 1.2e7 -> 12.0 ms)."""
    from archsim.textfmt import eng

    _, base, unit = METRIC_UNITS.get(metric, (metric, 1.0, ""))
    if unit in ("%", "mm2"):
        return f"{v * base:.3g}{'' if unit == '%' else ' '}{unit}"
    return eng(v * base, unit)


def _plain_axes(ax: Any) -> None:
    """Tick labels as plain numbers: no offset (+1.23e7) or scientific notation (3x10^0), linear or log."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, ScalarFormatter

    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale == "linear":
            fmt = ScalarFormatter(useOffset=False)
            fmt.set_scientific(False)
            axis.set_major_formatter(fmt)
        else:
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())


def separating_axis(rows: Sequence[Mapping[str, Any]], axes: Sequence[str], x: str, y: str) -> str | None:
    """The swept axis whose values best separate the points in (log x, log y): the largest share of
    the points' spread that lies between its groups (one-way ANOVA on each coordinate, summed)."""
    pts = [(r, math.log(float(r[x])), math.log(float(r[y]))) for r in rows
           if (r.get(x) or 0) > 0 and (r.get(y) or 0) > 0]
    best, score = None, -1.0
    for a in axes:
        groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for r, px, py in pts:
            groups[str(r.get(a))].append((px, py))
        if len(groups) < 2:
            continue
        share = 0.0
        for k in (0, 1):
            allv = [p[k] for g in groups.values() for p in g]
            mean = sum(allv) / len(allv)
            total = sum((v - mean) ** 2 for v in allv)
            between = sum(len(g) * (sum(p[k] for p in g) / len(g) - mean) ** 2 for g in groups.values())
            share += between / total if total else 0.0
        if share > score:
            best, score = a, share
    return best


def pareto(rows: Sequence[Mapping[str, Any]], x: str, y: str, path: Path, color: str | None = None) -> Path:
    """All ok points over metrics `x` and `y` (both minimised), the Pareto front drawn and labelled;
    axes in SI units of the metrics, points coloured by `color` (a swept axis or the workload)."""
    plt = _plt()
    ok = [r for r in rows if r.get(x) is not None and r.get(y) is not None]
    fx, xlabel = metric_scale(x, [float(r[x]) for r in ok])
    fy, ylabel = metric_scale(y, [float(r[y]) for r in ok])
    pts = [(float(r[x]) * fx, float(r[y]) * fy) for r in ok]
    front = pareto_front(pts)
    fig, ax = plt.subplots(figsize=(7, 4.8))
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(ok):
        groups[str(r.get(color)) if color else "points"].append(i)
    for g, idx in sorted(groups.items(), key=lambda kv: _sort_key(_num(kv[0]))):
        ax.scatter([pts[i][0] for i in idx], [pts[i][1] for i in idx], s=16, alpha=0.6,
                   label=f"{color}={g}" if color else g)
    ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], "k-o", ms=5, mfc="none", lw=1.2,
            label=f"Pareto front ({len(front)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if pts and max(p[0] for p in pts) > 20 * min(p[0] for p in pts) > 0:
        ax.set_xscale("log")
    if pts and max(p[1] for p in pts) > 20 * min(p[1] for p in pts) > 0:
        ax.set_yscale("log")
    _plain_axes(ax)
    ax.set_title(f"{ylabel.split(' (')[0]} vs {xlabel.split(' (')[0]}: {len(ok)} points"
                 + (f", coloured by {color}" if color else ""), fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, title=color, title_fontsize=7)
    return _save(fig, path)


def heatmap(rows: Sequence[Mapping[str, Any]], ax_x: str, ax_y: str, metric: str, path: Path) -> Path:
    """`metric` over two swept axes; where other axes vary, each cell shows the best (minimum) value."""
    plt = _plt()
    cells: dict[tuple[Any, Any], float] = {}
    for r in rows:
        v = r.get(metric)
        if v is None or r.get(ax_x) is None or r.get(ax_y) is None:
            continue
        key = (r[ax_x], r[ax_y])
        cells[key] = min(cells.get(key, math.inf), float(v))
    xs = _axis_values(k[0] for k in cells)
    ys = _axis_values(k[1] for k in cells)
    grid = [[cells.get((xv, yv), math.nan) for xv in xs] for yv in ys]
    fig, ax = plt.subplots(figsize=(1.1 * len(xs) + 3, 0.6 * len(ys) + 2.2))
    im = ax.imshow(grid, cmap="viridis_r", aspect="auto", origin="lower")
    finite = [v for row in grid for v in row if not math.isnan(v)]
    mid = (min(finite) + max(finite)) / 2 if finite else 0
    name, _, unit = METRIC_UNITS.get(metric, (metric, 1.0, ""))
    for yi, row in enumerate(grid):
        for xi, v in enumerate(row):
            if not math.isnan(v):
                ax.text(xi, yi, fmt_metric(metric, v), ha="center", va="center", fontsize=7,
                        color="white" if v > mid else "black")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [str(v) for v in ys], fontsize=8)
    ax.set_xlabel(ax_x)
    ax.set_ylabel(ax_y)
    fig.colorbar(im, ax=ax, label=f"{name} ({unit})" if unit else name)
    ax.set_title(f"{name} (best over the other axes)", fontsize=10)
    return _save(fig, path)


def _num(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _axis_values(values: Any) -> list[Any]:
    vals = list(dict.fromkeys(values))
    try:
        return sorted(vals, key=_sort_key)
    except TypeError:
        return vals


def _sort_key(v: Any) -> Any:
    """Sort '64 KiB' < '1 MiB' by their quantity, plain numbers numerically, other strings by name."""
    if isinstance(v, (int, float)):
        return (0, float(v), "")
    from archsim.config.quantities import parse_quantity

    for kind in ("size", "bandwidth", "frequency", "energy", "duration"):
        try:
            return (0, parse_quantity(v, kind), "")
        except (ValueError, KeyError):
            continue
    return (1, 0.0, str(v))
