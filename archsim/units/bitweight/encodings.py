"""Operand encodings as lookup tables over every value of a signed integer width.

An encoding writes x = sum_b r^b * d_b with digits d_b. A bit-serial PE spends cycles on digits, so
each table holds, for every value lo..hi (row v - lo), its digits and which are non-zero; the
cycle models gather from these rows (numpy fancy indexing), never loop over values. Encodings:

- `parallel`: the whole operand is one digit (bit-parallel MAC; Bit Fusion bricks are `slice2`).
- `radix2`:   two's-complement bits, the top one weighted negative (Stripes processes all of them).
- `popcount`: radix-2 digits of |x| with x's sign: the "essential bits" Pragmatic skips over.
- `booth`:    radix-4 modified Booth, d_i = -2 b(2i+1) + b(2i) + b(2i-1), digits in {-2..2}.
- `ent`:      EN-T: |x| in radix 4 with a carry chain (slice + carry = v; carry = v >= 3;
              digit {0:0, 1:1, 2:2, 3:-1, 4:0}[v]), times x's sign; digits in {-2..2}.
- `csd`:      canonical signed digit (non-adjacent form), radix 2, digits in {-1, 0, 1}.
- `slice2`:   2-bit slices of the two's-complement value, the top one signed (Bit Fusion, BitMoD).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from archsim.errors import ConfigError

ENCODINGS = ("parallel", "radix2", "popcount", "booth", "ent", "csd", "slice2")
ALIASES = {"essential": "popcount", "mbe": "booth", "en-t": "ent", "bitmod": "slice2", "bitfusion": "slice2",
           "stripes": "radix2", "laconic": "booth", "pragmatic": "popcount"}


@dataclass(frozen=True)
class Encoding:
    """Digits of every `bits`-bit signed value under one encoding."""

    name: str
    bits: int
    radix: int
    digits: np.ndarray       # int64 [values, positions]; row v - lo
    nz: np.ndarray           # uint8 [values, positions]: digit is non-zero
    count: np.ndarray        # int64 [values]: non-zero digits per value

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def positions(self) -> int:
        return int(self.digits.shape[1])

    def values(self) -> np.ndarray:
        return np.arange(self.lo, -self.lo, dtype=np.int64)

    def decode(self) -> np.ndarray:
        """sum_b r^b d_b per row: equals `values()` for every encoding (tests hold this)."""
        w = self.radix ** np.arange(self.positions, dtype=np.int64)
        return self.digits @ w


def canonical(name: str) -> str:
    n = ALIASES.get(name.lower(), name.lower())
    if n not in ENCODINGS:
        raise ConfigError(f"encoding {name!r} is unknown; expected one of {', '.join(ENCODINGS)} "
                          f"(aliases: {', '.join(sorted(ALIASES))})")
    return n


def _bits(u: np.ndarray, n: int) -> np.ndarray:
    return (u[:, None] >> np.arange(n, dtype=np.int64)) & 1


@cache
def encoding(name: str, bits: int) -> Encoding:
    """The table of `name` over every `bits`-bit signed value (cached)."""
    name = canonical(name)
    if not 2 <= bits <= 16:
        raise ConfigError(f"encoding {name!r}: operand bits must lie in 2..16, got {bits}")
    lo = -(1 << (bits - 1))
    x = np.arange(lo, -lo, dtype=np.int64)
    u = x & ((1 << bits) - 1)                       # two's-complement bit pattern
    sign = np.where(x < 0, -1, 1)
    mag = np.abs(x)
    half = (bits + 1) // 2
    if name == "parallel":
        radix, d = 1 << bits, x[:, None]
    elif name == "radix2":
        radix, d = 2, _bits(u, bits)
        d[:, -1] *= -1
    elif name == "popcount":
        radix, d = 2, _bits(mag, bits) * sign[:, None]
    elif name == "booth":
        radix = 4
        b = _bits(x & ((1 << (2 * half)) - 1), 2 * half)   # sign-extended to an even width
        prev = np.concatenate([np.zeros((len(x), 1), np.int64), b[:, 1::2]], axis=1)[:, :half]
        d = -2 * b[:, 1::2] + b[:, 0::2] + prev
    elif name == "ent":
        radix = 4
        d = np.zeros((len(x), half), np.int64)
        carry = np.zeros(len(x), np.int64)
        table = np.array([0, 1, 2, -1, 0])
        for i in range(half):
            v = ((mag >> (2 * i)) & 3) + carry
            d[:, i] = table[v]
            carry = (v >= 3).astype(np.int64)
        assert not carry.any(), "EN-T needs one more digit"  # |x| <= 2^(bits-1) never carries out
        d *= sign[:, None]
    elif name == "csd":
        radix = 2
        d = np.zeros((len(x), bits + 1), np.int64)
        rest = x.copy()
        for i in range(bits + 1):
            odd = rest & 1
            di = np.where(odd == 1, 2 - (rest & 3), 0)       # +1 if rest = 1 mod 4, -1 if 3 mod 4
            d[:, i] = di
            rest = (rest - di) >> 1
        d = d[:, :bits] if not d[:, bits].any() else d
    else:  # slice2
        radix = 4
        ext = x & ((1 << (2 * half)) - 1)
        d = (ext[:, None] >> (2 * np.arange(half))) & 3
        d[:, -1] = np.where(d[:, -1] >= 2, d[:, -1] - 4, d[:, -1])
    d = np.ascontiguousarray(d, dtype=np.int64)
    nz = (d != 0).astype(np.uint8)
    return Encoding(name, bits, radix, d, nz, nz.sum(axis=1).astype(np.int64))
