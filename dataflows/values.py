"""Operand values: what a tensor holds, for units whose cycles depend on it (bit-serial engines).

A source is a numpy array, an `.npy`/`.npz` file, or a seeded distribution string:

    normal:STD      rounded N(0, STD)
    uniform         every value of the operand's signed range equally likely
    laplace:B       rounded Laplace(0, B)
    sparse:P,DIST   zero with probability P, else drawn from DIST (e.g. sparse:0.5,normal:20)

Values are signed integers at the operand's stated bits: distributions are rounded and clipped to
[-2^(bits-1), 2^(bits-1)-1]; a file's values must already lie there. A draw is deterministic for a
seed (and the op and operand names, so two layers do not get the same weights). Every source has a
hashable `key` for caches. Units that do not look at values never draw them.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archsim.errors import WorkloadError

VALUE_ROLES = ("weight", "activation", "kv_cache")
DRAW_CHUNK = 1 << 22        # values drawn per numpy call
_NUM = r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
DIST_HELP = "normal:STD, uniform, laplace:B, sparse:P,<dist> or an .npy/.npz file"


def signed_range(bits: int) -> tuple[int, int]:
    """The two's-complement range of `bits`-bit integers."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


@dataclass(frozen=True)
class Distribution:
    """A seeded distribution over signed integers (parsed from a string by `parse_source`)."""

    name: str                     # normal | uniform | laplace
    scale: float = 0.0            # STD or B
    zero_p: float = 0.0           # sparse: probability of an exact zero
    text: str = ""

    @property
    def key(self) -> tuple:
        return ("dist", self.name, self.scale, self.zero_p)

    def pmf(self, bits: int, tails: str = "clip") -> np.ndarray:
        """Probability of each value lo..hi (index v - lo). `tails`: "clip" piles the mass outside the
        range on its ends (what `draw` does); "reject" renormalises it away (redrawing)."""
        lo, hi = signed_range(bits)
        edges = np.arange(lo, hi + 2, dtype=np.float64) - 0.5      # bin v is [v-0.5, v+0.5)
        if self.name == "uniform":
            p = np.full(hi - lo + 1, 1.0 / (hi - lo + 1))
        else:
            cdf = _cdf(self.name, self.scale, edges)
            p = np.diff(cdf)
            if tails == "clip":
                p[0] += cdf[0]
                p[-1] += 1.0 - cdf[-1]
            else:
                p /= p.sum()
        if self.zero_p:
            p = p * (1.0 - self.zero_p)
            p[-lo] += self.zero_p
        return p

    def draw(self, shape: tuple[int, ...], bits: int, rng: np.random.Generator) -> np.ndarray:
        """Rounded, clipped draws as int32, generated in chunks so a large weight never needs a
        float64 copy of itself."""
        lo, hi = signed_range(bits)
        out = np.empty(math.prod(shape), np.int32)
        for i in range(0, out.size, DRAW_CHUNK):
            n = min(DRAW_CHUNK, out.size - i)
            if self.name == "uniform":
                part = rng.integers(lo, hi + 1, size=n)
            else:
                x = rng.normal(0.0, self.scale, n) if self.name == "normal" else rng.laplace(0.0, self.scale, n)
                part = np.clip(np.rint(x), lo, hi)
            if self.zero_p:
                part[rng.random(n) < self.zero_p] = 0
            out[i:i + n] = part
        return out.reshape(shape)


def _cdf(name: str, scale: float, x: np.ndarray) -> np.ndarray:
    if name == "normal":
        erf = np.frompyfunc(math.erf, 1, 1)
        return 0.5 * (1.0 + erf(x / (scale * math.sqrt(2.0))).astype(np.float64))
    return np.where(x < 0, 0.5 * np.exp(np.minimum(x, 0) / scale), 1.0 - 0.5 * np.exp(-np.maximum(x, 0) / scale))


