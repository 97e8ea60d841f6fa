"""`archsim run`: simulate a workload on a design and print per-op (and per-layer) results."""
from __future__ import annotations

import argparse
from typing import Any

from archsim.commands._common import add_config_args, add_value_args, load_design, positive_int, value_args, write_json
from archsim.errors import ArchsimError


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("run", help="simulate a workload on a design and print per-op results",
                       description="Simulate a workload on a design. With no workload flags the design's own "
                                   "`workload:` section runs; with no CONFIG the bundled configs/default.yaml.")
    add_config_args(p)
    w = p.add_argument_group("workload (combine freely; ops run in the order given)")
    w.add_argument("--gemm", action="append", default=[], metavar="[Bx]MxNxK",
                   help="a GEMM, M x K times K x N (optionally B independent ones)")
    w.add_argument("--conv", action="append", default=[], metavar="H=..,W=..,R=..,S=..,C=..,F=..,stride=..,pad=..",
                   help="a convolution, lowered by im2col")
    w.add_argument("--attention", action="append", default=[], metavar="B=..,H=..,P=..,M=..,E=..,F=..",
                   help="a fused attention op softmax(Q K^T) V (optional kv_heads=.. for GQA, causal=1); units "
                        "that cannot run it whole run its QK^T, softmax and A.V parts")
    w.add_argument("--eltwise", action="append", default=[], metavar="add:N,mul:N,relu:N",
                   help="element-wise ops over N FP16 elements (c = a + b, a * b, relu(a))")
    w.add_argument("--workload", metavar="FILE", help="a workload YAML (ops: [{name, gemm: MxNxK}, {conv: {...}}])")
    w.add_argument("--model", help="a transformer preset (e.g. llama2-7b), a config.json path, or a vision "
                                   "network (e.g. mobilenet-v1; its parameters by --set workload.width=0.5)")
    w.add_argument("--onnx", metavar="FILE", help="an ONNX model (shapes only; needs the onnx extra)")
    w.add_argument("--onnx-dim", action="append", default=[], metavar="NAME=VALUE",
                   help="value of a symbolic input dim of the ONNX model (repeatable)")
    w.add_argument("--skip-unsupported", action="store_true",
                   help="ONNX: run the nodes that lower and list the others as skipped (default: an error)")
    w.add_argument("--phase", choices=["prefill", "decode"], default="prefill")
    w.add_argument("--batch", type=positive_int, default=1)
    w.add_argument("--seq", type=positive_int, help="prompt length (prefill)")
    w.add_argument("--kv", type=positive_int, help="KV-cache length (decode)")
    w.add_argument("--fused-attention", action="store_true",
                   help="lower a model's (or an ONNX graph's) QK^T, softmax and A.V as one attention op (run "
                        "whole by units that can)")
    w.add_argument("--allow-long", action="store_true", help="allow a context longer than the model's positions")
    w.add_argument("--bits", type=positive_int, default=None,
                   help="operand precision in bits (default: 8 for GEMMs, 16 for models); operands wider than "
                        "the array takes run as sliced passes (units.*.wide_operands), products wider "
                        "than acc_bits are refused")
    add_value_args(p)
    p.add_argument("--fidelity", choices=["fast", "cycle"], default="fast",
                   help="fast (default): closed-form compute and memory, well under a second for a "
                        "transformer block; cycle: the arrays register by register and DRAM command by "
                        "command on the event engine, seconds to minutes (about 10-100x slower; a progress "
                        "line shows on a terminal)")
    p.add_argument("--placement", choices=["auto", "intensity", "pinned"],
                   help="which unit runs each op: the fastest estimate (auto), memory-side units below the design's "
                        "intensity threshold (intensity), or the design's pins then its first capable unit (pinned); "
                        "default: the design's mapper.placement.policy")
    p.add_argument("--no-dedup", action="store_true", help="simulate every repeated layer instead of once")
    p.add_argument("--exact", action="store_true",
                   help="cycle: simulate every tile and fold (no steady-state sampling, no error bar)")
    p.add_argument("--json", metavar="PATH|-", help="write the report as JSON ('-' for stdout, no table)")
    p.add_argument("--trace", metavar="PATH", help="write a Chrome/Perfetto trace of unit and memory activity")
    return p


