"""`cycle` fidelity at model scale (issue 11): the LLaMA-2-7B decode step (batch 8, KV 2048) on
configs/tpu_like_hbm2.yaml and the LLaMA-2-7B prefill of 512 tokens on configs/edge_ddr4.yaml, each in
`fast`, `cycle` (steady-state sampling) and `cycle --exact` (on a smaller model, named), with events
per second (engine events plus the compiled DRAM core's controller wake-ups) and the sampled run's
error bar. Targets: decode < 30 s, prefill < 60 s in `cycle`.

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

CASES = [  # (label, config, workload, smaller model for --exact, target s for cycle)
    ("llama2-7b decode b8 kv2048", "tpu_like_hbm2.yaml",
     {"model": "llama2-7b", "phase": "decode", "batch": 8, "kv": 2048}, "gpt2", 30.0),
    ("llama2-7b prefill 512", "edge_ddr4.yaml",
     {"model": "llama2-7b", "phase": "prefill", "batch": 1, "seq": 512}, "gpt2", 60.0),
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


def timed(design, wl, systems: _Systems, **kw) -> tuple[float, dict, int]:
    t0 = time.perf_counter()
    rep = archsim.run(design, wl, **kw)
    return time.perf_counter() - t0, rep.totals, systems.events()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-exact", action="store_true", help="leave out the cycle --exact runs")
    args = ap.parse_args()
    systems = _Systems()
    runner.System = systems
    print(f"{'case':34s} {'fidelity':14s} {'wall s':>8s} {'sim time us':>13s} {'error us':>9s} {'events/s':>10s}")
    for label, cfg, wl, small, target in CASES:
        design = archsim.load_config(ROOT / "configs" / cfg)
        rows = [("fast", wl, {"fidelity": "fast"}), ("cycle", wl, {"fidelity": "cycle"})]
        if not args.skip_exact:
            swl = dict(wl, model=small)
            rows += [("cycle", swl, {"fidelity": "cycle"}),
                     ("cycle --exact", swl, {"fidelity": "cycle", "exact": True})]
        base = None
        for fid, w, kw in rows:
            wall, tot, ev = timed(design, w, systems, **kw)
            base = base or wall
            name = label if w is wl else label.replace("llama2-7b", small)
            err = tot.get("error_ns", 0.0) / 1e3
            print(f"{name:34s} {fid:14s} {wall:8.2f} {tot['time_ns'] / 1e3:13,.1f} {err:9,.1f} {ev / wall:10,.0f}"
                  f"  ({wall / base:.1f}x fast)")
            if fid == "cycle" and w is wl:
                print(f"{'':34s} target < {target:.0f} s: {'ok' if wall < target else 'MISSED'}")


if __name__ == "__main__":
    main()
