"""Speed of the attention unit (issue 14 targets in brackets).

- Level 0: 4 models (BERT, TrXL-wt103, T5-small, XLM dims from the FuseMax paper) x 6 sequence lengths
  (1K ... 1M) = 24 points, FuseMax variant [< 1 s]; also all five variants (120 points)
- Level 1: BERT-16K (batch 64, 12 heads) [< 10 s], and BERT-1K, simulated whole (12 288 tiles), as the
  events-per-second baseline; the ratio Level 1 / Level 0 on the same op in the same run

Usage: python benchmarks/bench_fusemax.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archsim.units.attention import AttentionConfig, AttentionShape, level0
from archsim.units.attention.epochs import level1, port_for
from archsim.units.attention.stages import level1_stages

BW, CLOCK = 400 * 2**30, 940e6
MODELS = {"BERT": (12, 64), "TrXL-wt103": (16, 64), "T5-small": (8, 64), "XLM": (16, 128)}   # heads, E = F
SEQS = [2**k for k in range(10, 21, 2)]


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def sweep(variants: tuple[str, ...]) -> int:
    n = 0
    for v in variants:
        cfg = AttentionConfig(variant=v, buffer="32 MiB" if v in ("flat", "unfused") else "16 MiB")
        for heads, e in MODELS.values():
            for s in SEQS:
                level0(AttentionShape(B=64, H=heads, P=s, M=s, E=e, F=e), cfg, BW, CLOCK)
                n += 1
    return n


def main() -> None:
    cfg = AttentionConfig()
    t24, n24 = timed(lambda: sweep(("fusemax",)))
    t120, n120 = timed(lambda: sweep(("fusemax", "architecture", "cascade", "flat", "unfused")))
    rows = [(f"Level 0, {n24} points (fusemax)", t24, 1.0), (f"Level 0, {n120} points (5 variants)", t120, None)]
    for seq, target in ((1024, None), (16384, 10.0)):
        shape = AttentionShape(B=64, H=12, P=seq, M=seq, E=64, F=64)
        t0, lv = timed(lambda shape=shape: level0(shape, cfg, BW, CLOCK))
        t1, l1 = timed(lambda shape=shape, lv=lv: level1(shape, cfg, lv, port_for(None, BW, 100_000)))
        how = "extended from prefixes" if l1.extrapolated else "whole stream"
        rows.append((f"Level 1, BERT-{seq // 1024}K ({l1.simulated_tiles} tiles, {how})", t1, target))
        rows.append((f"  Level 1 / Level 0 wall time, BERT-{seq // 1024}K", t1 / t0, None))
        if not l1.extrapolated:
            rows.append(("  Level 1 tiles per second (whole stream)", l1.simulated_tiles / t1, None))
    for variant in ("cascade", "flat", "unfused"):      # array-stage Level 1, BERT-16K
        vcfg = AttentionConfig(variant=variant, buffer="16 MiB" if variant == "cascade" else "32 MiB")
        shape = AttentionShape(B=64, H=12, P=16384, M=16384, E=64, F=64)
        lv = level0(shape, vcfg, BW, CLOCK)
        t1, l1 = timed(lambda vcfg=vcfg, shape=shape, lv=lv: level1_stages(shape, vcfg, lv, port_for(None, BW, 100_000),
                                                                          BW))
        rows.append((f"Level 1, BERT-16K {variant} ({l1.simulated_tiles} steps)", t1, 10.0))
    print(f"{'case':58s} {'value':>10s} {'target':>8s}")
    for name, val, target in rows:
        verdict = "" if target is None else ("ok" if val <= target else "MISSED")
        print(f"{name:58s} {val:10.3f} {'' if target is None else f'{target:8.1f}'}  {verdict}")


if __name__ == "__main__":
    main()
