"""LLaMA-2-7B one decode step and one prefill pass on every bundled bit-weight design, as one table.

    python validation/bitweight/llama.py [--fidelity fast|cycle] [--weights normal:20|FILE.npz] [--acts normal:10]

INT8 operands (BitMoD: INT4 weights, its design's precision), weights and activations from seeded
distributions (or an .npz of real weights named <op>.<operand>), batch 1, decode at 1024 keys and
prefill of 128 tokens. Prints time, tokens/s, the GEMMs' mean cycles per synchronised step, sync
stall share and speed-up over the same array bit-parallel, and time relative to the bit-parallel
INT8 baseline design. Every design has the same 25.6 GB/s off-chip level, so the decode step is
memory-bound on all of them (the table shows how close each comes to the weight bytes' bound).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import archsim  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--fidelity", default="fast", choices=("fast", "cycle"))
    p.add_argument("--weights", default="normal:20")
    p.add_argument("--acts", default="normal:10")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rows = []
    for path in sorted((ROOT / "configs" / "bitweight").glob("*.yaml")):
        design = archsim.load_config(path)
        bits = 4 if path.stem == "bitmod" else 8
        weights = "normal:2" if bits == 4 and args.weights.startswith("normal:") else args.weights
        for phase, extra in (("decode", {"kv": 1024}), ("prefill", {"seq": 128})):
            wl = {"model": "llama2-7b", "phase": phase, "batch": 1, "bits": bits, **extra}
            rep = archsim.run(design, wl, fidelity=args.fidelity, seed=args.seed,
                              values={"weight": weights, "activation": args.acts})
            gemms = [r for r in rep.ops if "detail" in r and "engine_cycles" in r["detail"]]
            eng = sum(r["detail"]["engine_cycles"] * r["count"] for r in gemms)
            steps = sum(r["detail"]["steps"] * r["count"] for r in gemms)
            bp = sum(r["detail"]["bit_parallel_cycles"] * r["count"] for r in gemms)
            stall = sum(r["detail"]["sync_stall_share"] * r["detail"]["engine_cycles"] * r["count"]
                        for r in gemms) / max(eng, 1)
            t_ns = sum(r["time_ns"] for r in rep.ops)
            rows.append((design.name, phase, t_ns, rep.tokens / (t_ns * 1e-9), eng / max(steps, 1), stall,
                         bp / max(eng, 1)))
    base = {ph: t for name, ph, t, *_ in rows if name.startswith("bit-parallel")}
    print(f"LLaMA-2-7B, {args.fidelity}, weights {args.weights}, activations {args.acts}, seed {args.seed}")
    print(f"{'design':<24} {'phase':<8} {'time ms':>10} {'tokens/s':>10} {'cyc/step':>9} {'stall':>6} "
          f"{'x bit-par':>9} {'vs INT8 MAC':>11}")
    for name, ph, t, tps, cps, stall, sp in rows:
        print(f"{name:<24} {ph:<8} {t / 1e6:>10.2f} {tps:>10.2f} {cps:>9.3f} {stall:>6.3f} {sp:>9.3f} "
              f"{base[ph] / t:>11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
