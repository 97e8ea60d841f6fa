"""`archsim bits`: digit statistics of an operand source under each encoding, and each bit-weight
design's cycles per MAC on it, from the same tables and engine the `bitweight` unit runs."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from archsim.commands._common import REPO_CONFIGS, write_json
from archsim.errors import ArchsimError, ConfigError

SHAPE = (1024, 1024, 1024)   # the GEMM each design's cycles per MAC are taken on (M, N, K)


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("bits", help="digit statistics of operand values under each encoding",
                       description="Mean non-zero digits per operand, E[max over a group of G] and each bundled "
                                   "bit-weight design's cycles per MAC for an operand source.")
    p.add_argument("--values", required=True, metavar="DIST|FILE",
                   help="normal:STD, uniform, laplace:B, sparse:P,<dist>, or an .npy/.npz of integers")
    p.add_argument("--encoding", action="append", default=[],
                   help="ent, booth, popcount, csd, radix2, slice2 (or a design alias: laconic, pragmatic, ...); "
                        "repeatable; default all")
    p.add_argument("--bits", type=int, default=8, help="operand width (default 8)")
    p.add_argument("--group", type=int, default=16, help="lanes that step together for E[max] (default 16)")
    p.add_argument("--design", action="append", default=[], metavar="YAML",
                   help="bit-weight design(s) to price (default: configs/bitweight/*.yaml)")
    p.add_argument("--seed", type=int, default=0, help="seed (a file's values are used as given)")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' for stdout, no table)")
    return p


def _pmf(spec: str, bits: int) -> Any:
    import numpy as np

    from archsim.units.bitweight.engine import histogram
    from dataflows.values import Distribution, parse_source, signed_range

    src = parse_source(spec)
    if isinstance(src, Distribution):
        return src.pmf(bits)
    lo, hi = signed_range(bits)
    arr = np.concatenate([np.asarray(a).ravel() for a in src.arrays.values()])
    if arr.size == 0 or arr.min() < lo or arr.max() > hi or not np.array_equal(arr, np.rint(arr)):
        raise ArchsimError(f"--values {spec}: values must be integers in the {bits}-bit signed range [{lo}, {hi}]")
    return histogram(arr.astype(np.int64), bits)


def stats(spec: str, encodings: list[str], bits: int, group: int, designs: list[str],
          strict: bool = True) -> dict[str, Any]:
    """The statistics `archsim bits` prints; `strict`: a design that cannot run the asked encoding is an
    error (designs named with --design) rather than priced with its own encoding and a note."""

    from archsim.units.bitweight.encodings import ENCODINGS, canonical, encoding
    from archsim.units.bitweight.engine import Schedule, fast_cost

    if group < 1:
        raise ArchsimError(f"--group must be at least 1, got {group}")
    p = _pmf(spec, bits)
    names = [canonical(e) for e in encodings] or [e for e in ENCODINGS if e != "parallel"]
    rows = []
    for n in dict.fromkeys(names):
        enc = encoding(n, bits)
        s = Schedule("activation", n, True, k_lanes=group, act_bits=bits)
        rows.append({"encoding": n, "positions": enc.positions, "mean_nonzero": float(p @ enc.count),
                     "zero_operands": float(p @ (enc.count == 0)),
                     f"emax_{group}": float(fast_cost(s, 1, 1, group, 1, p, None).cycles)})
    return {"values": spec, "bits": bits, "group": group, "encodings": rows,
            "designs": [_design(path, p, bits, encodings, strict) for path in designs]}


def _design(path: str, p: Any, bits: int, encodings: list[str], strict: bool) -> dict[str, Any]:
    import numpy as np

    from archsim.config.loader import load_config
    from archsim.units.bitweight.encodings import canonical
    from archsim.units.bitweight.engine import fast_cost
    from archsim.units.bitweight.unit import schedule_of

    design = load_config(Path(path))
    units = {n: u for n, u in design.units.items() if u.kind == "bitweight"}
    if not units:
        raise ConfigError(f"{path}: no unit of kind bitweight")
    name, cfg = next(iter(units.items()))
    updates: dict[str, Any] = {}
    if encodings and cfg.serial != "none" and cfg.skip_zeros:
        want = canonical(encodings[0])
        runs = [canonical(e) for e in (cfg.encodings or [cfg.encoding])]
        if want in runs:
            updates["encoding"] = want
        elif strict:
            raise ConfigError(f"{path}: units.{name}.encoding: the PE runs {', '.join(runs)}, not {want!r}")
    cfg = cfg.model_copy(update=updates)
    s = schedule_of(cfg)
    pa = p if s.act_bits == bits else None
    pw = p if s.weight_bits == bits else None
    uniform = lambda b: np.full(1 << b, 1.0 / (1 << b))  # noqa: E731
    c = fast_cost(s, *SHAPE, 1, pa if pa is not None else uniform(s.act_bits),
                  pw if pw is not None else uniform(s.weight_bits))
    serial_bits = {"activation": s.act_bits, "weight": s.weight_bits}.get(s.serial, bits)
    notes = [] if serial_bits == bits or s.serial == "none" else [
        f"its serial operand is {serial_bits}-bit: values taken as uniform"]
    if encodings and "encoding" not in updates and cfg.serial != "none" and cfg.skip_zeros:
        notes.append(f"cannot run {encodings[0]}: its own encoding")
    return {"design": design.name, "encoding": s.encoding, "serial": s.serial,
            "cycles_per_mac": 1.0 / c.speedup, "speedup_vs_bit_parallel": c.speedup,
            "sync_stall_share": c.stall_share, "note": "; ".join(notes)}


def main(args) -> int:
    designs = args.design or sorted(str(p) for p in (REPO_CONFIGS / "bitweight").glob("*.yaml"))
    out = stats(args.values, args.encoding, args.bits, args.group, designs, strict=bool(args.design))
    if args.json:
        write_json(out, args.json)
        if args.json == "-":
            return 0
    from archsim.textfmt import render_table, wrap

    g = out["group"]
    print(f"values {out['values']} at {out['bits']} bits")
    rows = [[r["encoding"], str(r["positions"]), f"{r['mean_nonzero']:.4f}", f"{r['zero_operands']:.4f}",
             f"{r[f'emax_{g}']:.4f}"] for r in out["encodings"]]
    print(render_table(("encoding", "digits", "mean non-zero", "zero share", f"E[max of {g}]"), rows))
    if out["designs"]:
        rows = [[d["design"], d["encoding"], d["serial"], f"{d['cycles_per_mac']:.4f}",
                 f"{d['speedup_vs_bit_parallel']:.4f}", f"{d['sync_stall_share']:.3f}"] for d in out["designs"]]
        print(render_table(("design", "encoding", "serial", "cycles/MAC", "x bit-par", "sync stall"), rows,
                           text_cols=(0, 1, 2)))
        for d in out["designs"]:
            if d["note"]:
                print(wrap(f"{d['design']}: {d['note']}", 80, "  "))
    return 0
