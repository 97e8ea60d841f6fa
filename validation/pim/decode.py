"""A decode step of LLaMA-2-7B and GPT-2 on every bundled PIM design, beside the same design without its
PIM unit (the NPU reads every weight through the same memory): time per token, speed-up, energy per
token, and where the PIM time goes. Ours only: no published per-design figure is copied here.

    .venv/bin/python validation/pim/decode.py [--fidelity fast|cycle] [--kv 2048]

GPT-2 runs with at most 1,024 tokens of context (its maximum). A model whose weights and KV cache do not
fit the design's memory (LLaMA-2-7B on PIM-GPT's 4 GiB) is listed as not fitting.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import archsim                                                        # noqa: E402
from archsim.errors import WorkloadError                              # noqa: E402

CONFIGS = HERE.parents[1] / "configs" / "pim"
MODELS = ("llama2-7b", "gpt2")


def step(design, model: str, kv: int, fidelity: str):
    kv = min(kv, 1024) if model == "gpt2" else kv          # GPT-2's positions end at 1,024
    return archsim.run(design, {"model": model, "phase": "decode", "batch": 1, "kv": kv}, fidelity=fidelity)


def without_pim(design):
    """The design without its PIM unit; a design with no GEMM unit left (PIM-GPT) gets a 128x128 NPU
    reading the same memory, so the baseline is "the same memory without PIM"."""
    raw = design.model_dump(mode="json")
    raw["units"] = {n: u for n, u in raw["units"].items() if u["kind"] != "pim"}
    if not any(u["kind"] == "systolic" for u in raw["units"].values()):
        raw["units"]["npu"] = {"kind": "systolic", "rows": 128, "cols": 128, "dataflow": "ws"}
    return archsim.load_config(raw)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fidelity", choices=["fast", "cycle"], default="fast")
    ap.add_argument("--kv", type=int, default=2048)
    args = ap.parse_args()
    print("no PIM: the design without its PIM unit, as simulated (the NPU's GEMV rate can bound it); roofline: the\n"
          "same run's off-chip bytes at the memory's peak bandwidth (the best any host could do on this memory)")
    print(f"{'design':20} {'model':10} {'ms/token':>9} {'no PIM':>9} {'speed-up':>8} {'roofline':>9} {'speed-up':>8} "
          f"{'mJ/token':>9} {'no PIM':>8}  PIM time by phase (us)")
    for path in sorted(CONFIGS.glob("*.yaml")):
        design = archsim.load_config(str(path))
        for model in MODELS:
            try:
                rep = step(design, model, args.kv, args.fidelity)
            except WorkloadError as exc:              # the model does not fit the memory the PIM computes in
                print(f"{path.stem:20} {model:10} does not fit: {str(exc).split(';')[0]}")
                continue
            base = step(without_pim(design), model, args.kv, args.fidelity)
            t, t0 = rep.totals["time_ns"] / 1e6, base.totals["time_ns"] / 1e6
            tb = base.totals
            roof = (tb["dram_read_bytes"] + tb["dram_write_bytes"]) / tb["peak_offchip_bytes_per_ns"] / 1e6
            e, e0 = rep.totals["energy_pj"] / 1e9, base.totals["energy_pj"] / 1e9
            phases: dict[str, float] = {}
            for row in rep.ops:
                if row["unit"] == "pim":
                    tck = row["time_ns"] / max(1, row["detail"]["dram_cycles"] * row["count"])
                    for k, v in row["detail"]["breakdown_cycles"].items():
                        phases[k] = phases.get(k, 0.0) + v * row["count"] * tck / 1000
            other = t * 1000 - sum(phases.values())
            where = ", ".join(f"{k} {v:.0f}" for k, v in phases.items() if v >= 0.5) + f"; other units {other:.0f}"
            print(f"{path.stem:20} {model:10} {t:9.3f} {t0:9.3f} {t0 / t:7.2f}x {roof:9.3f} {roof / t:7.2f}x "
                  f"{e:9.2f} {e0:8.2f}  {where}")


if __name__ == "__main__":
    main()
