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

    @property
    def totals(self) -> dict[str, Any]:
        t: dict[str, Any] = {k: sum(op[k] for op in self.ops) for k in SUMMED}
        t["energy_breakdown_pj"] = _sum_dicts(op.get("energy_breakdown_pj", {}) for op in self.ops)
        if self.makespan_ns is not None:   # ops overlapped: wall time is the makespan, not the sum
            t["op_time_sum_ns"] = t["time_ns"]
            t["time_ns"] = self.makespan_ns
            busy: dict[str, float] = {}
            for op in self.ops:
                busy[op["unit"]] = busy.get(op["unit"], 0.0) + op["end_ns"] - op["start_ns"]
            t["unit_busy_ns"] = busy
        t["utilization"] = (t["macs"] / (t["time_ns"] * self.peak_macs_per_ns)
                            if t["time_ns"] and self.peak_macs_per_ns else 0.0)
        sampled = [op["sampling"] for op in self.ops if "sampling" in op]
        if sampled:   # cycle fidelity extrapolated repeated tiles (archsim.sampling): the summed error bar
            t["error_ns"] = sum(s["error_ns"] for s in sampled)
        t["peak_macs_per_ns"] = self.peak_macs_per_ns
        t["peak_offchip_bytes_per_ns"] = self.peak_offchip_bytes_per_ns
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
                                      ("offchip", op["dram_read_bytes"], op["dram_write_bytes"], e.get("offchip", 0.0))):
                out.append({"op": op["name"], "unit": op["unit"], "layer": op.get("layer"), "count": op["count"],
                            "level": level, "read_bytes": rd, "write_bytes": wr, "energy_pj": pj,
                            "time_ns": op["time_ns"]})
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"config": self.config, "ops": self.ops, "totals": self.totals}
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


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v == 0:
            return "0"
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def print_report(report: Report, console=None, title: str | None = None) -> None:
    """Per-op table, per-layer table (model workloads) and totals."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console()
        console.width = max(console.width, 172)  # keep the table whole when piped or in narrow terminals
    cols = [("op", "name"), ("unit", "unit"), ("×", "count"), ("cycles", "cycles"), ("time ns", "time_ns"),
            ("util", "utilization"), ("MACs", "macs"), ("stall cyc", "stall_cycles"),
            ("SRAM rd B", "sram_reads"), ("SRAM wr B", "sram_writes"), ("DRAM rd B", "dram_read_bytes"),
            ("DRAM wr B", "dram_write_bytes"), ("energy pJ", "energy_pj")]
    table = Table(title=title or f"archsim: {report.config.get('name', 'design')}", show_lines=False)
    for head, _ in cols:
        table.add_column(head, justify="left" if head in ("op", "unit") else "right")
    for op in report.ops:
        row = [_fmt(op[k]) if k != "utilization" else f"{100 * op[k]:.1f}%" for _, k in cols]
        table.add_row(*row)
    tot = report.totals
    table.add_section()
    table.add_row("total", "", "", *[_fmt(tot[k]) if k != "utilization" else f"{100 * tot[k]:.1f}%"
                                     for _, k in cols[3:]])
    console.print(table)
    if report.meta:
        lt = Table(title="per layer (summed over the × identical layers)")
        for head in ("layer", "×", "ops", "ns per layer", "cycles", "time ns", "DRAM rd B", "DRAM wr B",
                     "energy pJ"):
            lt.add_column(head, justify="left" if head == "layer" else "right")
        for g in report.layers:
            lt.add_row(g["layer"], str(g["count"]), str(g["ops"]), *[_fmt(g[k]) for k in
                       ("time_ns_per_layer", "cycles", "time_ns", "dram_read_bytes", "dram_write_bytes",
                        "energy_pj")])
        console.print(lt)
    err = f" +/- {tot['error_ns'] / 1e3:,.3f}" if "error_ns" in tot else ""
    lines = [f"time {tot['time_ns'] / 1e3:,.3f}{err} us", f"utilisation {100 * tot['utilization']:.2f}%",
             f"energy {tot['energy_pj'] / 1e6:,.3f} uJ"]
    if "tokens_per_s" in tot:
        lines += [f"time/token {tot['time_per_token_ns'] / 1e6:,.3f} ms", f"tokens/s {tot['tokens_per_s']:,.1f}"]
    console.print("  ".join(lines))
