"""Synthetic DRAM access patterns (the ones the DRAMSim3/Ramulator reference runs used).

Each pattern yields arrays (addr, is_write, arrival_cycle) of burst-aligned byte addresses for a
given mapping; arrival 0 means "as fast as the controller accepts".
"""
from __future__ import annotations

import numpy as np

from archsim.errors import ArchsimError
from memory.dram.mapping import AddressMapping

PATTERNS = ("seq_rd", "rand_rd", "rand_mix", "stream_add", "rowhit", "rowconf", "idle_rand")


def generate(pattern: str, mapping: AddressMapping, n: int, seed: int = 1, gap_cycles: int = 500):
    """(addr int64[n], is_write bool[n], arrival_cycle int64[n]) for `pattern`."""
    rng = np.random.default_rng(seed)
    tx = 1 << mapping.offset_bits
    lines = mapping.capacity_bytes // tx
    i = np.arange(n, dtype=np.int64)
    writes = np.zeros(n, dtype=bool)
    arrive = np.zeros(n, dtype=np.int64)
    if pattern == "seq_rd":
        addr = (i % lines) * tx
    elif pattern in ("rand_rd", "idle_rand"):
        addr = rng.integers(0, lines, n, dtype=np.int64) * tx
        if pattern == "idle_rand":
            arrive = i * gap_cycles
    elif pattern == "rand_mix":
        addr = rng.integers(0, lines, n, dtype=np.int64) * tx
        writes = rng.random(n) < 1 / 3
    elif pattern == "stream_add":                      # a[j] = b[j] + c[j]: two reads, one write
        region, k, j = mapping.capacity_bytes // 4, i % 3, i // 3
        addr = k * region + (j * tx) % region
        writes = k == 2
    elif pattern in ("rowhit", "rowconf"):
        ncol, nrow = 1 << mapping.widths["co"], 1 << mapping.widths["ro"]
        rows = (i // ncol) % nrow if pattern == "rowhit" else i % nrow
        addr = np.array([mapping.encode(ro=int(r), co=int(c)) for r, c in zip(rows, i % ncol)], dtype=np.int64)
    else:
        raise ArchsimError(f"unknown pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")
    return addr, writes, arrive
