"""The PIM unit: runs GEMVs, element-wise ops and decode attention's GEMVs inside a DRAM level.

It owns the ops it runs: `cycle` issues the kernel's command stream to controllers of the level's
own DRAM standard (archsim.units.pim.cycle), `fast` evaluates the throughput model
(archsim.units.pim.fast). Only the input vector, the accumulators read out and element-wise
results' reads by nobody cross the level's external port; the weights never leave the banks.
"""
from __future__ import annotations

from collections import Counter
from math import ceil
from typing import Any

from archsim.errors import ConfigError, WorkloadError
from archsim.units.base import ComputeUnit, OpResult, OperandWidths
from archsim.units.pim.config import PimConfig
from archsim.units.pim.cycle import fresh_level, run_stream
from archsim.units.pim.fast import eltwise_fast, gemv_fast
from archsim.units.pim.layout import geometry, gemv_layout
from archsim.units.pim.streams import ELTWISE_OPERANDS, eltwise_stream, gemv_stream


def dram_of(level: Any) -> Any:
    """The DRAM level behind `level` (links in front of it are walked through)."""
    seen = level
    while seen is not None and not hasattr(seen, "ctrls"):
        seen = getattr(seen, "level", None) or getattr(seen, "inner", None) or getattr(seen, "last", None)
    return seen


