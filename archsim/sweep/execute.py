"""Run a sweep's points on a local process pool or a Dask cluster, recording each point as it finishes.

Workers get plain dicts and return plain dicts; only this (parent) process writes the store, one commit
per point. A point whose evaluation raises an unexpected exception, or whose worker dies, is retried
up to `retries` times; an `ArchsimError` (bad input) is deterministic and recorded at once. A failed
point never stops the sweep.

Points that differ only in the off-chip link (`link_free_key`) go to one worker together, in order, as one
task of at most `GROUP_POINTS` points: the mapper's per-process cost tables (dataflows/cost.py) are reused
across them instead of being rebuilt by each worker. Each point's result is still committed on its own.
"""
from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import time
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from archsim.errors import ArchsimError
from archsim.sweep.spec import Point, Sweep
from archsim.sweep.store import DONE, Store

DEFAULT_EVALUATOR = "archsim.sweep.evaluate:evaluate_point"
GROUP_POINTS = 10   # points per task at most: bounds the wait before a group's results are committed
_Group = list[tuple[Point, int]]   # points of one task, each with its attempt number


def _load(evaluator: str) -> Callable[..., dict]:
    module, _, func = evaluator.partition(":")
    return getattr(importlib.import_module(module), func)


def run_task(task: dict[str, Any], evaluator: str = DEFAULT_EVALUATOR) -> dict[str, Any]:
    """Evaluate one point in a worker; never raises, so one bad point cannot take the pool down."""
    t0 = time.perf_counter()
    try:
        report = _load(evaluator)(task["design"], task["workload"], fidelity=task["fidelity"])
        return {"status": "ok", "report": report, "runtime_s": time.perf_counter() - t0}
    except Exception as exc:  # recorded, not raised: the sweep goes on
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                "retryable": not isinstance(exc, ArchsimError), "runtime_s": time.perf_counter() - t0}


def run_group(tasks: list[dict[str, Any]], evaluator: str = DEFAULT_EVALUATOR) -> list[dict[str, Any]]:
    """Evaluate a group of points in order in one worker (they share its cost tables); never raises."""
    return [run_task(t, evaluator) for t in tasks]


def link_free_key(p: Point) -> str:
    """What a point simulates, apart from its off-chip link: points with equal keys share mapper cost
    tables. Only a dispatch hint: the tables themselves check their context, so a coarse key is safe."""
    design = dict(p.design or {})
    design["memory"] = {k: v for k, v in (design.get("memory") or {}).items() if k != "offchip"}
    return json.dumps([design, p.workload, p.fidelity], sort_keys=True, default=str)


def group_points(points: list[Point], size: int = GROUP_POINTS) -> list[list[Point]]:
    """Points with one `link_free_key`, in sweep order, cut into groups of at most `size`; groups are
    ordered by their first point."""
    by_key: dict[str, list[int]] = {}
    for i, p in enumerate(points):
        by_key.setdefault(link_free_key(p), []).append(i)
    cuts = sorted(g[i:i + size] for g in by_key.values() for i in range(0, len(g), size))
    return [[points[i] for i in cut] for cut in cuts]


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the sweep process dies, even by SIGKILL, so no
    orphan keeps computing. Linux delivers SIGKILL on the parent's death (PR_SET_PDEATHSIG);
    elsewhere, and for a parent that died before the call, a daemon thread polls the parent id."""
    import signal
    import threading

    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class _InlineExecutor(Executor):
    """`--workers 1`: evaluate in this process (debuggable, no pickling, no process start-up)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - run_task never raises
            f.set_exception(exc)
        return f


@dataclass
class Backend:
    """Where points run. `make()` builds a fresh executor (again after a worker crash broke the pool)."""

    workers: int = 1
    scheduler: str | None = None
    dask_local: int | None = None
    dask_processes: bool = True  # False: local Dask workers are threads of this process (tests)
    _client: Any = field(default=None, repr=False)
    _cluster: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        if self.scheduler:
            return f"dask scheduler {self.scheduler}"
        if self.dask_local:
            return f"dask local cluster, {self.dask_local} workers"
        return "in-process" if self.workers <= 1 else f"local pool, {self.workers} processes"

    @property
    def slots(self) -> int:
        if self._client is not None:
            n = sum(w.get("nthreads", 1) for w in self._client.scheduler_info().get("workers", {}).values())
            return max(1, n)
        return max(1, self.workers)

    def make(self) -> Executor:
        if self.scheduler or self.dask_local:
            self._connect()
            return self._client.get_executor(pure=False)
        if self.workers <= 1:
            return _InlineExecutor()
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))

    def _connect(self) -> None:
        if self._client is not None:
            return
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ArchsimError("Dask execution needs the cluster extra: pip install 'archsim[cluster]'") from None
        if self.scheduler:
            try:
                self._client = Client(self.scheduler, timeout=10)
            except (OSError, TimeoutError) as exc:
                raise ArchsimError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
        else:
            self._cluster = LocalCluster(n_workers=self.dask_local, threads_per_worker=1,
                                         processes=self.dask_processes,
                                         dashboard_address=None)
            self._client = Client(self._cluster)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


