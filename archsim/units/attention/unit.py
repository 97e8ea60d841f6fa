"""The `attention` unit: runs a fused attention op whole on its 2D + 1D arrays (Level 0 at `fast`, the
tile/epoch event model at `cycle`); GEMMs and other ops go to the design's other units."""
from __future__ import annotations

import math
from typing import Any, ClassVar

from archsim.units.attention.cascade import Level0, level0
from archsim.units.attention.config import AttentionConfig
from archsim.units.attention.shape import AttentionShape
from archsim.units.base import ComputeUnit, OpResult, SystemView

PS_PER_S = 10**12


class AttentionUnit(ComputeUnit):
    """FuseMax's spatial attention array (or, by `variant`, FLAT, unfused and the paper's ablation steps)."""

    kind = "attention"
    config_model = AttentionConfig
    energy_actions: ClassVar[dict[str, str]] = {
        "(own table)": "the unit's `energy:` keys: mac, add, max, div, exp, buffer_read_byte, buffer_write_byte; "
                       "off-chip bytes are priced by the design's `offchip_byte`"}
    cfg: AttentionConfig

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.cfg.rows * self.cfg.cols

    def tile_quanta(self) -> tuple[int, ...]:
        return (self.cfg.rows, self.cfg.cols)

    def operand_widths(self) -> Any:
        from archsim.units.base import OperandWidths

        return OperandWidths(self.cfg.word_bits, self.cfg.word_bits, self.cfg.word_bits)

    def supports(self, op: Any) -> bool:
        return getattr(op, "kind", None) == "attention"

    def owns(self, op: Any) -> bool:
        return self.supports(op)

    def bandwidth(self, system: SystemView | None) -> float:
        """Off-chip bytes/s: the config's override, else the peak of the level activations live on."""
        if self.cfg.offchip_bandwidth is not None:
            return float(self.cfg.offchip_bandwidth)
        if system is None:
            raise ValueError("attention unit: no off-chip bandwidth (set `offchip_bandwidth`)")
        return float(system.level(system.design.memory.home("activation")).peak_bytes_per_s)

    def fast(self, op: Any, system: SystemView | None = None) -> Level0:
        return level0(AttentionShape.of(op), self.cfg, self.bandwidth(system), self.clock_hz)

    def estimate_s(self, op: Any) -> float | None:
        if not self.supports(op) or self.cfg.offchip_bandwidth is None:
            return None
        return self.fast(op).time_s

    def _levels(self, op: Any, ctx: Any, lv: Level0) -> dict[str, tuple[int, int]]:
        """Off-chip bytes by level: K and V where the KV cache lives (decode) or with the activations, Q with
        the activations, the output where outputs live."""
        kv_level = ctx.home("kv_cache") if any(o.role == "kv_cache" for o in getattr(op, "operands", ())) \
            else ctx.home("activation")
        out: dict[str, list[int]] = {}
        for tensor, (rd, wr) in lv.traffic.tensors.items():
            level = kv_level if tensor in ("K", "V") else ctx.home("output" if tensor == "O" else "activation")
            acc = out.setdefault(level, [0, 0])
            acc[0] += round(rd)
            acc[1] += round(wr)
        return {k: (v[0], v[1]) for k, v in out.items()}

    def _count_bytes(self, ctx: Any, traffic: dict[str, tuple[int, int]]) -> None:
        """Bytes a closed form moved: counted on the run's levels (not timed there)."""
        ctx.used_port = True
        for level, (rd, wr) in traffic.items():
            ctx.level(level).account_bulk(rd, False, self.name)
            ctx.level(level).account_bulk(wr, True, self.name)

    def run_op(self, op: Any, ctx: Any) -> OpResult:
        lv = self.fast(op, ctx.system)
        traffic = self._levels(op, ctx, lv)
        detail = lv.detail()
        time_s, busy_s = lv.time_s, lv.compute_cycles / self.clock_hz
        if ctx.fidelity == "cycle" and len(traffic) == 1:
            from archsim.units.attention.epochs import TooLong, level1, port_for
            from archsim.units.attention.stages import level1_stages

            ctx.used_port = True            # the op's bytes cross the run's own level (conservation is checked)
            bw = self.bandwidth(ctx.system)
            live = (ctx.system.engine, ctx.level(next(iter(traffic))))
            try:
                if self.cfg.variant in ("fusemax", "architecture"):
                    l1 = level1(AttentionShape.of(op), self.cfg, lv, port_for(ctx.system, bw), live=live)
                else:
                    l1 = level1_stages(AttentionShape.of(op), self.cfg, lv, port_for(ctx.system, bw), bw, live=live)
                time_s, busy_s = l1.time_s, l1.busy_s
                detail.update(l1.detail())
            except TooLong as exc:
                detail["level1"] = f"not run ({exc}): the Level 0 closed form is used"
                self._count_bytes(ctx, traffic)
        elif ctx.fidelity == "cycle":
            detail["level1"] = "operands on several off-chip levels: the Level 0 closed form is used"
            self._count_bytes(ctx, traffic)
        time_ps = math.ceil(time_s * PS_PER_S)
        # the runner prices off-chip bytes with the design's `offchip_byte`; the unit prices what is on chip
        on_chip_energy = {k: v for k, v in lv.energy_pj.items() if k != "dram"}
        sh = AttentionShape.of(op)
        macs = sh.B * sh.H * lv.geo.visible * (sh.E + sh.F)
        return OpResult(time_ps, min(time_ps, math.ceil(busy_s * PS_PER_S)), macs, traffic,
                        sram_read_bytes=0, sram_write_bytes=0, energy_pj=on_chip_energy,
                        mapping=f"{self.cfg.variant}" + (f" P1={lv.p1}" if lv.p1 else ""), detail=detail)
