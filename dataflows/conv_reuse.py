"""A convolution's input as it really crosses the off-chip port: input tiles with their halos, im2col on chip.

The array sees a conv as its im2col GEMM (M = N*P*Q output pixels, N = F filters, K = R*S*C taps), but
only the input tensor lives in DRAM: the buffer holds an input tile and the array's operand feed
expands it (im2col on chip). So a conv tile is a band of whole output rows and a slice of input
channels with every tap of the kernel: Tm = Tp*Q output pixels and Tk = R*S*Tc taps, and its input
tile is the rows that band's windows touch, [y0*stride - pad, (y1-1)*stride + extent - pad) clipped to
the image (padding is made on chip), across the touched columns, for those Tc channels.

Reuse kept and lost: the input buffer is a ring of rows, so when the next input tile is the band
just below the resident one in the same channels, the halo rows they share stay and only the new
rows cross the port (a slide); any other change of input tile (another channel slice, a restart
at the top for the next filter tile) fetches the whole tile again, halo included. The mapper's
loop order and what the buffer holds (residency.py) decide which happens how often (mapspace.py;
`Mapping.tiles()` is the reference).

Kernels of 1x1 keep the plain GEMM view: without a halo the im2col rows are exactly the input
pixels the conv touches. With N > 1 images, bands never straddle images: Tp divides P, or a tile is
whole images. Dilated kernels are taken as their full extent (an upper bound on the touched rows).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from dataflows.mapspace import nbytes, tile_candidates


@dataclass(frozen=True)
class ConvGeometry:
    """One group's conv: N images of H x W x C (C per group), an R x S kernel, its output P x Q."""

    N: int
    H: int
    W: int
    C: int
    R: int
    S: int
    stride: int = 1
    pad: int = 0
    dilation: int = 1
    P: int = 0
    Q: int = 0

    @property
    def taps(self) -> int:
        return self.R * self.S

    @functools.cached_property
    def cols(self) -> int:
        """Input columns a whole output row's windows touch."""
        return int(touched(-self.pad, self.Q, self.stride, (self.S - 1) * self.dilation + 1, self.W))

    def band_rows(self, tp: int, slide: bool = False) -> np.ndarray:
        """Input rows each band of `tp` output rows (stacked over the images, in order) touches; with
        `slide`, the rows it does not share with the band above it (the whole band at an image's top)."""
        return _band_rows(self, int(tp))[1 if slide else 0]

    def rows_per_tile(self, tm: int, slide: bool = False) -> np.ndarray:
        """`band_rows` per M tile of `tm` output pixels (a multiple of Q), in the tiles' order."""
        return self.band_rows(tm // self.Q, slide)

    def tile_bytes(self, tm: int, tk: Any, bits: int, index: Any, slide: Any = False) -> Any:
        """Input bytes of M tile(s) `index` with a K extent of `tk` taps (channels tk / (R*S)); where
        `slide`, only the rows not shared with the band above."""
        rows = np.where(slide, self.rows_per_tile(tm, True)[index], self.rows_per_tile(tm)[index])
        return nbytes(rows * self.cols * (np.asarray(tk) // self.taps), bits)

    def grid_bytes(self, tm: int, tk: int, bits: int, slide: bool = False) -> int:
        """Input bytes of every (M tile, K tile) once: one pass over the tile grid. With `slide`, each
        channel slice's bands follow one another down the image (first whole, then the new rows).
        Memoised: the cost model asks for it on every mapping it scores."""
        return _grid_bytes(self, int(tm), int(tk), int(bits), bool(slide))

    def slide_grid_bytes(self, tm: int, tk: int, bits: int) -> int:
        return self.grid_bytes(tm, tk, bits, True)

    def per_tile(self, fn: str, tm: np.ndarray, tk: np.ndarray, bits: int, *args: Any) -> np.ndarray:
        """`fn` ("grid_bytes", "slide_grid_bytes", "held_bytes", "first_tile_bytes") for arrays of tiles, once per
        distinct (Tm, Tk) (the bounds price every tile of a space at once)."""
        pairs, inv = np.unique(np.stack([np.asarray(tm), np.asarray(tk)], axis=1), axis=0, return_inverse=True)
        f = getattr(self, fn)
        vals = np.array([f(int(m), int(k), bits, *args) for m, k in pairs], np.int64)
        return vals[np.asarray(inv).reshape(-1)]

    def first_tile_bytes(self, tm: int, tk: int, bits: int) -> int:
        return int(self.tile_bytes(tm, tk, bits, 0))

    def held_bytes(self, tm: int, tk: int, bits: int, held: str = "") -> int:
        """What the input buffer must hold: the largest input tile, or with `held` (residency.py)
        the rows of every band ("m") and/or every channel ("k")."""
        rows = int(self.band_rows(self.P).sum()) if "m" in held else int(self.rows_per_tile(tm).max())
        return int(nbytes(rows * self.cols * (self.C if "k" in held else tk // self.taps), bits))

    def compulsory_bytes(self, bits: int) -> int:
        """The input the conv touches, once."""
        return int(nbytes(int(self.band_rows(self.P).sum()) * self.cols * self.C, bits))

    def m_candidates(self, quanta: tuple[int, ...] = (), limit: int = 24, fixed: int | None = None) -> list[int]:
        """M tiles: bands of whole output rows (Tp dividing P when N > 1), or whole images."""
        P, Q, N = self.P, self.Q, self.N
        if fixed is not None:
            tps = [max(1, fixed // Q)]
        else:
            tps = [t for t in tile_candidates(P, (), limit) if N == 1 or P % t == 0]
            tps += [k * P for k in tile_candidates(N, (), limit) if k > 1]
        out = []
        for t in tps:
            t = min(t, N * P)
            if t > P and t % P:
                t -= t % P
            out.append(t * Q)
        return sorted(set(out))

    def k_candidates(self, quanta: tuple[int, ...] = (), limit: int = 24, fixed: int | None = None) -> list[int]:
        """K tiles: every tap of the kernel for a slice of Tc channels."""
        tcs = [max(1, min(self.C, fixed // self.taps))] if fixed is not None else tile_candidates(self.C, (), limit)
        return sorted({t * self.taps for t in tcs})

    def compress(self, tm: int, count: int) -> tuple[int, int] | None:
        """(head, tail) for `Mapping.step_arrays`: how many leading and trailing M tiles to keep apart
        so that the one kept between them stands for identical interior tiles; None if there are none."""
        rows = np.stack([self.rows_per_tile(tm), self.rows_per_tile(tm, True)], axis=1)
        if count < 5:
            return None
        v = rows[count // 2]
        odd = np.any(rows != v, axis=1)
        head = 1
        while head < count and odd[head]:
            head += 1
        ts = 1
        while ts < count and odd[count - 1 - ts]:
            ts += 1
        tail = ts + 1
        if count - head - tail < 2 or np.any(odd[head:count - tail + 1]):
            return None
        return head, tail


def touched(start: Any, n: Any, step: int, extent: int, size: int) -> Any:
    """How many of 0..size-1 the n windows [start + j*step, start + j*step + extent) cover (numpy-ready)."""
    start, n = np.asarray(start), np.asarray(n)
    if extent >= step:                       # overlapping or abutting windows: one interval
        lo = np.maximum(start, 0)
        hi = np.minimum(start + (n - 1) * step + extent, size)
        return np.maximum(hi - lo, 0)

    def below(t: int) -> Any:                # covered points < t (disjoint windows)
        q = t - start
        full = np.clip((q - extent) // step + 1, 0, n)
        part = np.where(full < n, np.clip(q - full * step, 0, extent), 0)
        return full * extent + part

    return below(size) - below(0)


@functools.lru_cache(maxsize=65536)
def _grid_bytes(geo: ConvGeometry, tm: int, tk: int, bits: int, slide: bool) -> int:
    K = geo.taps * geo.C
    rows = geo.rows_per_tile(tm, slide)
    if slide:
        rows = rows.copy()
        rows[0] = geo.rows_per_tile(tm)[0]
    full, rest = divmod(K, tk)
    out = full * int(np.sum(nbytes(rows * geo.cols * (tk // geo.taps), bits)))
    if rest:
        out += int(np.sum(nbytes(rows * geo.cols * (rest // geo.taps), bits)))
    return out


@functools.lru_cache(maxsize=4096)
def _band_rows(geo: ConvGeometry, tp: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows each band touches, rows it does not share with the band above) over all bands."""
    ext = (geo.R - 1) * geo.dilation + 1
    if tp >= geo.P:                          # whole images per tile: nothing shared
        k = tp // geo.P
        one = int(touched(-geo.pad, geo.P, geo.stride, ext, geo.H))
        per = np.array([min(k, geo.N - i) * one for i in range(0, geo.N, k)], np.int64)
        return per, per
    y0 = np.arange(0, geo.P, tp)
    n = np.minimum(tp, geo.P - y0)
    start = y0 * geo.stride - geo.pad
    rows = touched(start, n, geo.stride, ext, geo.H).astype(np.int64)
    new = rows.copy()
    if ext >= geo.stride and len(y0) > 1:    # contiguous windows: a band shares the rows above its predecessor's end
        lo = np.maximum(start, 0)
        hi = np.minimum(start + (n - 1) * geo.stride + ext, geo.H)
        new[1:] = rows[1:] - np.maximum(0, np.minimum(hi[:-1], hi[1:]) - lo[1:])
    return np.tile(rows, geo.N), np.tile(new, geo.N)


def conv_geometry(op: Any) -> ConvGeometry | None:
    """The conv geometry of an IR op, or None where the plain GEMM view is already exact (1x1
    kernels, non-conv ops, or a conv without its stride and padding recorded)."""
    if getattr(op, "kind", None) != "conv":
        return None
    d = op.dims
    if "stride" not in d or d["r"] * d["s"] == 1:
        return None
    return ConvGeometry(N=d["n"], H=d["h"], W=d["w"], C=d["c"], R=d["r"], S=d["s"], stride=d["stride"],
                        pad=d["pad"], dilation=d.get("dilation", 1), P=d["p"], Q=d["q"])
