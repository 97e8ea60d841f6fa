"""Run ZigZag (PyPI `zigzag-dse`) on GEMM layers of its bundled `tpu_like` design; write zigzag_tpu_like.csv.

Run in a separate venv (never an archsim dependency):
    python -m venv .zzvenv && .zzvenv/bin/pip install zigzag-dse six
    .zzvenv/bin/python validation/zigzag/run_zigzag.py
The CSV it writes is what compare.py reads, so the comparison runs without ZigZag installed.
"""
from __future__ import annotations

import csv
import importlib.metadata
import os
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
LAYERS = [  # name, M, N, K  (C[M,N] = A[M,K] @ B[K,N])
    ("g64", 64, 64, 64),
    ("g128x256x512", 128, 256, 512),
    ("g256x768x768", 256, 768, 768),
    ("gpt2_qkv_s128", 128, 2304, 768),
    ("gpt2_mlp_down_s128", 128, 768, 3072),
    ("gemv_1x1024x1024", 1, 1024, 1024),
]
PRECISION = {"I": 8, "W": 8, "O": 16, "O_final": 8}


def workload(M: int, N: int, K: int) -> list[dict]:
    # ZigZag's naming: B = rows of the input (our M), C = reduction (our K), K = output columns (our N)
    return [{"id": 0, "name": "gemm", "operator_type": "Gemm", "equation": "O[b][k]+=I[b][c]*W[c][k]",
             "loop_dims": ["B", "C", "K"], "loop_sizes": [M, K, N], "operand_precision": dict(PRECISION),
             "operand_source": {"I": 0}}]


def main() -> int:
    from zigzag import api
    import zigzag

    inputs = Path(zigzag.__file__).parent / "inputs"
    acc, mapping = str(inputs / "hardware" / "tpu_like.yaml"), str(inputs / "mapping" / "tpu_like.yaml")
    version = importlib.metadata.version("zigzag-dse")
    rows = []
    for name, M, N, K in LAYERS:
        with tempfile.TemporaryDirectory() as tmp:
            wl = os.path.join(tmp, "wl.yaml")
            Path(wl).write_text(yaml.safe_dump(workload(M, N, K)))
            energy, latency, cmes = api.get_hardware_performance_zigzag(
                wl, acc, mapping, opt="latency", dump_folder=tmp, loma_show_progress_bar=False)
        cme = cmes[0][1][0][0] if isinstance(cmes[0][1], list) else cmes[0][0]
        ideal = getattr(cme, "ideal_cycle", None)
        rows.append({"name": name, "M": M, "N": N, "K": K, "latency_cycles": round(float(latency), 1),
                     "energy_pj": round(float(energy), 1), "ideal_cycles": ideal,
                     "source": f"zigzag-dse {version}, tpu_like.yaml + mapping tpu_like.yaml, opt=latency, "
                               f"LOMA uneven, precision {PRECISION}"})
        print(rows[-1], file=sys.stderr)
    with open(HERE / "zigzag_tpu_like.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
