"""Workload IR: every operator is an Einsum over named dims, with typed operands.

An `Op` says *what* is computed (loop nest as an Einsum, dim sizes), *what is touched*
(operands with a role and a precision) and *how often* (`count` identical instances, e.g. one
op per decoder layer). Costs that follow from that alone (FLOPs, bytes, intensity) live here so
the mapper, the runner and `archsim model` all read the same numbers.

Conventions (docs/workloads.md has the full list):
- `flops`, `bytes` are per instance; `total_flops`, `total_bytes` multiply by `count`.
- The einsum gives the loop nest; an operand's `dims` give the stored tensor's extent. They agree
  for GEMMs; for a convolution the input is stored as (n, h, w, c) while the loop nest is the
  im2col view `npqrsc,rscf->npqf`.
- Contractions cost 2 FLOPs per point of the iteration space (one multiply, one add); other kinds
  cost `flops_per_point` per point (set by the lowering, documented per op kind).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

import networkx as nx

from archsim.errors import WorkloadError
from archsim.units.base import GemmShape

ROLES = ("weight", "activation", "kv_cache", "output")
# Kinds whose einsum is a two-input contraction that `as_gemm` can flatten.
GEMM_KINDS = frozenset({"gemm", "conv"})


@dataclass(frozen=True)
class Operand:
    """One tensor an op reads or writes; `dims` name entries of the op's `dims` mapping."""

    name: str
    role: str
    dims: tuple[str, ...]
    bits: int = 16

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise WorkloadError(f"operand {self.name!r}: role must be one of {ROLES}, got {self.role!r}")
        if not isinstance(self.bits, int) or self.bits < 1:
            raise WorkloadError(f"operand {self.name!r}: bits must be a positive integer, got {self.bits!r}")

    def elements(self, sizes: Mapping[str, int]) -> int:
        return math.prod(sizes[d] for d in self.dims)

    def nbytes(self, sizes: Mapping[str, int]) -> int:
        """Bytes of the stored tensor, rounded up to whole bytes (4-bit tensors pack two per byte)."""
        return -(-self.elements(sizes) * self.bits // 8)


def _parse_einsum(einsum: str) -> tuple[tuple[str, ...], str]:
    try:
        lhs, out = einsum.replace(" ", "").split("->")
    except ValueError:
        raise WorkloadError(f"einsum {einsum!r} must look like 'mk,kn->mn'") from None
    ins = tuple(lhs.split(","))
    if not all(t.isalpha() for t in ins) or not (out.isalpha() or out == ""):
        raise WorkloadError(f"einsum {einsum!r}: each term must be a run of single-letter dims")
    return ins, out


@dataclass(frozen=True)
class Op:
    """One operator; `operands` lists the inputs in einsum order, then the output(s)."""

    name: str
    kind: str
    einsum: str
    dims: Mapping[str, int]
    operands: tuple[Operand, ...]
    count: int = 1
    layer: str | None = None
    flops_per_point: int | None = None  # None: 2 for contractions (GEMM_KINDS), 1 otherwise
    tags: tuple[str, ...] = ()          # free labels for placement, e.g. ("attention",), ("moe",)
    _terms: tuple[tuple[str, ...], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        terms = _parse_einsum(self.einsum)
        object.__setattr__(self, "_terms", terms)
        for d in set("".join(terms[0]) + terms[1]) | {d for o in self.operands for d in o.dims}:
            n = self.dims.get(d)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise WorkloadError(f"op {self.name!r}: dim {d!r} must be a positive integer, got {n!r}")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise WorkloadError(f"op {self.name!r}: count must be a positive integer, got {self.count!r}")
        # A kv_write's destination is its kv_cache operand; every other op writes an `output`.
        if not any(o.role == "output" for o in self.operands) and self.kind != "kv_write":
            raise WorkloadError(f"op {self.name!r} has no output operand")

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.einsum, tuple(sorted(self.dims.items())),
                     self.operands, self.count, self.layer, self.flops_per_point, self.tags))

    # ---- costs -------------------------------------------------------------------------------
    @property
    def points(self) -> int:
        """Size of the iteration space: product of every einsum dim."""
        ins, out = self._terms
        return math.prod(self.dims[d] for d in set("".join(ins) + out))

    @property
    def flops(self) -> int:
        fpp = self.flops_per_point
        if fpp is None:
            fpp = 2 if self.kind in GEMM_KINDS else 1
        return fpp * self.points

    @property
    def macs(self) -> int:
        return self.points if self.kind in GEMM_KINDS else 0

    @property
    def bytes(self) -> int:
        return sum(o.nbytes(self.dims) for o in self.operands)

    @property
    def bytes_by_role(self) -> dict[str, int]:
        out = dict.fromkeys(ROLES, 0)
        for o in self.operands:
            out[o.role] += o.nbytes(self.dims)
        return out

    @property
    def outputs(self) -> tuple[Operand, ...]:
        """Operands written: the `output`s, or the cache a `kv_write` appends to."""
        if self.kind == "kv_write":
            return tuple(o for o in self.operands if o.role in ("output", "kv_cache"))
        return tuple(o for o in self.operands if o.role == "output")

    @property
    def write_bytes(self) -> int:
        return sum(o.nbytes(self.dims) for o in self.outputs)

    @property
    def read_bytes(self) -> int:
        return self.bytes - self.write_bytes

    @property
    def intensity(self) -> float:
        """FLOPs per byte moved, counting every operand once (the compulsory-traffic roofline)."""
        b = self.bytes
        return self.flops / b if b else math.inf

    @property
    def total_flops(self) -> int:
        return self.flops * self.count

    @property
    def total_bytes(self) -> int:
        return self.bytes * self.count

    def operand(self, name: str) -> Operand:
        for o in self.operands:
            if o.name == name:
                return o
        raise KeyError(f"op {self.name!r} has no operand {name!r}")

    # ---- GEMM view ---------------------------------------------------------------------------
    def _gemm_problem(self) -> str | None:
        """Why `as_gemm` cannot flatten this op, or None when it can."""
        ins, out = self._terms
        if self.kind not in GEMM_KINDS or len(ins) != 2:
            return f"(kind {self.kind!r}, einsum {self.einsum!r}) is not GEMM-like"
        a, b, c = set(ins[0]), set(ins[1]), set(out)
        if (a - b - c) or (b - a - c) or (c - a - b):
            return f"einsum {self.einsum!r} has dims that are neither contracted nor kept, so it is not a GEMM"
        return None

    @property
    def is_gemm(self) -> bool:
        """True when `as_gemm()` succeeds: units that only run GEMMs test this in `supports`."""
        return self._gemm_problem() is None

    def as_gemm(self) -> GemmShape:
        """Flatten a two-input contraction to C[M,N] = A[M,K] @ B[K,N], `batch` times.

        batch = dims in A, B and C; M = in A and C only; N = in B and C only; K = in A and B only.
        """
        problem = self._gemm_problem()
        if problem:
            raise WorkloadError(f"op {self.name!r} {problem}")
        ins, out = self._terms
        a, b, c = set(ins[0]), set(ins[1]), set(out)
        size = lambda s: math.prod(self.dims[d] for d in s)  # noqa: E731
        return GemmShape(M=size(a & c - b), N=size(b & c - a), K=size(a & b - c), batch=size(a & b & c))

    def with_count(self, count: int) -> "Op":
        return Op(self.name, self.kind, self.einsum, dict(self.dims), self.operands, count,
                  self.layer, self.flops_per_point, self.tags)


