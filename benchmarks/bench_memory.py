"""Speed of the memory models (printed, never asserted).

    .venv/bin/python benchmarks/bench_memory.py [--n 20000]

1. cycle-mode DDR4-3200 random reads: requests simulated per second of wall time (target >= 100k/s)
2. fast-mode DDR4-3200 sequential streaming of 1 GiB, cold (profile included) and warm (target < 1 s)
3. flash page operations per second (cycle) on the Cambricon-LLM preset
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archsim.engine import Engine                       # noqa: E402
from memory import Request                              # noqa: E402
from memory.dram.fast import _profile, _profile_random  # noqa: E402
from memory.dram.level import DramLevel                 # noqa: E402
from memory.dram.spec import load_spec                  # noqa: E402
from memory.flash.level import FlashLevel, load_flash_spec   # noqa: E402
from memory.patterns import generate                    # noqa: E402
from memory.trace import replay                         # noqa: E402

GIB = 1 << 30


def bench_cycle_random(n: int) -> None:
    lvl = DramLevel("ddr4", Engine(), load_spec("DDR4-3200"))
    a, w, c = generate("rand_rd", lvl.mapping, n, seed=1)
    t0 = time.perf_counter()
    s = replay(lvl, a, w, c, 64, lvl.clock)
    dt = time.perf_counter() - t0
    cmds = sum(s["commands"].values())
    print(f"cycle  DDR4-3200 rand_rd  {n} requests in {dt:.3f} s = {n / dt:,.0f} req/s "
          f"(target 100,000)  [{s['total_cycles']} DRAM cycles, {s['bandwidth_gbps']:.2f} GB/s, "
          f"{cmds / n:.2f} commands/request, {dt / cmds * 1e6:.2f} us/command]")


def bench_fast_stream() -> None:
    for mapping in ("rochrababgco", "rorabacobgch"):
        _profile.cache_clear()
        _profile_random.cache_clear()
        for label in ("cold", "warm"):
            lvl = DramLevel("ddr4", Engine(), load_spec("DDR4-3200"), mapping=mapping, fidelity="fast")
            t0 = time.perf_counter()
            for i in range(1024):                     # 1 GiB as 1 MiB requests through the level
                lvl.submit(Request(i << 20, 1 << 20, False, "bench"))
            lvl.engine.run()
            dt = time.perf_counter() - t0
            s = lvl.stats()
            print(f"fast   DDR4-3200 {mapping} 1 GiB seq_rd ({label}) in {dt:.3f} s (target < 1 s)  "
                  f"[{s['time_ns'] / 1e6:.2f} ms simulated, {s['bandwidth_gbps']:.2f} GB/s]")


def bench_flash(n: int) -> None:
    spec = load_flash_spec("cambricon_llm", {"channels": 32})
    f = FlashLevel("flash", Engine(), spec)
    t0 = time.perf_counter()
    for i in range(n):
        f.submit(Request((i * 7919 % 100_000) * spec.page_size, spec.page_size, False, "bench"))
    f.engine.run()
    dt = time.perf_counter() - t0
    print(f"cycle  flash cambricon_llm x32  {n} page reads in {dt:.3f} s = {n / dt:,.0f} pages/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    args = ap.parse_args()
    bench_cycle_random(args.n)
    bench_fast_stream()
    bench_flash(args.n)


if __name__ == "__main__":
    main()
