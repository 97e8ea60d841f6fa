"""Speed of the memory models (printed, never asserted).

    .venv/bin/python benchmarks/bench_memory.py [--n 20000]

1. cycle-mode DDR4-3200 random reads: requests simulated per second of wall time (target >= 100k/s),
   Python controller and compiled core (memory/dram/csrc/) on the same trace, side by side
2. fast-mode DDR4-3200 sequential streaming of 1 GiB, cold (profile included) and warm (target < 1 s)
3. flash page operations per second (cycle) on the Cambricon-LLM preset
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archsim.engine import Engine                       # noqa: E402
from memory import Request                              # noqa: E402
from memory.dram.fast import _profile, _profile_random  # noqa: E402
from memory.dram.level import DramLevel                 # noqa: E402
from memory.dram.native import library                  # noqa: E402
from memory.dram.spec import load_spec                  # noqa: E402
from memory.flash.level import FlashLevel, load_flash_spec   # noqa: E402
from memory.patterns import generate                    # noqa: E402
from memory.trace import replay                         # noqa: E402

GIB = 1 << 30


def _replay_random(n: int, native: bool) -> tuple[float, dict]:
    os.environ["ARCHSIM_NATIVE"] = "1" if native else "0"
    lvl = DramLevel("ddr4", Engine(), load_spec("DDR4-3200"))
    a, w, c = generate("rand_rd", lvl.mapping, n, seed=1)
    t0 = time.perf_counter()
    s = replay(lvl, a, w, c, 64, lvl.clock)
    return time.perf_counter() - t0, s


def bench_cycle_random(n: int) -> None:
    """The same trace through the Python controller and the compiled core (memory/dram/csrc/)."""
    saved = os.environ.get("ARCHSIM_NATIVE")
    have_native = library() is not None               # compiles on first use, outside the timing
    if not have_native:
        print("cycle  native core unavailable (ARCHSIM_NATIVE=0 or no C compiler): Python only")
    rates = {}
    for label, native in (("python", False), ("native", True)):
        if native and not have_native:
            break
        dt, s = _replay_random(n, native)
        rates[label] = (n / dt, s)
        cmds = sum(s["commands"].values())
        print(f"cycle  DDR4-3200 rand_rd  {label:6s} {n} requests in {dt:.3f} s = {n / dt:,.0f} req/s "
              f"(target 100,000)  [{s['total_cycles']} DRAM cycles, {s['bandwidth_gbps']:.2f} GB/s, "
              f"{cmds / n:.2f} commands/request, {dt / cmds * 1e6:.3f} us/command]")
    if saved is None:
        os.environ.pop("ARCHSIM_NATIVE", None)
    else:
        os.environ["ARCHSIM_NATIVE"] = saved
    if len(rates) == 2:
        (py, s_py), (nat, s_nat) = rates["python"], rates["native"]
        print(f"cycle  native / python = {nat / py:.1f}x; stats bit-identical: {s_py == s_nat}")


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
