"""Runner review fixes: the trace shows each op's own tile activity; the mapper's time budget never empties a search."""
from __future__ import annotations

from pathlib import Path

import archsim
from archsim import runner
from archsim.trace import Trace

DEFAULT = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


def test_estimated_op_does_not_inherit_previous_tile_activity(monkeypatch):
    """An op timed by the mapper's closed form (too many tiles to walk) records no tile events."""
    design = archsim.load_config(DEFAULT, overrides={"units.sa.rows": 8, "units.sa.cols": 8})
    small, big = "small=8x8x8", "big=512x512x512"
    monkeypatch.setattr(runner, "EXACT_STEP_LIMIT", 4)   # `small` is walked, `big` is estimated
    trace = Trace()
    rep = archsim.run(design, {"gemm": [small, big]}, trace=trace)
    assert [o["mapping"].endswith("(estimate)") for o in rep.ops] == [False, True]
    names = [e["name"] for e in trace.to_dict()["traceEvents"] if e["ph"] == "X"]
    assert any(n.startswith("small ") for n in names)
    assert "big" in names                                  # the op span itself
    assert not any(n.startswith("big ") for n in names)    # ...but no tiles copied from `small`


def test_time_budget_cuts_the_search_but_never_empties_it():
    """A budget too small to score anything still yields a mapping, and the report says it was cut."""
    design = archsim.load_config(DEFAULT, overrides={"mapper.budget": "1 ps", "mapper.cache": False})
    rep = archsim.run(design, {"gemm": ["64x64x64"]})
    assert rep.ops[0]["macs"] == 64 ** 3
    assert rep.ops[0]["mapping"].endswith("(stopped by the time budget)")
