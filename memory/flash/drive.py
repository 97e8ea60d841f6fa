"""Drive a flash level with a synthetic page pattern or a DRAMSim3-format trace (arrival in ns)."""
from __future__ import annotations

import numpy as np

from archsim.errors import ArchsimError
from memory.flash.level import FlashLevel
from memory.request import Request

FLASH_PATTERNS = ("seq_rd", "rand_rd", "rand_mix", "seq_wr")


def flash_requests(level: FlashLevel, pattern: str, n: int, seed: int = 1):
    """(addr, is_write) arrays of one request per page (or per read slice) for `pattern`."""
    s = level.spec
    rng = np.random.default_rng(seed)
    size = s.read_slice or s.page_size
    pages = level.capacity_bytes // s.page_size
    i = np.arange(n, dtype=np.int64)
    writes = np.zeros(n, dtype=bool)
    if pattern in ("seq_rd", "seq_wr"):
        addr = (i % pages) * s.page_size
        writes[:] = pattern == "seq_wr"
    elif pattern in ("rand_rd", "rand_mix"):
        addr = rng.integers(0, pages, n, dtype=np.int64) * s.page_size
        if pattern == "rand_mix":
            writes = rng.random(n) < 1 / 3
    else:
        raise ArchsimError(f"flash pattern {pattern!r} unknown; expected one of {', '.join(FLASH_PATTERNS)}")
    return addr, writes, size


def run_flash(level: FlashLevel, pattern: str | None, trace: str | None, n: int, seed: int) -> dict:
    engine, s = level.engine, level.spec
    latencies: list[int] = []

    def done(req: Request) -> None:
        latencies.append(req.done_ps - req.issue_ps)
    if trace:
        from memory.trace import read_trace
        addrs, writes, arrive_ns = read_trace(trace)
        for a, w, t in zip(addrs.tolist(), writes.tolist(), arrive_ns.tolist()):
            size = s.page_size if w else (s.read_slice or s.page_size)
            engine.at(t * 1000, lambda a=a, w=w, size=size: level.submit(Request(a, size, w, "trace", done)))
    else:
        addrs, writes, size = flash_requests(level, pattern, n, seed)
        for a, w in zip(addrs.tolist(), writes.tolist()):
            level.submit(Request(a, s.page_size if w else size, w, "pattern", done))
    engine.run()
    lat = np.asarray(latencies, dtype=np.float64) / 1000
    out = level.stats()
    out.update({"source": s.source, "avg_latency_us": float(lat.mean() / 1000) if lat.size else 0.0,
                "p99_latency_us": float(np.percentile(lat, 99) / 1000) if lat.size else 0.0})
    return out
