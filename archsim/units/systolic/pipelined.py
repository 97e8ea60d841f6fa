"""Pipelined systolic array: closed-form timing and a register-level model that mirrors `rtl/`.

Unlike SCALE-Sim (folds strictly serial), the next fold starts streaming one fold period
P = max(T, R) after the previous one, so fills and drains overlap. The equations and the
microarchitecture are written down in docs/systolic_pipelined.md; `simulate` steps the same
registers as rtl/systolic.v (WS=0 and WS=1), clock edge by clock edge.

Cycle convention (identical in RTL): state s is the register contents after the s-th rising edge
following the edge that samples `start` (s = 0 right after that edge). `fold_end(f)` is the state
in which fold f's last result is on the output port of the last column; `done` is first high in
state fold_end(F-1) + 1, and that state index is `total_cycles` (the RTL `cycles` counter value).

`kpe` MACs per PE (docs/systolic_pipelined.md): every lane carries kpe consecutive reduction terms
and a PE adds their kpe-term dot product, so the reduction enters as ceil(K / kpe) while the skew,
the drain and the weight-load rows stay R and C. kpe = 1 is the one-MAC array, bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from archsim.units.systolic import native
from archsim.units.systolic.folds import cdiv as _cdiv, spatial_map

import numpy as np

FOLD_TUPLE_MAX = 4096



def _check_dims(**dims: int) -> None:
    for k, v in dims.items():
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{k} must be a positive integer, got {v!r}")



@dataclass(frozen=True)
class PipelinedTiming:
    """Closed-form timing of one GEMM on the pipelined array (all in array clock cycles)."""

    total_cycles: int
    folds: int
    fold_period: int                       # P: cycles between the stream starts of two folds
    fold_latency: int                      # fold_end(f) - f * P
    row_folds: int
    col_folds: int
    streamed: int                          # T

    @property
    def fold_end_cycles(self) -> tuple[int, ...]:
        """Every fold's end state when folds <= FOLD_TUPLE_MAX, else () (built on demand: the
        mapper asks for the timing of tens of thousands of shapes and never reads it)."""
        if self.folds > FOLD_TUPLE_MAX:
            return ()
        return tuple(range(self.fold_latency, self.fold_latency + self.folds * self.fold_period, self.fold_period))

    def fold_end(self, f: int) -> int:
        """State index in which fold f's last result leaves the last column."""
        if not 0 <= f < self.folds:
            raise IndexError(f"fold {f} out of range 0..{self.folds - 1}")
        return f * self.fold_period + self.fold_latency


def pipelined_cycles(M: int, N: int, K: int, R: int, C: int, dataflow: str, kpe: int = 1) -> PipelinedTiming:
    """O(1) timing: fold f streams from f*P; latency T + 2R + C - 2 (os) or T + R + C - 1 (ws/is),
    with K counted in kpe-term groups (os: T = ceil(K / kpe); ws/is: S_r = ceil(K / kpe))."""
    _check_dims(M=M, N=N, K=K, R=R, C=C, kpe=kpe)
    s_r, s_c, t = spatial_map(M, N, K, dataflow, kpe)
    row_folds, col_folds = _cdiv(s_r, R), _cdiv(s_c, C)
    folds = row_folds * col_folds
    period = max(t, R)  # os: R-cycle column drain; ws/is: one stationary row loaded per cycle
    latency = t + 2 * R + C - 2 if dataflow == "os" else t + R + C - 1
    total = (folds - 1) * period + latency + 1
    return PipelinedTiming(total, folds, period, latency, row_folds, col_folds, t)


