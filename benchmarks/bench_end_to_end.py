"""End-to-end speed of `archsim.run` on model workloads (issue targets in brackets).

- LLaMA-2-7B decode step, batch 8, KV 2048, 32 layers: cold mapping cache [< 2 s], warm [< 0.2 s]
- GPT-2 prefill, 1024 tokens: cold [< 1 s]
- `cycle` fidelity of the default GEMM workload, as the ratio to `fast` in the same process

Cold runs use an empty mapping cache in a temporary directory. Usage: python benchmarks/bench_end_to_end.py
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    os.environ["ARCHSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="archsim-bench-")
    import archsim

    design = archsim.load_config(ROOT / "configs" / "default.yaml")
    decode = {"model": "llama2-7b", "phase": "decode", "batch": 8, "kv": 2048}
    prefill = {"model": "gpt2", "phase": "prefill", "batch": 1, "seq": 1024}
    rows = [
        ("llama2-7b decode b8 kv2048, cold cache", timed(lambda: archsim.run(design, decode)), 2.0),
        ("llama2-7b decode b8 kv2048, warm cache", timed(lambda: archsim.run(design, decode)), 0.2),
        ("gpt2 prefill 1024, cold cache", timed(lambda: archsim.run(design, prefill)), 1.0),
        ("gpt2 prefill 1024, warm cache", timed(lambda: archsim.run(design, prefill)), 1.0),
    ]
    fast = timed(lambda: archsim.run(design, None, fidelity="fast"))
    cycle = timed(lambda: archsim.run(design, None, fidelity="cycle"))
    print(f"{'case':45s} {'seconds':>9s} {'target':>8s}")
    for name, s, target in rows:
        print(f"{name:45s} {s:9.3f} {target:8.1f}  {'ok' if s <= target else 'MISSED'}")
    print(f"default GEMMs: fast {fast:.3f} s, cycle {cycle:.3f} s, cycle/fast = {cycle / fast:.1f}x")


if __name__ == "__main__":
    main()