# ---- constructors for stand-alone workloads ------------------------------------------------------
def gemm_op(name: str, M: int, N: int, K: int, bits: int = 8, count: int = 1, out_bits: int | None = None,
            batch: int = 1) -> Op:
    """C[M,N] = A[M,K] @ W[K,N]: A is an activation, W a weight (the `--gemm MxNxK` workload);
    `batch` > 1 makes `batch` independent GEMMs, each with its own W (`--gemm BxMxNxK`)."""
    if batch != 1:
        return Op(name, "gemm", "bmk,bkn->bmn", {"b": batch, "m": M, "n": N, "k": K},
                  (Operand("A", "activation", ("b", "m", "k"), bits), Operand("B", "weight", ("b", "k", "n"), bits),
                   Operand("C", "output", ("b", "m", "n"), out_bits or bits)), count=count)
    return Op(name, "gemm", "mk,kn->mn", {"m": M, "n": N, "k": K},
              (Operand("A", "activation", ("m", "k"), bits), Operand("B", "weight", ("k", "n"), bits),
               Operand("C", "output", ("m", "n"), out_bits or bits)), count=count)


def conv_op(name: str, H: int, W: int, R: int, S: int, C: int, F: int, stride: int = 1, pad: int = 0,
            N: int = 1, bits: int = 8, groups: int = 1, dilation: int = 1, count: int = 1,
            layer: str | None = None, tags: tuple[str, ...] = ()) -> Op:
    """2-D convolution, NHWC input, RSCF filter; GEMM view is im2col: M = N*P*Q, N = F, K = R*S*C.

    `groups` > 1 splits C and F into independent groups (depthwise: groups = C = F), whose einsum
    carries a group dim g in every operand, so the GEMM view is `groups` batched GEMMs of
    M = N*P*Q, N = F/groups, K = R*S*C/groups: the array runs one group at a time unless a unit
    maps them otherwise. `dilation` spreads the taps (effective extent (R-1)*dilation+1); it
    changes the output size, not the MACs per output."""
    for k, v in dict(H=H, W=W, R=R, S=S, C=C, F=F, stride=stride, N=N, groups=groups,
                     dilation=dilation).items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise WorkloadError(f"conv {name!r}: {k} must be a positive integer, got {v!r}")
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise WorkloadError(f"conv {name!r}: pad must be a non-negative integer, got {pad!r}")
    if C % groups or F % groups:
        raise WorkloadError(f"conv {name!r}: groups={groups} must divide C={C} and F={F}")
    er, es = (R - 1) * dilation + 1, (S - 1) * dilation + 1
    P, Q = (H + 2 * pad - er) // stride + 1, (W + 2 * pad - es) // stride + 1
    if P < 1 or Q < 1:
        raise WorkloadError(f"conv {name!r}: filter {R}x{S} (dilation {dilation}) does not fit input "
                            f"{H}x{W} with pad {pad}")
    # stride, pad and dilation are not loop dims: recorded for the input-window law (dataflows/conv_reuse.py)
    geometry = {"stride": stride, "pad": pad, "dilation": dilation}
    if groups == 1:
        dims = {"n": N, "h": H, "w": W, "p": P, "q": Q, "r": R, "s": S, "c": C, "f": F, **geometry}
        return Op(name, "conv", "npqrsc,rscf->npqf", dims,
                  (Operand("ifmap", "activation", ("n", "h", "w", "c"), bits),
                   Operand("filter", "weight", ("r", "s", "c", "f"), bits),
                   Operand("ofmap", "output", ("n", "p", "q", "f"), bits)), count, layer, None, tags)
    dims = {"n": N, "h": H, "w": W, "p": P, "q": Q, "r": R, "s": S, "g": groups, "c": C // groups,
            "f": F // groups, **geometry}
    kind = "depthwise" if groups == C == F else "grouped"
    if kind not in tags:
        tags = (*tags, kind)
    return Op(name, "conv", "npqgrsc,grscf->npqgf", dims,
              (Operand("ifmap", "activation", ("n", "h", "w", "g", "c"), bits),
               Operand("filter", "weight", ("g", "r", "s", "c", "f"), bits),
               Operand("ofmap", "output", ("n", "p", "q", "g", "f"), bits)), count, layer, None, tags)


def load_workload(path) -> "Graph":
    """Read a YAML workload file (format in dataflows/workload_file.py); imported lazily (YAML, pydantic)."""
    from dataflows.workload_file import load_workload as _load

    return _load(path)


# ---- graph -------------------------------------------------------------------------------------
class Graph:
    """Ops in a networkx DiGraph (node = op name, attribute `op`), kept in topological order.

    An op may only depend on ops already added, so insertion order is a topological order and
    iteration needs no sort.
    """

    def __init__(self, name: str = "workload", meta: Mapping | None = None) -> None:
        self.name = name
        self.meta = dict(meta or {})
        self.g = nx.DiGraph()
        self._order: list[Op] = []

    def add(self, op: Op, deps: Iterable[str | Op] = ()) -> Op:
        if op.name in self.g:
            raise WorkloadError(f"workload {self.name!r}: duplicate op name {op.name!r}")
        names = [d.name if isinstance(d, Op) else d for d in deps]
        for d in names:
            if d not in self.g:
                raise WorkloadError(f"op {op.name!r} depends on unknown op {d!r}")
        self.g.add_node(op.name, op=op)
        self.g.add_edges_from((d, op.name) for d in names)
        self._order.append(op)
        return op

    @property
    def ops(self) -> list[Op]:
        return list(self._order)

    def __iter__(self) -> Iterator[Op]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, name: str) -> Op:
        try:
            return self.g.nodes[name]["op"]
        except KeyError:
            raise KeyError(f"workload {self.name!r} has no op {name!r}") from None

    def deps(self, name: str) -> list[str]:
        return list(self.g.predecessors(name))

    @property
    def total_flops(self) -> int:
        return sum(o.total_flops for o in self._order)

    @property
    def total_bytes(self) -> int:
        return sum(o.total_bytes for o in self._order)

    def bytes_by_role(self) -> dict[str, int]:
        out = dict.fromkeys(ROLES, 0)
        for o in self._order:
            for r, b in o.bytes_by_role.items():
                out[r] += b * o.count
        return out

    def expanded(self) -> "Graph":
        """One op per instance (names get `.i` suffixes, counts become 1), chained in instance order.

        A run of consecutive ops with the same count > 1 is a layer: instance i of each forms layer
        i, whose first op depends on layer i-1's last; edges from before the run attach to layer 0.
        """
        out = Graph(self.name, self.meta)
        groups: list[list[Op]] = []   # runs of consecutive ops sharing a count
        for op in self._order:
            if groups and groups[-1][0].count == op.count:
                groups[-1].append(op)
            else:
                groups.append([op])
        rename: dict[str, list[str]] = {}
        for grp in groups:
            n = grp[0].count
            members = {op.name for op in grp}
            for i in range(n):
                for op in grp:
                    if n == 1:
                        new, inst = op.name, op
                    else:
                        new = f"{op.name}.{i}"
                        inst = Op(new, op.kind, op.einsum, dict(op.dims), op.operands, 1,
                                  f"{op.layer}.{i}" if op.layer else str(i), op.flops_per_point, op.tags)
                    # inside a repeated group: same instance; from outside: only the first instance
                    deps = [rename[d][i] if d in members else rename[d][-1]
                            for d in self.g.predecessors(op.name) if d in members or i == 0]
                    if i > 0 and op is grp[0]:
                        deps.append(rename[grp[-1].name][i - 1])
                    out.add(inst, deps)
                    rename.setdefault(op.name, []).append(new)
        return out


