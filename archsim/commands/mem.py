"""`archsim mem`: drive a DRAM standard or a flash preset with a trace file or a synthetic pattern.

    archsim mem --standard DDR4-3200 --pattern rand_rd --n 10000 --seed 1 --json -
    archsim mem --standard HBM2 --set channels=2 --set mapping=robabgcorach --trace t.trc
    archsim mem --standard HBM2 --set channels=8 --set frontend=in_order --pattern seq_rd
    archsim mem --flash cambricon_llm --pattern seq_rd --n 256
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import yaml
from pydantic import ValidationError

from archsim.commands._common import nonnegative_int, positive_int
from archsim.config.memory_schema import DramConfig, FlashConfig
from archsim.engine import Engine
from archsim.errors import ConfigError
from archsim.fileio import atomic_write_text

PATTERN_NAMES = ("seq_rd", "rand_rd", "rand_mix", "stream_add", "rowhit", "rowconf", "idle_rand", "seq_wr")


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("mem", help="drive the memory models (DRAM, flash) with a trace or pattern",
                       description="Replay a DRAMSim3-format trace or a synthetic pattern through the "
                                   "DRAM (or flash) model and print its statistics. For DRAM it first says "
                                   "which front end ran (default per_channel: every channel fed; "
                                   "frontend=in_order is the DRAMSim3-style trace driver), the bandwidth beside "
                                   "the peak, and what bounds it, measured by replaying with each limit lifted.")
    p.add_argument("config", nargs="?", help="design YAML whose memory.offchip is used")
    p.add_argument("--standard",
                   help="DRAM standard (memory/specs): DDR4-3200, DDR5-4800, LPDDR5-6400, HBM2, HBM3, GDDR6")
    p.add_argument("--flash", metavar="PRESET", help="drive a flash preset instead (tlc_ssd, cambricon_llm, ...)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a memory.offchip key (mapping, channels, ranks, page_policy, scheduler, "
                        "read_queue_entries, write_queue_entries, refresh, frontend=in_order|per_channel, "
                        "frontend_per_cycle (0: no limit), timing.tRFC, ...)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--trace", help="DRAMSim3 trace: '0xADDR READ|WRITE cycle' per line")
    src.add_argument("--pattern", choices=PATTERN_NAMES, help="synthetic pattern (seq_wr: flash only)")
    src.add_argument("--commands", metavar="FILE",
                     help="DRAM command trace: 'COMMAND [bank [row]]' per line (any command the standard "
                          "declares, PIM ones included), issued in order on channel 0; an illegal order is refused "
                          "naming the line")
    p.add_argument("--n", type=positive_int, default=10_000, help="requests in the pattern (default 10000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--gap", type=nonnegative_int, default=500, help="idle_rand: cycles between requests")
    p.add_argument("--fidelity", choices=("cycle", "fast"), help="default: the config's (cycle)")
    p.add_argument("--json", metavar="FILE", help="write the stats as JSON ('-' for stdout)")
    return p


def _base_offchip(args) -> dict:
    if args.config:
        from archsim.config.loader import resolve_config

        path = resolve_config(args.config)
        try:
            from archsim.config.loader import (
                load_config,  # the lead's loader, when present
            )
            cfg = load_config(path)
            off = cfg.memory.offchip.model_dump(mode="json")
        except ImportError:
            raw = yaml.safe_load(path.read_text()) or {}
            off = dict(((raw.get("memory") or {}).get("offchip")) or {})
        if not off:
            raise ConfigError(f"{args.config}: no memory.offchip section to drive")
        return off
    if args.flash:
        return {"kind": "flash", "preset": args.flash}
    return {"kind": "dram", "standard": args.standard or "DDR4-3200"}


def _apply_sets(off: dict, sets: list[str]) -> dict:
    for item in sets:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set mapping=rorabacobgch")
        key, val = item.split("=", 1)
        value = yaml.safe_load(val) if val.strip() else val
        node = off
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return off


def build_config(args) -> DramConfig | FlashConfig:
    off = _base_offchip(args)
    if args.standard:
        off.update(kind="dram", standard=args.standard)
    if args.flash:
        kept = {k: v for k, v in off.items() if k not in ("kind", "standard")} if off.get("kind") == "flash" else {}
        off = {"kind": "flash", "preset": args.flash, **kept}
    off = _apply_sets(off, args.set)
    if args.fidelity:
        off["fidelity"] = args.fidelity
    model = FlashConfig if off.get("kind") == "flash" else DramConfig
    if off.get("kind") not in ("dram", "flash"):
        raise ConfigError(f"memory.offchip.kind is {off.get('kind')!r}; `archsim mem` drives kind: dram or kind: flash")
    try:
        return model.model_validate(off)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                         for e in exc.errors())
        raise ConfigError(f"memory.offchip: {msgs}") from None


def run(cfg, args) -> dict:
    """Build the level, generate or read the requests, replay them; return the stats dict."""
    from memory import build_offchip
    from memory.trace import replay

    engine = Engine()
    level = build_offchip(cfg, engine)
    if isinstance(cfg, FlashConfig):
        if getattr(args, "commands", None):
            raise ConfigError("--commands replays DRAM commands; the level is flash")
        from memory.flash.drive import run_flash
        return run_flash(level, args.pattern, args.trace, args.n, args.seed)
    if getattr(args, "commands", None):
        from memory.dram.cmdtrace import replay_file

        out = replay_file(level, args.commands)
        return {"standard": level.spec.name, "cycles": out["cycles"],
                "commands": {k: v for k, v in out["commands"].items() if v}}
    addrs, writes, cycles = _requests(args, level)
    return replay(level, addrs, writes, cycles, level.spec.burst_bytes, level.clock)


def _requests(args, level):
    from memory.patterns import generate
    from memory.trace import read_trace

    if args.trace:
        return read_trace(args.trace)
    return generate(args.pattern, level.mapping, args.n, args.seed, args.gap)


def _fmt(v) -> str:
    from archsim.textfmt import plain

    return plain(v)


def _line(key: str, value: str) -> str:
    from archsim.textfmt import wrap

    return wrap(f"{key:28s} {value}", 80, " " * 29)


def explain(cfg, args, stats: dict) -> dict:
    """Which front end ran, what bounds the bandwidth (each limit lifted in turn), the peak beside it."""
    from memory.dram.limits import front_end_text, limits
    from memory.dram.spec import load_spec

    out = {"front_end": front_end_text(cfg), "bandwidth_gbps": stats["bandwidth_gbps"],
           "peak_bandwidth_gbps": stats["peak_bandwidth_gbps"]}
    from memory import build_offchip

    level = build_offchip(cfg, Engine())
    channel = level.mapping.decode_array(_requests(args, level)[0])[0]
    loads = np.bincount(channel, minlength=level.channels)
    out.update(limits(cfg, load_spec(cfg.standard).timing, stats, lambda c: run(c, args), loads))
    return out


def _explain_lines(e: dict) -> list[str]:
    lifted = ", ".join(f"{k} {100 * v:+.1f}%" for k, v in e["gain_if_lifted"].items())
    return [_line("front end", e["front_end"]),
            _line("bandwidth", f"{e['bandwidth_gbps']:.2f} GB/s of {e['peak_bandwidth_gbps']:.2f} GB/s peak "
                               f"({100 * e['share_of_peak']:.0f}%)"),
            _line("bound", e["bound"]), _line("faster with it lifted", lifted)]


def main(args) -> int:
    cfg = build_config(args)
    stats = run(cfg, args)
    if isinstance(cfg, DramConfig) and stats.get("bandwidth_gbps"):
        stats = {"explain": explain(cfg, args, stats), **stats}
    if args.json:
        text = json.dumps(stats, indent=2, sort_keys=True)
        if args.json == "-":
            print(text)
        else:
            atomic_write_text(args.json, text + "\n")
    if args.json != "-":
        for line in _explain_lines(stats["explain"]) if "explain" in stats else ():
            print(line)
        for k, v in stats.items():
            if k == "explain":
                continue
            if isinstance(v, dict):
                v = ", ".join(f"{a}={_fmt(b)}" for a, b in v.items())
            print(_line(k, _fmt(v)), file=sys.stdout)
    return 0