def wrap(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap of int64 values to `bits` bits (what an AW-bit register holds)."""
    if bits >= 64:
        return x.astype(np.int64)
    half = np.int64(1) << np.int64(bits - 1)
    return ((x.astype(np.int64) + half) & ((half << np.int64(1)) - 1)) - half


@dataclass
class PipelinedRun:
    """Result of `simulate`: outputs, the observed cycle counts, and optionally a per-state trace."""

    out: np.ndarray
    total_cycles: int
    fold_end_cycles: tuple[int, ...]
    trace: dict[str, np.ndarray] | None = field(default=None, repr=False)


class _Controller:
    """The fold sequencer both RTL cores share: state c issues step t = c mod P of fold c // P."""

    def __init__(self, timing: PipelinedTiming):
        self.P, self.T, self.fc_n = timing.fold_period, timing.streamed, timing.col_folds
        self.n = timing.folds * timing.fold_period

    def at(self, c: np.ndarray) -> tuple[np.ndarray, ...]:
        """(ok, t, fr, fc) for controller states c (any shape); ok is False outside the run."""
        ok = (c >= 0) & (c < self.n)
        cc = np.where(ok, c, 0)
        f, t = cc // self.P, cc % self.P
        return ok, t, f // self.fc_n, f % self.fc_n


def _lanes(X: np.ndarray, rows: int, steps: int, kpe: int) -> np.ndarray:
    """X zero-padded to rows x steps*kpe, its columns grouped kpe at a time: [row, step, term]."""
    out = np.zeros((rows, steps * kpe), dtype=np.int64)
    out[: X.shape[0], : X.shape[1]] = X
    return out.reshape(rows, steps, kpe)


def _state(R: int, C: int, names: tuple[str, ...], kpe: int, vectors: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {k: np.zeros((R, C, kpe) if k in vectors else (R, C), dtype=np.int64) for k in names}


def _shift_down(x: np.ndarray) -> np.ndarray:
    """What each PE receives from the PE above (row 0 receives 0)."""
    return np.vstack([np.zeros((1, x.shape[1]), dtype=x.dtype), x[:-1]])


class _OS:
    """Output-stationary registers: acc, hold (captured result), o/ov/ol (column drain chain)."""

    names, vectors = ("acc", "hold", "o", "ov", "ol"), ()

    def __init__(self, A, B, R, C, timing, ctl, kpe):
        fr_n, fc_n, P = timing.row_folds, timing.col_folds, timing.fold_period
        self.Ap = _lanes(A, fr_n * R, P, kpe)                          # [m, t, k] = A[m, t*kpe + k]
        self.Bp = _lanes(B.T, fc_n * C, P, kpe).transpose(1, 0, 2)     # [t, n, k] = B[t*kpe + k, n]
        self.R, self.C, self.T, self.ctl = R, C, timing.streamed, ctl
        self.I, self.J = np.indices((R, C))

    def inputs(self, s: int) -> dict[str, np.ndarray]:
        """PE input registers in state s: the lane value issued at c = s - 1 - i - j (skew + 1)."""
        I, J = self.I, self.J
        ok, t, fr, fc = self.ctl.at(s - 1 - I - J)
        return {"a": np.where(ok[..., None], self.Ap[fr * self.R + I, t], 0),
                "b": np.where(ok[..., None], self.Bp[t, fc * self.C + J], 0),
                "v": ok & (t < self.T), "l": ok & (t == self.T - 1)}

    def step(self, st, x, bits):
        accp = wrap(st["acc"] + (x["a"] * x["b"]).sum(-1), bits)
        cap = x["v"] & x["l"]
        load = cap[self.R - 1][None, :]           # bottom PE captures -> whole column loads chain
        top = (self.I == 0)
        o_load = np.where(self.I == self.R - 1, accp, st["hold"])
        return {"acc": np.where(x["v"], np.where(x["l"], 0, accp), st["acc"]),
                "hold": np.where(cap, accp, st["hold"]),
                "o": np.where(load, o_load, _shift_down(st["o"])),
                "ov": np.where(load, 1, _shift_down(st["ov"])),
                "ol": np.where(load, top, _shift_down(st["ol"]))}

    def port(self, st):
        return st["ov"][-1].astype(bool), st["o"][-1], st["ol"][-1].astype(bool)

    def place(self, out, k, j, val, timing):
        """k-th results out of columns j: fold k // R, rows leave bottom first."""
        fr, fc = np.divmod(k // self.R, timing.col_folds)
        m, n = fr * self.R + self.R - 1 - k % self.R, fc * self.C + j
        keep = (m < out.shape[0]) & (n < out.shape[1])
        out[m[keep], n[keep]] = val[keep]


class _WS:
    """Weight-stationary registers: w (active), ws (shadow), acc (= psum register), pv, pl."""

    names, vectors = ("w", "ws", "acc", "pv", "pl"), ("w", "ws")   # w, ws: kpe weights a PE

    def __init__(self, A, B, R, C, timing, ctl, kpe):
        fr_n, fc_n, P = timing.row_folds, timing.col_folds, timing.fold_period
        self.Xp = _lanes(A, P, fr_n * R, kpe).transpose(1, 0, 2)        # row lane r: A[t, r*kpe + k]
        self.Wp = _lanes(B.T, fc_n * C, fr_n * R, kpe).transpose(1, 0, 2)   # [r, n, k] = B[r*kpe + k, n]
        self.R, self.C, self.T, self.ctl = R, C, timing.streamed, ctl
        self.I, self.J = np.indices((R, C))

    def inputs(self, s: int) -> dict[str, np.ndarray]:
        I, J = self.I, self.J
        ok, t, fr, _ = self.ctl.at(s - 1 - I - J)
        x = {"a": np.where(ok[..., None], self.Xp[fr * self.R + I, t], 0),
             "v": ok & (t < self.T), "l": ok & (t == self.T - 1), "fs": ok & (t == 0)}
        # weight-load lane of column j: issued at c = s - j, row t of the fold's tile while t < R
        j = np.arange(self.C)
        okw, tw, frw, fcw = self.ctl.at(s - j)
        okw &= tw < self.R
        tw = np.minimum(tw, self.R - 1)
        x["wl"] = np.where(okw[:, None], self.Wp[frw * self.R + tw, fcw * self.C + j], 0)[None, :]
        x["hit"] = okw[None, :] & (tw[None, :] == I)
        return x

    def step(self, st, x, bits):
        fs = x["fs"][..., None]
        wu = np.where(fs, st["ws"], st["w"])  # the first element of a fold uses the new tile
        return {"w": np.where(x["v"][..., None] & fs, st["ws"], st["w"]),
                "ws": np.where(x["hit"][..., None], x["wl"], st["ws"]),
                "acc": wrap(_shift_down(st["acc"]) + (x["a"] * wu).sum(-1), bits),
                "pv": x["v"].astype(np.int64), "pl": (x["v"] & x["l"]).astype(np.int64)}

    def port(self, st):
        return st["pv"][-1].astype(bool), st["acc"][-1], st["pl"][-1].astype(bool)

    def place(self, out, k, j, val, timing):
        """k-th partial sums out of columns j: fold k // T, output row k % T; K-folds add up."""
        n = (k // self.T) % timing.col_folds * self.C + j
        keep = n < out.shape[1]
        np.add.at(out, ((k % self.T)[keep], n[keep]), val[keep])


def simulate(A: np.ndarray, B: np.ndarray, R: int, C: int, dataflow: str, acc_bits: int = 32,
             record: bool = False, kpe: int = 1) -> PipelinedRun:
    """Run A @ B on the pipelined array register by register; outputs wrap to `acc_bits`.

    With record=True, `trace` holds per state s = 0..total_cycles: `acc` and `valid` (R x C, the
    accumulator / psum register and the input valid register of every PE), `out_valid`,
    `out_data` (the output port) and `done`, named as the RTL's dbg_acc/dbg_valid/out_* ports.
    The registers are stepped by the compiled twin (native.py) when it is available, else by
    `simulate_python`, the reference; the two are bit-identical. `kpe`: MACs per PE.
    """
    return _simulate(A, B, R, C, dataflow, acc_bits, record, compiled=True, kpe=kpe)


def simulate_python(A: np.ndarray, B: np.ndarray, R: int, C: int, dataflow: str, acc_bits: int = 32,
                    record: bool = False, kpe: int = 1) -> PipelinedRun:
    """`simulate` on the Python register model only (the reference of the compiled twin)."""
    return _simulate(A, B, R, C, dataflow, acc_bits, record, compiled=False, kpe=kpe)


def _simulate(A, B, R: int, C: int, dataflow: str, acc_bits: int, record: bool, compiled: bool,
              kpe: int = 1) -> PipelinedRun:
    A = np.asarray(A, dtype=np.int64)
    B = np.asarray(B, dtype=np.int64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"need A (M x K) and B (K x N), got {A.shape} and {B.shape}")
    if dataflow == "is":  # input-stationary = weight-stationary on the transposed problem
        run = _simulate(B.T, A.T, R, C, "ws", acc_bits, record, compiled, kpe)
        return PipelinedRun(run.out.T.copy(), run.total_cycles, run.fold_end_cycles, run.trace)
    timing = pipelined_cycles(A.shape[0], B.shape[1], A.shape[1], R, C, dataflow, kpe)
    core = (_OS if dataflow == "os" else _WS)(A, B, R, C, timing, _Controller(timing), kpe)
    lib = native.library() if compiled else None
    if lib is not None:
        ops = (core.Ap, core.Bp) if isinstance(core, _OS) else (core.Xp, core.Wp)
        out, total, ends, tr = native.run(lib, dataflow, *ops, A.shape[0], B.shape[1], R, C, timing,
                                          acc_bits, record, kpe)
        return PipelinedRun(wrap(out, acc_bits), total, ends, tr)
    st = _state(R, C, core.names, kpe, core.vectors)
    out = np.zeros((A.shape[0], B.shape[1]), dtype=np.int64)
    emitted = np.zeros(C, dtype=np.int64)
    ends: list[int] = []
    trace: dict[str, list] = {k: [] for k in ("acc", "valid", "out_valid", "out_data", "done")}
    s = 0
    while True:
        x = core.inputs(s)
        ov, o, ol = core.port(st)
        if record:
            for k, v in (("acc", st["acc"]), ("valid", x["v"]), ("out_valid", ov),
                         ("out_data", o), ("done", len(ends) == timing.folds)):
                trace[k].append(np.array(v, copy=True))
        if len(ends) == timing.folds:     # done registered one edge after the last fold end
            break
        if ov.any():
            js = np.flatnonzero(ov)
            core.place(out, emitted[js], js, o[js], timing)
            emitted[js] += 1
        if ov[C - 1] and ol[C - 1]:
            ends.append(s)
        st = core.step(st, x, acc_bits)
        s += 1
    tr = {k: np.array(v) for k, v in trace.items()} if record else None
    return PipelinedRun(wrap(out, acc_bits), s, tuple(ends), tr)
