"""Store and pool mechanics with a stand-in evaluator: failures recorded, retries, resume, limits, Dask."""
from __future__ import annotations

import json
import sqlite3

import pytest
from fake_eval import FAKE

from archsim.errors import ArchsimError
from archsim.sweep.execute import Backend, run_sweep
from archsim.sweep.results import load, rows
from archsim.sweep.spec import expand
from archsim.sweep.store import Store

GRID = {"workloads": [{"gemm": "64x64x64"}],
        "axes": [{"grid": {"units.sa.rows": [8, 11, 13, 16], "units.sa.cols": [8, 16]}}],
        "constraints": ["units.sa.rows * units.sa.cols != 256"]}


def _run(spec_path, db, workers=1, **kw):
    with Store(db) as store:
        return run_sweep(expand(spec_path), store, Backend(workers=workers), progress=False, evaluator=FAKE, **kw)


@pytest.mark.parametrize("workers", [1, 2])
def test_failures_are_recorded_and_the_sweep_goes_on(write_spec, tmp_path, workers):
    db = tmp_path / "r.sqlite"
    s = _run(write_spec(GRID), db, workers=workers, retries=1)
    assert (s.ok, s.skipped, s.failed) == (3, 1, 4)
    assert s.retried == 2  # the two rows==13 RuntimeErrors were retried once; WorkloadError is not retried
    got = {(r["units.sa.rows"], r["units.sa.cols"]): r for r in rows(db)}
    assert len(got) == 8
    assert got[(13, 8)]["status"] == "failed" and "cursed" in got[(13, 8)]["error"] and got[(13, 8)]["attempts"] == 2
    assert got[(11, 8)]["attempts"] == 1 and "WorkloadError" in got[(11, 8)]["error"]
    assert got[(16, 16)]["status"] == "skipped" and "!= 256" in got[(16, 16)]["error"]
    ok = got[(8, 16)]
    assert ok["time_ns"] == 1_000_000 // 128 + 8 and ok["macs"] == 1e6 and ok["archsim_version"]
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rep = json.loads(c.execute("SELECT report FROM points WHERE status='ok' LIMIT 1").fetchone()[0])
        assert set(rep) == {"config", "ops", "totals"}
        tb = c.execute("SELECT traceback FROM points WHERE error LIKE '%cursed%'").fetchone()[0]
        assert "RuntimeError" in tb and "fake_eval.py" in tb


def test_retries_recover_a_flaky_point(write_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_EVAL_FLAKY_DIR", str(tmp_path))
    spec = {"workloads": [{"gemm": "64x64x64"}], "axes": [{"grid": {"units.sa.rows": [8, 16]}}]}
    s = _run(write_spec(spec), tmp_path / "r.sqlite", retries=1)
    assert (s.ok, s.failed, s.retried) == (2, 0, 2)
    s = _run(write_spec(spec, "b.yaml"), tmp_path / "r2.sqlite", retries=0)
    assert (s.ok, s.failed) == (2, 0)  # markers exist now: no flake left


def test_resume_limit_and_no_recompute(write_spec, tmp_path, monkeypatch):
    log = tmp_path / "evals.log"
    monkeypatch.setenv("FAKE_EVAL_LOG", str(log))
    spec = write_spec({"workloads": [{"gemm": "64x64x64"}], "axes": [{"grid": {"units.sa.rows": [8, 16, 24, 32, 40]}}]})
    db = tmp_path / "r.sqlite"
    assert _run(spec, db, limit=2).ok == 2
    with pytest.raises(ArchsimError, match="--resume"):
        _run(spec, db)
    s = _run(spec, db, resume=True)
    assert (s.ok, s.already_done) == (3, 2)
    assert _run(spec, db, resume=True).ran == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 5 and len(set(lines)) == 5  # every point evaluated exactly once


def test_load_returns_dataframe_and_where_filters(write_spec, tmp_path):
    pytest.importorskip("pandas", reason="load() returns a DataFrame only with the cluster extra")
    db = tmp_path / "r.sqlite"
    _run(write_spec(GRID), db, retries=0)
    df = load(db, where="status == 'ok' and units.sa.rows >= 16")
    assert list(df["units.sa.rows"]) == [16] and list(df["units.sa.cols"]) == [8]
    assert len(rows(db, where="time_ns < 1e9")) == 3  # failed/skipped rows have no time_ns


def test_dask_local_cluster(write_spec, tmp_path):
    pytest.importorskip("dask.distributed")
    db = tmp_path / "r.sqlite"
    with Store(db) as store:
        s = run_sweep(expand(write_spec(GRID)), store, Backend(dask_local=2, dask_processes=False),
                      progress=False, evaluator=FAKE, retries=0)
    assert (s.ok, s.skipped, s.failed) == (3, 1, 4)
    assert len(rows(db)) == 8
