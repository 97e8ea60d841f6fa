"""DRAM commands as data: declared command sets, rules naming any of them, streams and command traces."""
import numpy as np
import pytest
import yaml

from archsim.engine import Engine
from archsim.errors import ArchsimError, ConfigError, WorkloadError
from memory.dram import native
from memory.dram.cmdtrace import replay_commands
from memory.dram.level import DramLevel
from memory.dram.spec import CORE, SPEC_DIR, available_standards, build_spec, load_spec
from memory.dram.stream import CommandStream
from memory.request import Request
from memory.trace import replay

PIM_STANDARDS = ["HBM2-PIM", "GDDR6-AiM", "HBM3-PIM"]


def level(std, channels=1, refresh="all_bank", **kw):
    return DramLevel("d", Engine(), load_spec(std), channels=channels, refresh=refresh, fidelity="cycle", **kw)


def test_host_standards_declare_exactly_the_host_commands():
    for name in available_standards():
        if name == "flash":
            continue
        s = load_spec(name)
        assert s.command_names[:len(CORE)] == CORE
        assert (native.command_set_mismatch(s) is None) == (not s.pim_commands), name


@pytest.mark.parametrize("std", PIM_STANDARDS)
def test_pim_standards_add_commands_and_the_native_core_refuses_them(std):
    s = load_spec(std)
    assert {"ACTAB", "PREAB", "MACAB"} <= set(s.pim_commands)
    reason = native.command_set_mismatch(s)
    assert reason and "MACAB" in reason and "Python" in reason


def test_rule_naming_an_undeclared_command_is_an_error_naming_file_and_rule(tmp_path, monkeypatch):
    raw = yaml.safe_load((SPEC_DIR / "HBM2.yaml").read_text())
    (tmp_path / "rules_bad.yaml").write_text("rules:\n  - [ACT, MACAB, bank, tRCD]\n")
    monkeypatch.setattr("memory.dram.spec.SPEC_DIR", tmp_path)
    (tmp_path / "rules_ddr.yaml").write_text((SPEC_DIR / "rules_ddr.yaml").read_text())
    raw["rules"] = ["rules_ddr.yaml", "rules_bad.yaml"]
    with pytest.raises(ConfigError, match=r"rules_bad.yaml: rules\[0\].*'MACAB'.*declares"):
        build_spec(raw)
    (tmp_path / "rules_bad2.yaml").write_text("commands:\n  MAC: {scope: everywhere}\n")
    raw["rules"] = ["rules_ddr.yaml", "rules_bad2.yaml"]
    with pytest.raises(ConfigError, match=r"commands.MAC.scope: 'everywhere'"):
        build_spec(raw)
    (tmp_path / "rules_bad3.yaml").write_text("commands:\n  ACT: {scope: bank}\n")
    raw["rules"] = ["rules_ddr.yaml", "rules_bad3.yaml"]
    with pytest.raises(ConfigError, match="already declared"):
        build_spec(raw)


def test_pim_standard_trace_replays_on_python_with_the_reason_and_equal_results(monkeypatch):
    rng = np.random.default_rng(3)
    addrs = rng.integers(0, 1 << 22, 300) * 32
    writes = rng.random(300) < 0.3
    cycles = np.arange(300) * 3
    lv = level("HBM2-PIM", channels=2)
    got = replay(lv, addrs, writes, cycles, 32, lv.clock)
    assert "MACAB" in lv.native_skipped
    monkeypatch.setenv("ARCHSIM_NATIVE", "0")
    lv2 = level("HBM2-PIM", channels=2)
    assert replay(lv2, addrs, writes, cycles, 32, lv2.clock) == got


def test_all_bank_commands_follow_their_rules():
    lv = level("HBM2-PIM", refresh="none")
    out = replay_commands(lv, "ACTAB 0 5\nMACAB 0 5\nMACAB 0 5\nPREAB 0 5\nACTAB 0 6\n")
    t = lv.spec.timing
    (a, _, _), (m1, _, _), (m2, _, _), (p, _, _), (a2, _, _) = out["issued"]
    assert m1 - a == t["tRCDMAC"] and m2 - m1 == t["tCCDAB"]
    assert p == max(a + t["tRAS"], m2 + t["tRTP"]) and a2 == max(p + t["tRP"], a + t["tRC"])
    assert all(r == -1 for r in lv.ctrls[0].open_row[:0]) and lv.ctrls[0].open_row == [6] * 16


