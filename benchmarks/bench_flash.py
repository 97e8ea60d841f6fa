"""One OPT-6.7B decode token on Cambricon-LLM S: `fast` (target < 50 ms) and `cycle` (target < 20 s),
with `cycle` also timed without steady-state extrapolation. Baseline in the same run: a bare
`archsim.run` of one 4096x4096 GEMV on the same design, so the ratios compare across machines.

    python benchmarks/bench_flash.py
"""
from __future__ import annotations

import time
from pathlib import Path

import archsim

DESIGN = Path(__file__).resolve().parent.parent / "configs" / "flash" / "cambricon_llm_s.yaml"
TOKEN = {"model": "opt-6.7b", "phase": "decode", "batch": 1, "kv": 1000, "bits": 8}


def timed(design, wl, fidelity: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    rep = archsim.run(design, wl, fidelity=fidelity).to_dict()
    return time.perf_counter() - t0, 1e9 / sum(o["time_ns"] for o in rep["ops"])


def main() -> None:
    design = archsim.load_config(DESIGN)
    exact = archsim.load_config(DESIGN, overrides={"units.flash.steady_state": False})
    archsim.run(design, {"gemm": ["1x4096x4096"]}, fidelity="fast")       # warm imports and plugin loading
    base, _ = timed(design, {"gemm": ["1x4096x4096"]}, "fast")
    fast, f_tok = timed(design, TOKEN, "fast")
    cyc, c_tok = timed(design, TOKEN, "cycle")
    full, x_tok = timed(exact, TOKEN, "cycle")
    print(f"baseline (one GEMV, fast): {base * 1e3:.1f} ms")
    print(f"fast : {fast * 1e3:8.1f} ms  ({fast / base:5.1f}x baseline)  {f_tok:.3f} tok/s   target < 50 ms")
    print(f"cycle: {cyc:8.2f} s   ({cyc / base:5.0f}x baseline)  {c_tok:.3f} tok/s   target < 20 s")
    print(f"cycle, no extrapolation: {full:.2f} s  {x_tok:.3f} tok/s")


if __name__ == "__main__":
    main()
