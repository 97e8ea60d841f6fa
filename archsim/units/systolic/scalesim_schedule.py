"""SCALE-Sim v3's per-dataflow demand and prefetch orders: which operand word the array asks for at
each cycle, what it writes, and the order the double-buffered SRAMs fetch from DRAM.

os keeps outputs in the PEs and streams both operands; ws and is keep one operand's R x C tile in
the PEs (ws: the filter, is: the ifmap) and stream the other. The streamed operand is fetched
fold block after fold block rolled out along anti-diagonals (it arrives skewed); the stationary
one block after block in plain row order (it is loaded unskewed, a row per cycle).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.units.systolic.folds import cdiv


@dataclass(frozen=True)
class ConvGeometry:
    """A layer as SCALE-Sim addresses it: H x W x C input, R x S filters, F of them, one stride.
    A GEMM M x N x K is the conv H=M, W=K, R=1, S=K, C=1, F=N, stride 1."""

    H: int
    W: int
    R: int
    S: int
    C: int
    F: int
    stride: int

    @property
    def e_h(self) -> int:
        return cdiv(self.H - self.R + self.stride, self.stride)

    @property
    def e_w(self) -> int:
        return cdiv(self.W - self.S + self.stride, self.stride)

    @property
    def M(self) -> int:
        return self.e_h * self.e_w

    @property
    def K(self) -> int:
        return self.R * self.S * self.C

    def ifmap_addresses(self) -> np.ndarray:
        """M x K input-pixel ids; -1 where SCALE-Sim's extra edge output reads past the input (Q4)."""
        orow, ocol = np.divmod(np.arange(self.M), self.e_w)
        frow, rest = np.divmod(np.arange(self.K), self.S * self.C)
        fcol, ch = np.divmod(rest, self.C)
        row_ok = np.less.outer(orow * self.stride, self.H - frow)
        col_ok = np.less.outer(ocol * self.stride, self.W - fcol)
        base = (orow * self.stride * self.W + ocol * self.stride) * self.C
        addr = np.add.outer(base.astype(np.int64), (frow * self.W + fcol) * self.C + ch)
        addr[~(row_ok & col_ok)] = -1
        return addr

    def filter_addresses(self) -> np.ndarray:
        return np.arange(self.K * self.F, dtype=np.int64).reshape(self.K, self.F)


def rollout(block: np.ndarray) -> np.ndarray:
    """A matrix read along anti-diagonals, bottom row first within each: SCALE-Sim's prefetch order."""
    rows, cols = block.shape
    i, j = np.indices((rows, cols))
    order = np.lexsort((-i.ravel(), (i + j).ravel()))
    return block.ravel()[order]


