"""Our DRAM model against DRAMsim3 on cases beyond dram.md table 1 (validation/dram/dramsim3_extra.csv).

The CSV holds DRAMsim3's own figures (10,000 requests, seed 1); rows where the two controllers follow
different policies are listed with their reason in validate_dram.PEER_EXCLUDED and are not asserted.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

_PATH = Path(__file__).resolve().parents[2] / "validation" / "dram" / "validate_dram.py"
_spec = importlib.util.spec_from_file_location("validate_dram", _PATH)
vd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vd)

ROWS = vd.load_peer_extra()
INCLUDED = [r for r in ROWS if (r["org"], r["pattern"], r["injector"]) not in vd.PEER_EXCLUDED]
N_RECORDED = 10_000                      # the n every CSV row was recorded with


def _id(row: dict) -> str:
    return f"{row['org']}-{row['pattern']}-{row['injector']}"


def test_exclusions_name_real_rows_and_leave_enough_to_check():
    keys = {(r["org"], r["pattern"], r["injector"]) for r in ROWS}
    assert set(vd.PEER_EXCLUDED) <= keys
    assert all(reason.strip() for reason in vd.PEER_EXCLUDED.values())
    assert len(INCLUDED) >= 5


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_trace_is_the_one_dramsim3_ran(row):
    """Our rebuild of dram_trace_gen.py's stream has the recorded read/write split."""
    _, w, _ = vd.peer_trace(row["pattern"], row["org"], N_RECORDED)
    assert int((~w).sum()) == int(row["reads"]) and int(w.sum()) == int(row["writes"])


@pytest.mark.parametrize("row", INCLUDED, ids=_id)
def test_total_cycles_within_3_percent_of_dramsim3(row):
    ours = vd.run_peer(row["org"], row["pattern"], N_RECORDED, row["injector"])
    theirs = int(row["total_cycles"])
    assert abs(ours["total_cycles"] / theirs - 1) <= vd.PEER_TOLERANCE, (ours["total_cycles"], theirs)
    assert abs(ours["activates"] / int(row["acts"]) - 1) <= vd.PEER_TOLERANCE


def test_hbm2_legacy_reshape_matches_dramsim3_geometry():
    """8 x 128-bit channels of 1 GiB, 64 B per access: the capacity and field widths of HBM2_8Gb_x128.ini."""
    spec = vd.hbm2_legacy_spec()
    assert spec.burst_bytes == 64
    from archsim.engine import Engine
    from memory.dram.level import DramLevel
    lvl = DramLevel("h", Engine(), spec, channels=8, mapping="rorabgbachco")
    assert lvl.capacity_bytes == 8 << 30


@settings(max_examples=25, deadline=None)
@given(org=st.sampled_from(sorted(vd.PEER_ORGS)),
       pattern=st.sampled_from(["seq_rd", "rand_rd", "rand_mix", "stream_add", "rowhit", "rowconf", "idle_rand"]),
       n=st.integers(1, 300), seed=st.integers(0, 5))
def test_peer_trace_fits_the_organisation(org, pattern, n, seed):
    """Every request is transaction-aligned and inside the organisation; one-bank patterns stay in bank 0."""
    order, widths, offset = vd.PEER_ORGS[org]
    a, w, c = vd.peer_trace(pattern, org, n, seed)
    assert len(a) == len(w) == len(c) == n
    assert np.all(a % (1 << offset) == 0)
    assert np.all(a < 1 << (offset + sum(widths.values())))
    if pattern in ("rowhit", "rowconf"):           # only row and column bits may be set
        pos, p = {}, offset
        for tok in reversed([order[i:i + 2] for i in range(0, len(order), 2)]):
            pos[tok], p = p, p + widths[tok]
        keep = sum(((1 << widths[f]) - 1) << pos[f] for f in ("ro", "co"))
        assert np.all(a & ~keep == 0)
    if pattern == "idle_rand":
        assert np.all(np.diff(c) == 500)
