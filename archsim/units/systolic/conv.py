"""Convolutions lowered to GEMMs (im2col), in PyTorch's convention or SCALE-Sim's.

Layout: input x is H x W x C, weights R x S x C x F, and the im2col K index runs over (r, s, c)
in that order, so `im2col(x) @ w.reshape(R*S*C, F)` is the convolution, flattened to E_h*E_w x F.
"""
from __future__ import annotations

import numpy as np

from archsim.errors import WorkloadError
from archsim.units.base import GemmShape

CONVENTIONS = ("exact", "scalesim")


def conv_output_size(H: int, R: int, stride: int = 1, pad: int = 0, convention: str = "exact") -> int:
    """Output extent along one axis.

    exact:    floor((H + 2*pad - R)/stride) + 1, as PyTorch computes it.
    scalesim: ceil((H - R + stride)/stride), SCALE-Sim's formula (Q4); it has no padding (Q5).
    """
    if convention not in CONVENTIONS:
        raise WorkloadError(f"conv convention must be one of {CONVENTIONS}, got {convention!r}")
    if stride < 1 or pad < 0:
        raise WorkloadError(f"conv stride must be >= 1 and pad >= 0, got stride={stride}, pad={pad}")
    if convention == "scalesim":
        if pad:
            raise WorkloadError("SCALE-Sim convolutions have no padding; pad the input size instead (Q5)")
        e = -(-(H - R + stride) // stride)
    else:
        e = (H + 2 * pad - R) // stride + 1
    if e < 1 or R > H + 2 * pad:
        raise WorkloadError(f"conv filter {R} does not fit input {H} (pad {pad}): no output")
    return e


def conv_to_gemm(H: int, W: int, R: int, S: int, C: int, F: int, stride: int = 1, pad: int = 0,
                 convention: str = "exact") -> GemmShape:
    """im2col shape: M = E_h*E_w output pixels, N = F filters, K = R*S*C taps."""
    for k, v in (("H", H), ("W", W), ("R", R), ("S", S), ("C", C), ("F", F)):
        if v < 1:
            raise WorkloadError(f"conv dimension {k} must be >= 1, got {v}")
    e_h = conv_output_size(H, R, stride, pad, convention)
    e_w = conv_output_size(W, S, stride, pad, convention)
    return GemmShape(M=e_h * e_w, N=F, K=R * S * C)


def depthwise_to_gemms(H: int, W: int, R: int, S: int, C: int, F: int, stride: int = 1,
                       pad: int = 0, convention: str = "exact") -> list[GemmShape]:
    """A depthwise layer as C single-channel GEMMs.

    scalesim: SCALE-Sim's split of a `DP` layer: C layers of 1 channel, each keeping all F filters.
    exact:    each channel convolves with its own F/C filters (channel multiplier), as groups=C does.
    """
    if convention == "scalesim":
        return [conv_to_gemm(H, W, R, S, 1, F, stride, pad, convention)] * C
    if F % C:
        raise WorkloadError(f"depthwise conv needs F a multiple of C, got F={F}, C={C}")
    return [conv_to_gemm(H, W, R, S, 1, F // C, stride, pad, convention)] * C


def im2col(x: np.ndarray, R: int, S: int, stride: int = 1, pad: int = 0,
           convention: str = "exact") -> np.ndarray:
    """The real E_h*E_w x R*S*C matrix for input x (H x W x C).

    Taps outside the (padded) input read zero: that is padding for `exact`, and SCALE-Sim's extra
    edge row/column (Q4) for `scalesim`, which it counts in MACs and cycles but not in traffic.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise WorkloadError(f"im2col needs x as H x W x C, got shape {x.shape}")
    H, W, C = x.shape
    e_h = conv_output_size(H, R, stride, pad, convention)
    e_w = conv_output_size(W, S, stride, pad, convention)
    need_h = (e_h - 1) * stride + R                     # rows the windows span, from -pad
    need_w = (e_w - 1) * stride + S
    xp = np.zeros((max(need_h, H + 2 * pad), max(need_w, W + 2 * pad), C), x.dtype)
    xp[pad:pad + H, pad:pad + W] = x
    oh = np.arange(e_h)[:, None, None, None] * stride + np.arange(R)[None, None, :, None]
    ow = np.arange(e_w)[None, :, None, None] * stride + np.arange(S)[None, None, None, :]
    win = xp[oh, ow]                                    # e_h x e_w x R x S x C
    return win.reshape(e_h * e_w, R * S * C)
