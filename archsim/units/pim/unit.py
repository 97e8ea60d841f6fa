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
from archsim.units.base import ComputeUnit, OpResult, OperandWidths, SystemView
from archsim.units.pim.config import PimConfig
from archsim.units.pim.cycle import fresh_level, host_run, run_stream, start_streams
from archsim.units.pim.fast import eltwise_fast, gemv_fast
from archsim.units.pim.layout import RESERVED_ROWS, geometry, gemv_layout, tsv_spec
from archsim.units.pim.streams import ELTWISE_OPERANDS, eltwise_stream, gemv_stream


def dram_of(level: Any) -> Any:
    """The DRAM level behind `level` (links in front of it are walked through)."""
    seen = level
    while seen is not None and not hasattr(seen, "ctrls"):
        seen = getattr(seen, "level", None) or getattr(seen, "inner", None) or getattr(seen, "last", None)
    return seen


# phases in which the unit leaves the banks and buses to others: softmax runs beside the banks, and a
# refresh stalls every requester alike (another op's time alone already holds its own refreshes)
BANK_FREE_PHASES = ("softmax", "refresh")
RESIDENT_ROLES = ("weight", "kv_cache")     # what stays in the memory a PIM unit computes in


def resident_bytes(ops: Any) -> dict[str, int]:
    """Bytes of weights and KV cache a workload keeps in memory: each op's operands of those roles times
    its count (a decode step's repeated layers each own theirs). A KV write is the new token's slice of a
    cache the attention ops already count."""
    out = dict.fromkeys(RESIDENT_ROLES, 0)
    for op in ops:
        if getattr(op, "kind", None) == "kv_write":
            continue
        for o in op.operands:
            if o.role in out:
                out[o.role] += o.nbytes(op.dims) * op.count
    return out


def _gib(b: float) -> str:
    return f"{b / 2**30:.2f} GiB"


