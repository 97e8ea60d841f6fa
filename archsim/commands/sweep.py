"""`archsim sweep SPEC`: expand a sweep spec and run its points into a resumable SQLite store."""
from __future__ import annotations

import argparse
import sys

from archsim.errors import ArchsimError
from archsim.commands._common import nonnegative_int, positive_int


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("sweep", help="run a design-space sweep into a resumable results store",
                       description="Expand SPEC (YAML) into design points and simulate each, committing every "
                                   "point to the results database the moment it finishes.")
    p.add_argument("spec", help="sweep spec YAML (see configs/sweeps/)")
    p.add_argument("--db", default="results.sqlite", help="results database (default: results.sqlite)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="local worker processes (default: CPU count; 1 = in-process)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask scheduler")
    where.add_argument("--dask-local", type=positive_int, metavar="N", help="run on a local Dask cluster of N workers")
    p.add_argument("--resume", action="store_true", help="continue a sweep already in --db (redoes failed points)")
    p.add_argument("--retries", type=nonnegative_int, default=1,
                   help="retries for a point whose worker crashed (default 1)")
    p.add_argument("--limit", type=positive_int, default=None, help="run at most N of the remaining points")
    p.add_argument("--dry-run", action="store_true", help="validate and count the points, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(args: argparse.Namespace) -> int:
    import os

    from archsim.sweep.execute import Backend, run_sweep
    from archsim.sweep.spec import expand
    from archsim.sweep.store import Store

    for flag in ("workers", "retries", "limit", "dask_local"):
        v = getattr(args, flag)
        if v is not None and v < (1 if flag in ("workers", "dask_local") else 0):
            raise ArchsimError(f"--{flag.replace('_', '-')} must be {'>= 1' if flag != 'retries' else '>= 0'}, got {v}")
    sweep = expand(args.spec)  # validates every point before anything runs
    skipped = sum(p.skip_reason is not None for p in sweep.points)
    print(f"sweep {sweep.spec.name!r}: {len(sweep.points)} points ({skipped} skipped by constraints, "
          f"{sweep.duplicates} duplicates removed)")
    if args.dry_run:
        return 0
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    backend = Backend(workers=workers, scheduler=args.scheduler, dask_local=args.dask_local)
    with Store(args.db) as store:
        s = run_sweep(sweep, store, backend, resume=args.resume, retries=args.retries, limit=args.limit,
                      progress=not args.quiet and sys.stderr.isatty())
    print(f"{s.ok} ok, {s.skipped} skipped, {s.failed} failed, {s.already_done} already done, "
          f"{s.retried} retries in {s.wall_s:.1f} s -> {args.db}")
    if s.failed:
        print(f"failed points keep their error and traceback: archsim results {args.db} --where \"status == 'failed'\"")
    return 1 if s.failed else 0
