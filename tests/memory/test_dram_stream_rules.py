"""Command streams meet every timing rule into each command they issue, whatever the refresh mode."""
import pytest
from dram_helpers import violations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archsim.engine import Engine
from archsim.errors import WorkloadError
from memory.dram.cmdtrace import replay_commands
from memory.dram.level import DramLevel
from memory.dram.spec import load_spec
from memory.dram.stream import CommandStream

MODES = ("none", "per_bank", "all_bank")


def level(std, refresh, overrides=None):
    lv = DramLevel("d", Engine(), load_spec(std, overrides), refresh=refresh, fidelity="cycle")
    lv.ctrls[0].log = []
    return lv


def cycles(std, refresh, text):
    """Issue cycles of a short trace; the controller's own refresh falls due long after it."""
    lv = level(std, refresh, {"tREFI": 10**6, "tREFIsb": 10**6})
    return [t for t, _c, _line in replay_commands(lv, text)["issued"]]


@pytest.mark.parametrize("refresh", MODES)
def test_explicit_ref_waits_for_the_precharge_in_every_refresh_mode(refresh):
    t = load_spec("PIM-BANK").timing
    got = cycles("PIM-BANK", refresh, "ACT 0 1\nPRE 0\nREF 0\nACT 0 1\n")
    assert got == [0, t["tRAS"], t["tRAS"] + t["tRP"], t["tRAS"] + t["tRP"] + t["tRFC"]]
    assert got[2] == 47            # was 34 (PRE + 1) under refresh: none or per_bank


@pytest.mark.parametrize("refresh", MODES)
@pytest.mark.parametrize("std", ["PIM-BANK", "HBM2", "DDR4-3200"])
def test_explicit_refsb_and_auto_precharge_meet_their_rules_in_every_refresh_mode(std, refresh):
    t = load_spec(std).timing
    got = cycles(std, refresh, "ACT 0 1\nPRE 0\nREFsb 0\nACT 0 1\nRDA 0 1\n")
    refsb = t["tRAS"] + t["tRP"]
    # REFsb was one cycle after PRE under all-bank refresh; RDA, never timed by the scheduler, took
    # the bus with no tRCD after its ACT
    assert got[2:] == [refsb, refsb + t["tRFCsb"], refsb + t["tRFCsb"] + t["tRCD"]]


@pytest.mark.parametrize("text,line,cmd", [
    ("ACT 0 1\nREF 0\n", 2, "REF"),
    ("ACT 0 1\nRD 0 1\nREFsb 0\n", 3, "REFsb"),
    ("ACTAB 0 2\nMACAB 0 2\nREF 0\n", 3, "REF"),
    ("ACT 3 1\nREFsb 0\nREF 0\n", 3, "REF"),           # REF needs every bank of the rank precharged
])
def test_strict_stream_refuses_refresh_while_a_row_is_open(text, line, cmd):
    with pytest.raises(WorkloadError, match=rf"k.cmd line {line}: {cmd} to bank \d+, whose row \d+ is still open"):
        replay_commands(level("HBM2-PIM", "none"), text, "k.cmd")


def test_loose_stream_closes_open_rows_before_a_refresh():
    lv = level("HBM2", "none")
    t = lv.spec.timing
    s = CommandStream(lv.spec)
    for c, b, r in [("ACT", 0, 1), ("ACT", 1, 2), ("REF", 0, -1)]:
        s.push(c, b, r)
    lv.ctrls[0].stream = s
    lv.wake_channel(0, 0)
    lv.engine.run()
    names = [(lv.spec.command_names[c], tag) for _t, c, tag in s.issued]
    assert names == [("ACT", None), ("ACT", None), ("PRE", "row"), ("PRE", "row"), ("REF", None)]
    assert s.repairs == 2 and violations(lv.ctrls[0]) == []
    assert s.issued[-1][0] == s.issued[-2][0] + t["tRP"]


