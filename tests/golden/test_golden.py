"""Every number archsim printed before the platform change prints the same after it, bit for bit.

A change that moves a number on purpose re-captures baseline.json (`python tests/golden/capture.py`)
in its own commit and says why in the message.
"""
from __future__ import annotations

import json
from pathlib import Path

from golden.capture import capture


def _diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: missing now" for k in a.keys() - b.keys()]
        for k in a.keys() & b.keys():
            out += _diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: was {a!r}, now {b!r}"]


def test_numbers_unchanged_since_baseline():
    base = json.loads((Path(__file__).parent / "baseline.json").read_text())
    diffs = _diff(base, capture())
    assert not diffs, f"{len(diffs)} numbers changed, first ones:\n" + "\n".join(diffs[:20])
