"""archsim's model of SCALE-Sim's memory equals SCALE-Sim v3 on its own nets and configs, on
USER-mode layers that stall, and on ws and is layers in both modes
(figures recorded in validation/cnn/; SCALE-Sim itself not needed)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "validation" / "cnn" / "scalesim_nets.py"
_spec = importlib.util.spec_from_file_location("scalesim_nets", SCRIPT)
nets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nets)


@pytest.mark.parametrize("row", nets.rows("scalesim_reference.csv"),
                         ids=lambda r: f"{r['config']}-{r['network']}-{r['layer']}")
def test_shipped_nets_equal_scalesim(row):
    ours = nets.ours_net(row)
    assert ours == {f: int(row[f]) for f in nets.FIELDS}


SMALL = nets.rows("scalesim_user_stalls.csv") + nets.rows("scalesim_ws_is.csv")


@pytest.mark.parametrize("row", SMALL, ids=lambda r: "-".join((r["case"], r.get("dataflow", "os"),
                                                               r.get("mode", "USER"), r["layer"])))
def test_small_layers_equal_scalesim(row):
    """USER-mode os layers that stall, and ws / is layers in USER and CALC mode."""
    ours = nets.ours_stall_case(row)
    assert ours == {f: int(row[f]) for f in nets.FIELDS}