@dataclass(frozen=True, eq=False)
class AttentionOp(Op):
    """Attention as one op: softmax(Q K^T) V over B batches, H query heads in `kv_heads` groups (GQA),
    P queries, M keys, head dims E (Q, K) and F (V). `parts` are the unfused ops (score GEMM, softmax,
    context GEMM) a unit that cannot run attention whole runs instead, exactly as the unfused lowering
    emits them. Costs are the parts' FLOPs and MACs; bytes are Q, K, V and the output only (the score
    matrix never leaves a unit that fuses)."""

    parts: tuple[Op, ...] = ()
    causal: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for d in "bhgpmef":
            if d not in self.dims:
                raise WorkloadError(f"attention op {self.name!r}: missing dim {d!r} (b, h, g, p, m, e, f)")

    @property
    def flops(self) -> int:
        return sum(p.flops for p in self.parts)

    @property
    def macs(self) -> int:
        return sum(p.macs for p in self.parts)

    @property
    def shape(self) -> dict[str, int | bool]:
        """B, H (query heads), KV heads, P, M, E, F and causal, as attention units read them."""
        d = self.dims
        return {"B": d["b"], "H": d["h"] * d["g"], "kv_heads": d["h"], "P": d["p"], "M": d["m"],
                "E": d["e"], "F": d["f"], "causal": self.causal}

    def with_count(self, count: int) -> "AttentionOp":
        return AttentionOp(self.name, self.kind, self.einsum, dict(self.dims), self.operands, count, self.layer,
                           self.flops_per_point, self.tags, tuple(p.with_count(count) for p in self.parts),
                           self.causal)