class PimUnit(ComputeUnit):
    kind = "pim"
    config_model = PimConfig
    side = "memory"
    energy_actions: dict[str, str] = {}     # its lane MAC energy is in its own config (mac_energy)

    # -- what it runs ----------------------------------------------------------------------------
    def gemvs(self, op: Any) -> list[tuple[int, int, int]] | None:
        """(rows, cols, repeats) of the matrix-vector products `op` is, or None."""
        if getattr(op, "kind", None) == "attention":
            s = op.dims
            if s["p"] != 1:
                return None                     # prefill attention is a GEMM: not a PIM op
            heads = s["b"] * s["h"]
            return [(s["m"], s["e"], heads * s["g"]), (s["f"], s["m"], heads * s["g"])]
        if getattr(op, "kind", None) == "gemm" and getattr(op, "is_gemm", False):
            g = op.as_gemm()
            if g.M == 1:
                return [(g.N, g.K, g.batch)]
            if g.N == 1:
                return [(g.M, g.K, g.batch)]
        return None

    def eltwise_kind(self, op: Any) -> str | None:
        if getattr(op, "kind", None) != "elementwise" or not self.cfg.eltwise:
            return None
        tags = set(getattr(op, "tags", ()))
        for k in ELTWISE_OPERANDS:
            if k in tags:
                return k
        n_in = sum(1 for o in op.operands if o.role != "output")
        return {1: "relu", 2: "add"}.get(n_in)

    def supports(self, op: Any) -> bool:
        return self.gemvs(op) is not None or self.eltwise_kind(op) is not None

    def owns(self, op: Any) -> bool:
        return self.supports(op)

    def operand_widths(self) -> OperandWidths:
        b = 8 * self.cfg.element_bytes
        return OperandWidths(b, b, 8 * self.cfg.acc_bytes)

    # -- running ---------------------------------------------------------------------------------
    def _level(self, ctx: Any) -> Any:
        lvl = dram_of(ctx.level(self.cfg.near))
        if lvl is None or not hasattr(lvl, "spec"):
            raise ConfigError(f"units.{self.name}.near: level {self.cfg.near!r} is not a DRAM level; a PIM unit "
                              "sits beside DRAM banks")
        return lvl

    def plan(self, spec: Any, channels: int, op: Any) -> list[tuple[str, Any, int]]:
        """The kernels `op` is on this level: ("gemv", layout, repeats) or ("eltwise", (kind, n), 1)."""
        where = f"units.{self.name} (op {getattr(op, 'name', op)!r})"
        g = geometry(self.cfg, spec, channels)
        ew = self.eltwise_kind(op)
        if ew is not None:
            n = max(o.nbytes(op.dims) for o in op.operands) // self.cfg.element_bytes
            return [("eltwise", (g, ew, n), 1)]
        gv = self.gemvs(op)
        if gv is None:
            raise WorkloadError(f"{where}: not a GEMV, decode attention or element-wise op")
        return [("gemv", gemv_layout(self.cfg, g, m, k, where), r) for m, k, r in gv]

    def attach_level(self, level: Any) -> None:
        """The System hands over the level named by `near:` (for placement estimates)."""
        self._near = dram_of(level)

    def run_op(self, op: Any, ctx: Any) -> OpResult:
        lvl = self._level(ctx)
        return self.run_on(lvl.spec, lvl.channels, op, ctx.fidelity, lvl.refresh)

    def run_on(self, spec: Any, channels: int, op: Any, fidelity: str, refresh: str = "all_bank",
               host_readout: bool = True) -> OpResult:
        """Run `op` on `channels` channels of `spec` at `fidelity` (the standalone entry point)."""
        tck = spec.tck_ps
        cycles, phases, commands, energy, details = 0.0, {}, {}, {}, []
        sim = max(1, min(channels, spec.shared_by_channels))
        for what, plan, reps in self.plan(spec, channels, op):
            cmds = gemv_stream(self.cfg, plan, spec, host_readout) if what == "gemv" else \
                eltwise_stream(self.cfg, *plan[:1], spec, *plan[1:], where=f"units.{self.name}")
            if fidelity == "fast":
                ph = gemv_fast(self.cfg, plan, spec, refresh, host_readout) if what == "gemv" else \
                    eltwise_fast(self.cfg, *plan, spec, refresh)
                c = ph.pop("total")
                counts = Counter(n for n, *_ in cmds)
                if refresh != "none":
                    allbank = refresh == "all_bank"
                    counts["REF" if allbank else "REFsb"] += round(c / spec.timing["tREFI" if allbank else "tREFIsb"])
                for k, v in counts.items():
                    energy[k] = energy.get(k, 0.0) + v * spec.energy_pj[k] * channels * reps
            else:
                run = run_stream(fresh_level(spec, sim, refresh), cmds, total_channels=channels)
                c, ph = run.cycles, run.breakdown
                for k, v in run.commands.items():
                    commands[k] = commands.get(k, 0) + v * reps
                for k, v in run.energy_pj.items():
                    energy[k] = energy.get(k, 0.0) + v * reps
            cycles += c * reps
            for k, v in ph.items():
                phases[k] = phases.get(k, 0) + v * reps
            details.append(plan.report() if what == "gemv" else {"eltwise": plan[1], "elements": plan[2]})
        macs = op.macs * op.count if getattr(op, "kind", "") != "elementwise" else 0
        energy["pim_mac"] = macs * self.cfg.mac_energy
        time_ps = round(cycles * tck)
        in_bytes = sum(ceil(p.K * p.g.elem_bytes) * r for w, p, r in self.plan(spec, channels, op) if w == "gemv")
        detail = {"host_bus_bytes": {"input_written": in_bytes * channels,
                                     "commands": "input broadcast and readout are DRAM commands of the kernel"},
                  "fidelity": fidelity, "dram_cycles": round(cycles),
                  "breakdown_cycles": {k: round(v) for k, v in phases.items()},
                  "layout": details if len(details) > 1 else details[0], "standard": spec.name}
        if commands:
            detail["commands_per_channel"] = commands
            detail["channels_simulated"] = sim
        return OpResult(time_ps=time_ps, busy_ps=time_ps, macs=op.macs if hasattr(op, "macs") else 0,
                        traffic={}, energy_pj=energy,   # operands stay in the level: no request crosses its port
                        mapping=f"pim {spec.name} x{channels}", detail=detail)

    def estimate_s(self, op: Any) -> float | None:
        lvl = getattr(self, "_near", None)
        if lvl is None or not self.supports(op):
            return None
        try:
            return self.run_on(lvl.spec, lvl.channels, op, "fast", lvl.refresh).time_ps * 1e-12
        except WorkloadError:
            return None                     # does not fit the banks: another unit must take it
