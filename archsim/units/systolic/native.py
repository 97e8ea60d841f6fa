"""The compiled twin of the pipelined array's register model (csrc/pipelined.c), loaded with ctypes.

Why: `pipelined.simulate` steps an R x C array with a dozen numpy calls per clock edge, ~0.5 ms a
state on a 128 x 128 array, which made the register model 85% of a LLaMA-2-7B decode step in `cycle`.
The C loop steps the same registers per PE. `simulate` uses it when it is available
(`ARCHSIM_NATIVE=1` and a C compiler, built by archsim/native_build.py); `simulate_python` is the
reference, and tests/units/test_pipelined_native.py holds the two bit-identical, traces included.
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

from archsim import native_build
from archsim.errors import ArchsimError

SOURCE_DIR = Path(__file__).with_name("csrc")
PARAMS = ("R", "C", "P", "T", "fc_n", "folds", "bits", "M", "N", "cap", "kpe")   # csrc's P_* order
_I64P = ctypes.POINTER(ctypes.c_int64)
_U8P = ctypes.POINTER(ctypes.c_uint8)


def library() -> ctypes.CDLL | None:
    """The compiled model, or None when the twins are off or no C compiler exists."""
    lib = native_build.load("compiled systolic model", SOURCE_DIR, ("pipelined.c",), "systolic",
                            "the Python register model")
    if lib is None:
        return None
    for f in (lib.archsim_systolic_ws, lib.archsim_systolic_os):
        f.restype = ctypes.c_int64
        f.argtypes = [_I64P] * 5 + [_I64P, _U8P, _U8P, _I64P, _U8P]
    return lib


def _ptr(a: np.ndarray | None, kind=_I64P):
    return None if a is None else a.ctypes.data_as(kind)


def run(lib: ctypes.CDLL, core: str, L: np.ndarray, Rm: np.ndarray, M: int, N: int, R: int, C: int,
        timing, acc_bits: int, record: bool, kpe: int = 1):
    """Step the array in C: (out before the final wrap, total states, fold ends, trace or None).
    `L`, `Rm`: the padded operands the Python core reads (os: Ap, Bp; ws: Xp, Wp), kpe terms innermost."""
    cap = 2 * timing.total_cycles + 2 * (R + C) + 16        # a run that never ends is an error
    prm = np.array([R, C, timing.fold_period, timing.streamed, timing.col_folds, timing.folds,
                    acc_bits, M, N, cap, kpe], dtype=np.int64)
    L, Rm = np.ascontiguousarray(L, dtype=np.int64), np.ascontiguousarray(Rm, dtype=np.int64)
    out = np.zeros((M, N), dtype=np.int64)
    ends = np.zeros(max(timing.folds, 1), dtype=np.int64)
    states = cap + 1 if record else 0
    tr = None
    if record:
        tr = {"acc": np.zeros((states, R, C), dtype=np.int64), "valid": np.zeros((states, R, C), dtype=np.uint8),
              "out_valid": np.zeros((states, C), dtype=np.uint8), "out_data": np.zeros((states, C), dtype=np.int64),
              "done": np.zeros(states, dtype=np.uint8)}
    fn = lib.archsim_systolic_os if core == "os" else lib.archsim_systolic_ws
    g = tr or {}
    s = fn(_ptr(prm), _ptr(L), _ptr(Rm), _ptr(out), _ptr(ends), _ptr(g.get("acc")), _ptr(g.get("valid"), _U8P),
           _ptr(g.get("out_valid"), _U8P), _ptr(g.get("out_data")), _ptr(g.get("done"), _U8P))
    if s < 0:
        raise ArchsimError(f"compiled systolic model: {M}x{N} on {R}x{C} {core} did not finish within {cap} "
                           "states (or ran out of memory)")
    trace = None
    if tr is not None:
        trace = {k: (v[: s + 1].astype(bool) if v.dtype == np.uint8 else v[: s + 1]) for k, v in tr.items()}
    return out, int(s), tuple(int(e) for e in ends[: timing.folds]), trace
