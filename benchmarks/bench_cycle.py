"""`cycle` fidelity at model scale (issue 11): the LLaMA-2-7B decode step (batch 8, KV 2048) on
configs/tpu_like_hbm2.yaml and the LLaMA-2-7B prefill of 512 tokens on configs/edge_ddr4.yaml, each in
`fast` and `cycle` (steady-state sampling), and `cycle` beside `cycle --exact` on GPT-2 (the exact run
on the smaller model), with events per second (engine events plus the compiled DRAM core's
controller wake-ups) and the sampled runs' error bars. Targets: decode < 30 s, prefill < 60 s in `cycle`.

    python benchmarks/bench_cycle.py [--skip-exact]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import archsim  # noqa: E402
import archsim.runner as runner  # noqa: E402

CASES = [  # (label, config, workload, the smaller workload for --exact, target s for cycle)
    ("llama2-7b decode b8 kv2048", "tpu_like_hbm2.yaml",
     {"model": "llama2-7b", "phase": "decode", "batch": 8, "kv": 2048},
     ("gpt2 decode b8 kv1024", {"model": "gpt2", "phase": "decode", "batch": 8, "kv": 1024}), 30.0),
    ("llama2-7b prefill 512", "edge_ddr4.yaml",
     {"model": "llama2-7b", "phase": "prefill", "batch": 1, "seq": 512},
     ("gpt2 prefill 512", {"model": "gpt2", "phase": "prefill", "batch": 1, "seq": 512}), 60.0),
]


class _Systems:
    """Remembers the System each run builds, to count its events."""

    def __init__(self) -> None:
        self.last = None
        self._orig = runner.System

    def __call__(self, design):
        self.last = self._orig(design)
        return self.last

    def events(self) -> int:
        s = self.last
        native = getattr(getattr(s.offchip, "level", s.offchip), "_native", None)
        return s.engine.events_run + (native.wakeups if native else 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-exact", action="store_true", help="leave out the GPT-2 cycle / cycle --exact pair")
    args = ap.parse_args()
    systems = _Systems()
    runner.System = systems
    print(f"{'case':30s} {'fidelity':14s} {'wall s':>8s} {'sim time us':>15s} {'error us':>9s} {'events/s':>10s}")
    for label, cfg, wl, small, target in CASES:
        design = archsim.load_config(ROOT / "configs" / cfg)
        rows = [(label, wl, "fast"), (label, wl, "cycle")]
        if not args.skip_exact:
            name, swl = small
            rows += [(name, swl, "cycle"), (name, swl, "cycle --exact")]
        base = {}
        for name, w, fid in rows:
            t0 = time.perf_counter()
            tot = archsim.run(design, w, fidelity=fid.split()[0], exact="exact" in fid).totals
            wall = time.perf_counter() - t0
            ev = systems.events()
            ratio = f"{wall / base[name]:.1f}x" if name in base else "1.0x"
            base.setdefault(name, wall)
            print(f"{name:30s} {fid:14s} {wall:8.2f} {tot['time_ns'] / 1e3:15,.1f} "
                  f"{tot.get('error_ns', 0.0) / 1e3:9,.1f} {ev / wall:10,.0f}  ({ratio} of the first row)")
            if fid == "cycle" and w is wl:
                print(f"{'':30s} target < {target:.0f} s in cycle: {'ok' if wall < target else 'MISSED'}")


if __name__ == "__main__":
    main()
