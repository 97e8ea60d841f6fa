"""Build a registered Verilog core and co-simulate GEMMs on it under cocotb, from pytest or the CLI.

One build per (core, R, C, buffer size, simulator, fault, waves) under sim_build/, shared by every
call with the same key. The core's bench (archsim.hdl.registry) writes a JSON report that this
module reads back, so a failure carries the bench's own message (first differing cycle and signal).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, asdict
from pathlib import Path

from archsim.hdl import setup_tool_path
from archsim.hdl.registry import RtlCore, RtlCoreError, get_core
from archsim.settings import settings

REPO = Path(__file__).resolve().parents[2]
RTL_DIR = REPO / "rtl"
CFG_ENV, OUT_ENV = "ARCHSIM_COSIM_CFG", "ARCHSIM_COSIM_OUT"   # the bench's side: archsim.hdl.gemm_port
FAULT_ENV = "ARCHSIM_RTL_FAULT"   # default of run_cosim(fault=...): lets `validate rtl` build a broken core


class CosimError(RtlCoreError):
    """The RTL and the model disagree, or the simulation did not run."""


@dataclass(frozen=True)
class Gemm:
    M: int
    N: int
    K: int
    seed: int = 0


def build_root() -> Path:
    return settings().sim_build or REPO / "sim_build"


def buffer_size(cases: list[Gemm]) -> int:
    """Operand-buffer side (MAXM = MAXN = MAXK): 16, or the next power of two that fits."""
    need = max(max(g.M, g.N, g.K) for g in cases)
    size = 16
    while size < need:
        size *= 2
    return size


def sources(core: str) -> tuple[str, list[Path]]:
    """The core's top module and its source files (an unknown core is an error naming the known)."""
    c = get_core(core)
    return c.top, [RTL_DIR / f for f in c.sources]


def lint_command(core: str, params: dict[str, int | str]) -> list[str]:
    """`verilator --lint-only -Wall` of the core with these parameters (rtl/ on the include path)."""
    top, srcs = sources(core)
    return ["verilator", "--lint-only", "-Wall", f"-I{RTL_DIR}", *[f"-G{k}={v}" for k, v in params.items()],
            "--top-module", top, *map(str, srcs)]


def fault_level(fault: int | None = None, core: RtlCore | None = None) -> int:
    """The core's fault parameter: `fault`, else $ARCHSIM_RTL_FAULT, else 0 (a correct core)."""
    raw = settings().rtl_fault if fault is None else fault
    try:
        level = int(raw)
    except ValueError:
        level = -1
    what = f" ({core.fault.what})" if core is not None and core.fault is not None else ""
    if level not in (0, 1):
        raise CosimError(f"{FAULT_ENV}/fault: expected 0 (correct core) or 1 (the injected bug{what}), "
                         f"got {raw!r}")
    if level and core is not None and core.fault is None:
        raise CosimError(f"core {core.name!r} has no fault injection; {FAULT_ENV}/fault must be 0")
    return level


def run_cosim(core: str, sim: str, R: int, C: int, cases: list[Gemm], trace: bool = False,
              waves: bool = False, check: bool = True, fault: int | None = None) -> dict:
    """Build (cached) and run `cases` on the core; return the bench's report.

    With check=True a mismatch raises CosimError; otherwise the report's cases carry `error`.
    fault=1 builds the deliberately broken core (the core's FaultInjection, docs/rtl.md) in its own
    build directory, so the correct core's build is never touched.
    """
    from cocotb_tools.runner import get_results, get_runner

    setup_tool_path()
    spec = get_core(core)
    top, srcs = spec.top, [RTL_DIR / f for f in spec.sources]
    size = buffer_size(cases)
    params = dict(spec.params(R, C, size))
    fault = fault_level(fault, spec)
    if fault and spec.fault and R < spec.fault.min_rows:
        raise CosimError(f"fault={fault} ({spec.fault.what}) needs R >= {spec.fault.min_rows}, got R={R}")
    if fault and spec.fault:           # only then: the correct core's parameters stay as they were
        params[spec.fault.param] = fault
    key = (f"{core}_r{R}c{C}_b{size}_{sim}" + (f"_fault{fault}" if fault else "")
           + ("_waves" if waves else ""))
    bdir = build_root() / key
    tdir = bdir / "run"
    tdir.mkdir(parents=True, exist_ok=True)
    out_json = tdir / "cosim.json"
    cfg = {"core": core, "R": R, "C": C, "trace": trace, "size": size, "cases": [asdict(g) for g in cases],
           "options": dict(spec.options)}
    build_args = ["-CFLAGS", settings().vl_opt] if sim == "verilator" else []
    runner = get_runner(sim)
    runner.build(sources=srcs, includes=[RTL_DIR], hdl_toplevel=top, parameters=params, build_dir=bdir,
                 timescale=("1ns", "1ps"), waves=waves, build_args=build_args,
                 always=(sim == "icarus"), log_file=bdir / "build.log")
    env = {CFG_ENV: json.dumps(cfg), OUT_ENV: str(out_json)}
    os.environ.update(env)            # the runner lets os.environ override extra_env
    try:
        xml = runner.test(hdl_toplevel=top, test_module=spec.bench, build_dir=bdir, test_dir=tdir,
                          extra_env=env, waves=waves, results_xml=str(tdir / "results.xml"),
                          log_file=tdir / "sim.log")
        n_tests, n_failed = get_results(xml)
    except SystemExit:                # cocotb's runner exits under pytest when a test fails
        n_tests, n_failed = 1, 1
    finally:
        for k in env:
            os.environ.pop(k, None)
    if not out_json.exists():
        raise CosimError(f"{core}/{sim}: the bench wrote no report; see {tdir / 'sim.log'}")
    report = json.loads(out_json.read_text())
    if fault:                          # say so wherever a mismatch is shown (e.g. validate's table)
        for c in report["cases"]:
            if c.get("error"):
                c["error"] = f"[FAULT={fault} injected] {c['error']}"
    report.update(sim=sim, fault=fault, build_dir=str(bdir), log=str(tdir / "sim.log"),
                  waves=str(_waves_file(sim, bdir, tdir, top)) if waves else None)
    errors = [c["error"] for c in report["cases"] if c.get("error")]
    if check and (n_failed or errors or len(report["cases"]) != len(cases)):
        raise CosimError(f"{core} on {sim}, {R}x{C}: " + ("; ".join(errors) or
                         f"{n_failed} of {n_tests} cocotb tests failed; see {tdir / 'sim.log'}"))
    return report


def _waves_file(sim: str, bdir: Path, tdir: Path, top: str) -> Path:
    for p in (tdir / "dump.vcd", bdir / "dump.vcd", tdir / f"{top}.fst", bdir / f"{top}.fst"):
        if p.exists():
            return p
    return tdir
