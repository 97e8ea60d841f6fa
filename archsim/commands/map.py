"""`archsim map`: search the mappings of one operator onto a design and print the best ones."""
from __future__ import annotations

import argparse
import re

from archsim.commands._common import (
    add_config_args,
    add_value_args,
    load_design,
    positive_int,
    value_args,
    write_json,
)
from archsim.errors import ArchsimError, WorkloadError

_GEMM = re.compile(r"^\s*(?:(\d+)x)?(\d+)x(\d+)x(\d+)\s*$")


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("map", help="search mappings of one operator onto a design",
                       description="Search tilings, loop orders and dataflows of one GEMM-like operator on a unit "
                                   "of the design; print the best mappings with cycles, DRAM bytes, energy and "
                                   "the distance to the roofline lower bound.")
    add_config_args(p)
    w = p.add_mutually_exclusive_group(required=True)
    w.add_argument("--gemm", metavar="[Bx]MxNxK", help="a GEMM C[M,N] = A[M,K] @ B[K,N] (optionally B batches)")
    w.add_argument("--model", help="a model preset (see `archsim model --list`); pick the op with --op")
    p.add_argument("--op", help="with --model: the op name (as `archsim model` prints it)")
    p.add_argument("--phase", choices=("prefill", "decode"), default="prefill")
    p.add_argument("--seq", type=positive_int, help="with --model prefill: prompt length")
    p.add_argument("--kv", type=positive_int, help="with --model decode: keys attended")
    p.add_argument("--batch", type=positive_int, default=1)
    p.add_argument("--unit", help="unit name (default: where placement puts the op)")
    p.add_argument("--objective", choices=("latency", "energy", "edp"),
                   help="default: mapper.objective (latency). latency = the fastest mapping, but mappings within "
                        "mapper.latency_tolerance (default 2%%) of the fastest count as tied and the tie goes to "
                        "the least energy, then the least DRAM traffic; energy = least energy; edp = least "
                        "energy x cycles")
    p.add_argument("--tolerance", type=float, metavar="FRACTION",
                   help="with --objective latency: the near-tie window, e.g. 0.02 = 2%%; 0 = fastest only "
                        "(default: mapper.latency_tolerance)")
    p.add_argument("--budget", help="wall-time cap, e.g. 2s or '500 ms' (default: mapper.budget)")
    p.add_argument("--seed", type=int, help="search seed (default: mapper.seed); also seeds --weights/--acts draws")
    p.add_argument("--top", type=positive_int, help="mappings to show (default: mapper.top_k)")
    p.add_argument("--no-cache", action="store_true",
                   help="do not read or write the mapping cache (~/.cache/archsim/mapper)")
    p.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH ('-' = stdout)")
    add_value_args(p, seed=False)
    return p


def _workload_op(args):
    """The op to map: an ad-hoc GEMM, or one op of a lowered model."""
    from dataflows.ir import gemm_op

    if args.gemm:
        m = _GEMM.match(args.gemm)
        if not m:
            raise WorkloadError(f"--gemm expects MxNxK or BxMxNxK with positive integers, got {args.gemm!r}")
        b, M, N, K = (int(x) if x else 1 for x in m.groups())
        op = gemm_op("gemm", M, N, K)
        if b > 1:      # B independent problems: a batch dim in A, B and C
            from dataflows.ir import Op, Operand

            op = Op("gemm", "gemm", "bmk,bkn->bmn", {"b": b, "m": M, "n": N, "k": K},
                    (Operand("A", "activation", ("b", "m", "k"), 8), Operand("B", "weight", ("b", "k", "n"), 8),
                     Operand("C", "output", ("b", "m", "n"), 8)))
        return op, (M, N, K, b)
    from dataflows.lowering import lower

    if not args.op:
        raise WorkloadError("--model needs --op NAME (see `archsim model NAME` for the op names)")
    graph = lower(args.model, phase=args.phase, batch=args.batch, seq=args.seq, kv=args.kv)
    names = [o.name for o in graph]
    hits = [o for o in graph if o.name == args.op] or [o for o in graph if o.name.endswith(args.op)]
    if not hits:
        raise WorkloadError(f"model {args.model!r} has no op {args.op!r}; ops: {', '.join(names[:30])}"
                            + (" ..." if len(names) > 30 else ""))
    op = hits[0]
    g = op.as_gemm()
    return op, (g.M, g.N, g.K, g.batch)