def parse_distribution(text: str) -> Distribution:
    """`normal:10`, `uniform`, `laplace:4`, `sparse:0.5,normal:20` -> a Distribution (clear error otherwise)."""
    t = str(text).strip().lower()
    m = re.fullmatch(r"sparse:" + _NUM + r",(.+)", t)
    if m:
        p = float(m.group(1))
        if not 0.0 <= p <= 1.0:
            raise WorkloadError(f"values {text!r}: the zero probability P of sparse:P,<dist> must lie in [0, 1]")
        inner = parse_distribution(m.group(2))
        if inner.zero_p:
            raise WorkloadError(f"values {text!r}: sparse:P,<dist> cannot nest another sparse:")
        return Distribution(inner.name, inner.scale, p, t)
    if t == "uniform":
        return Distribution("uniform", 0.0, 0.0, t)
    m = re.fullmatch(r"(normal|laplace):" + _NUM, t)
    if m and float(m.group(2)) > 0:
        return Distribution(m.group(1), float(m.group(2)), 0.0, t)
    raise WorkloadError(f"values {text!r} is not a distribution; expected {DIST_HELP} "
                        "(STD and B positive numbers, P in [0, 1])")


@dataclass(frozen=True)
class ArraySource:
    """Values given as arrays: one array, or an .npz's arrays looked up by op and operand name."""

    arrays: Mapping[str, np.ndarray] = field(hash=False, compare=False)
    origin: str = "<array>"
    digest: str = ""

    @property
    def key(self) -> tuple:
        return ("array", self.digest)

    def lookup(self, op: Any, operand: Any) -> np.ndarray:
        if len(self.arrays) == 1:
            return next(iter(self.arrays.values()))
        for k in (f"{op.name}.{operand.name}", f"{op.name}/{operand.name}", op.name, operand.name, operand.role):
            if k in self.arrays:
                return self.arrays[k]
        raise WorkloadError(f"values {self.origin}: no array for op {op.name!r} operand {operand.name!r}; "
                            f"name it '{op.name}.{operand.name}' (has: {', '.join(sorted(self.arrays)[:12])})")


def from_array(arr: Any, origin: str = "<array>") -> ArraySource:
    a = np.asarray(arr)
    return ArraySource({"values": a}, origin, _digest({"values": a}))


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha1()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def load_file(path: str | Path) -> ArraySource:
    p = Path(path)
    if p.suffix not in (".npy", ".npz"):
        raise WorkloadError(f"values {str(path)!r}: expected a .npy or .npz file, or {DIST_HELP}")
    try:
        loaded = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise WorkloadError(f"values {str(path)!r}: cannot read ({exc})") from None
    arrays = {"values": loaded} if p.suffix == ".npy" else {k: loaded[k] for k in loaded.files}
    if not arrays:
        raise WorkloadError(f"values {str(path)!r}: the .npz holds no arrays")
    return ArraySource(arrays, str(path), _digest(arrays))


Source = Distribution | ArraySource


def parse_source(spec: Any) -> Source:
    """A distribution string, an .npy/.npz path, a numpy array, or an already-parsed source."""
    if isinstance(spec, (Distribution, ArraySource)):
        return spec
    if isinstance(spec, np.ndarray):
        return from_array(spec)
    text = str(spec)
    if text.endswith((".npy", ".npz")):
        return load_file(text)
    return parse_distribution(text)


