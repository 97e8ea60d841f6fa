"""Physical address -> (channel, rank, bank group, bank, row, column) from a field-order string.

The string lists two-letter fields MSB first, exactly DRAMSim3's `address_mapping` syntax
(`rochrababgco`: row bits on top, column bits just above the burst offset). Widths come from
the organisation. Optional XOR hashing folds the low row bits into the bank and bank-group bits,
which spreads row-strided streams over banks (permutation-based interleaving, Zhang et al. MICRO'00).
"""
from __future__ import annotations

import numpy as np

from archsim.errors import ConfigError

FIELDS = ("ch", "ra", "bg", "ba", "ro", "co")


def _log2(v: int) -> int:
    return v.bit_length() - 1


class AddressMapping:
    def __init__(self, order: str, widths: dict[str, int], offset_bits: int, xor_bank_hash: bool = False):
        toks = [order[i:i + 2] for i in range(0, len(order), 2)]
        if len(order) % 2 or sorted(toks) != sorted(FIELDS):
            raise ConfigError(
                f"address mapping {order!r}: expected each of the fields {', '.join(FIELDS)} exactly once, "
                "two letters each, MSB first (DRAMSim3 syntax, e.g. 'rochrababgco')")
        self.order = order
        self.widths = dict(widths)
        self.offset_bits = offset_bits
        self.xor_bank_hash = xor_bank_hash
        self.shift: dict[str, int] = {}
        pos = offset_bits
        for t in reversed(toks):          # LSB first
            self.shift[t] = pos
            pos += widths[t]
        self.total_bits = pos
        self.mask = {t: (1 << widths[t]) - 1 for t in FIELDS}
        # flattened for the hot path
        self._sm = tuple((self.shift[t], self.mask[t]) for t in FIELDS)

    @classmethod
    def for_spec(cls, order: str, spec, channels: int, ranks: int, xor_bank_hash: bool = False) -> "AddressMapping":
        for what, v in (("channels", channels), ("ranks", ranks)):
            if v < 1 or v & (v - 1):
                raise ConfigError(f"dram: {what} must be a power of two for bit-field mapping, got {v}")
        widths = {"ch": _log2(channels), "ra": _log2(ranks), "bg": _log2(spec.bankgroups),
                  "ba": _log2(spec.banks_per_group), "ro": _log2(spec.rows), "co": _log2(spec.bursts_per_row)}
        return cls(order, widths, _log2(spec.burst_bytes), xor_bank_hash)

    @property
    def capacity_bytes(self) -> int:
        return 1 << self.total_bits

    def decode(self, addr: int) -> tuple[int, int, int, int, int, int]:
        """(channel, rank, bankgroup, bank, row, column) of a byte address."""
        (cs, cm), (rs, rm), (gs, gm), (bs, bm), (os_, om), (ks, km) = self._sm
        ro = (addr >> os_) & om
        bg = (addr >> gs) & gm
        ba = (addr >> bs) & bm
        if self.xor_bank_hash:
            bg ^= ro & gm
            ba ^= (ro >> self.widths["bg"]) & bm
        return (addr >> cs) & cm, (addr >> rs) & rm, bg, ba, ro, (addr >> ks) & km

    def decode_array(self, addrs: np.ndarray) -> tuple[np.ndarray, ...]:
        """`decode` over an int64 array of byte addresses: six int64 arrays (ch, ra, bg, ba, ro, co)."""
        a = np.asarray(addrs, dtype=np.int64)
        ch, ra, bg, ba, ro, co = ((a >> s) & m for s, m in self._sm)
        if self.xor_bank_hash:
            bg = bg ^ (ro & self.mask["bg"])
            ba = ba ^ ((ro >> self.widths["bg"]) & self.mask["ba"])
        return ch, ra, bg, ba, ro, co

    def encode(self, ch: int = 0, ra: int = 0, bg: int = 0, ba: int = 0, ro: int = 0, co: int = 0) -> int:
        """Byte address of a burst (inverse of `decode`, hashing included)."""
        if self.xor_bank_hash:
            bg ^= ro & self.mask["bg"]
            ba ^= (ro >> self.widths["bg"]) & self.mask["ba"]
        a = 0
        for t, v in zip(FIELDS, (ch, ra, bg, ba, ro, co)):
            if not 0 <= v <= self.mask[t]:
                raise ConfigError(f"address field {t}={v} out of range (width {self.widths[t]} bits)")
            a |= v << self.shift[t]
        return a
