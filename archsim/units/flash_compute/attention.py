"""Decode attention inside a computational SSD (InstInfer): KV in flash, the engine in the drive.

K and V live as groups (`group` bytes: consecutive tokens of one KV head) striped over the channels
along the token index, so a decode step reads every group of the context once (dense) or, with
SparF, the channel-indexed K columns it scores plus the groups the page-level filter keeps. Groups
stream from the planes over the channels to the attention engine; the query comes in and the output
leaves over PCIe peer-to-peer. New k/v rows collect in the drive's DRAM and are programmed as whole
pages, holding their planes for tPROG. Time = the slower of flash and engine, plus the P2P hops.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from archsim.errors import WorkloadError
from archsim.units.base import OpResult


@dataclass(frozen=True)
class CsdAttention:
    time_ps: int
    flash_read_bytes: int       # over the flash channels
    flash_write_bytes: int
    p2p_bytes: int
    flops: int
    flash_ps: int
    engine_ps: int
    channel_util: float


def kv_bytes(b: int, kv_heads: int, m: int, e: int, f: int, elem: float) -> tuple[int, int]:
    return int(b * kv_heads * m * e * elem), int(b * kv_heads * m * f * elem)


def csd_attention_cost(spec, eng, b: int, h: int, kv_heads: int, m: int, e: int, f: int, elem: float) -> CsdAttention:
    """One decode step's attention for one layer (P = 1) on the drive; `eng` an AttentionEngineConfig."""
    k_b, v_b = kv_bytes(b, kv_heads, m, e, f, elem)
    if k_b + v_b > spec.capacity_bytes:
        raise WorkloadError(f"KV cache of {k_b + v_b} B is larger than the drive ({spec.capacity_bytes} B); "
                            f"shrink kv/batch or add flash (memory level {spec.name!r})")
    group = eng.group
    if eng.keep < 1:   # SparF: K columns for the approximate scores, then the groups the page filter keeps
        read = int(k_b * eng.keep) + int((k_b + v_b) * eng.page_skip)
        flops = int(2 * b * h * m * e * eng.keep + 2 * b * h * (m * eng.keep) * (e + f))
    else:
        read = k_b + v_b
        flops = 2 * b * h * m * (e + f)
    groups = math.ceil(read / group)
    per_ch = math.ceil(groups / spec.channels)
    units = spec.dies_per_channel * (spec.planes_per_die if spec.multi_plane else 1)
    ps_byte = 1e12 / spec.channel_bandwidth
    written = b * kv_heads * (e + f) * elem                       # this step's new k and v rows
    prog_pages = written / spec.page_size                         # flushed as whole pages (amortised)
    sense = spec.t_read * (1 + spec.read_retries) + spec.t_ecc
    array_ps = (per_ch * sense + prog_pages / spec.channels * spec.t_prog) / units
    chan_ps = (per_ch * group + written / spec.channels) * ps_byte
    flash_ps = int(max(array_ps, chan_ps) + sense)
    engine_ps = int(flops / eng.flops * 1e12)
    p2p = int(b * h * (e + f) * elem)
    t = max(flash_ps, engine_ps) + int(p2p / eng.p2p * 1e12)
    return CsdAttention(t, groups * group, int(written), p2p, flops, flash_ps, engine_ps,
                        min(1.0, chan_ps / t))


def csd_attention(op, spec, cfg, ctx) -> OpResult:
    """The unit's run_op for a fused decode attention op whose KV cache lives on its flash level."""
    d = op.dims
    if d.get("p", 1) != 1:
        raise WorkloadError(f"op {op.name!r}: the drive's attention engine runs decode (P = 1); P = {d['p']} "
                            f"(prefill attention stays on the GPU/NPU)")
    kv = next(o for o in op.operands if o.role == "kv_cache")
    h, g = d["h"], d.get("g", 1)
    c = csd_attention_cost(spec, cfg.attention, d["b"], h, max(1, h // g), d["m"], d["e"], d["f"], kv.bits / 8)
    detail = {"flash_read_bytes": c.flash_read_bytes, "kv_append_bytes": c.flash_write_bytes,
              "engine_ps": c.engine_ps, "flash_ps": c.flash_ps, "channel_util": round(c.channel_util, 4)}
    return OpResult(time_ps=c.time_ps, busy_ps=c.time_ps, macs=op.macs,
                    traffic={cfg.near: (c.p2p_bytes, c.p2p_bytes)}, mapping="in-drive attention", detail=detail)
