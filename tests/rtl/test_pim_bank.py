"""rtl/pim_bank.v (a bank, a 16-lane MAC, a command decoder whose timing is the spec's rules) against the
DRAM controller (issue cycles) and numpy (values), under every installed simulator."""
import numpy as np
import pytest

from archsim.errors import WorkloadError
from archsim.units.pim.rtl import (STANDARD, delay_matrix, expected, illegal_command, illegal_stream, open_row,
                                   random_stream, replay, rule_bound, run_rtl, schedule)
from archsim.hdl.benches.pim import REFRESH_EVERY
from memory.dram.spec import load_spec

SPEC = load_spec(STANDARD)
REFRESH = {"all_bank": ("tREFI", "REF", "tRFC"), "per_bank": ("tREFIsb", "REFsb", "tRFCsb")}


def _refresh_spec(mode: str):
    """PIM-BANK with the controller refreshing every REFRESH_EVERY refresh times (as the bench does; the
    spec's 3900 cycles would need long streams)."""
    interval, _ref, rfc = REFRESH[mode]
    return load_spec(STANDARD, {interval: REFRESH_EVERY * SPEC.timing[rfc]})


def _streams(seed: int, n_legal: int = 3, n_illegal: int = 2):
    rng = np.random.default_rng(seed)
    streams, want = [], []
    for _ in range(n_legal):
        cmds = random_stream(SPEC, rng, 40)
        streams.append({"cmds": cmds, "times": schedule(SPEC, cmds)})
        want.append(expected(SPEC, cmds))
    for _ in range(n_illegal):
        bad = illegal_stream(SPEC, rng)
        with pytest.raises(WorkloadError, match=f"line {len(bad) - 1}:"):
            schedule(SPEC, bad)                    # the controller refuses it, naming the command
        streams.append({"cmds": bad[:-1], "times": schedule(SPEC, bad[:-1]), "illegal": bad[-1]})
    return streams, want


@pytest.mark.parametrize("seed", [1, 2])
def test_pim_bank_timing_and_values_equal_the_models(sim, seed):
    streams, want = _streams(seed)
    rep = run_rtl(sim, streams)["streams"]
    for s, r in zip(streams, rep):
        assert not r["errors"], r["errors"][:3]
        assert r["accepted"] == s["times"]                 # every command at the controller's cycle
        assert not r["accepted_early"]                     # and refused one cycle before it
        assert len(r["refused_early"]) > len(s["times"]) // 2
    for (reads, sums), r in zip(want, rep):
        assert r["reads"] == reads and r["sums"] == sums   # bit-exact
    for s, r in zip(streams, rep):
        if s.get("illegal"):
            assert r["illegal_refused"] == 16


def test_a_core_built_with_other_timing_is_caught(sim):
    streams, _ = _streams(3, n_legal=1, n_illegal=0)
    r = run_rtl(sim, streams, timing={"tCCD_L": SPEC.timing["tCCD_L"] - 1})["streams"][0]
    assert r["accepted_early"]                             # a MAC one cycle early is taken: a mismatch


def test_delay_matrix_is_the_controllers_rules():
    d = delay_matrix(SPEC)
    c, t = SPEC.cmd, SPEC.timing
    assert d[c["ACT"]][c["MAC"]] == t["tRCD"] and d[c["MAC"]][c["MAC"]] == t["tCCD_L"]
    assert d[c["PRE"]][c["ACT"]] == t["tRP"] and d[c["ACT"]][c["ACT"]] == t["tRC"]
    assert d[c["WRGB"]][c["MAC"]] == t["CWL"] + t["tBL"]
    assert d[c["REF"]][c["ACT"]] == t["tRFC"] and d[c["REFsb"]][c["ACT"]] == t["tRFCsb"]
    assert d[c["PRE"]][c["REF"]] == t["tRP"] and d[c["REF"]][c["REF"]] == t["tRFC"]
    assert d[c["ACTAB"]][c["MACAB"]] == t["tRCDMAC"] and d[c["MACAB"]][c["MACAB"]] == t["tCCDAB"]
    assert d[c["REFsb"]][c["ACTAB"]] == t["tRFCsb"] and d[c["WRGB"]][c["MACAB"]] == t["CWL"] + t["tBL"]


def _refreshed(mode: str, seed: int, n: int = 150) -> tuple[dict, tuple]:
    """A random stream as the controller issues it with `mode` refresh (as the bench), and an illegal
    command after it."""
    spec = _refresh_spec(mode)
    rng = np.random.default_rng(seed)
    legal = random_stream(spec, rng, n)
    issued = replay(spec, legal, mode)
    cmds = [c for _t, c, _by in issued]
    bad = illegal_command(spec, rng, open_row(legal), open_row(cmds))
    with pytest.raises(WorkloadError, match=f"line {len(legal)}:"):
        replay(spec, legal + [bad], mode)                  # the controller refuses it too
    return ({"cmds": cmds, "times": [t for t, _c, _by in issued], "early": rule_bound(spec, issued),
             "illegal": bad}, expected(spec, cmds))


