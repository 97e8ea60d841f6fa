"""The PIM unit: reference runs, fast held to cycle, layout, bad input, and the unit inside a design."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archsim
from archsim.errors import ArchsimError, WorkloadError
from archsim.units.pim.cycle import fresh_level, run_stream
from archsim.units.pim.kernels import eltwise, gemv, no_pim_cycles, run_kernel
from archsim.units.pim.layout import geometry, gemv_layout
from archsim.units.pim.streams import mac_rows_stream
from dataflows.ir import attention_op
from memory.dram.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs" / "pim"


def design(name):
    d = archsim.load_config(str(CONFIGS / f"{name}.yaml"))
    off = d.memory.offchip
    return d.units["pim"], load_spec(off.standard, off.timing), off.channels


def cycles(name, op, fidelity="cycle", refresh="all_bank", **kw):
    cfg, spec, ch = design(name)
    return run_kernel(cfg, spec, ch, op, fidelity, refresh, **kw).detail["dram_cycles"]


# -- the reference runs (validation/pim/reference.csv) -----------------------------------------------
def test_hbm_pim_gemv_and_no_pim_within_10_percent():
    pim = cycles("hbm_pim", gemv(4096, 4096))
    cfg, spec, ch = design("hbm_pim")
    base = no_pim_cycles(spec, ch, gemv(4096, 4096))
    assert abs(pim / 13166 - 1) <= 0.10 and abs(base / 36082 - 1) <= 0.10
    assert abs((base / pim) / 2.74 - 1) <= 0.10


def test_hbm_pim_add_within_10_percent():
    cfg, spec, ch = design("hbm_pim")
    assert abs(cycles("hbm_pim", eltwise("add", 1 << 20)) / 3349 - 1) <= 0.10
    assert abs(no_pim_cycles(spec, ch, eltwise("add", 1 << 20)) / 6651 - 1) <= 0.10


def test_aim_gemv_and_mac_microbenchmark():
    cfg, spec, ch = design("aim_gddr6")
    t = spec.timing
    assert abs(cycles("aim_gddr6", gemv(4096, 4096), refresh="none") / 13121 - 1) <= 0.10
    with_ref = cycles("aim_gddr6", gemv(4096, 4096))
    assert abs(with_ref / (13121 * (1 + t["tRFC"] / t["tREFI"])) - 1) <= 0.10
    run = run_stream(fresh_level(spec, 1, "none"), mac_rows_stream(64, 64), total_channels=ch)
    assert abs(run.cycles / 64 / 226 - 1) <= 0.03
    assert run.commands["MACAB"] == 64 * 64 and run.commands["ACTAB"] == 64


def test_aim_stream_matches_the_reference_command_counts():
    cfg, spec, ch = design("aim_gddr6")
    r = run_kernel(cfg, spec, ch, gemv(4096, 4096), "cycle", "none")
    c = r.detail["commands_per_channel"]
    assert (c["MACAB"], c["ACTAB"], c["WRGB"], c["TMOD"], c["RDMAC"]) == (2048, 32, 2048, 65, 8)
    assert 65 * spec.timing["tMOD"] <= r.detail["breakdown_cycles"]["mode"] <= 66 * spec.timing["tMOD"]


# -- fast held to cycle --------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["hbm_pim", "aim_gddr6", "attacc_bank"]), tiles=st.integers(1, 3),
       chunks=st.integers(1, 6), refresh=st.sampled_from(["all_bank", "none"]))
def test_fast_within_15_percent_of_cycle_on_regular_gemvs(name, tiles, chunks, refresh):
    cfg, spec, ch = design(name)
    lay = gemv_layout(cfg, geometry(cfg, spec, ch), 1, 1)
    op = gemv(lay.rows_per_tile * tiles, lay.chunk * chunks)
    c, f = cycles(name, op, "cycle", refresh), cycles(name, op, "fast", refresh)
    assert abs(f / c - 1) <= 0.15, (c, f)


@settings(max_examples=5, deadline=None)
@given(kind=st.sampled_from(["add", "mul", "relu"]), steps=st.integers(1, 12))
def test_fast_within_15_percent_of_cycle_on_eltwise(kind, steps):
    n = steps * 64 * 8 * 2 * 128
    c, f = cycles("hbm_pim", eltwise(kind, n), "cycle"), cycles("hbm_pim", eltwise(kind, n), "fast")
    assert abs(f / c - 1) <= 0.15, (c, f)


# -- layout and bad input --------------------------------------------------------------------------------
def test_layout_is_reported_and_rows_follow_the_matrix():
    cfg, spec, ch = design("hbm_pim")
    lay = gemv_layout(cfg, geometry(cfg, spec, ch), 4096, 4096)
    rep = lay.report()
    assert (rep["tiles"], rep["chunks"], rep["rows_per_bank"], rep["units_per_channel"]) == (1, 32, 32, 8)
    # every (tile, chunk) streams whole rows of its bank, and all of them together cover rows_per_bank
    runs = [r for t in range(lay.tiles) for j in range(lay.chunks) for r in lay.row_runs(t, j)]
    assert all(n == lay.g.cols_per_row for _row, n in runs)
    assert len({row for row, _ in runs}) == lay.rows_per_bank


def test_matrix_that_does_not_fit_the_banks_is_refused():
    cfg, spec, ch = design("aim_gddr6")
    with pytest.raises(WorkloadError, match=r"needs \d+ rows in every bank.*a bank has"):
        run_kernel(cfg, spec, ch, gemv(1 << 20, 1 << 16), "fast")


def test_pim_unit_near_a_standard_without_pim_commands_is_refused():
    d = json.loads(json.dumps(archsim.load_config(str(CONFIGS / "aim_gddr6.yaml")).model_dump(mode="json")))
    d["memory"]["offchip"]["standard"] = "GDDR6"
    with pytest.raises(ArchsimError, match="needs DRAM command.*GDDR6 does not declare"):
        archsim.run(archsim.load_config(d), {"gemm": ["1x4096x4096"], "bits": 16}, fidelity="cycle")


def test_near_must_name_a_level():
    d = archsim.load_config(str(CONFIGS / "hbm_pim.yaml")).model_dump(mode="json")
    d["units"]["pim"]["near"] = "hbm9"
    with pytest.raises(ArchsimError, match="units.pim.near: no memory level 'hbm9'"):
        archsim.load_config(d)


# -- inside a design -----------------------------------------------------------------------------------
def test_placement_sends_gemv_to_pim_and_gemm_to_the_npu_and_fidelities_agree():
    d = archsim.load_config(str(CONFIGS / "hbm_pim.yaml"))
    w = {"gemm": ["1x4096x4096", "32x1024x1024"], "bits": 16}
    fast = archsim.run(d, w, fidelity="fast")
    assert [r["unit"] for r in fast.ops] == ["pim", "npu"]
    cyc = archsim.run(d, {"gemm": ["1x4096x4096"], "bits": 16}, fidelity="cycle")
    (row,) = cyc.ops
    assert row["detail"]["commands_per_channel"]["MACAB"] == 2048
    assert abs(fast.ops[0]["time_ns"] / row["time_ns"] - 1) <= 0.15
    assert row["dram_read_bytes"] == 0 and row["energy_pj"] > 0


def test_decode_attention_runs_whole_on_pim():
    d = archsim.load_config(str(CONFIGS / "attacc_bank.yaml"))
    rep = archsim.run(d, {"attention": ["B=1,H=32,P=1,M=1024,E=128"]}, fidelity="fast")
    (row,) = rep.ops
    assert row["unit"] == "pim" and row["kind"] == "attention"
    assert set(row["detail"]["breakdown_cycles"]) >= {"mac", "softmax"}
    op = attention_op("a", B=1, H=32, P=1, M=1024, E=128, kv_cached=True)
    cfg, spec, ch = design("attacc_bank")
    capped = design("attacc_bank_capped")
    assert run_kernel(*capped, op, "fast").time_ps > run_kernel(cfg, spec, ch, op, "fast").time_ps


def test_cli_runs_a_pim_gemv_in_cycle():
    out = subprocess.run([sys.executable, "-m", "archsim.cli", "run", str(CONFIGS / "hbm_pim.yaml"), "--gemm",
                          "1x4096x4096", "--bits", "16", "--fidelity", "cycle", "--json", "-"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)["ops"][0]
    assert row["unit"] == "pim" and abs(row["cycles"] / 14107 - 1) < 0.1


def test_eltwise_workload_and_placement_policies():
    from archsim.workload import parse_eltwise

    ops = parse_eltwise("add:1048576,mul:64,relu:8")
    got = [(o.tags[0], o.dims["n"], len(o.operands)) for o in ops]
    assert got == [("add", 1048576, 3), ("mul", 64, 3), ("relu", 8, 2)]
    with pytest.raises(WorkloadError, match="--eltwise 'sub:4'"):
        parse_eltwise("sub:4")
    d = archsim.load_config(str(CONFIGS / "hbm_pim.yaml"))
    rep = archsim.run(d, {"eltwise": ["add:1048576"]}, fidelity="fast")
    assert rep.ops[0]["unit"] == "pim"
    d.mapper.placement.policy = "pinned"
    d.mapper.placement.pin = {"add*": "vpu"}
    assert archsim.run(d, {"eltwise": ["add:4096"]}, fidelity="fast").ops[0]["unit"] == "vpu"
    d.mapper.placement.pin = {}
    d.units = {"vpu": d.units["vpu"], "pim": d.units["pim"]}
    assert archsim.run(d, {"eltwise": ["add:4096"]}, fidelity="fast").ops[0]["unit"] == "vpu"   # first capable


def test_cli_eltwise_and_placement_flags():
    out = subprocess.run([sys.executable, "-m", "archsim.cli", "run", str(CONFIGS / "hbm_pim.yaml"), "--eltwise",
                          "add:1048576,relu:65536", "--placement", "intensity", "--json", "-"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["ops"]
    assert [r["unit"] for r in rows] == ["pim", "pim"]
    assert abs(rows[0]["cycles"] / 3349 - 1) < 0.2


def test_every_channel_gets_the_same_stream_so_one_bus_group_stands_for_all():
    cfg, spec, ch = design("hbm_pim")
    a = run_kernel(cfg, spec, ch, gemv(1024, 2048), "cycle")
    b = run_kernel(cfg, spec, ch, gemv(1024, 2048), "cycle", simulate_channels=8)
    assert a.detail["channels_simulated"] == 2 and b.detail["channels_simulated"] == 8
    assert (a.time_ps, a.detail["commands_per_channel"]) == (b.time_ps, b.detail["commands_per_channel"])
    assert a.energy_pj == pytest.approx(b.energy_pj)


def test_npu_and_pim_ops_overlap_and_contend_on_the_banks_in_cycle():
    d = archsim.load_config(str(CONFIGS / "hbm_pim.yaml"))
    both = archsim.run(d, {"gemm": ["1x2048x2048", "32x1024x1024"], "bits": 16}, fidelity="cycle")
    pim, npu = both.ops
    assert (pim["unit"], npu["unit"]) == ("pim", "npu")
    assert pim["start_ns"] == npu["start_ns"] == 0                     # they overlap
    alone_pim = archsim.run(d, {"gemm": ["1x2048x2048"], "bits": 16}, fidelity="cycle").ops[0]
    alone_npu = archsim.run(d, {"gemm": ["32x1024x1024"], "bits": 16}, fidelity="cycle").ops[0]
    assert pim["time_ns"] > alone_pim["time_ns"]                      # the NPU's reads take bank time
    assert npu["time_ns"] >= alone_npu["time_ns"]
    assert max(pim["end_ns"], npu["end_ns"]) < alone_pim["time_ns"] + alone_npu["time_ns"]
    assert pim["detail"]["shared_with_host"] and pim["detail"]["commands_per_channel"]["MACAB"] > 0
    fast = archsim.run(d, {"gemm": ["1x2048x2048", "32x1024x1024"], "bits": 16}, fidelity="fast")
    assert [r["unit"] for r in fast.ops] == ["pim", "npu"] and fast.ops[1]["start_ns"] == 0


@pytest.mark.parametrize("fidelity", ["fast", "cycle"])
def test_per_bank_refresh_that_never_leaves_every_bank_free_is_refused(fidelity):
    """HBM2-PIM: tRFCsb (160) > tREFIsb (121), so some bank is always refreshing and all-bank commands
    never issue; both fidelities say so instead of returning a time (fast used to multiply it by 160)."""
    with pytest.raises(WorkloadError, match="per_bank|tREFIsb"):
        cycles("hbm_pim", gemv(512, 512), fidelity, "per_bank")
