"""rtl/pim_bank.v (a bank, a 16-lane MAC, a command decoder whose timing is the spec's rules) against the
DRAM controller (issue cycles) and numpy (values), under every installed simulator."""
import numpy as np
import pytest

from archsim.errors import WorkloadError
from archsim.units.pim.rtl import STANDARD, delay_matrix, expected, illegal_stream, random_stream, run_rtl, schedule
from memory.dram.spec import load_spec

SPEC = load_spec(STANDARD)


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


def test_pim_bank_is_a_registered_core():
    """`validate rtl --core pim_bank` and tests/rtl's registry tests run it: a case is one command stream."""
    from archsim.hdl.benches.pim import case_stream
    from archsim.hdl.registry import get_core

    core = get_core("pim_bank")
    assert core.family == "pim" and core.top == "pim_bank" and core.fault is None
    s, (reads, sums) = case_stream(2, 3, 4, 7)
    assert len(s["cmds"]) == 4 * (2 + 3 + 4) + 1 and s["times"] == sorted(s["times"])
    with pytest.raises(WorkloadError, match=f"line {len(s['cmds'])}:"):
        schedule(SPEC, s["cmds"] + [s["illegal"]])          # the appended command is illegal
    assert sums                                                # the stream ends with RDACC
