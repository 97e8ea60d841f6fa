"""Sweep throughput: a 1000-point layer-level sweep on the local pool, and Dask LocalCluster 1 vs 2 workers.

Layer-level = one GEMM per point. The grid is 10 square array sizes x 10 off-chip bandwidths x 10
GPT-2/LLaMA layer shapes on configs/default.yaml. Prints wall time, points/s, and the Dask 2:1 ratio.

    .venv/bin/python benchmarks/bench_sweep.py [--workers 2] [--real-points 1000] [--dask-points 40]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archsim.sweep.execute import Backend, run_sweep  # noqa: E402
from archsim.sweep.spec import expand  # noqa: E402
from archsim.sweep.store import Store  # noqa: E402

SHAPES = ["128x2304x768", "128x768x768", "128x3072x768", "128x768x3072", "512x768x768",
          "1x12288x4096", "1x4096x4096", "1x11008x4096", "1x4096x11008", "2048x4096x4096"]


def spec(n_shapes: int = 10, n_sizes: int = 10, n_bw: int = 10) -> dict:
    sizes = [8 * (i + 1) for i in range(n_sizes)]
    return {
        "name": "bench",
        "base": str(REPO / "configs" / "default.yaml"),
        "workloads": [{"name": g, "gemm": [g]} for g in SHAPES[:n_shapes]],
        "axes": [{"zip": {"units.sa.rows": sizes, "units.sa.cols": sizes}},
                 {"grid": {"memory.offchip.bandwidth": [f"{12.8 * (i + 1):g} GB/s" for i in range(n_bw)]}}],
    }


def instant(design: dict, workload: dict, fidelity: str = "fast") -> dict:
    """A zero-cost evaluator: isolates the sweep machinery (pickling, pool, one commit per point)."""
    return {"config": {}, "ops": [], "totals": {"time_ns": 1.0, "macs": 1}}


def timed(sweep, backend: Backend, db: Path, evaluator: str | None = None) -> tuple[float, int]:
    with Store(db) as store:
        t0 = time.perf_counter()
        kw = {"evaluator": evaluator} if evaluator else {}
        s = run_sweep(sweep, store, backend, progress=False, **kw)
        return time.perf_counter() - t0, s.ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--dask-points", type=int, default=40, help="points for the Dask 1 vs 2 comparison")
    ap.add_argument("--real-points", type=int, default=1000, help="points simulated by the real runner")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    # a fresh mapper cache: a warm one (from an earlier run) would time JSON reads, not the mapper
    os.environ["ARCHSIM_CACHE_DIR"] = str(tmp / "cache")

    t0 = time.perf_counter()
    sweep = expand(spec())
    t_expand = time.perf_counter() - t0
    print(f"expand + validate {len(sweep.points)} points: {t_expand:.2f} s")
    wall, ok = timed(sweep, Backend(workers=args.workers), tmp / "overhead.sqlite", "bench_sweep:instant")
    print(f"machinery only (zero-cost evaluator), {args.workers} workers: {ok} points in {wall:.2f} s "
          f"= {ok / wall:.0f} points/s")
    machinery = wall
    real = expand(spec()) if args.real_points >= 1000 else expand(spec(n_shapes=max(1, args.real_points // 100)))
    wall, ok = timed(real, Backend(workers=args.workers), tmp / "pool.sqlite")
    print(f"real runner, local pool, {args.workers} workers: {len(real.points)} points ({ok} ok) in {wall:.1f} s "
          f"= {len(real.points) / wall:.2f} points/s")
    print(f"real / machinery-only wall: {wall / machinery:.0f}x (same workers, same command)")

    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        print("dask not installed: skipping the LocalCluster comparison (pip install 'archsim[cluster]')")
        return
    small = expand(spec(n_shapes=max(1, args.dask_points // 20), n_sizes=10, n_bw=2))
    small.spec.name = "bench-dask"
    times = {}
    for n in (1, 2):
        times[n], ok = timed(small, Backend(dask_local=n), tmp / f"dask{n}.sqlite")
        print(f"dask LocalCluster, {n} worker(s): {len(small.points)} points ({ok} ok) in {times[n]:.1f} s")
    print(f"dask speed-up 2 vs 1 workers: {times[1] / times[2]:.2f}x (ideal 2.00x on >= 2 free cores)")


if __name__ == "__main__":
    main()
