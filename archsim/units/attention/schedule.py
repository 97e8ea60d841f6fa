"""Schedule expressions: how each variant combines its Einsums' busy times into a latency (Level 0).

A leaf is an Einsum name (its busy cycles), `Drain(name)` (that Einsum's cycles times the M0 rows its
result drains through: the stall of an output-stationary array whose consumer cannot start before the
drain), `Array(a)` (every Einsum bound to array a, back to back) or `Dram(phase)` (bytes / bandwidth of
a phase, or of the whole op). `Seq` adds, `Par` takes the maximum (the parts overlap perfectly).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Drain:
    einsum: str


@dataclass(frozen=True)
class Array:
    array: str


@dataclass(frozen=True)
class Dram:
    phase: str | None = None


@dataclass(frozen=True)
class Seq:
    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Par:
    parts: tuple[Expr, ...]


Expr = str | Drain | Array | Dram | Seq | Par


def seq(*parts: Expr) -> Seq:
    return Seq(parts)


def par(*parts: Expr) -> Par:
    return Par(parts)


# FuseMax (+Binding): epochs overlap QK/LM of one tile with the 1D array finishing an earlier tile, and
# the 2D/1D arrays interleave SLNV/SPNV cycle by cycle (paper Figs. 4-5; artifact `Proposal.eval`).
_WATERFALL_HEAD = par(seq("QK", "MASK", "LM"), seq("RD", "RNV", "AV"))
_MIDDLE = ("RM", par(seq("SLN", "SLD"), seq("PRM", "SPD")))
SCHEDULES: dict[str, Expr] = {
    "fusemax": par(seq(_WATERFALL_HEAD, *_MIDDLE, par("SLNV", "SPNV")), Dram()),
    # Same hardware, no interleaving: RM waits for LM to drain, RNV runs after SPNV.
    "architecture": par(seq(par(seq("QK", "MASK", "LM"), seq("RD", "AV")), Drain("LM"), *_MIDDLE,
                            par("SLNV", seq("SPNV", "RNV"))), Dram()),
    # One-pass cascade on FLAT hardware, and FLAT itself: each array busy back to back, perfect overlap.
    "cascade": par(Array("2d"), Array("1d"), Dram()),
    "flat": par(Array("2d"), Array("1d"), Dram()),
    # Three phases that each round-trip through DRAM; each phase is bound by its compute or its traffic.
    "unfused": seq(par(seq("QK", "MASK"), Dram("qk")), par(seq("GM", "SN", "SD", "A"), Dram("softmax")),
                   par("AV", Dram("av"))),
}


def evaluate(expr: Expr, busy: dict[str, float], arrays: dict[str, list[str]], dram: Callable[[str | None], float],
             drain_factor: int) -> float:
    """Cycles of `expr` given each Einsum's busy cycles and the DRAM cycles of a phase."""
    if isinstance(expr, str):
        return busy[expr]
    if isinstance(expr, Drain):
        return busy[expr.einsum] * drain_factor
    if isinstance(expr, Array):
        return sum(busy[n] for n in arrays[expr.array])
    if isinstance(expr, Dram):
        return dram(expr.phase)
    vals = [evaluate(p, busy, arrays, dram, drain_factor) for p in expr.parts]
    return sum(vals) if isinstance(expr, Seq) else max(vals)


def render(expr: Expr) -> str:
    """The expression as text, for reports: `max(QK+LM, ...) + RM + ...`."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, Drain):
        return f"drain({expr.einsum})"
    if isinstance(expr, Array):
        return f"sum({expr.array})"
    if isinstance(expr, Dram):
        return f"dram({expr.phase})" if expr.phase else "dram"
    inner = [render(p) for p in expr.parts]
    return " + ".join(inner) if isinstance(expr, Seq) else "max(" + ", ".join(inner) + ")"