@pytest.mark.parametrize("text,line,why", [
    ("ACTAB 0 5\nMACAB 0 6\n", 2, "needs row 6 open"),
    ("ACT 3 5\nACTAB 0 7\n", 2, "still open"),
    ("ACTAB 0 1\nPREAB 0 1\nMACAB 0 1\n", 3, "no open row"),
    ("ACT 0 1\nRD 0 1\nFOO 0\n", 3, "not declared"),
])
def test_illegal_command_order_in_a_trace_is_refused_naming_the_line(text, line, why):
    with pytest.raises(WorkloadError, match=rf"line {line}: .*{why}"):
        replay_commands(level("HBM2-PIM"), text, "k.cmd")


def test_pim_command_on_a_standard_without_pim_is_refused():
    with pytest.raises(WorkloadError, match="MACAB.*not declared by standard HBM2"):
        replay_commands(level("HBM2"), "ACT 0 1\nMACAB 0 1\n")


def _mac_rows(spec, rows, cols):
    st = CommandStream(spec)
    for r in range(rows):
        st.push("ACTAB", 0, r, "row")
        for _ in range(cols):
            st.push("MACAB", 0, r, "mac")
        st.push("PREAB", 0, r, "row")
    return st


@pytest.mark.parametrize("std", PIM_STANDARDS + ["HBM2", "GDDR6"])
def test_refresh_is_issued_on_every_standard_while_a_stream_runs(std):
    lv = level(std, refresh="all_bank")
    spec = lv.spec
    if "MACAB" in spec.cmd:
        st = _mac_rows(spec, 60, spec.bursts_per_row)
    else:
        st = CommandStream(spec)
        for r in range(60):
            st.push("ACT", 0, r)
            for _ in range(spec.bursts_per_row):
                st.push("RD", 0, r)
            st.push("PRE", 0, r)
    lv.ctrls[0].stream = st
    lv.ctrls[0].wake(0)
    lv.engine.run()
    refs = lv.ctrls[0].cmd_counts[spec.cmd["REF"]]
    assert st.done > 2 * spec.timing["tREFI"]
    assert refs >= st.done // spec.timing["tREFI"] - 1 and refs >= 1
    assert not st.q


def test_npu_reads_and_pim_commands_contend_on_the_banks():
    spec = load_spec("HBM2-PIM")

    def run(pim: bool, host: bool):
        lv = level("HBM2-PIM", refresh="none")
        st = _mac_rows(spec, 16, 32)
        done = []
        if pim:
            lv.ctrls[0].stream = st
            lv.ctrls[0].wake(0)
        if host:
            for i in range(64):
                lv.submit(Request(i * 4096, 256, False, "npu", lambda r: done.append(r.done_ps)))
        lv.engine.run()
        return (st.done if pim else 0), (max(done) if host else 0), st, lv

    pim_alone, _, _, _ = run(True, False)
    _, host_alone, _, _ = run(False, True)
    pim_both, host_both, st, lv = run(True, True)
    assert pim_both > pim_alone and host_both >= host_alone   # host first between PIM rows: PIM pays
    assert lv.bursts_read == 64 * 8 and not st.q
    assert st.repairs > 0              # the host closed rows the stream then re-opened


def test_stream_needs_declared_opener_for_its_scope():
    spec = load_spec("HBM2")
    st = CommandStream(spec)
    with pytest.raises(WorkloadError, match="MACAB.*not declared by standard HBM2"):
        st.push("MACAB", 0, 1)
    with pytest.raises(ArchsimError):
        replay_commands(level("HBM2"), "RD 0 1\n")


def test_archsim_mem_replays_a_command_trace_and_names_the_bad_line(tmp_path, capsys):
    from archsim.cli import main

    good = tmp_path / "k.cmd"
    good.write_text("# one all-bank row of MACs, then a host read\nACTAB 0 5\nMACAB 0 5\nMACAB 0 5\nPREAB 0 5\n"
                    "ACT 3 7\nRD 3 7\n")
    assert main(["mem", "--standard", "HBM2-PIM", "--commands", str(good), "--json", "-"]) == 0
    t = load_spec("HBM2-PIM").timing
    out = yaml.safe_load(capsys.readouterr().out)
    pre = max(t["tRAS"], t["tRCDMAC"] + t["tCCDAB"] + t["tRTP"])
    assert out["cycles"] == pre + t["tRP"] + t["tRCD"] + t["CL"] + t["tBL"]
    assert out["commands"] == {"ACT": 1, "RD": 1, "ACTAB": 1, "PREAB": 1, "MACAB": 2}
    bad = tmp_path / "bad.cmd"
    bad.write_text("ACTAB 0 5\nMACAB 0 6\n")
    assert main(["mem", "--standard", "HBM2-PIM", "--commands", str(bad)]) != 0
    assert "bad.cmd line 2: MACAB needs row 6 open" in capsys.readouterr().err
