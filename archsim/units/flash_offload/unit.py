"""`flash_offload`: the host's weight GEMVs when the weights live on a flash level (LLM in a flash).

It owns every weight GEMM whose weights sit on its level (`near:`). Ops tagged `ffn` stream from the
drive only the neurons the predictor marks active that the window of the last k tokens does not hold
(`predictor`, `window_new`), at the drive's rate for the read chunk (one neuron's row, twice that with
row-column bundling) on the measured chunk/thread curve; the loaded rows are copied into the
preallocated per-layer matrix in DRAM; the host multiplies the active share. Every other weight
(attention projections, LM head) is resident in DRAM and read at DRAM bandwidth. What stays resident,
the non-FFN weights plus the window's FFN cache, must fit `dram_budget`.

A decode batch of B sequences needs the union of their active rows (`host_offload.batch_shares`:
independent sequences, 1 - (1 - p)^B, an upper bound); each window keeps its own sequence's last k
tokens, so the new loads and the cache follow the same law, the cache held to the DRAM the resident
weights leave (rows it cannot hold are read again). Each sequence multiplies its own active rows.
Energy: each chunk read is priced by the flash level (`request_energy_pj`: pages sensed, channel
bytes); the host DRAM (`offchip`) reads the rows the step multiplies and writes the rows loaded.
There is no `cycle` model of the host: both fidelities run this closed form.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from archsim.config.base import StrictModel
from archsim.config.quantities import Bandwidth, Frequency, Size
from archsim.config.schema import NearMemoryConfig
from archsim.errors import ConfigError
from archsim.units.base import ComputeUnit, OpResult
from memory.flash.host_offload import M1_MAX, ReadCurve, batch_shares


class CurvePoint(StrictModel):
    chunk: Size
    rate: Bandwidth


class FlashOffloadConfig(NearMemoryConfig):
    """Host streaming of sparse FFN weights from flash (LLM in a flash): predictor, window, bundling."""

    kind: Literal["flash_offload"] = "flash_offload"
    clock: Frequency | None = None
    predictor: float | None = Field(0.10, gt=0, le=1, description="share of FFN neurons predicted active "
                                                                  "(null: the whole FFN streams)")
    window_new: float | None = Field(None, gt=0, le=1, description="share of neurons active now and not "
                                                                    "in the last k tokens (windowing)")
    window_cache: float = Field(0.0, ge=0, le=1, description="share of FFN weights the window keeps in DRAM")
    bundle: bool = Field(False, description="up-projection column i stored beside down-projection row i")
    neuron_chunk: Size | None = Field(None, description="bytes of one neuron's read (default: its row)")
    threads: int = Field(32, ge=1, description="reader threads")
    curve: list[CurvePoint] | None = Field(None, description="chunk -> rate at `threads` (default: M1 Max)")
    sequential: Bandwidth | None = Field(None, description="rate of large sequential reads")
    dram_bandwidth: Bandwidth = Field(400e9, description="host DRAM bandwidth (resident weights, row copies)")
    dram_budget: Size | None = Field(None, description="DRAM for resident weights and the window cache")
    macs_per_s: float = Field(gt=0, description="the host's MAC rate on these GEMVs")


class FlashOffloadUnit(ComputeUnit):
    kind = "flash_offload"
    config_model = FlashOffloadConfig
    side = "memory"
    energy_actions = {"mac": "one host MAC"}

    def __init__(self, name: str, cfg: Any = None, clock_hz: float = 1e9, energy_pj: dict | None = None):
        super().__init__(name, cfg, clock_hz, energy_pj)
        c = cfg
        if c.curve:
            pts = tuple(sorted((p.chunk, p.rate) for p in c.curve))
            self.read = ReadCurve(pts, c.threads, c.sequential or pts[-1][1])
        else:
            self.read = M1_MAX
        self.resident = 0          # bytes held in DRAM by the ops run so far (the budget check)
        self.cache_cap = 1.0       # share of the FFN the window caches may hold (check_workload)

    def supports(self, op) -> bool:
        return op.kind == "gemm" and any(o.role == "weight" for o in op.operands)

    def owns(self, op) -> bool:
        return self.supports(op)

    def check_workload(self, ops, system) -> None:
        """The DRAM left for the window caches: `dram_budget` minus the resident (non-FFN) weights, as a
        share of the FFN weights (the batch's union window is held to it); an error when the resident
        weights alone exceed the budget."""
        mine = [(o, next(w for w in o.operands if w.role == "weight").nbytes(o.dims) * o.count)
                for o in ops if self.supports(o)]
        ffn = sum(b for o, b in mine if "ffn" in o.tags)
        rest = sum(b for o, b in mine if "ffn" not in o.tags)
        budget = self.cfg.dram_budget
        if budget is not None and rest > budget:
            raise ConfigError(f"units.{self.name}.dram_budget: the resident weights need {rest} B, more than the "
                              f"budget {budget} B")
        self.cache_cap = 1.0 if budget is None or not ffn else min(1.0, (budget - rest) / ffn)

    def run_op(self, op, ctx) -> OpResult:
        c = self.cfg
        if ctx.home("weight") != c.near:
            raise ConfigError(f"units.{self.name}: weights live on {ctx.home('weight')!r}, not on {c.near!r}; "
                              f"set memory.placement.weight: {c.near}")
        w = next(o for o in op.operands if o.role == "weight")
        d = op.dims
        wbytes = w.nbytes(d)
        ffn = "ffn" in op.tags
        seqs = d.get("b", 1)          # independent sequences in the step (decode batch)
        if ffn:
            per_seq = c.predictor if c.predictor is not None else 1.0
            step = batch_shares(per_seq, c.window_new if c.window_new is not None else per_seq, c.window_cache,
                                seqs, self.cache_cap)
            active, load = step.active, step.load
            row = c.neuron_chunk or d["k"] * w.bits // 8
            chunk = row * (2 if c.bundle else 1) if c.predictor is not None else wbytes   # else: one sequential read
            flash = int(wbytes * load)
            io_s = flash / self.read.rate(chunk, c.threads)
            keep = int(wbytes * step.cache)
        else:
            per_seq, active, chunk, flash, io_s, keep = 1.0, 1.0, 0, 0, 0.0, wbytes
        self._hold(keep * op.count)
        dram_s = (flash + (keep if not ffn else 0)) / c.dram_bandwidth   # row copies, or resident weights read
        macs = int(op.macs * per_seq)      # each sequence multiplies its own active rows
        compute_s = macs / c.macs_per_s
        t = int(round((io_s + dram_s + compute_s) * 1e12))
        detail = {"flash_bytes": flash, "chunk": chunk, "io_ps": int(io_s * 1e12), "dram_ps": int(dram_s * 1e12),
                  "compute_ps": int(compute_s * 1e12), "active_share": active, "resident_bytes": keep,
                  **({"sequences": seqs, "load_share": load} if ffn and seqs > 1 else {})}
        energy = {"mac": macs * self.action_energy_pj("mac")}
        if flash:      # each chunk a read of the drive, priced by the flash level itself
            for k, v in ctx.level(c.near).request_energy_pj(0, chunk, False).items():
                energy[f"offchip.{k}"] = v * flash / chunk
        # host DRAM (the design's `offchip`): the rows the step multiplies (once for the batch) read, the
        # rows loaded written
        traffic = {"offchip": (int(wbytes * active), flash), c.near: (flash, 0)} if c.near != "offchip" \
            else {c.near: (flash, 0)}
        return OpResult(time_ps=t, busy_ps=int(compute_s * 1e12), macs=macs, traffic=traffic, energy_pj=energy,
                        mapping="resident in DRAM" if not ffn else
                        f"sparse FFN from flash, {chunk // 1024} KiB chunks", detail=detail)

    @classmethod
    def summary(cls, name: str, rows: list[dict], tokens: int) -> list[str]:
        """Bytes read from flash and the I/O's share of the unit's time, per token."""
        from archsim.textfmt import eng, pct

        flash = sum(r["detail"].get("flash_bytes", 0) * r["count"] for r in rows)
        io = sum(r["detail"].get("io_ps", 0) * r["count"] for r in rows) / 1e3
        t = sum(r["time_ns"] for r in rows) or 1.0
        per = max(tokens, 1)
        line = (f"{name}: {eng(flash / per, 'B')} from flash per token, I/O {eng(io * 1e-9 / per, 's')} per token "
                f"({pct(io / t)} of its time)")
        batch = next((r["detail"] for r in rows if "sequences" in r["detail"]), None)
        if batch is not None:   # the union of the sequences' active rows, per step
            line += (f"; {batch['sequences']} sequences: {pct(batch['active_share'])} of the FFN rows active and "
                     f"{pct(batch['load_share'])} loaded per step")
        return [line]

    def _hold(self, nbytes: int) -> None:
        self.resident += nbytes
        b = self.cfg.dram_budget
        if b is not None and self.resident > b:
            raise ConfigError(f"units.{self.name}.dram_budget: the resident weights and window cache need "
                              f"{self.resident} B so far, more than the budget {b} B")

    def estimate_s(self, op) -> float | None:
        return None