def main(args) -> int:
    from archsim.config.quantities import parse_duration_ps
    from archsim.units.base import GemmShape
    from dataflows.cache import MapCache
    from dataflows.conv_reuse import conv_geometry
    from dataflows.mapper import design_unit, mapper_for
    from dataflows.placement import place_op

    design = load_design(args)
    op, (M, N, K, B) = _workload_op(args)
    upd = {}
    if args.objective:
        upd["objective"] = args.objective
    if args.tolerance is not None:
        if not 0 <= args.tolerance <= 1:
            raise ArchsimError(f"--tolerance must be a fraction between 0 and 1 (0.02 = 2%), got {args.tolerance}")
        upd["latency_tolerance"] = args.tolerance
    if args.budget:
        try:
            upd["budget"] = parse_duration_ps(args.budget)
        except ValueError as exc:
            raise ArchsimError(f"--budget: {exc}") from None
    if args.seed is not None:
        upd["seed"] = args.seed
    if args.top:
        upd["top_k"] = args.top
    if upd:
        design.mapper = design.mapper.model_copy(update=upd)
    unit_name = args.unit
    if unit_name is None:
        units = {n: design_unit(design, n) for n in design.units}
        unit_name = place_op(op, units, design.mapper.placement).unit
    cache = None if args.no_cache else MapCache()
    mapper = mapper_for(design, unit_name, cache, op)
    vals = value_args(args)
    if vals["values"]:   # units whose tile cost depends on values score tiles with them
        from dataflows.mapper import Mapper
        from dataflows.values import bind_values

        mapper = Mapper(bind_values(mapper.unit, op, vals["values"], vals["seed"] or 0), mapper.mem, mapper.energy,
                        mapper.cfg, mapper.cache, mapper.bits)
    res = mapper.map_gemm(GemmShape(M, N, K, B), op.name, op.kind, conv_geometry(op))
    run = pipeline_row(design, op, unit_name)
    if args.json:
        write_json({"design": design.name, **res.as_dict(),
                    "run": {"mapping": run["mapping"], "cycles": run["cycles"]}}, args.json)
        if args.json == "-":
            return 0
    _print(design.name, res, run)
    return 0


def pipeline_row(design, op, unit_name: str) -> dict:
    """The op alone on `unit_name` as `archsim run` (fast) reports it: the best mapping's cycles in
    the tile pipeline against the off-chip model, which the search's closed form only estimates."""
    import archsim

    placement = design.mapper.placement.model_copy(update={"pin": {op.name: unit_name}})
    pinned = design.model_copy(update={"mapper": design.mapper.model_copy(update={"placement": placement})})
    return archsim.run(pinned, [op.with_count(1)]).ops[0]


def _objective(res) -> str:
    if res.objective != "latency" or not res.tolerance:
        return res.objective
    return f"latency (near-ties within {100 * res.tolerance:g}% go to least energy, then DRAM bytes)"


def render(design: str, res, run: dict, width: int = 80) -> str:
    from archsim.textfmt import eng, render_table, wrap

    lb = res.lower_bound
    out = [wrap(f"{design}: op {res.op_name} GEMM {res.gemm} on unit {res.unit}, objective {_objective(res)}", width),
           wrap(f"search: {res.method}, {res.space_size:,} mappings, {res.evaluated:,} scored in {res.wall_s:.2f} s"
                + (" (stopped by the time budget)" if res.truncated else "") + (" [cache]" if res.from_cache else ""),
                width, "  "),
           wrap(f"roofline bound: {lb['cycles']:,.0f} cycles (compute {lb['compute_cycles']:,.0f}, memory "
                f"{lb['memory_cycles']:,.0f}; compulsory {eng(lb['compulsory_bytes'], 'B')})", width, "  ")]
    rows = [[str(i), str(c.mapping), f"{c.cycles:,}", f"{c.cycles / max(lb['cycles'], 1e-9):.3f}",
             eng(c.dram_total_bytes, "B"), eng(c.total_energy_pj * 1e-12, "J")] for i, c in enumerate(res.top, 1)]
    out.append(render_table(("#", "mapping", "est. cycles", "x bound", "DRAM", "energy"), rows, width,
                            text_cols=(1,), keep=3))
    est = res.best.cycles
    same = run["mapping"].startswith(str(res.best.mapping))
    out.append(wrap("est. cycles: the search's closed form; `archsim run` simulates the tile pipeline: "
                    f"{'#1' if same else run['mapping']} runs {run['cycles']:,} cycles there"
                    + (f" (the estimate is {100 * (est / run['cycles'] - 1):+.2f}%)." if same and run["cycles"]
                       else "."), width))
    return "\n".join(out)


def _print(design: str, res, run: dict) -> None:
    print(render(design, res, run))
