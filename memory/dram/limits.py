"""What bounds a DRAM run's bandwidth, measured by lifting one limit at a time.

A stream's bandwidth is set by whichever of several limits bites: the trace front end (admission
in trace order, a few a cycle), refresh, the spacing of bursts to one bank group (tCCD_L > tCCD_S),
row opens (ACT/PRE timing of misses and conflicts), the data bus itself, channel imbalance (the
addresses load one channel more than the others), or the stream (requests arrive too slowly or
too few are in flight). Rather than guess from counters, `limits` replays the
same requests with each limit lifted (a per-channel front end; no refresh; tCCD_L = tCCD_S; row
timings of one cycle) and reports how much faster each gets: the limit whose removal gains most
(at least 5 %) bounds the run; failing that, the bus when the run is within 10 % of peak (of the
busiest channel's share of it, when the channels are unevenly loaded), else the stream.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

FRONT_ENDS = {
    "per_channel": "a FIFO per channel, every channel fed (the runner's DMA)",
    "in_order": "in trace order, head-of-line blocking (DRAMSim3/Ramulator trace driver)",
}
BUS_SHARE = 0.9       # at or above this share of peak, the data bus is the bound
MATTERS = 0.05        # a lifted limit that gains less than this is not what bounds the run


def front_end_text(cfg: Any) -> str:
    fe = cfg.frontend
    text = f"{fe}: {FRONT_ENDS[fe]}"
    if fe == "in_order":
        text += f", {cfg.frontend_per_cycle or 'unlimited'} a cycle"
    return text


def _lifts(cfg: Any, timing: dict[str, int]) -> list[tuple[str, dict]]:
    """(limit, config update that lifts it) for the limits that apply to this configuration."""
    out = []
    if cfg.frontend == "in_order":
        out.append(("front end", {"frontend": "per_channel"}))
    if cfg.refresh != "none":
        out.append(("refresh", {"refresh": "none"}))
    t = {**timing, **cfg.timing}
    if t["tCCD_L"] > t["tCCD_S"] or t["tRRD_L"] > t["tRRD_S"] or t["tWTR_L"] > t["tWTR_S"]:
        out.append(("bank-group spacing (tCCD_L)",
                    {"timing": {**cfg.timing, "tCCD_L": t["tCCD_S"], "tRRD_L": t["tRRD_S"], "tWTR_L": t["tWTR_S"]}}))
    fast_rows = {"tRCD": 1, "tRCDWR": 1, "tRP": 1, "tRAS": 1, "tRC": 2, "tRRD_S": 1, "tRRD_L": 1, "tFAW": 1}
    out.append(("row opens (ACT/PRE)", {"timing": {**cfg.timing, **fast_rows}}))
    return out


def limits(cfg: Any, timing: dict[str, int], stats: dict, replay: Callable[[Any], dict],
           channel_bursts: Sequence[int] = ()) -> dict:
    """The bound of a run whose `stats` came from `replay(cfg)`: `{"bound", "share_of_peak",
    "gain_if_lifted": {limit: fraction faster}, "channel_balance"}`. `timing` is the standard's
    own table; `channel_bursts` the bursts each channel received (mean / max = the share of peak
    the busiest channel leaves the rest)."""
    bw, peak = stats["bandwidth_gbps"], stats["peak_bandwidth_gbps"]
    gains = {}
    for name, update in _lifts(cfg, timing):
        lifted = replay(cfg.model_copy(update=update))["bandwidth_gbps"]
        gains[name] = lifted / bw - 1 if bw else 0.0
    share = bw / peak if peak else 0.0
    balance = (float(np.mean(channel_bursts) / np.max(channel_bursts))
               if len(channel_bursts) and max(channel_bursts) else 1.0)
    top = max(gains, key=gains.get) if gains else None
    if top is not None and gains[top] >= MATTERS:
        bound = top
    elif share >= BUS_SHARE * balance:
        bound = "data bus" if balance >= BUS_SHARE else (
            f"channel imbalance: the busiest channel has {1 / balance - 1:.0%} more bursts than the mean")
    else:
        bound = "the request stream (arrivals or requests in flight leave the bus idle)"
    return {"bound": bound, "share_of_peak": share, "gain_if_lifted": gains, "channel_balance": balance}