@pytest.mark.parametrize("mode", sorted(REFRESH))
def test_controller_refresh_keeps_values_and_its_rules(mode):
    """The controller's refresh (PRE, then REF or REFsb every tREFI or tREFIsb, then the stream's row
    reopened) changes no value, and spaces each refresh from the precharge before it and the ACT after it."""
    interval, ref, rfc = REFRESH[mode]
    spec = _refresh_spec(mode)
    legal = random_stream(spec, np.random.default_rng(5), 300)
    issued = replay(spec, legal, mode)
    cmds = [c for _t, c, _by in issued]
    assert expected(spec, cmds) == expected(spec, legal)
    at = [i for i, c in enumerate(cmds) if c[0] == ref]
    assert len(at) >= issued[-1][0] // spec.timing[interval] - 1 >= 3
    for i in at:
        pre = max(j for j in range(i) if cmds[j][0] in ("PRE", "PREAB"))
        assert open_row(cmds[:i]) == -1 and issued[i][0] - issued[pre][0] >= spec.timing["tRP"]
        nxt = next(j for j in range(i + 1, len(cmds)) if cmds[j][0] in ("ACT", "ACTAB", ref))
        assert issued[nxt][0] - issued[i][0] >= spec.timing[rfc]
    assert {"ACTAB", "PREAB", "MACAB"} <= {c[0] for c in cmds}
    # every command but a refresh issued at its due time is held by a rule until the cycle it issues
    bound = rule_bound(spec, issued)
    assert all(b for b, (_t, _c, by) in zip(bound, issued) if by != "refresh")


@pytest.mark.parametrize("mode", sorted(REFRESH))
def test_pim_bank_refresh_and_all_bank_commands_equal_the_controller(sim, mode):
    """REF/REFsb and the all-bank commands accepted at the controller's cycle and refused one cycle before;
    values bit-exact; the illegal command refused."""
    s, (reads, sums) = _refreshed(mode, 11)
    assert sum(c[0] == REFRESH[mode][1] for c in s["cmds"]) >= 2
    r = run_rtl(sim, [s])["streams"][0]
    assert not r["errors"], r["errors"][:3]
    assert r["accepted"] == s["times"] and not r["accepted_early"]
    assert r["reads"] == reads and r["sums"] == sums
    assert r["illegal_refused"] == 16


@pytest.mark.parametrize("mode", sorted(REFRESH))
def test_a_core_with_a_short_refresh_is_caught(sim, mode):
    """Built with tRFC (tRFCsb) one cycle short, the core takes the ACT after a refresh one cycle early."""
    s, _ = _refreshed(mode, 12)
    _interval, ref, rfc = REFRESH[mode]
    r = run_rtl(sim, [s], timing={rfc: SPEC.timing[rfc] - 1})["streams"][0]
    assert r["accepted_early"]
    i = r["accepted_early"][0]
    assert s["cmds"][i][0] in ("ACT", "ACTAB") and s["cmds"][i - 1][0] == ref
    assert s["times"][i] - s["times"][i - 1] == SPEC.timing[rfc]


def test_pim_bank_refuses_refresh_and_all_bank_act_on_an_open_bank(sim):
    """JEDEC refreshes only a precharged bank. The controller never issues REF on an open row (its refresh
    precharges first); the core refuses one (the strict command stream does not check it)."""
    streams = [{"cmds": [("ACT", 3, 0, None)], "times": [0], "illegal": (bad, -1 if bad != "ACTAB" else 5, 0, None)}
               for bad in ("REF", "REFsb", "ACTAB")]
    for r in run_rtl(sim, streams)["streams"]:
        assert not r["errors"] and r["illegal_refused"] == 16


def test_pim_bank_is_a_registered_core():
    """`validate rtl --core pim_bank` and tests/rtl's registry tests run it: a case is one command stream."""
    from archsim.hdl.benches.pim import case_stream
    from archsim.hdl.registry import get_core

    core = get_core("pim_bank")
    assert core.family == "pim" and core.top == "pim_bank" and core.fault is None
    s, (reads, sums) = case_stream(2, 3, 4, 7)
    refreshes = [c[0] for c in s["cmds"] if c[0] in ("REF", "REFsb")]
    assert refreshes and set(refreshes) == {"REFsb"}          # an odd seed: the controller refreshes per bank
    assert s["times"] == sorted(s["times"]) and len(s["cmds"]) >= 4 * (2 + 3 + 4) + 1 + len(refreshes)
    with pytest.raises(WorkloadError, match=f"line {len(s['cmds'])}:"):
        schedule(SPEC, s["cmds"] + [s["illegal"]])          # the appended command is illegal
    assert sums                                                # the stream ends with RDACC


@pytest.mark.parametrize("rule,at", [("tRCDMAC", 1), ("tCCDAB", 2)])
def test_a_core_with_short_all_bank_timing_is_caught(sim, rule, at):
    """ACTAB then two MACABs at the controller's cycles (tRCDMAC, then tCCDAB apart): a core built with
    one of them a cycle short takes that MACAB one cycle early."""
    cmds = [("ACTAB", 5, 0, None), ("MACAB", 5, 0, None), ("MACAB", 5, 1, None), ("RDACC", -1, 0, None)]
    times = schedule(SPEC, cmds)
    assert times[1] - times[0] == SPEC.timing["tRCDMAC"] and times[2] - times[1] == SPEC.timing["tCCDAB"]
    r = run_rtl(sim, [{"cmds": cmds, "times": times}], timing={rule: SPEC.timing[rule] - 1})["streams"][0]
    assert r["accepted_early"] == [at]
