"""What rtl/flash_plane_gemv.v must produce, from the `cycle` model: one plane, one core, one channel.

The channel runs at one byte a cycle and the core at `lanes` MACs a cycle, so `gemv_cycle.simulate`
on a one-channel, one-die, one-plane device with a page of N x K INT8 weights times the read-compute
command (command bytes, the input vectors, tR, the core's MACs, INT32 partial sums back) and the
sliced page read (command bytes, tR, the page) in whole cycles is what the RTL's `cycles` must equal.
Values: y[m][n] = sum_k W[n][k] x[m][k] in INT32, bytes out m-major, least significant first.
"""
from __future__ import annotations

import math

import numpy as np

from archsim.units.flash_compute.config import FlashComputeConfig
from archsim.units.flash_compute.gemv_cycle import simulate
from archsim.units.flash_compute.tiling import make_plan
from memory.flash.level import FlashSpec
from memory.flash.timing import READ_CMD_BYTES

CLOCK_HZ = 1e9
RESULT_BYTES = 4


def plane_setup(N: int, K: int, lanes: int, t_r: int, slice_bytes: int):
    """(spec, cfg, plan) of one plane whose page holds the N x K weights, clocked at 1 GHz, 1 B/cycle."""
    spec = FlashSpec(name="plane_rtl", source="rtl/flash_plane_gemv.v", channels=1, dies_per_channel=1,
                     planes_per_die=1, page_size=N * K, page_buffers=2, t_read=t_r * 1000, t_prog=0, t_erase=0,
                     channel_bandwidth=CLOCK_HZ, multi_plane=False, read_slice=None, command_overhead=True,
                     t_wb=0, t_rr=0)
    cfg = FlashComputeConfig(near="flash", tile=f"{N}x{K}", core_macs_per_cycle=lanes, core_buffer="1 MiB",
                             result_bytes=RESULT_BYTES, arbitration={"policy": "priority", "slice": f"{slice_bytes} B"},
                             steady_state=False)
    return spec, cfg, make_plan(spec, cfg, CLOCK_HZ)


def model_cycles(M: int, N: int, K: int, lanes: int, t_r: int, slice_bytes: int, command: str) -> int:
    """Cycles from the command to its last byte on the channel, from the `cycle` model (whole cycles)."""
    spec, cfg, plan = plane_setup(N, K, lanes, t_r, slice_bytes)
    tiles, pages = (1, 0) if command == "read_compute" else (0, 1)
    end_ps, _ = simulate(plan, spec, cfg, tiles, pages, M if command == "read_compute" else 1, CLOCK_HZ)
    return math.ceil(end_ps / 1000)


def expected(W: np.ndarray, X: np.ndarray, lanes: int, t_r: int, slice_bytes: int) -> dict:
    """Bytes out, the cycle each leaves and the totals of both commands for weights W[N][K], inputs X[M][K]."""
    M, K = X.shape
    N = W.shape[0]
    y = (X.astype(np.int64) @ W.astype(np.int64).T).astype(np.int32)          # [M][N]
    rc_bytes = y.reshape(-1).astype("<i4").view(np.uint8)
    rc_end = model_cycles(M, N, K, lanes, t_r, slice_bytes, "read_compute")
    rd_end = model_cycles(M, N, K, lanes, t_r, slice_bytes, "sliced_read")
    page = W.reshape(-1).astype(np.int8).view(np.uint8)
    n = len(page)
    return {"y": y, "rc_bytes": rc_bytes, "rc_end": rc_end,
            "rc_leave": rc_end - len(rc_bytes) + 1 + np.arange(len(rc_bytes)),
            "rd_bytes": page, "rd_end": rd_end, "rd_leave": rd_end - n + 1 + np.arange(n),
            "slice_last": [(j + 1) % slice_bytes == 0 or j == n - 1 for j in range(n)],
            "phases": phases(M, N, K, lanes, t_r), "cmd": READ_CMD_BYTES}


def phases(M: int, N: int, K: int, lanes: int, t_r: int) -> list[tuple[int, int]]:
    """(phase code, cycles) of a read-compute in the RTL's order: command, vectors, tR, MACs, results."""
    return [(1, READ_CMD_BYTES), (2, M * K), (3, t_r), (4, -(-M * N * K // lanes)), (5, RESULT_BYTES * M * N)]