@dataclass
class Summary:
    total: int = 0
    already_done: int = 0
    ok: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    duplicates: int = 0
    wall_s: float = 0.0

    @property
    def ran(self) -> int:
        return self.ok + self.failed


def plan(sweep: Sweep, store: Store, resume: bool, limit: int | None) -> tuple[list[Point], int]:
    """The points still to do (failed ones are redone on resume), and how many are already done."""
    name = sweep.spec.name
    counts = store.counts(sweep=name)
    if counts and not resume:
        raise ArchsimError(f"{store.path} already holds {sum(counts.values())} points of sweep {name!r}; "
                           f"pass --resume to finish it, or use another --db")
    done = store.ids(DONE, sweep=name)
    todo = [p for p in sweep.points if p.point_id not in done]
    return (todo[:limit] if limit is not None else todo), len(sweep.points) - len(todo)


def run_sweep(sweep: Sweep, store: Store, backend: Backend | None = None, *, resume: bool = False,
              retries: int = 1, limit: int | None = None, progress: bool = True,
              evaluator: str = DEFAULT_EVALUATOR) -> Summary:
    """Evaluate every not-yet-done point of `sweep`, committing each to `store` as it completes."""
    backend = backend or Backend()
    todo, already = plan(sweep, store, resume, limit)
    name = sweep.spec.name
    store.set_meta(f"sweep:{name}", {"source": sweep.source, "spec": sweep.spec_data, "params": sweep.param_names})
    store.add_param_columns(sweep.param_names)
    summary = Summary(total=len(sweep.points), already_done=already, duplicates=sweep.duplicates)
    t0 = time.perf_counter()
    with _Progress(progress, len(todo), backend.label) as bar:
        for p in [p for p in todo if p.skip_reason is not None]:
            store.record(name, p, "skipped", error=p.skip_reason, attempts=0)
            summary.skipped += 1
            bar.update(summary)
        runnable = [p for p in todo if p.skip_reason is None]
        try:
            for p, res, attempts in _execute(runnable, backend, retries, evaluator, summary):
                store.record(name, p, res["status"], report=res.get("report"), error=res.get("error"),
                             tb=res.get("traceback"), attempts=attempts, runtime_s=res.get("runtime_s", 0.0))
                setattr(summary, res["status"], getattr(summary, res["status"]) + 1)
                bar.update(summary)
        finally:
            backend.close()
    summary.wall_s = time.perf_counter() - t0
    return summary


def _execute(points: list[Point], backend: Backend, retries: int, evaluator: str,
             summary: Summary) -> Iterator[tuple[Point, dict, int]]:
    """Yield (point, result, attempts) as points finish, keeping a bounded number of groups in flight.
    A retried point runs again on its own."""
    if not points:
        return
    pending: deque[_Group] = deque([(p, 1) for p in g] for g in group_points(points))
    executor = backend.make()
    cap = 2 * backend.slots
    inflight: dict[Future, _Group] = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < cap:
                group = pending.popleft()
                try:
                    inflight[executor.submit(run_group, [p.task() for p, _ in group], evaluator)] = group
                except BrokenProcessPool:
                    pending.appendleft(group)
                    break
            broken = False
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED) if inflight else (set(), set())
            for fut in done:
                group = inflight.pop(fut)
                try:
                    results = fut.result()
                except Exception as exc:  # the worker died (OOM, segfault, kill) or Dask lost it
                    broken = broken or isinstance(exc, BrokenProcessPool)
                    results = [{"status": "failed", "error": f"worker lost: {type(exc).__name__}: {exc}",
                                "traceback": traceback.format_exc(), "retryable": True}] * len(group)
                for (p, attempt), res in zip(group, results):
                    if res["status"] == "failed" and res.get("retryable") and attempt <= retries:
                        summary.retried += 1
                        pending.append([(p, attempt + 1)])
                        continue
                    yield p, res, attempt
            if broken:
                _shutdown(executor)
                for group in inflight.values():
                    pending.appendleft(group)
                inflight.clear()
                executor = backend.make()
    finally:
        _shutdown(executor)


def _shutdown(executor: Executor) -> None:
    """Stop without waiting for in-flight work (Dask's executor has no `cancel_futures`)."""
    if isinstance(executor, ProcessPoolExecutor):
        executor.shutdown(wait=False, cancel_futures=True)
    else:
        executor.shutdown(wait=False)


class _Progress:
    """A rich progress bar with ETA and done/skipped/failed counts (silent when `enabled` is False)."""

    def __init__(self, enabled: bool, total: int, label: str):
        self.enabled, self.total, self.label = enabled, total, label
        self._p: Any = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._p = Progress(TextColumn("[bold]sweep[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                               TextColumn("ok {task.fields[ok]}  skipped {task.fields[skipped]}  "
                                          "[red]failed {task.fields[failed]}[/]"),
                               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                               console=Console(stderr=True))
            self._p.start()
            self._task = self._p.add_task(self.label, total=self.total, ok=0, skipped=0, failed=0)
        return self

    def update(self, s: Summary) -> None:
        if self._p is not None:
            self._p.update(self._task, completed=s.ok + s.skipped + s.failed, ok=s.ok, skipped=s.skipped,
                           failed=s.failed)

    def __exit__(self, *exc: object) -> None:
        if self._p is not None:
            self._p.stop()
