"""The Einsums of each attention cascade: iteration space, reduction depth, actions, and the array each is bound to.

Spaces (per head): `mp` one iteration per (m, p) element, `m1p` one per (key tile, query), `p` one per
query. A 2D array of M0 x P0 PEs runs an `mp` tile in one step per unit of depth; the 1D array of W PEs
runs a query row of P0 in ceil(P0 / W) steps. An Einsum's cost per iteration is the sum of its actions
(ops issued back to back on one PE) or 1 when the actions are chained in a pipelined unit.
"""
from __future__ import annotations

from dataclasses import dataclass

from archsim.units.attention.config import AttentionConfig


@dataclass(frozen=True)
class Einsum:
    name: str
    array: str                  # "2d" | "1d"
    space: str                  # "mp" | "m1p" | "p" | "mask" (mp, partly masked tiles only)
    depth: str | None           # rank reduced/iterated inside the PE: "E", "F" or None (1)
    actions: tuple[tuple[str, int], ...]
    pipelined: bool = False

    @property
    def cost(self) -> int:
        """Cycles per iteration on one PE."""
        return 1 if self.pipelined else sum(n for _, n in self.actions)


def _e(name: str, array: str, space: str, depth: str | None, actions: dict[str, int] | None = None,
       pipelined: bool = False, **more: int) -> Einsum:
    acts = {**(actions or {}), **more}
    return Einsum(name, array, space, depth, tuple(sorted(acts.items())), pipelined)


def _exp(cfg: AttentionConfig, on_1d: bool) -> dict[str, int]:
    """Actions of one subtract-then-exponentiate."""
    if on_1d and cfg.has_exp_unit:
        return {"exp": 1, "add": 1}
    return {"mac": cfg.exp_macs, "add": cfg.exp_adds}


def one_pass(cfg: AttentionConfig, softmax_on_2d: bool) -> tuple[Einsum, ...]:
    """Cascade 5 (FlashAttention-2 form, division deferred). With `softmax_on_2d` (FuseMax's binding) the
    2D array runs LM, SLN, SLD; otherwise (+Cascade on FLAT hardware) they run elementwise on the 1D array."""
    s_arr, s_space = ("2d", "mp") if softmax_on_2d else ("1d", "mp")
    return (
        _e("QK", "2d", "mp", "E", mac=1),
        _e("MASK", "2d", "mask", None, mask=cfg.mask_ops),
        _e("LM", s_arr, s_space, None, max=1),
        _e("SLN", s_arr, s_space, None, _exp(cfg, not softmax_on_2d)),
        _e("SLD", s_arr, s_space, None, add=1),
        _e("SLNV", "2d", "mp", "F", mac=1),
        _e("RM", "1d", "m1p", None, max=1),
        _e("PRM", "1d", "m1p", None, _exp(cfg, True)),
        _e("SPD", "1d", "m1p", None, mac=1),
        _e("SPNV", "1d", "m1p", "F", mac=1),
        _e("RD", "1d", "m1p", None, add=1),
        _e("RNV", "1d", "m1p", "F", add=1),
        _e("AV", "1d", "p", "F", div=1),
    )


def three_pass(cfg: AttentionConfig) -> tuple[Einsum, ...]:
    """Cascade 4 as FLAT and the unfused baseline run it: QK and AV on the 2D array, the stable softmax
    (max, subtract-exp, sum, divide) elementwise on the 1D array, one element per PE per cycle (the
    subtract feeds the exp unit in a pipeline; without an exp unit it costs the exp's ops)."""
    exp = _exp(cfg, True)
    return (
        _e("QK", "2d", "mp", "E", mac=1),
        _e("MASK", "2d", "mask", None, mask=cfg.mask_ops),
        _e("GM", "1d", "mp", None, max=1),
        _e("SN", "1d", "mp", None, exp, pipelined=cfg.has_exp_unit),
        _e("SD", "1d", "mp", None, add=1),
        _e("A", "1d", "mp", None, div=1),
        _e("AV", "2d", "mp", "F", mac=1),
    )


def cascade_for(cfg: AttentionConfig) -> tuple[Einsum, ...]:
    if cfg.variant in ("fusemax", "architecture"):
        return one_pass(cfg, softmax_on_2d=True)
    if cfg.variant == "cascade":
        return one_pass(cfg, softmax_on_2d=False)
    return three_pass(cfg)
