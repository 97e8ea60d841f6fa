"""A stand-in evaluator for tests of the store and pool mechanics (kill/resume, retries, dedup).

Behaviour is steered by environment variables so spawned workers see it too:
FAKE_EVAL_DELAY (seconds per point), FAKE_EVAL_LOG (append one line per evaluation),
FAKE_EVAL_FLAKY_DIR (first evaluation of each point crashes, the retry succeeds).
A design with units.sa.rows == 13 always fails with a RuntimeError; rows == 11 with a WorkloadError.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from archsim.errors import WorkloadError

FAKE = "fake_eval:evaluate"  # tests/sweep is on sys.path in the test process and in spawned workers


def evaluate(design: dict, workload: dict, fidelity: str = "fast") -> dict:
    sa = design["units"]["sa"]
    key = json.dumps([sa["rows"], sa["cols"], workload], sort_keys=True)
    if os.environ.get("FAKE_EVAL_LOG"):
        with open(os.environ["FAKE_EVAL_LOG"], "a") as f:
            f.write(key + "\n")
    time.sleep(float(os.environ.get("FAKE_EVAL_DELAY", "0")))
    flaky = os.environ.get("FAKE_EVAL_FLAKY_DIR")
    if flaky:
        marker = Path(flaky) / hashlib.sha1(key.encode()).hexdigest()
        if not marker.exists():
            marker.touch()
            raise RuntimeError("flaky first attempt")
    if sa["rows"] == 13:
        raise RuntimeError("rows == 13 is cursed")
    if sa["rows"] == 11:
        raise WorkloadError("rows == 11 cannot run this workload")
    macs = 1_000_000
    cycles = macs // (sa["rows"] * sa["cols"]) + sa["rows"]
    op = {"name": "g0", "kind": "gemm", "unit": "sa", "count": 1, "cycles": cycles, "time_ns": float(cycles),
          "utilization": macs / (cycles * sa["rows"] * sa["cols"]), "macs": macs, "stall_cycles": 0,
          "sram_reads": 0, "sram_writes": 0, "dram_read_bytes": 4096, "dram_write_bytes": 1024,
          "energy_pj": 0.2 * macs + sa["rows"] * sa["cols"]}
    totals = {k: op[k] for k in ("cycles", "time_ns", "macs", "stall_cycles", "dram_read_bytes",
                                 "dram_write_bytes", "energy_pj", "utilization")}
    return {"config": design, "ops": [op], "totals": totals}
