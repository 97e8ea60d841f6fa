"""Decode attention inside a computational SSD (InstInfer): KV in flash, the engine in the drive.

K and V live as groups (`group` bytes: consecutive tokens of one KV head, 4 KB in InstInfer) striped
over the channels along the token index. A decode step of one layer runs in two phases: the K phase
streams K groups from the planes over the channels while the engine's GeMV units score them, then
the softmax (a barrier: every score is needed), then the V phase streams V groups into the weighted
sum. Each phase is the slower of the flash stream (array senses over the planes, bytes over the
channels) and the engine, plus one sense to fill the pipeline. SparF first reads the channel-indexed
K copy at the keep ratio to score approximately, then only the groups the page-level filter keeps.
The query arrives and the output leaves over PCIe peer-to-peer. New k/v rows land in the drive's
DRAM group buffers (an owned `kv_write`: P2P only) and are programmed as whole pages, holding
their planes for tPROG inside the next attention's flash phases (amortised per step).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from archsim.errors import ConfigError, WorkloadError
from archsim.units.base import OpResult
from archsim.units.flash_compute.attention_cycle import PhaseWork, phase_cycle

SOFTMAX_FLOPS = 5      # per score: max, subtract, exp, sum, divide (as the unfused softmax counts)


@dataclass(frozen=True)
class CsdAttention:
    time_ps: int
    flash_read_bytes: int       # over the flash channels
    flash_write_bytes: int      # this step's k/v rows, flushed from DRAM as whole pages
    p2p_bytes: int              # q in plus the output back
    flops: int
    flash_ps: int               # both phases' flash streams (fills included)
    senses: int                 # page senses (a dense read senses a page once for its groups)
    engine_ps: int              # GeMV and softmax
    channel_util: float
    die_util: float


def kv_bytes(b: int, kv_heads: int, m: int, e: int, f: int, elem: float) -> tuple[int, int]:
    return int(b * kv_heads * m * e * elem), int(b * kv_heads * m * f * elem)


def _stream(spec, nbytes: float, group: int, prog_pages: float,
            scattered: float = 0.0) -> tuple[int, int, float, int, PhaseWork]:
    """(ps, channel-busy ps, plane-busy share, senses, one channel's work) of reading `nbytes` as groups striped
    over the channels while `prog_pages` page programs (the DRAM buffer's flush) share the planes and channels.
    A page holds page/group groups of one channel: a dense read senses each page once for all of them; the
    `scattered` bytes (groups SparF picks here and there) cost a sense each."""
    groups = math.ceil(nbytes / group)
    per_ch = math.ceil(groups / spec.channels)
    lone = min(per_ch, math.ceil(scattered / group / spec.channels))
    senses = lone + math.ceil((per_ch - lone) * group / spec.page_size)
    units = spec.dies_per_channel * (spec.planes_per_die if spec.multi_plane else 1)
    sense = spec.t_read * (1 + spec.read_retries) + spec.t_ecc
    prog = prog_pages / spec.channels
    chan_ps = (per_ch * group + prog * spec.page_size) * spec.channel_ps_per_byte
    last = group * per_ch / max(senses, 1) * spec.channel_ps_per_byte    # one sense's groups out, on average
    wave = senses - (math.ceil(senses / units) - 1) * units       # units whose last sense ends together
    # The last group arrives after the channel's bytes behind one sense, or after the busiest units' senses and
    # their last pages out over the one bus. A program holds one unit for tPROG and the reads queued there wait
    # (with fewer senses than units only senses/units of them have one): q programs on the busiest unit, a
    # fraction being the chance that a flush falls in this step, so the time is an expectation over it.
    array_ps = math.ceil(senses / units) * sense + wave * last
    q = max(min(prog, 1.0) * min(1.0, senses / units), prog / units)
    k, p = int(q), q - int(q)
    t = ((1 - p) * max(array_ps + k * spec.t_prog, chan_ps + sense)
         + p * max(array_ps + (k + 1) * spec.t_prog, chan_ps + sense)) if groups else 0
    array_ps += q * spec.t_prog
    work = PhaseWork(per_ch - lone, lone, prog, 0.0)
    return int(t), int(chan_ps), (array_ps / t if t else 0.0), senses * spec.channels, work


def _first(spec, group: int) -> float:
    """When the first group of a phase reaches the engine: one sense, then the group over the channel."""
    return spec.t_read * (1 + spec.read_retries) + spec.t_ecc + group * spec.channel_ps_per_byte


def csd_attention_cost(spec, eng, b: int, h: int, kv_heads: int, m: int, e: int, f: int, elem: float,
                       layers: int = 1, fidelity: str = "fast", steady_state: bool = True,
                       window: int = 24) -> CsdAttention:
    """One decode step's attention for one layer (P = 1) on the drive; `eng` an AttentionEngineConfig.
    `layers`: how many layers' KV the drive holds (the capacity check). `fast` times each phase as
    max(flash stream, engine) + one sense; `cycle` per command on one channel (attention_cycle.py)."""
    k_b, v_b = kv_bytes(b, kv_heads, m, e, f, elem)
    stored = (k_b * (2 if eng.keep < 1 else 1) + v_b) * layers      # SparF keeps K twice (two layouts)
    if stored > spec.capacity_bytes:
        raise WorkloadError(f"KV cache of {stored} B ({layers} layers) is larger than the drive "
                            f"({spec.capacity_bytes} B); shrink kv/batch or add flash (memory level {spec.name!r})")
    if eng.keep < 1:   # SparF: K columns at the keep ratio, then the groups the page-level filter keeps
        k_read = k_b * eng.keep + k_b * eng.page_skip
        v_read = v_b * eng.page_skip
        tokens = m * eng.keep
        gemv = 2 * b * h * (m * e * eng.keep + tokens * e) + 2 * b * h * tokens * f
    else:
        k_read, v_read, tokens = k_b, v_b, m
        gemv = 2 * b * h * m * (e + f)
    written = b * kv_heads * (e + f) * elem                      # this step's new k and v rows
    prog_pages = written / spec.page_size                        # flushed as whole pages (amortised)
    share_k = k_read / (k_read + v_read)
    sparse = eng.keep < 1
    fk, ck, dk, sk, wk = _stream(spec, k_read, eng.group, prog_pages * share_k, k_b * eng.page_skip if sparse else 0)
    fv, cv, dv, sv, wv = _stream(spec, v_read, eng.group, prog_pages * (1 - share_k), v_read if sparse else 0)
    gemv_k = gemv * share_k / eng.flops * 1e12
    gemv_v = gemv * (1 - share_k) / eng.flops * 1e12
    if fidelity == "cycle":
        pk, ck = phase_cycle(spec, eng.group, replace(wk, engine_ps=gemv_k), steady_state, window)
        pv, cv = phase_cycle(spec, eng.group, replace(wv, engine_ps=gemv_v), steady_state, window)
    else:   # the engine scores a group once it arrives: it starts after the first and ends after the last
        pk, pv = (max(fl + gm / max(1, w.groups), _first(spec, eng.group) + gm) if w.groups else 0
                  for fl, gm, w in ((fk, gemv_k, wk), (fv, gemv_v, wv)))
    soft_ps = b * h * tokens * SOFTMAX_FLOPS / eng.softmax_flops * 1e12
    q_out = b * h * (e + f) * elem
    p2p_ps = q_out / eng.p2p * 1e12 + 2 * eng.p2p_latency
    t = int(pk + soft_ps + pv + p2p_ps)
    groups = math.ceil(k_read / eng.group) + math.ceil(v_read / eng.group)
    return CsdAttention(t, groups * eng.group, int(written), int(q_out), int(gemv + b * h * tokens * SOFTMAX_FLOPS),
                        fk + fv, sk + sv, int(gemv_k + gemv_v + soft_ps), min(1.0, (ck + cv) / t),
                        min(1.0, (dk * fk + dv * fv) / t))


def kv_append_ps(spec, eng, nbytes: int) -> tuple[int, bool]:
    """(ps, buffered) of k/v rows arriving over P2P: into the DRAM group buffers when they fit (the
    flush is charged to the next attention), else programmed at the array's rate (prefill's stream)."""
    p2p = nbytes / eng.p2p * 1e12 + eng.p2p_latency
    if nbytes <= eng.dram_buffer:
        return int(p2p), True
    pages = math.ceil(nbytes / spec.page_size)
    units = spec.channels * spec.dies_per_channel * (spec.planes_per_die if spec.multi_plane else 1)
    prog = math.ceil(pages / units) * spec.t_prog
    chan = math.ceil(pages / spec.channels) * spec.page_size * spec.channel_ps_per_byte
    return int(max(p2p, prog, chan)), False


def _check_home(cfg, ctx) -> None:
    home = ctx.home("kv_cache")
    if home != cfg.near:
        raise ConfigError(f"flash_compute attention engine: the KV cache lives on {home!r}, not on the unit's "
                          f"level {cfg.near!r}; set memory.placement.kv_cache: {cfg.near}")


def csd_attention(op, spec, cfg, ctx) -> OpResult:
    """The unit's run_op for a fused decode attention op whose KV cache lives on its flash level."""
    _check_home(cfg, ctx)
    s = op.shape
    if s["P"] != 1:
        raise WorkloadError(f"op {op.name!r}: the drive's attention engine runs decode (P = 1); P = {s['P']} "
                            f"(prefill attention stays on the GPU/NPU)")
    kv = next(o for o in op.operands if o.role == "kv_cache")
    n = cfg.attention.drives                   # heads partitioned over the drives, which run in parallel
    kvh = -(-s["kv_heads"] // n)
    c = csd_attention_cost(spec, cfg.attention, s["B"], kvh * (s["H"] // s["kv_heads"]), kvh, s["M"], s["E"],
                           s["F"], kv.bits / 8, op.count, ctx.fidelity, cfg.steady_state, cfg.window_tiles)
    c = replace(c, flash_read_bytes=c.flash_read_bytes * n, flash_write_bytes=c.flash_write_bytes * n,
                p2p_bytes=c.p2p_bytes * n, flops=c.flops * n, senses=c.senses * n)
    detail = {"flash_read_bytes": c.flash_read_bytes, "kv_flush_bytes": c.flash_write_bytes,
              "bytes_per_channel": (c.flash_read_bytes + c.flash_write_bytes) // (spec.channels * n),
              "channels": spec.channels * n,
              "p2p_bytes": c.p2p_bytes, "engine_ps": c.engine_ps, "flash_ps": c.flash_ps,
              "channel_util": round(c.channel_util, 4), "die_util": round(c.die_util, 4)}
    energy = {"flash_array": spec.sense_pj(c.senses) + c.flash_write_bytes * 8 * spec.program_energy,
              "flash_channel": spec.channel_pj(c.flash_read_bytes + c.flash_write_bytes),
              "flash_engine": c.flops * cfg.attention.flop_energy}
    return OpResult(time_ps=c.time_ps, busy_ps=c.time_ps, macs=op.macs,
                    traffic={cfg.near: (c.p2p_bytes, 0)}, energy_pj=energy,
                    mapping="in-drive attention" + (f", SparF keep {k:g}" if (k := cfg.attention.keep) < 1 else ""),
                    detail=detail)


def csd_kv_append(op, spec, cfg, ctx) -> OpResult:
    """The unit's run_op for a `kv_write` into its drive: P2P into the DRAM group buffers."""
    _check_home(cfg, ctx)
    n = op.write_bytes
    t, buffered = kv_append_ps(spec, cfg.attention, -(-n // cfg.attention.drives))
    per_ch = n // (spec.channels * cfg.attention.drives)
    detail = {"p2p_bytes": n, "buffered": buffered, "bytes_per_channel": 0 if buffered else per_ch,
              "channels": spec.channels * cfg.attention.drives}
    energy = {} if buffered else {"flash_array": n * 8 * spec.program_energy,
                                  "flash_channel": spec.channel_pj(n)}
    return OpResult(time_ps=t, busy_ps=t, macs=0, traffic={cfg.near: (0, n)}, energy_pj=energy,
                    mapping="P2P into drive DRAM" if buffered else "P2P + page programs", detail=detail)