def workload_from_args(args) -> dict | None:
    if getattr(args, "onnx", None):
        from archsim.workload import key_values

        dims = {k: int(v) for k, v in key_values(",".join(args.onnx_dim), "--onnx-dim", "batch=1").items()} \
            if args.onnx_dim else {}
        spec = {"onnx": args.onnx, "dims": dims, "bits": args.bits or 8, "skip_unsupported": args.skip_unsupported}
        if args.fused_attention:
            spec["attention"] = "fused"
        return spec
    if args.model:
        spec = {"model": args.model, "phase": args.phase, "batch": args.batch, "seq": args.seq, "kv": args.kv}
        if args.allow_long:
            spec["allow_long"] = True
        if args.fused_attention:
            spec["attention"] = "fused"
        if args.bits:
            spec["bits"] = args.bits
        return spec
    if args.gemm or args.conv or args.attention or args.workload or args.eltwise:
        spec = {"gemm": args.gemm, "conv": args.conv, "attention": args.attention, "file": args.workload,
                "eltwise": args.eltwise}
        if args.bits:
            spec["bits"] = args.bits
        return spec
    return None


class _OpProgress:
    """Per-op progress on a terminal's stderr: the op running, ops done, elapsed and remaining time
    (remaining: elapsed scaled by the bytes the ops left to run move, against those done). Silent
    when stderr is not a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn)

        self._p = Progress(TextColumn("[bold]{task.description}[/]"), BarColumn(),
                           TextColumn("op {task.fields[done]}/{task.fields[n]} {task.fields[op]}"),
                           TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                           console=Console(stderr=True), transient=True)
        self._task: Any = None    # rich's TaskID once started

    @staticmethod
    def _weight(op) -> int:
        return 1 + int(getattr(op, "read_bytes", 0) or 0) + int(getattr(op, "write_bytes", 0) or 0)

    def __call__(self, i: int, ops) -> None:
        if self._task is None:
            self._p.start()
            self._task = self._p.add_task("simulating", total=sum(map(self._weight, ops)), done=0, n=len(ops), op="")
        done = sum(map(self._weight, ops[:i]))
        self._p.update(self._task, completed=done, done=i, op=ops[i].name if i < len(ops) else "")
        if i == len(ops):
            self._p.stop()


def _workload_sets(args) -> tuple[dict | None, dict]:
    """The workload the flags name, and the `--set workload.KEY=VALUE` overrides meant for it
    (removed from args.overrides, so the design never sees them)."""
    from archsim.config.loader import parse_overrides

    mine = [s for s in args.overrides if s.strip().startswith("workload.")]
    args.overrides = [s for s in args.overrides if s not in mine]
    return workload_from_args(args), {k[len("workload."):]: v for k, v in parse_overrides(mine).items()}


def main(args) -> int:
    from archsim.report import print_report
    from archsim.runner import run

    spec, sets = _workload_sets(args)
    design = load_design(args)
    if spec and spec.get("model") and design.workload:   # the design says how its models lower attention
        for key in ("attention", "bits"):                 # and at which precision its datapath runs them
            if key not in spec and getattr(design.workload, key):
                spec[key] = getattr(design.workload, key)
    if sets:
        if spec is None and design.workload is None:
            raise ArchsimError(f"--set {next(iter(sets))}: no workload to set it on (give --model, --gemm, ...)")
        if spec is None:
            spec = design.workload.model_dump(exclude_none=True)
        spec.update(sets)
    if args.placement:
        design.mapper.placement.policy = {"auto": "capability"}.get(args.placement, args.placement)
    trace = None
    if args.trace:
        from archsim.trace import Trace

        trace = Trace()
    import contextlib
    import sys

    from archsim.commands._common import progress

    per_op = _OpProgress() if args.fidelity == "cycle" and sys.stderr.isatty() else None
    with progress(f"simulating on {design.name} ({args.fidelity})") if per_op is None else contextlib.nullcontext():
        report = run(design, spec, fidelity=args.fidelity, dedup=not args.no_dedup, trace=trace, exact=args.exact,
                     progress=per_op, **value_args(args))
    if trace is not None:
        trace.write(args.trace)
    if args.json:
        write_json(report.to_dict(), args.json)
    if args.json != "-":
        print_report(report)
        skipped = report.meta.get("onnx_skipped")
        if skipped:
            print(f"skipped {len(skipped)} ONNX node(s) that do not lower: {', '.join(skipped)}")
        unfused = report.meta.get("onnx_unfused")
        if unfused:
            print(f"--fused-attention: {len(unfused)} Softmax node(s) left unfused: {', '.join(unfused)}")
    return 0