class PimUnit(ComputeUnit):
    kind = "pim"
    config_model = PimConfig
    side = "memory"
    energy_actions = {"pim_mac": "one lane MAC (priced by the unit's own mac_energy)"}

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
        """add, mul or relu when `op` is one (tagged so, or one FLOP an element over one or two inputs
        shaped like the output: a residual add); None for other element-wise ops (RoPE, SiLU, ...)."""
        if getattr(op, "kind", None) != "elementwise" or not self.cfg.eltwise:
            return None
        for k in ELTWISE_OPERANDS:
            if k in getattr(op, "tags", ()):
                return k
        ins = [o for o in op.operands if o.role != "output"]
        out = [o for o in op.operands if o.role == "output"]
        if op.flops_per_point not in (None, 1) or len(out) != 1 or any(o.dims != out[0].dims for o in ins):
            return None
        return {1: "relu", 2: "add"}.get(len(ins))

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
        """The kernels `op` is on this level: ("gemv", layout, repeats), ("eltwise", (geometry, kind, n), 1)
        or ("softmax", elements, 1). Independent GEMVs of one shape (heads) run as one GEMV over their
        stacked rows when every channel's rows of a tile belong to one of them, since each channel
        loads its own input vector; otherwise one after the other."""
        where = f"units.{self.name} (op {getattr(op, 'name', op)!r})"
        g = geometry(self.cfg, spec, channels)
        ew = self.eltwise_kind(op)
        if ew is not None:
            n = max(o.nbytes(op.dims) for o in op.operands) // self.cfg.element_bytes
            return [("eltwise", (g, ew, n), 1)]
        gv = self.gemvs(op)
        if gv is None:
            raise WorkloadError(f"{where}: not a GEMV, decode attention or element-wise op")
        out: list[tuple[str, Any, int]] = []
        for m, k, r in gv:
            stack = r > 1 and m % (g.units * self.cfg.accumulators) == 0
            out.append(("gemv", gemv_layout(self.cfg, g, m * r if stack else m, k, where), 1 if stack else r))
        if getattr(op, "kind", None) == "attention":
            out.insert(1, ("softmax", gv[0][0] * gv[0][2], 1))
        return out

    def check_workload(self, ops: Any, system: SystemView) -> None:
        """The weights and KV cache homed on this unit's level must fit in it together: the unit computes
        where they lie (no GEMV reads them from elsewhere), in the rows left after the reserved ones."""
        lvl = dram_of(system.level(self.cfg.near))
        if lvl is None or not hasattr(lvl, "spec"):
            return                                   # run_op names the misconfiguration
        need = {r: b for r, b in resident_bytes(ops).items() if system.design.memory.home(r) == self.cfg.near}
        spec = lvl.spec
        cap = lvl.capacity_bytes * (spec.rows - RESERVED_ROWS) // spec.rows
        if sum(need.values()) <= cap:
            return
        key = "memory.offchip" if self.cfg.near == "offchip" else f"memory.levels.{self.cfg.near}"
        parts = " + ".join(f"{_gib(b)} of {r.replace('_', ' ')}" for r, b in need.items() if b)
        raise WorkloadError(f"design {system.design.name!r}: the workload keeps {parts} in {key}, but its "
                            f"{lvl.channels} channels of {spec.name} hold {_gib(cap)} outside the {RESERVED_ROWS} "
                            f"rows per bank reserved for PIM registers and modes; units.{self.name} computes where "
                            f"the weights lie, so they must fit: raise {key}.channels, place kv_cache on another "
                            "level (memory.placement) or run a smaller model")

    def attach_level(self, level: Any) -> None:
        """The System hands over the level named by `near:` (for placement estimates)."""
        self._near = dram_of(level)

    def run_op(self, op: Any, ctx: Any) -> OpResult:
        lvl = self._level(ctx)
        return self.run_on(lvl.spec, lvl.channels, op, ctx.fidelity, lvl.refresh)

    def _kernel(self, what: str, plan: Any, spec: Any, channels: int, fidelity: str, refresh: str,
                host_readout: bool, sim: int) -> tuple[float, dict, dict, dict]:
        """(cycles, phases, commands per channel, energy by command) of one kernel."""
        if what == "softmax":                            # on the buffer die / logic beside the banks
            c = ceil(plan / channels / self.cfg.softmax_elems_per_cycle)
            return c, {"softmax": c}, {}, {}
        if what == "gemv" and plan.g.banks_per_unit == plan.g.banks and self.cfg.unit_scope != "bank":
            return self._read_fed(plan, spec, channels, fidelity, refresh)
        cmds = gemv_stream(self.cfg, plan, spec, host_readout) if what == "gemv" else \
            eltwise_stream(self.cfg, plan[0], spec, plan[1], plan[2], where=f"units.{self.name}")
        if fidelity == "fast":
            ph = gemv_fast(self.cfg, plan, spec, refresh, host_readout) if what == "gemv" else \
                eltwise_fast(self.cfg, plan[0], spec, plan[1], plan[2], refresh)
            c = ph.pop("total")
            counts = Counter(n for n, *_ in cmds)
            if refresh != "none":
                ref = "REF" if refresh == "all_bank" else "REFsb"
                counts[ref] += round(c / spec.timing["tREFI" if ref == "REF" else "tREFIsb"])
            return c, ph, {}, {k: v * spec.energy_pj[k] * channels for k, v in counts.items()}
        run = run_stream(fresh_level(spec, sim, refresh), cmds, total_channels=channels)
        return run.cycles, run.breakdown, run.commands, run.energy_pj

    def _read_fed(self, lay: Any, spec: Any, channels: int, fidelity: str, refresh: str):
        """A unit per pseudo-channel or on the logic die: the weights come up through the channel at its
        data rate (ordinary reads, in the controller for `cycle`), or through TSVs `tsv_width` times wider
        (logic die); the lanes work while they stream."""
        g = lay.g
        spec = tsv_spec(spec, self.cfg.tsv_width, f"units.{self.name}")
        nbytes = ceil(lay.M * lay.K * g.elem_bytes / channels)
        compute = ceil(lay.M * lay.K / channels / g.lanes)
        bursts = ceil(nbytes / spec.burst_bytes)
        if fidelity == "fast":
            t = spec.timing
            rd = bursts * t["tBL"] * (1 + (0 if refresh == "none" else t["tRFC"] / t["tREFI"])) + t["tRCD"] + t["CL"]
        else:
            sim = max(1, min(channels, spec.shared_by_channels))
            rd = host_run(fresh_level(spec, sim, refresh, mapping="rorabacobgch" if sim > 1 else "rochrababgco"),
                          [(nbytes * sim, False)])
        c = max(rd, compute)
        counts = {"RD": bursts, "ACT": ceil(bursts / spec.bursts_per_row)}
        return c, {"read": rd, "mac": max(0, c - rd)}, counts, \
            {k: v * spec.energy_pj[k] * channels for k, v in counts.items()}

    def run_on(self, spec: Any, channels: int, op: Any, fidelity: str, refresh: str = "all_bank",
               host_readout: bool = True, simulate_channels: int | None = None) -> OpResult:
        """Run `op` on `channels` channels of `spec` at `fidelity` (the standalone entry point). `cycle`
        simulates one command-bus group (`simulate_channels` overrides): every channel gets the same
        stream, so the others are identical (a test holds 2 and 8 equal)."""
        cycles, details = 0.0, []
        phases: dict[str, float] = {}
        commands: dict[str, int] = {}
        energy: dict[str, float] = {}
        plans = self.plan(spec, channels, op)
        sim = simulate_channels or max(1, min(channels, spec.shared_by_channels))
        for what, plan, reps in plans:
            c, ph, cmds, en = self._kernel(what, plan, spec, channels, fidelity, refresh, host_readout, sim)
            cycles += c * reps
            for acc, part in ((phases, ph), (commands, cmds), (energy, en)):
                for k, v in part.items():
                    acc[k] = acc.get(k, 0) + v * reps
            if what != "softmax":
                details.append(plan.report() if what == "gemv" else {"eltwise": plan[1], "elements": plan[2]})
        macs = op.macs if getattr(op, "kind", "") != "elementwise" else 0
        energy["pim_mac"] = macs * self.cfg.mac_energy
        time_ps = round(cycles * spec.tck_ps)
        in_bytes = sum(p.K * p.g.elem_bytes * r for w, p, r in plans if w == "gemv")
        free = sum(phases.get(k, 0) for k in BANK_FREE_PHASES)
        detail = {"fidelity": fidelity, "standard": spec.name, "dram_cycles": round(cycles),
                  "memory_busy_ps": round(time_ps * (1 - free / cycles)) if cycles else 0,
                  "breakdown_cycles": {k: round(v) for k, v in phases.items()},
                  "layout": details if len(details) > 1 else details[0],
                  "input_bytes_written": in_bytes * channels}
        if fidelity == "cycle":
            detail["commands_per_channel"] = commands
            detail["channels_simulated"] = sim
        return OpResult(time_ps=time_ps, busy_ps=time_ps, macs=macs, traffic={}, energy_pj=energy,
                        mapping=f"pim {spec.name} x{channels}", detail=detail)

    def start_op(self, op: Any, ctx: Any, done: Any) -> None:
        """`cycle` beside other units' ops (archsim.concurrency): the kernels' command streams go to every
        channel of the design's own DRAM level on its engine, one kernel after another, so the NPU's
        requests and these commands share the banks and buses; done(OpResult) after the last kernel.
        Kernels that are not command streams (softmax, read-fed units) take their standalone time."""
        lvl = self._level(ctx)
        spec, engine = lvl.spec, lvl.engine
        if self.cfg.row_buffers == 2:
            for ctrl in lvl.ctrls:
                ctrl.separate_pim_rows()
        t0 = engine.now
        plans = self.plan(spec, lvl.channels, op)
        queue = [(w, p) for w, p, r in plans for _ in range(r)]
        phases: dict[str, float] = {}
        commands: dict[str, int] = {}
        energy: dict[str, float] = {}

        def add(ph: dict, cmds: dict, en: dict) -> None:
            for acc, part in ((phases, ph), (commands, cmds), (energy, en)):
                for k, v in part.items():
                    acc[k] = acc.get(k, 0) + v

        def step(run: Any = None) -> None:
            if run is not None:
                add(run.breakdown, run.commands, run.energy_pj)
            if not queue:
                energy["pim_mac"] = op.macs * self.cfg.mac_energy if getattr(op, "kind", "") != "elementwise" else 0.0
                t = engine.now - t0
                done(OpResult(time_ps=t, busy_ps=t, macs=op.macs if energy["pim_mac"] else 0, traffic={},
                              energy_pj=energy, mapping=f"pim {spec.name} x{lvl.channels} (shared)",
                              detail={"fidelity": "cycle", "standard": spec.name, "shared_with_host": True,
                                      "breakdown_cycles": {k: round(v) for k, v in phases.items()},
                                      "commands_per_channel": commands}))
                return
            what, plan = queue.pop(0)
            streamed = what == "eltwise" or (what == "gemv" and (plan.g.banks_per_unit < plan.g.banks
                                                                  or self.cfg.unit_scope == "bank"))
            if not streamed:
                c, ph, _counts, en = self._kernel(what, plan, spec, lvl.channels, "cycle", lvl.refresh, True, 1)
                add(ph, {}, en)
                engine.at(engine.now + round(c * spec.tck_ps), step)
                return
            stream = gemv_stream(self.cfg, plan, spec) if what == "gemv" else \
                eltwise_stream(self.cfg, plan[0], spec, plan[1], plan[2], where=f"units.{self.name}")
            start_streams(lvl, stream, step)

        step()

    def estimate_s(self, op: Any) -> float | None:
        lvl = getattr(self, "_near", None)
        if lvl is None or not self.supports(op):
            return None
        try:
            return self.run_on(lvl.spec, lvl.channels, op, "fast", lvl.refresh).time_ps * 1e-12
        except WorkloadError:
            return None                     # does not fit the banks: another unit must take it
