"""`fast`: the PIM throughput model (closed form over the layout's counts and the spec's timings).

T = T_compute + T_io + T_mode + T_refresh, per channel (every channel works in lock-step):
  T_compute = column commands x tCCDAB + row switches x (tRCDMAC + tRTP [+ tRP when nothing hides it])
  T_io      = input loads (register-row switch + writes, or buffer writes) + accumulator init/readout
  T_mode    = mode changes (TMOD per register/bank alternation, or HBM-PIM's reserved-row sequences)
  T_refresh = n x (tRFC + tRP), n = refreshes falling due every tREFI within T (all-bank refresh stops the units)
No controller runs here; property tests hold it within 15% of `cycle` on regular shapes.
"""
from __future__ import annotations

from math import ceil

from archsim.errors import WorkloadError
from archsim.units.pim.layout import Geometry, GemvLayout
from archsim.units.pim.streams import ELTWISE_OPERANDS, eltwise_tiles


def _t(spec) -> dict[str, int]:
    return spec.timing


def _refresh(spec, cycles: float, refresh: str) -> float:
    """Cycles refresh adds to `cycles` of work started when the controller starts: all-bank refresh
    falls due every tREFI from then (the controller's schedule), each stopping the units for tRFC
    (plus a precharge); per-bank refresh at its average rate."""
    t = _t(spec)
    if refresh == "none":
        return 0.0
    if refresh == "per_bank":
        if t["tRFCsb"] >= t["tREFIsb"]:     # some bank is always refreshing: all-bank kernels never issue
            raise WorkloadError(f"refresh: per_bank on {spec.name} starts a REFsb every tREFIsb = {t['tREFIsb']} "
                                f"cycles, each busy for tRFCsb = {t['tRFCsb']}: the all-bank PIM commands would "
                                f"never find every bank free (the cycle model refuses it too); use refresh: all_bank")
        return cycles * t["tRFCsb"] / (t["tREFIsb"] - t["tRFCsb"])
    cost, n = t["tRFC"] + t["tRP"], 0
    while int((cycles + n * cost) // t["tREFI"]) > n:
        n += 1
    return n * cost


def _wr_row(spec, writes: int) -> int:
    """Open a row for all-bank writes, write, close: ACT->WR, the writes, WR->PRE, PRE->ACT."""
    t = _t(spec)
    return t["tRCDWR"] + max(0, writes - 1) * t["tCCD_L"] + t["CWL"] + t["tBL"] + t["tWR"] + t["tRP"]


def _mode_rows(spec, g: Geometry) -> int:
    """HBM-PIM's reserved-row sequences around a kernel: park every bank (ACT, RD, PRE), SB->AB
    (4 banks' ACT/WR/PRE), AB->SB (2 banks')."""
    t = _t(spec)
    acts = max(g.banks * t["tRRD_S"], (g.banks // 4) * t["tFAW"])
    park = acts + t["tRCD"] + g.banks * t["tCCD_S"] + t["tRTP"] + t["tRP"]
    return park + 2 * _wr_row(spec, 4)


def gemv_fast(cfg, lay: GemvLayout, spec, refresh: str = "all_bank", host_readout: bool = True) -> dict[str, float]:
    """Cycles per phase of one channel (DRAM cycles) and their total."""
    t, g = _t(spec), lay.g
    macs = runs = 0
    for tile in range(lay.tiles):
        for j in range(lay.chunks):
            macs += lay.cols(j) * g.cmds_per_col
            runs += len(lay.row_runs(tile, j))
    pairs = lay.tiles * lay.chunks
    in_cols = lay.tiles * sum(ceil(lay.chunk_elems(j) * g.elem_bytes / g.col_bytes) for j in range(lay.chunks))
    acc_cols = ceil(g.units * lay.accumulators * cfg.acc_bytes * (g.lanes if cfg.reduction == "host" else 1)
                    / g.col_bytes)
    out: dict[str, float] = {"mac": macs * t["tCCDAB"], "row": runs * (t["tRCDMAC"] + t["tRTP"])}
    if cfg.registers == "reserved_row":
        out["row"] += runs * t["tRP"]
        out["input"] = in_cols * t["tCCD_L"] + pairs * (_wr_row(spec, 1) - t["tCCD_L"])   # + a register-row switch
        out["readout"] = lay.tiles * _wr_row(spec, lay.accumulators)
        out["mode"] = _mode_rows(spec, g) + (lay.tiles * 2 + 1) * t["tCCD_L"] + lay.tiles * _wr_row(spec, 1)
        if host_readout and cfg.reduction == "host":
            n = lay.tiles * acc_cols
            out["readout"] += n * t["tCCD_S"] + min(n, g.banks) * (t["tRCD"] + t["tRP"]) // 4 + t["CL"]
    else:
        load = [ceil(lay.chunk_elems(j) * g.elem_bytes / g.col_bytes) * t["tBL"] for j in range(lay.chunks)]
        out["input"] = lay.tiles * sum(load)
        out["row"] += lay.tiles * sum(max(0, t["tRP"] - x) for x in load)   # tRP hides behind the next load
        out["readout"] = lay.tiles * 2 * acc_cols * t["tBL"]
        out["mode"] = (2 * pairs + 1) * t.get("tMOD", 0) if cfg.mode_switch == "register_mode" else 0
    busy = sum(out.values())
    out["refresh"] = _refresh(spec, busy, refresh)
    out["total"] = busy + out["refresh"]
    return out


def eltwise_fast(cfg, g: Geometry, spec, op: str, n: int, refresh: str = "all_bank") -> dict[str, float]:
    t = _t(spec)
    grf = cfg.input_buffer_bytes // g.col_bytes
    steps = eltwise_tiles(cfg, g, n) * g.banks_per_unit
    read_row = t["tRCDMAC"] + (grf * g.cmds_per_col - 1) * t["tCCDAB"] + t["tRTP"] + t["tRP"]
    out: dict[str, float] = {"mac": steps * ELTWISE_OPERANDS[op] * read_row, "row": 0.0, "input": 0.0,
           "readout": steps * _wr_row(spec, grf),
           "mode": _mode_rows(spec, g) + 3 * _wr_row(spec, 1)}
    busy = sum(out.values())
    out["refresh"] = _refresh(spec, busy, refresh)
    out["total"] = busy + out["refresh"]
    return out
