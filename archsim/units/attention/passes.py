"""Pass-count checker (FuseMax paper, Sec. III): how many passes over rank M a cascade of Einsums needs,
and the live footprint that implies.

An Einsum *iterates* M when it reads a tensor carrying an M rank (`m`, or the tile ranks `m1`, `m0`). Its
output *fully reduces* M when that read covers every M rank of the input and the output keeps none (a
reduction over the tile rank `m0` only, or a recurrence along an iterative rank, is not full: it needs
one tile, not the fiber). An Einsum that iterates M and depends on a full reduction of M made by an
Einsum of pass k must wait for all of M to be read: it belongs to pass k + 1. The cascade needs as many
passes as its largest pass number, and every M-fiber read in a pass after the first has been read
before: it is either kept on chip whole (the live footprint below) or re-read from memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field


def rank_family(rank: str) -> frozenset[str]:
    """A rank and its tile ranks: m -> {m, m1, m0}."""
    return frozenset({rank, rank + "1", rank + "0"})


@dataclass(frozen=True)
class CascadeEinsum:
    """`out[out_ranks] = f(inputs)`; `iterative` names a rank the output carries as a recurrence (m1+1 from m1)."""

    out: str
    out_ranks: tuple[str, ...]
    inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    iterative: str | None = None

    def iterates(self, fam: frozenset[str]) -> bool:
        return any(set(r) & fam for r in self.inputs.values())

    def fully_reduces(self, fam: frozenset[str]) -> bool:
        kept = set(self.out_ranks) & fam
        if self.iterative:
            kept.add(self.iterative)
        read = [set(r) & fam for r in self.inputs.values() if set(r) & fam]
        return bool(read) and not kept and all(r == set().union(*read) for r in read)


@dataclass(frozen=True)
class PassReport:
    passes: int
    pass_of: dict[str, int]
    live_fibers: tuple[str, ...]      # tensors whose whole M-fiber a later pass re-reads

    def footprint_words(self, M: int) -> int:
        """Words per query that must stay live (or be spilled and re-read): one M-fiber per such tensor."""
        return len(self.live_fibers) * M


def count_passes(cascade: list[CascadeEinsum], rank: str = "m") -> PassReport:
    """Passes over `rank` of a cascade given in dependency order (inputs produced earlier or external)."""
    fam = rank_family(rank)
    producer = {e.out: e for e in cascade}
    pass_of: dict[str, int] = {}
    full_after: dict[str, int] = {}     # tensor -> the pass after which a full M reduction it depends on is done
    reread: set[str] = set()
    for e in cascade:
        p, done = 1, 0
        for name in e.inputs:
            if name in producer:
                p = max(p, pass_of[name])
                done = max(done, full_after.get(name, 0))
        if e.iterates(fam) and done >= p:
            p = done + 1
            reread.update(n for n, r in e.inputs.items() if set(r) & fam)
        pass_of[e.out] = p
        full_after[e.out] = max(done, p if e.fully_reduces(fam) else 0)
    return PassReport(max(pass_of.values(), default=1), pass_of, tuple(sorted(reread)))


def _E(out: str, out_ranks: str, iterative: str | None = None, **inputs: str) -> CascadeEinsum:
    return CascadeEinsum(out, tuple(out_ranks.split()), {k: tuple(v.split()) for k, v in inputs.items()}, iterative)


# The paper's cascades (Sec. III-IV), as Einsums over ranks e, f, m (m1, m0 when M is split), p.
THREE_PASS = [
    _E("QK", "m p", Q="e p", K="e m"),
    _E("GM", "p", QK="m p"),
    _E("SN", "m p", QK="m p", GM="p"),
    _E("SD", "p", SN="m p"),
    _E("A", "m p", SN="m p", SD="p"),
    _E("AV", "f p", A="m p", V="f m"),
]
TWO_PASS_DEFERRED = [          # 3-pass with the division deferred: SNV = sum SN V, AV = SNV / SD
    _E("QK", "m p", Q="e p", K="e m"),
    _E("GM", "p", QK="m p"),
    _E("SN", "m p", QK="m p", GM="p"),
    _E("SD", "p", SN="m p"),
    _E("SNV", "f p", SN="m p", V="f m"),
    _E("AV", "f p", SNV="f p", SD="p"),
]
ONE_PASS = [                   # Cascade 5: running max, denominator and numerator x V along iterative m1
    _E("BQK", "m1 m0 p", Q="e p", BK="e m1 m0"),
    _E("LM", "m1 p", BQK="m1 m0 p"),
    _E("RM", "m1 p", "m1", RMp="m1 p", LM="m1 p"),
    _E("SLN", "m1 m0 p", BQK="m1 m0 p", RM="m1 p"),
    _E("SLD", "m1 p", SLN="m1 m0 p"),
    _E("SLNV", "f m1 p", SLN="m1 m0 p", BV="f m1 m0"),
    _E("PRM", "m1 p", RM="m1 p"),
    _E("SPD", "m1 p", RD0="m1 p", PRM="m1 p"),
    _E("RD", "m1 p", "m1", SLD="m1 p", SPD="m1 p"),
    _E("SPNV", "f m1 p", RNV0="f m1 p", PRM="m1 p"),
    _E("RNV", "f m1 p", "m1", SLNV="f m1 p", SPNV="f m1 p"),
    _E("AV", "f p", RNV="f p", RD="p"),
]
TOY = [_E("Y", "", A="k", B="k"), _E("Z", "", Y="", A="k")]          # Z = sum_k Y A_k: A re-read after Y
TOY_REASSOCIATED = [_E("Y", "", A="k", B="k"), _E("S", "", A="k"), _E("Z", "", Y="", S="")]  # Z = Y sum_k A_k
CASCADES = {"3-pass": THREE_PASS, "2-pass (deferred divide)": TWO_PASS_DEFERRED, "1-pass": ONE_PASS}