def _seed(seed: int, *names: str) -> np.random.Generator:
    """An rng that depends only on the seed and the names (not on Python's hash randomisation)."""
    h = hashlib.sha256(("\0".join(map(str, (seed, *names)))).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


def check_values(a: np.ndarray, op: Any, operand: Any, origin: str) -> np.ndarray:
    """The operand's values as int32 (half the memory of int64) in its stored shape; errors name the
    op, operand and what is wrong."""
    shape = tuple(op.dims[d] for d in operand.dims)
    where = f"values {origin} for op {op.name!r} operand {operand.name!r}"
    if a.shape != shape:
        raise WorkloadError(f"{where}: shape {a.shape} does not match the operand's {shape} "
                            f"(dims {','.join(operand.dims)})")
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise WorkloadError(f"{where}: dtype {a.dtype} is not numeric")
    if np.issubdtype(a.dtype, np.floating) and not np.array_equal(a, np.rint(a)):
        raise WorkloadError(f"{where}: values must be integers (quantise them to {operand.bits} bits first)")
    lo, hi = signed_range(operand.bits)
    if a.size and (a.min() < lo or a.max() > hi):
        raise WorkloadError(f"{where}: values span [{a.min()}, {a.max()}], outside the operand's "
                            f"{operand.bits}-bit signed range [{lo}, {hi}]")
    return a.astype(np.int32).reshape(shape)


@dataclass
class OperandValues:
    """Which source each operand role draws from, and the seed; `for_op` is what units call."""

    sources: dict[str, Source] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        bad = set(self.sources) - set(VALUE_ROLES)
        if bad:
            raise WorkloadError(f"values: unknown operand role(s) {sorted(bad)}; expected {', '.join(VALUE_ROLES)}")
        self.sources = {r: parse_source(s) for r, s in self.sources.items()}

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None, seed: int = 0) -> OperandValues:
        return cls(dict(spec or {}), seed)

    def __bool__(self) -> bool:
        return bool(self.sources)

    @property
    def key(self) -> tuple:
        return (self.seed, tuple(sorted((r, s.key) for r, s in self.sources.items())))

    def source(self, role: str) -> Source | None:
        return self.sources.get(role) or (self.sources.get("activation") if role == "kv_cache" else None)

    def for_op(self, op: Any, operand: str) -> np.ndarray | None:
        return values_for(op, operand, self.sources, self.seed)

    def pmf_for(self, op: Any, operand: str) -> np.ndarray | None:
        return pmf_for(op, operand, self.sources, self.seed)


def values_for(op: Any, operand: str, sources: Mapping[str, Source], seed: int = 0) -> np.ndarray | None:
    """The values of `op`'s operand `operand` (int32, the stored shape), or None when no source covers
    its role. A distribution is drawn at the operand's bits; an array is checked against shape and bits."""
    o = op.operand(operand)
    src = sources.get(o.role) or (sources.get("activation") if o.role == "kv_cache" else None)
    if src is None:
        return None
    if o.bits > 32:
        raise WorkloadError(f"values for op {op.name!r} operand {o.name!r}: {o.bits}-bit operands are wider "
                            "than values support (32 bits)")
    src = parse_source(src)
    if isinstance(src, Distribution):
        shape = tuple(op.dims[d] for d in o.dims)
        return src.draw(shape, o.bits, _seed(seed, op.name, o.name))
    return check_values(np.asarray(src.lookup(op, o)), op, o, src.origin)


def pmf_for(op: Any, operand: str, sources: Mapping[str, Source], seed: int = 0) -> np.ndarray | None:
    """The probability of each value lo..hi of the operand's `bits`-bit range, without drawing: a
    distribution's pmf (clipped as drawn), or the histogram of a file's (checked) values."""
    o = op.operand(operand)
    src = sources.get(o.role) or (sources.get("activation") if o.role == "kv_cache" else None)
    if src is None:
        return None
    src = parse_source(src)
    if isinstance(src, Distribution):
        return src.pmf(o.bits)
    a = values_for(op, operand, sources, seed)
    lo, _ = signed_range(o.bits)
    h = np.bincount((a.ravel() - lo), minlength=1 << o.bits).astype(np.float64)
    return h / max(h.sum(), 1.0)


def bind_values(unit: Any, op: Any, sources: Mapping[str, Any], seed: int = 0) -> Any:
    """`unit` scoring `op`'s tiles with its operands' values, for units that offer `with_values`
    (bit-serial engines); other units are returned as they are."""
    bind = getattr(unit, "with_values", None)
    if bind is None:
        return unit
    return bind(values_for(op, op.operands[0].name, sources, seed), values_for(op, op.operands[1].name, sources, seed))
