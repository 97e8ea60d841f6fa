"""Bandwidth + latency levels: the `kind: simple` off-chip stand-in and links (PCIe, NoC, TSV).

Transfers are serialised on one pipe. Time within a busy period is computed from the bytes moved
since the period began (exact rational arithmetic, rounded up once), so a million small requests
take exactly as long as one large one: no per-request rounding drift.
"""
from __future__ import annotations

from fractions import Fraction

from archsim.engine import Engine, PS_PER_S
from archsim.errors import ConfigError
from memory.request import MemoryLevel, Request

# name -> (bandwidth bytes/s, latency ps, source)
LINK_PRESETS: dict[str, tuple[float, int, str]] = {
    # PCIe: 128b/130b encoding; GT/s per lane x lanes / 8 bits; one-way latency ~ 500 ns end to end
    "pcie4_x4": (16e9 * 4 * 128 / 130 / 8, 500_000, "PCIe 4.0 base spec: 16 GT/s/lane, 128b/130b"),
    "pcie4_x16": (16e9 * 16 * 128 / 130 / 8, 500_000, "PCIe 4.0 base spec: 16 GT/s/lane, 128b/130b"),
    "pcie5_x4": (32e9 * 4 * 128 / 130 / 8, 500_000, "PCIe 5.0 base spec: 32 GT/s/lane, 128b/130b"),
    "pcie5_x16": (32e9 * 16 * 128 / 130 / 8, 500_000, "PCIe 5.0 base spec: 32 GT/s/lane, 128b/130b"),
    # on-chip mesh link: 64 B flits at 1 GHz, 4 hops x 2.5 ns router+wire
    "noc": (64e9, 10_000, "64 B/cycle at 1 GHz, 4 hops of 2.5 ns (typical mesh NoC)"),
    # HBM-style TSV stack: 1024 data TSVs at 2 Gb/s each, ~1 ns traversal
    "tsv": (1024 * 2e9 / 8, 1_000, "1024 TSVs at 2 Gb/s (HBM2 interface width and rate)"),
}


class Pipe(MemoryLevel):
    """One serialised transfer channel of fixed bandwidth plus a fixed latency."""

    def __init__(self, name: str, engine: Engine, bandwidth_bytes_per_s: float, latency_ps: int,
                 energy_per_byte_pj: float = 0.0, capacity_bytes: int | None = None) -> None:
        if bandwidth_bytes_per_s <= 0 or latency_ps < 0:
            raise ConfigError(f"memory level {name!r}: bandwidth must be positive and latency "
                              f"non-negative (got {bandwidth_bytes_per_s} B/s, {latency_ps} ps)")
        super().__init__(name, engine, capacity_bytes, energy_per_byte_pj)
        self.bandwidth_bytes_per_s = bandwidth_bytes_per_s
        self.latency_ps = int(latency_ps)
        self._ps_per_byte = Fraction(PS_PER_S) / Fraction(bandwidth_bytes_per_s).limit_denominator(10**6)
        self._period_start_ps = 0
        self._period_bytes = 0
        self._busy_until_ps = 0
        self.busy_ps = 0

    def _xfer_ps(self, nbytes: int) -> int:
        q = nbytes * self._ps_per_byte
        return -((-q.numerator) // q.denominator)

    def submit(self, req: Request) -> None:
        self._check(req)
        now = self.engine.now
        req.issue_ps = now
        if now >= self._busy_until_ps:          # idle: a new busy period starts now
            self._period_start_ps, self._period_bytes = now, 0
        self._period_bytes += req.nbytes
        end = self._period_start_ps + self._xfer_ps(self._period_bytes)
        self.busy_ps += end - max(now, self._busy_until_ps)
        self._busy_until_ps = end
        self._account(req)
        self._finish_at(req, end + self.latency_ps)

    @property
    def peak_bytes_per_s(self) -> float:
        return self.bandwidth_bytes_per_s

    def stream_time_ps(self, nbytes: int, is_write: bool = False, addr: int = 0) -> int:
        return self.latency_ps + self._xfer_ps(nbytes)

    def level_stats(self) -> dict:
        return {"busy_ps": self.busy_ps, "bandwidth_gbps": self.bandwidth_bytes_per_s / 1e9,
                "latency_ps": self.latency_ps}


def link_from_preset(name: str, engine: Engine, preset: str) -> Pipe:
    if preset not in LINK_PRESETS:
        raise ConfigError(f"link {name!r}: unknown preset {preset!r}; "
                          f"expected one of {', '.join(sorted(LINK_PRESETS))}")
    bw, lat, _src = LINK_PRESETS[preset]
    return Pipe(name, engine, bw, lat)