ELTWISE_KINDS = {"add": 2, "mul": 2, "relu": 1}


def eltwise_op(name: str, kind: str, n: int, bits: int = 16, count: int = 1) -> Op:
    """c = a + b, a * b or relu(a) over n elements (`--eltwise add:N`): an `elementwise` op tagged with
    its kind, one FLOP an element."""
    if kind not in ELTWISE_KINDS:
        raise WorkloadError(f"element-wise op {name!r}: kind {kind!r} is not one of {', '.join(ELTWISE_KINDS)}")
    ins = tuple(Operand(x, "activation", ("n",), bits) for x in "ab"[:ELTWISE_KINDS[kind]])
    return Op(name, "elementwise", ",".join(["n"] * len(ins)) + "->n", {"n": n},
              ins + (Operand("c", "output", ("n",), bits),), count, tags=(kind,))


def attention_op(name: str, B: int, H: int, P: int, M: int, E: int, F: int | None = None,
                 kv_heads: int | None = None, causal: bool = False, bits: int = 16, kv_bits: int | None = None,
                 count: int = 1, layer: str | None = None, kv_cached: bool = False,
                 tags: tuple[str, ...] = ("attention",)) -> AttentionOp:
    """The fused attention op and its unfused parts (qk GEMM, softmax with 5 FLOPs a score, av GEMM).

    `kv_cached`: K and V are read from the KV cache (decode) rather than being fresh activations."""
    F = E if F is None else F
    kvh = H if kv_heads is None else kv_heads
    for key, val in dict(B=B, H=H, P=P, M=M, E=E, F=F, kv_heads=kvh).items():
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            raise WorkloadError(f"attention {name!r}: {key} must be a positive integer, got {val!r}")
    if H % kvh:
        raise WorkloadError(f"attention {name!r}: H={H} query heads do not split evenly over kv_heads={kvh}")
    kb = bits if kv_bits is None else kv_bits
    kv_role = "kv_cache" if kv_cached else "activation"
    dims = {"b": B, "h": kvh, "g": H // kvh, "p": P, "m": M, "e": E, "f": F}
    q = Operand("q", "activation", ("b", "h", "g", "p", "e"), bits)
    k = Operand("k", kv_role, ("b", "h", "m", "e"), kb if kv_cached else bits)
    v = Operand("v", kv_role, ("b", "h", "m", "f"), kb if kv_cached else bits)
    scores = ("b", "h", "g", "p", "m")
    lyr = layer if layer is not None else ("layer" if count > 1 else None)
    qk = Op("qk", "gemm", "bhgpe,bhme->bhgpm", {d: dims[d] for d in "bhgpme"},
            (q, k, Operand("scores", "output", scores, bits)), count, lyr, None, tags)
    sm = Op("softmax", "softmax", "bhgpm->bhgpm", {d: dims[d] for d in "bhgpm"},
            (Operand("scores", "activation", scores, bits), Operand("probs", "output", scores, bits)),
            count, lyr, 5, tags)
    av = Op("av", "gemm", "bhgpm,bhmf->bhgpf", {d: dims[d] for d in "bhgpmf"},
            (Operand("probs", "activation", scores, bits), v,
             Operand("ctx", "output", ("b", "h", "g", "p", "f"), bits)),
            count, lyr, None, tags)
    return AttentionOp(name, "attention", "bhgpe,bhme,bhmf->bhgpf", dims,
                       (q, k, v, Operand("ctx", "output", ("b", "h", "g", "p", "f"), bits)), count, lyr, None, tags,
                       (qk, sm, av), causal)
