"""Register-level model of the array SCALE-Sim v3 times: operands really move through it.

Every cycle the skewed operand wavefronts shift one PE right (and down), each PE does one MAC,
and a tag travelling with the data tells the sequencer when a fold has finished. The sequencer
is SCALE-Sim's: folds strictly in series (Q2), every row and column of the physical array is
clocked whether it holds data or bubbles (Q3), and the OS output drain is not a phase of its own.
The cycle count is measured, not computed, and the `fast` closed form must agree with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.units.systolic.folds import DATAFLOWS


@dataclass
class ArrayRun:
    """Result of a register-level run: the product, and the cycles each fold took."""

    out: np.ndarray
    fold_cycles: list[int]

    @property
    def elapsed_cycles(self) -> int:
        return int(sum(self.fold_cycles))

    @property
    def compute_cycles(self) -> int:
        """SCALE-Sim's "Total Cycles": the index of the last busy cycle (Q1)."""
        return self.elapsed_cycles - 1


def wrap_signed(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap to `bits`, what an acc_bits-wide accumulator register holds."""
    if bits >= 64 or x.dtype.kind != "i":
        return x
    m = np.int64(1) << np.int64(bits)
    y = x & (m - 1)
    return np.where(y >= (m >> 1), y - m, y)


def _skew_rows(x: np.ndarray, width: int) -> np.ndarray:
    """Row i of x delayed by i cycles: out[i, t + i] = x[i, t]."""
    rows, steps = x.shape
    out = np.zeros((rows, width), dtype=x.dtype)
    r = np.arange(rows)[:, None]
    out[r, np.arange(steps)[None, :] + r] = x
    return out


def _os_fold(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """Output stationary: A (R x T) enters from the left, B (T x C) from the top, skewed."""
    R, T = a.shape
    C = b.shape[1]
    width = T + R + C
    a_in = _skew_rows(a, width)                       # row i at cycle t + i
    b_in = _skew_rows(b.T, width)                     # column j at cycle t + j
    last_in = _skew_rows(np.arange(T)[None, :].repeat(R, 0) == T - 1, width)
    a_reg = np.zeros((R, C), a.dtype)
    b_reg = np.zeros((R, C), b.dtype)
    last = np.zeros((R, C), bool)
    acc = np.zeros((R, C), np.result_type(a, b))
    t = 0
    while True:
        a_reg[:, 1:] = a_reg[:, :-1]
        a_reg[:, 0] = a_in[:, t]
        b_reg[1:, :] = b_reg[:-1, :]
        b_reg[0, :] = b_in[:, t]
        last[:, 1:] = last[:, :-1]
        last[:, 0] = last_in[:, t]
        acc += a_reg * b_reg
        t += 1
        if last[R - 1, C - 1]:                        # final MAC reached the far corner
            return acc, t


def _ws_fold(w: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, int]:
    """Stationary tile w (R x C) shifted in a row per cycle; x (T x R) streams, psums flow down."""
    R, C = w.shape
    T = x.shape[0]
    w_reg = np.zeros((R, C), w.dtype)
    for t in range(R):                                # load phase: R cycles
        w_reg[1:, :] = w_reg[:-1, :]
        w_reg[0, :] = w[R - 1 - t, :]
    width = T + R + C
    x_in = _skew_rows(np.ascontiguousarray(x.T), width)   # row k gets x[m, k] at cycle m + k
    tag_in = _skew_rows(np.arange(1, T + 1)[None, :].repeat(R, 0), width) - 1   # m, or -1 = bubble
    dt = np.result_type(w, x)
    a_reg = np.zeros((R, C), x.dtype)
    a_tag = np.full((R, C), -1, np.int64)
    p_reg = np.zeros((R, C), dt)
    p_tag = np.full((R, C), -1, np.int64)
    out = np.zeros((T, C), dt)
    cols = np.arange(C)
    s = 0
    while True:
        a_reg[:, 1:] = a_reg[:, :-1]
        a_reg[:, 0] = x_in[:, s]
        a_tag[:, 1:] = a_tag[:, :-1]
        a_tag[:, 0] = tag_in[:, s]
        p_reg[1:, :] = p_reg[:-1, :]                  # psums move down one row ...
        p_reg[0, :] = 0
        p_reg += a_reg * w_reg                        # ... and each PE adds its product
        p_tag[1:, :] = p_tag[:-1, :]
        p_tag[0, :] = a_tag[0, :]
        s += 1
        done = p_tag[R - 1]                           # bottom row emits finished sums
        ok = done >= 0
        out[done[ok], cols[ok]] = p_reg[R - 1, ok]
        if done[C - 1] == T - 1:
            return out, R + s


def _pad(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros((rows, cols), x.dtype)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def simulate_scalesim(A: np.ndarray, B: np.ndarray, R: int, C: int, dataflow: str,
                      acc_bits: int = 32) -> ArrayRun:
    """Run A (M x K) @ B (K x N) fold by fold on an R x C array with SCALE-Sim's sequencing."""
    if dataflow not in DATAFLOWS:
        raise ValueError(f"dataflow must be one of {DATAFLOWS}, got {dataflow!r}")
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"need A (M x K) and B (K x N), got {A.shape} and {B.shape}")
    if A.dtype.kind in "iub" and B.dtype.kind in "iub":
        A, B = A.astype(np.int64), B.astype(np.int64)
    else:
        A, B = A.astype(np.float64), B.astype(np.float64)
    M, K = A.shape
    N = B.shape[1]
    out = np.zeros((M, N), A.dtype)
    folds: list[int] = []
    if dataflow == "os":
        for m0 in range(0, M, R):
            for n0 in range(0, N, C):
                a, b = A[m0:m0 + R], B[:, n0:n0 + C]
                acc, cyc = _os_fold(_pad(a, R, K), _pad(b, K, C))
                out[m0:m0 + R, n0:n0 + C] = acc[: a.shape[0], : b.shape[1]]
                folds.append(cyc)
    elif dataflow == "ws":                            # B stationary (K on rows), A streams
        for k0 in range(0, K, R):
            for n0 in range(0, N, C):
                w = B[k0:k0 + R, n0:n0 + C]
                part, cyc = _ws_fold(_pad(w, R, C), _pad(A[:, k0:k0 + R], M, R))
                out[:, n0:n0 + C] += part[:, : w.shape[1]]   # partial sums per K-fold
                folds.append(cyc)
    else:                                             # is: A stationary (K on rows, M on cols)
        At, Bt = A.T, B.T
        for k0 in range(0, K, R):
            for m0 in range(0, M, C):
                w = At[k0:k0 + R, m0:m0 + C]
                part, cyc = _ws_fold(_pad(w, R, C), _pad(Bt[:, k0:k0 + R], N, R))
                out[m0:m0 + C, :] += part[:, : w.shape[1]].T
                folds.append(cyc)
    return ArrayRun(out=wrap_signed(out, acc_bits), fold_cycles=folds)