def _fold_demand(op: np.ndarray, used: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Skewed demand of one fold: lane l asks for op[l, t - l] at fold cycle t. (t, id) in order."""
    t = np.arange(K)[None, :] + np.arange(used)[:, None]
    lane = np.broadcast_to(np.arange(used)[:, None], t.shape)
    order = np.lexsort((lane.ravel(), t.ravel()))
    return t.ravel()[order], op[:used, :K].ravel()[order]


class Schedule:
    """SCALE-Sim's cycle-by-cycle demand of one layer on one dataflow. Folds run column-fold outer,
    row-fold inner, each `fold_len` cycles; subclasses say what each fold asks for and writes."""

    fold_len: int
    rf: int
    cf: int

    def __init__(self, geo: ConvGeometry, R: int, C: int):
        self.A, self.B = geo.ifmap_addresses(), geo.filter_addresses()
        self.M, self.N, self.K, self.R, self.C = geo.M, geo.F, geo.K, R, C

    @property
    def rows(self) -> int:
        return self.rf * self.cf * self.fold_len

    @staticmethod
    def _used(i: int, n: int, size: int) -> int:
        return min(size, n - i * size)

    def _folds(self):
        for fc in range(self.cf):
            for fr in range(self.rf):
                yield (fc * self.rf + fr) * self.fold_len, fr, fc

    def fold_demand(self, kind: str, fr: int, fc: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fold_writes(self, fr: int, fc: int) -> np.ndarray:
        """Words written at each cycle of a fold."""
        raise NotImplementedError

    def prefetch_size(self, kind: str) -> tuple[int, int]:
        """(words in the padded prefetch stream, valid words in it)."""
        raise NotImplementedError

    def prefetch(self, kind: str) -> np.ndarray:
        """The operand's DRAM fetch order (-1: padding)."""
        raise NotImplementedError

    def demand(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """(row, id) of every valid demand of an operand, in the order the array asks."""
        rows, ids = [], []
        for base, fr, fc in self._folds():
            t, a = self.fold_demand(kind, fr, fc)
            keep = a >= 0
            rows.append(t[keep] + base)
            ids.append(a[keep])
        return np.concatenate(rows), np.concatenate(ids)

    def demand_span(self, kind: str) -> tuple[int, int]:
        """First and last rows an operand is asked for (from the first and last folds that ask:
        on is a whole edge fold of the held ifmap can be SCALE-Sim's past-the-input -1s)."""
        folds = list(self._folds())

        def valid_rows(fold: tuple[int, int, int]) -> np.ndarray:
            base, fr, fc = fold
            t, a = self.fold_demand(kind, fr, fc)
            return t[a >= 0] + base

        first = next(t[0] for t in map(valid_rows, folds) if t.size)
        last = next(t[-1] for t in map(valid_rows, reversed(folds)) if t.size)
        return int(first), int(last)

    def writes(self) -> dict[int, int]:
        """row -> ofmap words written."""
        out: dict[int, int] = {}
        for base, fr, fc in self._folds():
            count = self.fold_writes(fr, fc)
            for t in np.flatnonzero(count):
                out[base + int(t)] = int(count[t])
        return out


class OutputStationary(Schedule):
    """os: ifmap rows (M) on array rows, filters (N) on columns, K streamed, K + R + C - 2 a fold;
    outputs leave skewed after the K - 1 stream cycles."""

    def __init__(self, geo: ConvGeometry, R: int, C: int):
        super().__init__(geo, R, C)
        self.rf, self.cf = cdiv(self.M, R), cdiv(self.N, C)
        self.fold_len = self.K + R + C - 2

    def fold_demand(self, kind: str, fr: int, fc: int) -> tuple[np.ndarray, np.ndarray]:
        if kind == "ifmap":
            return _fold_demand(self.A[fr * self.R:(fr + 1) * self.R], self._used(fr, self.M, self.R), self.K)
        return _fold_demand(self.B[:, fc * self.C:(fc + 1) * self.C].T, self._used(fc, self.N, self.C), self.K)

    def fold_writes(self, fr: int, fc: int) -> np.ndarray:
        ru, cu = self._used(fr, self.M, self.R), self._used(fc, self.N, self.C)
        u = np.arange(self.R + self.C - 1)[:, None] - np.arange(cu)[None, :]     # flipped row index
        count = np.zeros(self.fold_len, np.int64)
        count[self.K - 1:] = ((u >= self.R - ru) & (u <= self.R - 1)).sum(axis=1)
        return count

    def prefetch_size(self, kind: str) -> tuple[int, int]:
        if kind == "ifmap":
            return self.rf * self.R * self.K, int((self.A >= 0).sum())
        return self.cf * self.C * self.K, self.K * self.N

    def prefetch(self, kind: str) -> np.ndarray:
        """Per-fold blocks (K x lanes, padded with -1) stacked and rolled out along anti-diagonals."""
        if kind == "ifmap":
            pad = np.full((self.rf * self.R, self.K), -1, np.int64)
            pad[:self.M] = self.A
            blocks = [pad[f * self.R:(f + 1) * self.R].T for f in range(self.rf)]
        else:
            pad = np.full((self.K, self.cf * self.C), -1, np.int64)
            pad[:, :self.N] = self.B
            blocks = [pad[:, f * self.C:(f + 1) * self.C] for f in range(self.cf)]
        return rollout(np.concatenate(blocks))



def _padded(op: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """op in the top-left corner of a rows x cols matrix of -1 (fold padding)."""
    out = np.full((rows, cols), -1, np.int64)
    out[:op.shape[0], :op.shape[1]] = op
    return out


class Stationary(Schedule):
    """ws and is: one operand's K x cols matrix S is held in the array (K on rows, cols on
    columns), the other's T x K matrix X streamed past it. ws holds the filter (S = K x N) and
    streams the M ifmap rows; is holds the ifmap (S = its K x M transpose) and streams the N filters.
    A fold loads its R x C tile of S (cycles 0..R-1, bottom row first), streams X skewed from cycle
    R, and writes outputs skewed from cycle 2R - 1: 2R + C + T - 2 cycles."""

    def __init__(self, geo: ConvGeometry, R: int, C: int, held: str = "filter"):
        super().__init__(geo, R, C)
        self.held, self.streamed = (held, "ifmap" if held == "filter" else "filter")
        self.S, self.X = (self.B, self.A) if held == "filter" else (self.A.T, self.B.T)
        self.cols, self.T = self.S.shape[1], self.X.shape[0]
        self.rf, self.cf = cdiv(self.K, R), cdiv(self.cols, C)
        self.fold_len = 2 * R + C + self.T - 2

    def fold_demand(self, kind: str, fr: int, fc: int) -> tuple[np.ndarray, np.ndarray]:
        ru = self._used(fr, self.K, self.R)
        if kind == self.streamed:
            t, a = _fold_demand(self.X[:, fr * self.R:fr * self.R + ru].T, ru, self.T)
            return t + self.R, a
        cu = self._used(fc, self.cols, self.C)
        tile = self.S[fr * self.R:fr * self.R + ru, fc * self.C:fc * self.C + cu][::-1]
        t = np.repeat(np.arange(ru) + self.R - ru, cu)
        return t, tile.ravel()

    def fold_writes(self, fr: int, fc: int) -> np.ndarray:
        cu = self._used(fc, self.cols, self.C)
        t = np.arange(self.fold_len)[:, None] - (2 * self.R - 1) - np.arange(cu)[None, :]
        return ((t >= 0) & (t < self.T)).sum(axis=1)

    def prefetch_size(self, kind: str) -> tuple[int, int]:
        if kind == self.streamed:
            return self.rf * self.R * self.T, int((self.X >= 0).sum())
        return self.cf * self.C * self.K, int((self.S >= 0).sum())

    def prefetch(self, kind: str) -> np.ndarray:
        """Streamed: T x R blocks of X, one per row fold, stacked and rolled out along
        anti-diagonals. Held: K x C blocks of S, one per column fold, stacked, in row order."""
        if kind == self.streamed:
            pad = _padded(self.X, self.T, self.rf * self.R)
            return rollout(np.concatenate([pad[:, f * self.R:(f + 1) * self.R] for f in range(self.rf)]))
        pad = _padded(self.S, self.K, self.cf * self.C)
        return np.concatenate([pad[:, f * self.C:(f + 1) * self.C] for f in range(self.cf)]).ravel()


SCHEDULES = {"os": OutputStationary,
             "ws": lambda geo, R, C: Stationary(geo, R, C, "filter"),
             "is": lambda geo, R, C: Stationary(geo, R, C, "ifmap")}


def schedule(geo: ConvGeometry, R: int, C: int, dataflow: str) -> Schedule:
    """The demand and prefetch orders of one layer on an R x C array."""
    if dataflow not in SCHEDULES:
        raise NotImplementedError(f"SCALE-Sim's memory is modelled for {', '.join(SCHEDULES)}, "
                                  f"not {dataflow}")
    return SCHEDULES[dataflow](geo, R, C)