@pytest.mark.parametrize("std", ["HBM2-PIM", "GDDR6-AiM", "HBM3-PIM", "HBM2-Newton"])
def test_all_bank_act_waits_for_the_refreshing_bank(std):
    t = load_spec(std).timing
    got = cycles(std, "per_bank", "REFsb 0\nACTAB 0 1\n")
    assert got[1] - got[0] == t["tRFCsb"]          # was tRRD_L: the rule lived in rules_pim_bank.yaml only


def test_all_bank_act_under_per_bank_refresh_that_leaves_no_gap_is_refused():
    t = load_spec("HBM2-PIM").timing
    assert t["tRFCsb"] >= t["tREFIsb"]          # some bank is always refreshing
    with pytest.raises(WorkloadError, match=r"ACTAB .* never issue; use refresh: all_bank"):
        replay_commands(level("HBM2-PIM", "per_bank"), "ACTAB 0 1\nMACAB 0 1\n")
    assert len(cycles("HBM2-PIM", "all_bank", "ACTAB 0 1\nMACAB 0 1\n")) == 2


def _legal_stream(spec, data, n):
    """A random command order a device accepts: rows opened before their column commands, banks
    precharged before an ACT or a refresh; every command the standard declares may appear."""
    banks, rows, out = spec.banks * spec.ranks, {}, []
    for _ in range(n):
        b = data.draw(st.integers(0, banks - 1))
        legal = []
        for c, cm in enumerate(spec.commands):
            span = _span(spec, cm.scope, b)
            shut = all(rows.get(x, -1) < 0 for x in span)
            if cm.row == "open" or cm.name in ("REF", "REFsb"):
                ok = shut
            elif cm.needs_open_row:
                ok = len({rows.get(x, -1) for x in span}) == 1 and rows.get(b, -1) >= 0
            else:
                ok = True
            if ok:
                legal.append(c)
        c = data.draw(st.sampled_from(legal))
        cm = spec.commands[c]
        row = data.draw(st.integers(0, 3)) if cm.row == "open" else rows.get(b, -1)
        for x in _span(spec, cm.scope, b):
            if cm.row != "none":
                rows[x] = row if cm.row == "open" else -1
        out.append(f"{cm.name} {b} {row}" if row >= 0 else f"{cm.name} {b}")
    return "\n".join(out) + "\n"


def _span(spec, scope, b):
    bpr, bpg = spec.banks, spec.banks_per_group
    return {"bank": [b], "bankgroup": list(range(b - b % bpg, b - b % bpg + bpg)),
            "rank": list(range(b // bpr * bpr, b // bpr * bpr + bpr)),
            "channel": list(range(spec.ranks * bpr))}[scope]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(std=st.sampled_from(["PIM-BANK", "HBM2-PIM", "DDR4-3200", "GDDR6-AiM"]), refresh=st.sampled_from(MODES),
       often=st.booleans(), n=st.integers(1, 40), data=st.data())
def test_every_command_of_a_legal_stream_meets_every_rule_into_it(std, refresh, often, n, data):
    spec = load_spec(std)
    if refresh == "per_bank" and spec.timing["tREFIsb"] <= 0:
        refresh = "all_bank"
    t = spec.timing
    # refresh often, so the controller's own refreshes (and the stream's repairs after them) interleave
    fast = {"tREFI": 2 * t["tRFC"], "tREFIsb": 2 * t["tRFCsb"]} if often else None
    lv = level(std, refresh, fast)
    text = _legal_stream(lv.spec, data, n)
    try:
        out = replay_commands(lv, text)
    except WorkloadError as exc:     # an all-bank command under per-bank refresh with tRFCsb >= tREFIsb
        assert lv.ctrls[0].starved and "would never issue" in str(exc)
        return
    assert len(out["issued"]) >= n
    log = lv.ctrls[0].log
    assert all(a[0] <= b[0] for a, b in zip(log, log[1:]))
    assert violations(lv.ctrls[0], reach=len(log)) == []
