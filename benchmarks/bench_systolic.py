"""Speed of the systolic `fast` model (both timings, all dataflows) and, if available, SCALE-Sim's.

    python benchmarks/bench_systolic.py [--scalesim-python PATH] [--scalesim-max-cycles N]

Prints the time per `SystolicArray.compute` call for each case, the whole GPT-2 layer set
(target: under 50 ms), and for cases up to --scalesim-max-cycles the CPU time of the `cycle`
(register-level) model and, when SCALE-Sim v3 can run (in-process when importable, else through
--scalesim-python / $SCALESIM_PYTHON), SCALE-Sim's CPU time and both speed-ups.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "validation" / "scalesim"))

from archsim.units.systolic import SystolicConfig  # noqa: E402
from archsim.units.base import GemmShape  # noqa: E402
from archsim.units.systolic import SystolicArray  # noqa: E402

GPT2 = {"gpt2_qkv": (128, 2304, 768), "gpt2_attn_out": (128, 768, 768),
        "gpt2_mlp_up": (128, 3072, 768), "gpt2_mlp_down": (128, 768, 3072)}
LLAMA = {"llama7b_gemv_4096": (1, 4096, 4096), "llama7b_gemv_11008": (1, 4096, 11008)}
ARRAYS = (32, 128)
DATAFLOWS = ("os", "ws", "is")


def timings() -> list[str]:
    return ["scalesim", "pipelined"]


def per_call_s(unit: SystolicArray, g: GemmShape, reps: int = 200) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            unit.compute(g)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scalesim-python", help="interpreter that can import scalesim (3.0.0, numpy<2.4)")
    ap.add_argument("--scalesim-max-cycles", type=int, default=7000,
                    help="run SCALE-Sim live only on cases up to this many cycles (it needs ~1-4 us "
                         "of CPU per cycle x (R + 2C) cells)")
    args = ap.parse_args()
    import compare  # validation/scalesim: SCALE-Sim's live runner

    py = compare.scalesim_python(args.scalesim_python)
    units = {(n, df, tm): SystolicArray("sa", SystolicConfig(rows=n, cols=n, dataflow=df, timing=tm), 1e9,
                                        {"mac": 0.2, "sram_byte": 1.0})
             for n in ARRAYS for df in DATAFLOWS for tm in timings()}

    rows, live_todo = [], []
    for name, (M, N, K) in {**GPT2, **LLAMA}.items():
        g = GemmShape(M, N, K)
        for (n, df, tm), unit in units.items():
            r = unit.compute(g)
            s = per_call_s(unit, g)
            row = {"case": name, "array": f"{n}x{n}", "df": df, "timing": tm, "cycles": r.cycles,
                   "util": r.utilization, "us": s * 1e6, "gpt2": name in GPT2}
            rows.append(row)
            if tm == "scalesim" and r.cycles <= args.scalesim_max_cycles:
                t0 = time.process_time()                 # the register-level model, same case
                assert unit.compute(g, "cycle").cycles == r.cycles
                row["cycle_cpu_s"] = time.process_time() - t0
            if py is not False and tm == "scalesim" and r.cycles <= args.scalesim_max_cycles:
                live_todo.append(row | {"M": M, "N": N, "K": K, "rows": n, "cols": n, "dataflow": df,
                                        "kind": "gemm", "name": name})
    if live_todo:
        print(f"running SCALE-Sim live on {len(live_todo)} cases ...", flush=True)
        for row, res in zip(live_todo, compare.run_live(live_todo, py or None)):
            match = next(x for x in rows if x["case"] == row["case"] and x["array"] == row["array"]
                         and x["df"] == row["df"] and x["timing"] == "scalesim")
            match["ss_cycles"], match["ss_cpu_s"] = res["compute_cycles"][0], res["cpu_s"]

    print(f"{'case':20} {'array':>7} {'df':>3} {'timing':>9} {'cycles':>9} {'util %':>7} {'us/call':>8}"
          f" {'SCALE-Sim cyc':>13} {'SS cpu s':>9} {'speed-up':>9} {'cycle-mode s':>12} {'speed-up':>8}")
    for r in rows:
        ss = f"{r['ss_cycles']:>13} {r['ss_cpu_s']:>9.3f} {r['ss_cpu_s'] / (r['us'] * 1e-6):>9.0f}" \
            if "ss_cycles" in r else (" " * 33 if "cycle_cpu_s" in r else "")
        if "cycle_cpu_s" in r:
            speedup = f" {r['ss_cpu_s'] / r['cycle_cpu_s']:>8.1f}" if "ss_cpu_s" in r else ""
            ss += f" {r['cycle_cpu_s']:>12.3f}" + speedup
        print(f"{r['case']:20} {r['array']:>7} {r['df']:>3} {r['timing']:>9} {r['cycles']:>9} "
              f"{100 * r['util']:>7.2f} {r['us']:>8.1f} {ss}")
    gpt2 = [r for r in rows if r["gpt2"]]
    total_ms = sum(r["us"] for r in gpt2) / 1e3
    print(f"\nGPT-2 layer set: {len(gpt2)} evaluations (4 GEMMs x {len(ARRAYS)} arrays x 3 dataflows x "
          f"{len(timings())} timings) in {total_ms:.3f} ms (target < 50 ms)")
    if py is False:
        print("SCALE-Sim not importable; pass --scalesim-python for the speed ratio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
