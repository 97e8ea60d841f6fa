"""One OPT-6.7B decode token on Cambricon-LLM S: `fast` (target < 50 ms) and `cycle` (target < 20 s),
with `cycle` also timed without steady-state extrapolation; and one layer of InstInfer's in-drive
attention (OPT-13B, batch 64, context 1536) per command, with and without extrapolation. Baseline in
the same run: a bare `archsim.run` of one 4096x4096 GEMV on the same design, so the ratios compare
across machines.

    python benchmarks/bench_flash.py
"""
from __future__ import annotations

import time
from pathlib import Path

import archsim
from archsim.units.flash_compute.attention import csd_attention_cost
from memory.flash.level import load_flash_spec

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
    drive = archsim.load_config(DESIGN.parent / "instinfer.yaml").units["csd"].attention
    spec = load_flash_spec("instinfer_csd")
    for steady in (True, False):
        t0 = time.perf_counter()
        c = csd_attention_cost(spec, drive, 64, 40, 40, 1536, 128, 128, 2, fidelity="cycle", steady_state=steady)
        took = time.perf_counter() - t0
        f = csd_attention_cost(spec, drive, 64, 40, 40, 1536, 128, 128, 2)
        print(f"in-drive attention, one layer, cycle{'' if steady else ' (no extrapolation)'}: {took:.2f} s "
              f"({took / base:5.0f}x baseline), {c.time_ps / f.time_ps:.3f}x the closed form")


if __name__ == "__main__":
    main()
