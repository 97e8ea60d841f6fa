"""Points that differ only in the off-chip link run together on one worker (archsim/sweep/execute.py
`group_points`), and a grouped sweep records, point for point, the report each point gives alone."""
from __future__ import annotations

import json

from archsim.sweep.evaluate import evaluate_point
from archsim.sweep.execute import Backend, group_points, link_free_key, run_sweep
from archsim.sweep.spec import expand
from archsim.sweep.store import Store
from dataflows.cost import clear_shared

BW = ["12.8 GB/s", "51.2 GB/s", "128 GB/s"]
SPEC = {"set": {"mapper.cache": False},
        "workloads": [{"name": "a", "gemm": ["96x384x256"]}, {"name": "b", "gemm": ["1x2048x512"]}],
        "axes": [{"zip": {"units.sa.rows": [8, 16], "units.sa.cols": [8, 16]}},
                 {"grid": {"memory.offchip.bandwidth": BW}}]}


def test_groups_hold_the_points_of_one_design_apart_from_the_link_in_order(write_spec):
    sweep = expand(write_spec(SPEC))
    groups = group_points(sweep.points)
    assert [[p.index for p in g] for g in groups] == [list(range(i, i + 3)) for i in range(0, 12, 3)]
    for g in groups:
        assert len({link_free_key(p) for p in g}) == 1
        assert [p.params["memory.offchip.bandwidth"] for p in g] == BW
    assert len({link_free_key(g[0]) for g in groups}) == 4
    cut = group_points(sweep.points[::-1], size=2)    # any order in; groups follow their first point, <= size
    assert [[p.index for p in g] for g in cut] == [[11, 10], [9], [8, 7], [6], [5, 4], [3], [2, 1], [0]]


def _canon(report: dict) -> str:
    for op in report["ops"]:
        op.pop("mapper_wall_s", None)
    return json.dumps(report, sort_keys=True, default=str)


def test_a_grouped_sweep_records_the_report_each_point_gives_alone(write_spec, tmp_path):
    sweep = expand(write_spec(SPEC))
    db = tmp_path / "r.sqlite"
    with Store(db) as store:
        s = run_sweep(sweep, store, Backend(workers=2), progress=False)
        assert s.ok == len(sweep.points) == 12
        got = {r["point_id"]: r["report"] for r in store.rows(with_report=True)}
    for p in sweep.points:
        clear_shared()
        assert _canon(got[p.point_id]) == _canon(evaluate_point(p.design, p.workload)), p.params
