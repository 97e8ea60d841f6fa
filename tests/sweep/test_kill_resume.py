"""A real SIGKILL of a sweep mid-run, then --resume: zero points lost, zero duplicated, none recomputed."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fake_eval import FAKE

from archsim.sweep.execute import Backend, run_sweep
from archsim.sweep.spec import expand
from archsim.sweep.store import Store

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DRIVER = """
import sys
from archsim.sweep.execute import Backend, run_sweep
from archsim.sweep.spec import expand
from archsim.sweep.store import Store
with Store(sys.argv[2]) as store:
    run_sweep(expand(sys.argv[1]), store, Backend(workers=2), progress=False, evaluator=sys.argv[3])
"""


def _committed(db) -> set[str]:
    with sqlite3.connect(db) as c:
        return {r[0] for r in c.execute("SELECT point_id FROM points WHERE status = 'ok'")}


def _errors(db) -> list:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT status, error FROM points WHERE status != 'ok'").fetchall()


def test_sigkill_then_resume_loses_and_duplicates_nothing(write_spec, tmp_path, monkeypatch):
    spec = write_spec({"workloads": [{"gemm": "64x64x64"}],
                       "axes": [{"grid": {"units.sa.rows": [8, 16, 24, 32, 40, 48],
                                          "units.sa.cols": [8, 16, 24, 32]}}]})
    db, log = tmp_path / "r.sqlite", tmp_path / "evals.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]), "FAKE_EVAL_DELAY": "0.15",
           "FAKE_EVAL_LOG": str(log)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(spec), str(db), FAKE], env=env, cwd=tmp_path,
                            start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                if len(_committed(db)) >= 6:
                    break
            except sqlite3.OperationalError:
                pass  # table not created yet
        time.sleep(0.05)
    assert proc.poll() is None, f"sweep ended before the kill: {proc.stderr.read().decode()[-2000:]}"
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its pool workers, no cleanup
    proc.wait()
    before = _committed(db)
    assert 6 <= len(before) < 24
    evaluated_before = len(log.read_text().splitlines())

    monkeypatch.setenv("FAKE_EVAL_LOG", str(log))
    sweep = expand(spec)
    with Store(db) as store:
        s = run_sweep(sweep, store, Backend(workers=1), resume=True, progress=False, evaluator=FAKE)
    assert (s.already_done, s.ok, s.failed) == (len(before), 24 - len(before), 0), (s, _errors(db))
    with sqlite3.connect(db) as c:
        ids = [r[0] for r in c.execute("SELECT point_id FROM points")]
        statuses = {r[0] for r in c.execute("SELECT status FROM points")}
    assert len(ids) == len(set(ids)) == 24 and set(ids) == {p.point_id for p in sweep.points}
    assert statuses == {"ok"}
    resumed = log.read_text().splitlines()[evaluated_before:]
    assert len(resumed) == 24 - len(before)  # only the points not committed before the kill ran again


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_of_the_sweep_alone_leaves_no_workers(write_spec, tmp_path):
    """Only the sweep process is killed (as a scheduler or the OOM killer would): its pool workers
    notice and exit instead of computing on as orphans."""
    if not Path("/proc/self/stat").exists():
        import pytest
        pytest.skip("needs /proc to find the workers")
    spec = write_spec({"workloads": [{"gemm": "64x64x64"}],
                       "axes": [{"grid": {"units.sa.rows": [8, 16, 24, 32, 40, 48], "units.sa.cols": [8, 16]}}]})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]), "FAKE_EVAL_DELAY": "2"}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(spec), str(tmp_path / "r.sqlite"), FAKE], env=env,
                            cwd=tmp_path, start_new_session=True, stderr=subprocess.PIPE)
    deadline, workers = time.monotonic() + 60, []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [c for c in _children(proc.pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        if len(workers) >= 2:
            break
        time.sleep(0.05)
    assert len(workers) >= 2, f"no pool workers seen: {proc.stderr.read().decode()[-2000:] if proc.poll() else ''}"
    time.sleep(0.3)                       # let them start a 2-second point
    os.kill(proc.pid, signal.SIGKILL)     # the sweep process only, not its group
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, f"orphaned workers {left}"
