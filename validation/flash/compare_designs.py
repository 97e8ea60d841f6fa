"""The three flash designs side by side on one model: in-die GEMV (Cambricon-LLM S), attention in a
computational SSD (InstInfer) and host flash offload (LLM in a flash), with the InstInfer baselines.

    python validation/flash/compare_designs.py [--model opt-6.7b] [--kv 1024]

Each design runs its own precision (Cambricon W8A8, the others FP16) through `archsim.run` (fast), at
batch 1, and the InstInfer designs (offline, batched) also at 16. Flash bytes per token are what
crosses the flash channels (Cambricon, InstInfer) or is read from the drive (LLM in a flash, the
baselines' KV reads). J per token: every byte a drive serves pays its senses and channel bits (the
in-storage units and the runner's port alike); links carry no energy figure.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import archsim

CONFIGS = Path(__file__).resolve().parent.parent.parent / "configs" / "flash"
DESIGNS = (("cambricon_llm_s", 8, (1,)), ("llm_in_a_flash", 16, (1,)), ("instinfer", 16, (1, 16)),
           ("instinfer_flexgen_ssd", 16, (1, 16)), ("instinfer_host_dram", 16, (1, 16)))   # batch 1: single-user


def flash_bytes(op: dict, design) -> int:
    """Bytes this op moves over flash channels or out of a drive."""
    d = op.get("detail", {})
    if "flash_read_bytes" in d:
        return (d["flash_read_bytes"] + d.get("kv_flush_bytes", 0)) * op["count"]
    if "flash_bytes" in d:
        return d["flash_bytes"] * op["count"]
    flash_levels = {n for n, lv in design.memory.levels.items() if lv.device.kind == "flash"}
    return sum(v["read_bytes"] for n, v in op.get("levels", {}).items() if n in flash_levels)


def row(name: str, bits: int, model: str, batch: int, kv: int) -> dict:
    design = archsim.load_config(CONFIGS / f"{name}.yaml")
    wl = {"model": model, "phase": "decode", "batch": batch, "kv": kv, "bits": bits}
    if design.workload is not None and design.workload.attention:
        wl["attention"] = design.workload.attention       # InstInfer: the drive runs the fused op
    rep = archsim.run(design, wl, fidelity="fast").to_dict()
    ops, tot = rep["ops"], rep["totals"]
    slow = max(ops, key=lambda o: o["time_ns"])
    return {"design": name, "batch": batch, "tok_s": tot["tokens_per_s"],
            "flash_gb_tok": sum(flash_bytes(o, design) for o in ops) / batch / 1e9,
            "j_tok": tot["energy_pj"] / batch / 1e12, "slowest": f"{slow['name']} on {slow['unit']}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="opt-6.7b")
    ap.add_argument("--kv", type=int, default=1024)
    args = ap.parse_args()
    print(f"{args.model} decode, context {args.kv}")
    print(f"{'design':22} {'batch':>5} {'tok/s':>8} {'flash GB/tok':>12} {'J/tok':>8}  slowest op")
    for name, bits, batches in DESIGNS:
        for batch in batches:
            r = row(name, bits, args.model, batch, args.kv)
            print(f"{r['design']:22} {r['batch']:5} {r['tok_s']:8.2f} {r['flash_gb_tok']:12.3f} {r['j_tok']:8.3f}  "
                  f"{r['slowest']}")


if __name__ == "__main__":
    main()
