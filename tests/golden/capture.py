"""Numbers archsim printed before the platform change, captured so later changes can be diffed bit for bit.

`python tests/golden/capture.py` rewrites `baseline.json`; do that only in a commit that changes a
number on purpose, and say why in its message. The test (test_golden.py) recomputes and compares.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

RUNS = [  # (config, workload or None for the design's own, fidelity)
    ("configs/default.yaml", None, "fast"),
    ("configs/edge_ddr4.yaml", None, "fast"),
    ("configs/tpu_like_hbm2.yaml", None, "fast"),
    ("configs/default.yaml", {"gemm": ["128x768x768"]}, "cycle"),
    ("configs/edge_ddr4.yaml", {"gemm": ["256x512x384"]}, "cycle"),
    ("configs/tpu_like_hbm2.yaml", {"gemm": ["8x4096x1024", "512x512x512"]}, "cycle"),
]
DRAM = [("ddr4", "seq_rd"), ("ddr4", "rand_rd"), ("ddr4_bgil", "rand_mix")]


def _runs() -> dict:
    import archsim

    out = {}
    for cfg, wl, fid in RUNS:
        design = archsim.load_config(str(ROOT / cfg))
        rep = archsim.run(design, wl if wl is not None else design.workload.model_dump(exclude_none=True), fidelity=fid)
        d = rep.to_dict()
        d.pop("config", None)
        out[f"{cfg} {json.dumps(wl)} {fid}"] = d
    return out


def _script(rel: str, name: str):
    """A validation script loaded as a module under its own name (two of them are called compare.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / rel)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _scalesim() -> dict:
    compare = _script("validation/scalesim/compare.py", "golden_scalesim_compare")

    cases = compare.load_cases(("cases.csv", "representative.csv"))
    return {json.dumps(c, sort_keys=True, default=str): compare.ours(c) for c in cases}


def _dram() -> dict:
    validate_dram = _script("validation/dram/validate_dram.py", "golden_validate_dram")

    out = {f"{o} {p}": validate_dram.run(p, o, 2000) for o, p in DRAM}
    out["closed_forms"] = validate_dram.closed_forms(2000)
    return out


def _models() -> dict:
    mcompare = _script("validation/models/compare.py", "golden_models_compare")

    return {"comparisons": mcompare.comparisons()}


def capture() -> dict:
    """Everything the golden test holds fixed, as plain JSON-able data."""
    data = {"runs": _runs(), "scalesim": _scalesim(), "dram": _dram(), "models": _models()}
    return json.loads(json.dumps(data, default=str))


if __name__ == "__main__":
    (HERE / "baseline.json").write_text(json.dumps(capture(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {HERE / 'baseline.json'}")
