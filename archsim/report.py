"""Results of a run: tidy per-op rows, per-layer rows, totals; JSON and rich tables.

The JSON shape is stable (documented in docs/report.md): `{"config", "ops", "totals"}` plus, for model
workloads, `"model"`, `"phase"` and `"layers"`. Totals are sums of the rows (a test holds that), so a
number in the totals always traces back to the ops that produced it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OP_FIELDS = ("name", "unit", "count", "cycles", "time_ns", "utilization", "macs", "stall_cycles",
             "sram_reads", "sram_writes", "dram_read_bytes", "dram_write_bytes", "energy_pj")
SUMMED = ("cycles", "time_ns", "macs", "stall_cycles", "sram_reads", "sram_writes", "dram_read_bytes",
          "dram_write_bytes", "energy_pj")


@dataclass
class Report:
    config: dict[str, Any]
    ops: list[dict[str, Any]]
    peak_macs_per_ns: float = 0.0
    peak_offchip_bytes_per_ns: float = 0.0  # the off-chip level's peak bandwidth (roofline's slanted roof)
    meta: dict[str, Any] = field(default_factory=dict)  # model, phase, batch, ... for model workloads
    tokens: int = 0  # tokens produced by the run (decode: batch; prefill: batch*seq), for tokens/s
    makespan_ns: float | None = None  # ops overlapped (archsim.concurrency): first start to last end
    makespan_cycles: int | None = None  # the makespan in cycles of the design's reference clock (`clock`)
    area: dict[str, Any] | None = None  # archsim.area: per unit and SRAM buffer, total, node, sources

    @property
    def totals(self) -> dict[str, Any]:
        t: dict[str, Any] = {k: sum(op[k] for op in self.ops) for k in SUMMED}
        t["energy_breakdown_pj"] = _sum_dicts(op.get("energy_breakdown_pj", {}) for op in self.ops)
        if self.makespan_ns is not None:   # ops overlapped: wall time is the makespan, not the sum
            t["op_time_sum_ns"], t["op_cycles_sum"] = t["time_ns"], t["cycles"]
            t["time_ns"] = self.makespan_ns
            t["cycles"] = self.makespan_cycles if self.makespan_cycles is not None else t["cycles"]
            busy: dict[str, float] = {}
            for op in self.ops:
                busy[op["unit"]] = busy.get(op["unit"], 0.0) + op["end_ns"] - op["start_ns"]
            t["unit_busy_ns"] = busy
        t["utilization"] = (t["macs"] / (t["time_ns"] * self.peak_macs_per_ns)
                            if t["time_ns"] and self.peak_macs_per_ns else 0.0)
        sampled = [op["sampling"] for op in self.ops if "sampling" in op]
        if sampled:   # cycle fidelity extrapolated repeated tiles (archsim.sampling): the summed error bar
            t["error_ns"] = sum(s["error_ns"] for s in sampled)
        resident = sum(op["prefetch"].get("resident_weight_bytes", 0) * op["count"] for op in self.ops
                       if "prefetch" in op)
        if resident:  # weights kept on chip across steps (archsim.prefetch; per instance in the rows)
            t["resident_weight_bytes"] = resident
        t["peak_macs_per_ns"] = self.peak_macs_per_ns
        t["peak_offchip_bytes_per_ns"] = self.peak_offchip_bytes_per_ns
        if self.area is not None:
            t["area_mm2"] = self.area["total_mm2"]
            if t["time_ns"] and self.area["total_mm2"]:     # performance per area: MAC/s per mm^2
                t["macs_per_s_per_mm2"] = t["macs"] / (t["time_ns"] * 1e-9) / self.area["total_mm2"]
        if self.tokens and t["time_ns"]:
            t["tokens"] = self.tokens
            t["tokens_per_s"] = self.tokens / (t["time_ns"] * 1e-9)
            t["time_per_token_ns"] = t["time_ns"] / self.tokens
        return t

    @property
    def layers(self) -> list[dict[str, Any]]:
        """Ops grouped by their `layer` tag (ops outside the repeated layers stand alone), in order.

        Summed fields cover every instance (they add up to the totals); `count` is how many
        identical layers the group stands for and `time_ns_per_layer` is one instance's time.
        """
        groups: dict[str, dict[str, Any]] = {}
        for op in self.ops:
            key = op.get("layer") or op["name"]
            g = groups.setdefault(key, {"layer": key, "ops": 0, "count": op["count"], **{k: 0 for k in SUMMED}})
            g["ops"] += 1
            g["count"] = max(g["count"], op["count"])
            for k in SUMMED:
                g[k] += op[k]
        for g in groups.values():
            g["time_ns_per_layer"] = g["time_ns"] / g["count"]
        return list(groups.values())

    def tidy(self) -> list[dict[str, Any]]:
        """Long form, one row per op x unit x memory level, for DataFrames and plots:
        {op, unit, layer, count, level, read_bytes, write_bytes, energy_pj, time_ns}."""
        out = []
        for op in self.ops:
            e = op.get("energy_breakdown_pj", {})
            sram_pj = sum(v for k, v in e.items() if "sram" in k)
            for level, rd, wr, pj in (("sram", op["sram_reads"], op["sram_writes"], sram_pj),
                                      ("offchip", op["dram_read_bytes"], op["dram_write_bytes"],
                                       sum(v for k, v in e.items() if k.split(".")[0] == "offchip"))):
                out.append({"op": op["name"], "unit": op["unit"], "layer": op.get("layer"), "count": op["count"],
                            "level": level, "read_bytes": rd, "write_bytes": wr, "energy_pj": pj,
                            "time_ns": op["time_ns"]})
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"config": self.config, "ops": self.ops, "totals": self.totals}
        if self.area is not None:
            out["area"] = self.area
        if self.meta:
            out.update(self.meta)
            out["layers"] = self.layers
        return out


def _sum_dicts(dicts) -> dict[str, float]:
    out: dict[str, float] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0.0) + v
    return out


def workload_text(report: Report) -> str:
    """What ran, in one line: the model and its phase, or the ops."""
    m = report.meta or {}
    if m.get("model"):
        parts = [f"model {m['model']}", m.get("phase")] + [f"{k} {m[k]}" for k in ("batch", "seq", "kv") if m.get(k)]
        parts.append(f"{m['bits']}-bit operands" if m.get("bits") else None)
        return ", ".join(str(p) for p in parts if p) + f" ({len(report.ops)} distinct ops)"
    names = ", ".join(f"{op['name']}" + (f" x{op['count']}" if op["count"] > 1 else "") for op in report.ops)
    return f"{len(report.ops)} ops: {names}"


OP_COLUMNS = (("op", "name"), ("unit", "unit"), ("x", "count"), ("cycles", "cycles"), ("time", "time_ns"),
              ("util", "utilization"), ("SRAM B", "sram"), ("DRAM rd", "dram_read_bytes"),
              ("DRAM wr", "dram_write_bytes"), ("energy", "energy_pj"))


def _cell(key: str, row: dict) -> str:
    from archsim.textfmt import eng, pct

    if key == "utilization":
        return pct(row[key])
    if key == "time_ns":
        return eng(row[key] * 1e-9, "s")
    if key == "energy_pj":
        return eng(row[key] * 1e-12, "J")
    if key == "sram":
        return eng(row["sram_reads"] + row["sram_writes"], "B")
    if key in ("dram_read_bytes", "dram_write_bytes"):
        return eng(row[key], "B")
    if key in ("cycles", "macs"):
        return eng(row[key])
    return str(row[key])


def render_report(report: Report, width: int = 80, title: str | None = None) -> str:
    """Per-op table, per-layer table (model workloads), mappings and totals, `width` columns wide."""
    from archsim.textfmt import eng, join_wrapped, render_table, wrap

    out = [wrap(title or f"archsim: {report.config.get('name', 'design')}", width),
           wrap(f"workload: {workload_text(report)}", width, "  ")]
    tot = {**report.totals, "name": "total", "unit": "", "count": ""}
    rows = [[_cell(k, op) for _, k in OP_COLUMNS] for op in report.ops]
    rows.append([_cell(k, tot) if k not in ("name", "unit", "count") else str(tot[k]) for _, k in OP_COLUMNS])
    out.append(render_table([h for h, _ in OP_COLUMNS], rows, width, text_cols=(0, 1)))
    if report.meta:
        heads = ("layer", "x", "ops", "per layer", "time", "DRAM rd", "DRAM wr", "energy")
        lrows = [[g["layer"], str(g["count"]), str(g["ops"]), eng(g["time_ns_per_layer"] * 1e-9, "s"),
                  eng(g["time_ns"] * 1e-9, "s"), eng(g["dram_read_bytes"], "B"), eng(g["dram_write_bytes"], "B"),
                  eng(g["energy_pj"] * 1e-12, "J")] for g in report.layers]
        out.append(render_table(heads, lrows, width, title="per layer (summed over the x identical layers)"))
    mapped = [(op["name"], op["mapping"]) for op in report.ops if op.get("mapping") not in (None, "stream")]
    if mapped:
        out.append("mappings:")
        pad = min(max(len(n) for n, _ in mapped), 24)
        out += [wrap(f"  {n.ljust(pad)} {m}", width, " " * (pad + 3)) for n, m in mapped]
    out += unit_summaries(report)
    err = f" +/- {eng(tot['error_ns'] * 1e-9, 's')}" if "error_ns" in tot else ""   # cycle sampling's error bar
    lines = [f"time {eng(tot['time_ns'] * 1e-9, 's')}{err}", f"utilisation {100 * tot['utilization']:.1f}%",
             f"energy {eng(tot['energy_pj'] * 1e-12, 'J')}"]
    if "tokens_per_s" in tot:
        lines += [f"time/token {eng(tot['time_per_token_ns'] * 1e-9, 's')}", f"tokens/s {eng(tot['tokens_per_s'])}",
                  f"energy/token {eng(tot['energy_pj'] * 1e-12 / tot['tokens'], 'J')}"]
    out.append(join_wrapped(lines, width))
    if report.area is not None:
        a = report.area
        parts = ", ".join(f"{k} {v:.3g}" for k, v in {**a["units_mm2"], **a["sram_mm2"]}.items() if v is not None)
        missing = f"; not modelled: {', '.join(a['not_modelled'])}" if a["not_modelled"] else ""
        out.append(wrap(f"area {a['total_mm2']:.3g} mm2 at {a['node_nm']} nm ({parts}{missing})", width, "  "))
    return "\n".join(out)


def unit_summaries(report: Report) -> list[str]:
    """What each unit kind says of its own rows (ComputeUnit.summary), in the design's unit order."""
    from archsim.units.registry import unit_classes

    out: list[str] = []
    for name, ucfg in (report.config.get("units") or {}).items():
        rows = [op for op in report.ops if op["unit"] == name]
        cls = unit_classes().get(str(ucfg.get("kind"))) if isinstance(ucfg, dict) else None
        if rows and cls is not None:
            out += cls.summary(name, rows, report.tokens)
    return out


def print_report(report: Report, console=None, title: str | None = None, width: int = 80) -> None:
    """Print `render_report` (the `console` argument is accepted for old callers and ignored)."""
    print(render_report(report, width, title))
