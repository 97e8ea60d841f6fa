"""archsim: a cycle-level accelerator architecture simulator."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_config", "run"]


def load_config(source, overrides=None):
    """Load and validate a design config from a YAML path or a dict; `overrides` maps dotted keys to values."""
    from archsim.config import load_config as _load

    return _load(source, overrides=overrides)


def run(config, workload, **kwargs):
    """Simulate `workload` on the design `config`; returns a `Report`."""
    from archsim.runner import run as _run

    return _run(config, workload, **kwargs)
