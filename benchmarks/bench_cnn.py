"""Speed of the CNN workloads (issue targets in brackets).

- MobileNetV1-224 on the 64x64 design (configs/cnn/draco_64x64.yaml), `fast`, cold mapping cache [< 2 s];
  warm cache, and `cycle`, as ratios to the cold `fast` run in the same process
- the DRACO sweep (configs/sweeps/draco_mobilenet_64x64.yaml, 50 points) on 2 local workers [< 60 s]

Usage: python benchmarks/bench_cnn.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))        # this checkout's archsim, not an installed one


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    os.environ["ARCHSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="archsim-bench-")
    import archsim
    from archsim.cli import main as cli

    design = archsim.load_config(ROOT / "configs" / "cnn" / "draco_64x64.yaml")
    wl = {"model": "mobilenet-v1"}
    cold = timed(lambda: archsim.run(design, wl))
    warm = timed(lambda: archsim.run(design, wl))
    cycle = timed(lambda: archsim.run(design, wl, fidelity="cycle"))
    db = Path(tempfile.mkdtemp(prefix="archsim-bench-")) / "draco.sqlite"
    sweep = timed(lambda: cli(["sweep", str(ROOT / "configs" / "sweeps" / "draco_mobilenet_64x64.yaml"),
                               "--db", str(db), "--workers", "2", "--quiet"]))
    print(f"{'case':52s} {'seconds':>9s} {'target':>8s}")
    print(f"{'mobilenet-v1-224 on 64x64, fast, cold cache':52s} {cold:9.3f} {'< 2':>8s}")
    print(f"{'mobilenet-v1-224 on 64x64, fast, warm cache':52s} {warm:9.3f} {f'x{warm / cold:.2f}':>8s}")
    print(f"{'mobilenet-v1-224 on 64x64, cycle':52s} {cycle:9.3f} {f'x{cycle / cold:.2f}':>8s}")
    print(f"{'DRACO sweep, 50 points, 2 workers':52s} {sweep:9.3f} {'< 60':>8s}")


if __name__ == "__main__":
    main()
