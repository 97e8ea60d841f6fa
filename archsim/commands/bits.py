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
    p.add_argument("--samples", type=int, default=0, metavar="N",
                   help="also measure on N operands drawn with --seed (a file: its first N values)")
    p.add_argument("--seed", type=int, default=0, help="seed of --samples draws")
    p.add_argument("--tails", choices=("clip", "reject"), default="clip",
                   help="a distribution's mass outside the range: clip (as --weights/--acts draw) or reject "
                        "(redraw, as the published statistics)")
    p.add_argument("--json", metavar="PATH|-", help="write the result as JSON ('-' for stdout, no table)")
    return p


def _pmf(spec: str, bits: int, tails: str = "clip") -> Any:
    import numpy as np

    from archsim.units.bitweight.engine import histogram
    from dataflows.values import Distribution, parse_source, signed_range

    src = parse_source(spec)
    if isinstance(src, Distribution):
        return src.pmf(bits, tails)
    lo, hi = signed_range(bits)
    arr = np.concatenate([np.asarray(a).ravel() for a in src.arrays.values()])
    if arr.size == 0 or arr.min() < lo or arr.max() > hi or not np.array_equal(arr, np.rint(arr)):
        raise ArchsimError(f"--values {spec}: values must be integers in the {bits}-bit signed range [{lo}, {hi}]")
    return histogram(arr.astype(np.int64), bits)


def _sample(spec: str, bits: int, n: int, seed: int) -> Any:
    import numpy as np

    from dataflows.values import Distribution, parse_source

    src = parse_source(spec)
    if isinstance(src, Distribution):
        return src.draw((n,), bits, np.random.default_rng(seed))
    return np.concatenate([np.asarray(a).ravel() for a in src.arrays.values()])[:n].astype(np.int64)


def stats(spec: str, encodings: list[str], bits: int, group: int, designs: list[str],
          strict: bool = True, tails: str = "clip", samples: int = 0, seed: int = 0) -> dict[str, Any]:
    """The statistics `archsim bits` prints; `strict`: a design that cannot run the asked encoding is an
    error (designs named with --design) rather than priced with its own encoding and a note."""

    import numpy as np

    from archsim.units.bitweight.encodings import ENCODINGS, canonical, encoding
    from archsim.units.bitweight.engine import Schedule, fast_cost

    if group < 1:
        raise ArchsimError(f"--group must be at least 1, got {group}")
    p = _pmf(spec, bits, tails)
    drawn = _sample(spec, bits, samples, seed) if samples > 0 else None
    names = [canonical(e) for e in encodings] or [e for e in ENCODINGS if e != "parallel"]
    rows = []
    for n in dict.fromkeys(names):
        enc = encoding(n, bits)
        s = Schedule("activation", n, True, k_lanes=group, act_bits=bits)
        rows.append({"encoding": n, "positions": enc.positions, "mean_nonzero": float(p @ enc.count),
                     "zero_operands": float(p @ (enc.count == 0)),
                     f"emax_{group}": float(fast_cost(s, 1, 1, group, 1, p, None).cycles)})
        if drawn is not None:      # measured on the draws: mean, and max over consecutive groups of G
            cnt = enc.count[drawn - enc.lo]
            whole = cnt[:len(cnt) // group * group].reshape(-1, group)
            rows[-1]["sampled_mean_nonzero"] = float(cnt.mean())
            rows[-1][f"sampled_emax_{group}"] = float(np.maximum(whole.max(1), 1).mean()) if len(whole) else None
    return {"values": spec, "bits": bits, "group": group, "tails": tails, "encodings": rows,
            "designs": [_design(path, p, bits, encodings, strict) for path in designs]}


def _uniform(bits: int) -> Any:
    import numpy as np

    return np.full(1 << bits, 1.0 / (1 << bits))


def _uniform(bits: int) -> Any:
    import numpy as np

    return np.full(1 << bits, 1.0 / (1 << bits))


def _design(path: str, p: Any, bits: int, encodings: list[str], strict: bool) -> dict[str, Any]:
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
    c = fast_cost(s, *SHAPE, 1, pa if pa is not None else _uniform(s.act_bits),
                  pw if pw is not None else _uniform(s.weight_bits))
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
    out = stats(args.values, args.encoding, args.bits, args.group, designs, strict=bool(args.design),
                tails=args.tails, samples=args.samples, seed=args.seed)
    if args.json:
        write_json(out, args.json)
        if args.json == "-":
            return 0
    from archsim.textfmt import render_table, wrap

    g = out["group"]
    print(f"values {out['values']} at {out['bits']} bits")
    sampled = args.samples > 0
    head = ("encoding", "digits", "mean non-zero", "zero share", f"E[max of {g}]")
    rows = []
    for r in out["encodings"]:
        row = [r["encoding"], str(r["positions"]), f"{r['mean_nonzero']:.4f}", f"{r['zero_operands']:.4f}",
               f"{r[f'emax_{g}']:.4f}"]
        if sampled:
            smax = r[f"sampled_emax_{g}"]
            row += [f"{r['sampled_mean_nonzero']:.4f}", "-" if smax is None else f"{smax:.4f}"]
        rows.append(row)
    print(render_table(head + (("sampled mean", "sampled max") if sampled else ()), rows))
    if out["designs"]:
        rows = [[d["design"], d["encoding"], d["serial"], f"{d['cycles_per_mac']:.4f}",
                 f"{d['speedup_vs_bit_parallel']:.4f}", f"{d['sync_stall_share']:.3f}"] for d in out["designs"]]
        print(render_table(("design", "encoding", "serial", "cycles/MAC", "x bit-par", "sync stall"), rows,
                           text_cols=(0, 1, 2)))
        for d in out["designs"]:
            if d["note"]:
                print(wrap(f"{d['design']}: {d['note']}", 80, "  "))
    return 0
