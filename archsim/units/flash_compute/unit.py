"""`flash_compute`: compute beside a flash level's page buffers.

It owns the weight GEMVs whose weights live in its flash level (decode's QKV, O, FFN and LM head):
each is split between the in-die cores (read-compute requests) and the NPU (sliced page reads over
the same channels), timed in closed form (`fast`, the L0 model) or per command on one channel
(`cycle`). With an `attention` engine it also owns fused attention over a KV cache in the drive
(InstInfer), see attention.py.
"""
from __future__ import annotations

from typing import Any

from archsim.errors import ConfigError
from archsim.units.base import ComputeUnit, OpResult
from archsim.units.flash_compute.attention import csd_attention, csd_kv_append
from archsim.units.flash_compute.config import FlashComputeConfig
from archsim.units.flash_compute.gemv import GemvCost, gemv_fast
from archsim.units.flash_compute.gemv_cycle import gemv_cycle
from archsim.units.flash_compute.tiling import Plan, make_plan
from memory.flash.channel import check_policy


def flash_spec_of(level: Any, near: str):
    """The FlashSpec behind a level (links in front of it allowed); a non-flash level is an error."""
    dev = getattr(level, "level", level)
    spec = getattr(dev, "spec", None)
    if spec is None or not hasattr(spec, "page_size"):
        raise ConfigError(f"flash_compute: near: {near!r} is not a flash level (kind flash expected)")
    return spec


def gemv_cost(spec, cfg: FlashComputeConfig, clock_hz: float, n_out: int, n_in: int, batch: int,
              fidelity: str) -> tuple[Plan, GemvCost]:
    plan = make_plan(spec, cfg, clock_hz)
    if fidelity == "cycle":
        return plan, gemv_cycle(plan, spec, cfg, n_out, n_in, batch, clock_hz)
    return plan, gemv_fast(plan, n_out, n_in, batch, cfg.overlap, cfg.npu_macs_per_s)


def gemv_energy_pj(spec, cfg: FlashComputeConfig, cost: GemvCost, mac_pj: float) -> dict[str, float]:
    """Array senses, channel bytes, core MACs (die side) and NPU MACs, in pJ."""
    w = cost.work
    return {"flash_array": spec.sense_pj(cost.page_senses), "flash_channel": spec.channel_pj(cost.channel_bytes),
            "flash_core": w.flash_weights * w.batch * cfg.core_mac_energy,
            "mac": w.npu_weights * w.batch * mac_pj}


def flash_summary(name: str, rows: list[dict], tokens: int) -> str:
    """One line of a flash unit's rows: channel bytes (channels stripe evenly), channel and die use."""
    from archsim.textfmt import eng, pct

    per_ch = sum(r["detail"].get("bytes_per_channel", 0) * r["count"] for r in rows)
    chans = max((r["detail"].get("channels", 0) for r in rows), default=0)
    t = sum(r["time_ns"] for r in rows) or 1.0
    util = {k: sum(r["detail"].get(k, 0.0) * r["time_ns"] for r in rows) / t for k in ("channel_util", "die_util")}
    energy = sum(r["energy_pj"] for r in rows) * 1e-12
    parts = [f"{name}: {eng(per_ch, 'B')} over each of {chans} channels", f"channel use {pct(util['channel_util'])}",
             f"die use {pct(util['die_util'])}", f"{eng(t * 1e-9, 's')} busy"]
    parts.append(f"{eng(energy / tokens, 'J')}/token" if tokens else f"{eng(energy, 'J')}")
    return ", ".join(parts)


class FlashComputeUnit(ComputeUnit):
    kind = "flash_compute"
    config_model = FlashComputeConfig
    side = "memory"
    energy_actions = {"mac": "one MAC of the NPU's share of a GEMV"}

    def __init__(self, name: str, cfg: Any = None, clock_hz: float = 1e9, energy_pj: dict | None = None):
        super().__init__(name, cfg, clock_hz, energy_pj)
        check_policy(cfg.arbitration.policy, f"units.{name}.arbitration.policy")

    def _gemv(self, op) -> bool:
        return self.cfg.gemv_cores and op.kind == "gemm" and any(o.role == "weight" for o in op.operands)

    def supports(self, op) -> bool:
        """Weight GEMVs; with an attention engine, decode attention (P = 1) and the KV appends."""
        if self.cfg.attention is not None and op.kind in ("attention", "kv_write"):
            return op.kind == "kv_write" or op.shape["P"] == 1
        return self._gemv(op)

    def owns(self, op) -> bool:
        return self.supports(op)

    def run_op(self, op, ctx) -> OpResult:
        near = self.cfg.near
        spec = flash_spec_of(ctx.level(near), near)
        if op.kind == "attention":
            return csd_attention(op, spec, self.cfg, ctx)
        if op.kind == "kv_write":
            return csd_kv_append(op, spec, self.cfg, ctx)
        d = op.dims
        batch = d.get("b", 1) * d.get("s", 1)
        plan, cost = gemv_cost(spec, self.cfg, self.clock_hz, d["n"], d["k"], batch, ctx.fidelity)
        energy = gemv_energy_pj(spec, self.cfg, cost, self.action_energy_pj("mac"))
        w = cost.work
        share = round(w.flash_weights / (w.flash_weights + w.npu_weights), 4)
        detail = {"tile": f"{plan.h_req}x{plan.w_req}", "flash_share": share,
                  "requests": w.tiles, "npu_pages": w.npu_pages, "channel_bytes": cost.channel_bytes,
                  "bytes_per_channel": cost.per_channel_bytes, "channels": spec.channels,
                  "channel_util": round(cost.channel_util, 4),
                  "die_util": round(cost.die_util, 4)}
        return OpResult(time_ps=cost.time_ps, busy_ps=cost.time_ps, macs=op.macs,
                        traffic={near: (cost.channel_bytes, 0)}, energy_pj=energy,
                        mapping=f"in-flash {plan.h_req}x{plan.w_req}, {share:.0%} in dies", detail=detail)

    @classmethod
    def summary(cls, name: str, rows: list[dict], tokens: int) -> list[str]:
        """Bytes over each channel, channel and die use (time-weighted over the unit's ops), J per token."""
        return [flash_summary(name, rows, tokens)]

    def estimate_s(self, op) -> float | None:
        return None
