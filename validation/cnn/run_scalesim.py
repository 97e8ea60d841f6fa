"""Run SCALE-Sim v3 itself on a topology, one layer at a time, and record its three reports.

Standard library and `scalesim` only, so it runs in SCALE-Sim's own venv (never archsim's):

    .scalesim_venv/bin/python validation/cnn/run_scalesim.py CFG TOPO.csv OUT.jsonl [--gemm]

Each layer is run alone through SCALE-Sim's Python API (`save_disk_space=True`, so no traces) and
one JSON line per layer is appended to OUT.jsonl: the topology row, and the COMPUTE_REPORT,
BANDWIDTH_REPORT and DETAILED_ACCESS_REPORT rows SCALE-Sim wrote for it, keyed by its own
headers, plus the CPU seconds it took. Layers already in OUT.jsonl are skipped, so a run can
be resumed. SCALE-Sim runs each layer independently, so one layer per run gives the same numbers
as the whole file.
"""
from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from pathlib import Path

REPORTS = ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv")


def read_report(path: Path) -> dict[str, str]:
    """A one-layer SCALE-Sim report: ', '-separated with a trailing comma."""
    with open(path) as f:
        rows = [[v.strip() for v in r] for r in csv.reader(f) if r]
    return {k: v for k, v in zip(rows[0], rows[1]) if k}


def run_layer(cfg: Path, header: str, row: str, gemm: bool, workdir: Path) -> dict:
    from scalesim.scale_sim import scalesim

    topo, layout = workdir / "t.csv", workdir / "l.csv"
    topo.write_text(header + "\n" + row + "\n")
    layout.write_text("Layer,\n")
    cpu0 = time.process_time()
    sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                   layout=str(layout), input_type_gemm=gemm)
    sim.run_scale(top_path=str(workdir / "out"))
    cpu = time.process_time() - cpu0
    (run_dir,) = (workdir / "out").iterdir()
    return {"row": row, **{name.split(".")[0]: read_report(run_dir / name) for name in REPORTS},
            "cpu_s": round(cpu, 2)}


def main() -> None:
    cfg, topo, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    gemm = "--gemm" in sys.argv[4:]
    lines = topo.read_text().splitlines()
    done = {json.loads(s)["row"] for s in out.read_text().splitlines()} if out.exists() else set()
    for row in lines[1:]:
        if not row.replace(",", "").strip() or row in done:
            continue
        with tempfile.TemporaryDirectory() as d:
            rec = run_layer(cfg, lines[0], row, gemm, Path(d))
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(row.split(",")[0], rec["COMPUTE_REPORT"], flush=True)


if __name__ == "__main__":
    main()
