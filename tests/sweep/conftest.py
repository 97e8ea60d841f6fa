"""Shared helpers: a small inline design and a spec writer for sweep tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # fake_eval must import here and in spawned workers (which inherit sys.path)
    sys.path.insert(0, HERE)


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec dict as YAML next to a copy-free reference to configs/default.yaml."""
    def _write(spec: dict, name: str = "spec.yaml") -> Path:
        spec = {"name": "t", "base": str(REPO / "configs" / "default.yaml"), **spec}
        p = tmp_path / name
        p.write_text(yaml.safe_dump(spec, sort_keys=False))
        return p
    return _write
