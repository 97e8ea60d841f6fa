"""Argument helpers shared by commands: the design config, `--set` overrides, JSON output."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from archsim.errors import ArchsimError
from archsim.fileio import atomic_write_text

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"
DEFAULT_CONFIG = REPO_CONFIGS / "default.yaml"


def add_config_args(p, optional: bool = True) -> None:
    p.add_argument("config", nargs="?" if optional else None, default=None,
                   help="design YAML (default: configs/default.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config key, e.g. --set units.sa.rows=64 (repeatable)")


def add_value_args(p, seed: bool = True) -> None:
    """--weights / --acts / --seed: operand values for units whose cycles depend on them."""
    g = p.add_argument_group("operand values (bit-serial units read them; others ignore them)")
    g.add_argument("--weights", metavar="DIST|FILE",
                   help="weight values: normal:STD, uniform, laplace:B, sparse:P,<dist>, or an .npy/.npz")
    g.add_argument("--acts", metavar="DIST|FILE", help="activation (and KV-cache) values, as --weights")
    if seed:
        g.add_argument("--seed", type=int, default=None, help="seed of the value distributions (default 0)")


def value_args(args) -> dict[str, Any]:
    """run()'s `values` and `seed` keywords from --weights / --acts / --seed (validated here)."""
    from dataflows.values import OperandValues

    values = {r: v for r, v in (("weight", args.weights), ("activation", args.acts)) if v}
    OperandValues.from_spec(values)
    return {"values": values or None, "seed": args.seed}


def int_at_least(lo: int):
    """argparse type: an integer >= `lo` (a bad value is one line from argparse, exit 2)."""
    import argparse

    what = "a positive integer" if lo == 1 else f"an integer >= {lo}"

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"must be {what}, got {v}")
        return v

    parse.__name__ = what          # argparse names the type in its messages
    return parse


positive_int = int_at_least(1)
nonnegative_int = int_at_least(0)


def config_path(arg: str | None) -> Path:
    """The design file: a path or a bundled design's name (`default`, `tpu_like_hbm2`), else the default."""
    if arg:
        from archsim.config.loader import resolve_config

        return resolve_config(arg)
    if not DEFAULT_CONFIG.exists():
        raise ArchsimError("no design config given and the bundled configs/default.yaml is not present "
                           "(install archsim from its source tree with `pip install -e .`)")
    return DEFAULT_CONFIG


def load_design(args) -> Any:
    """The design named on the command line, with its `--set` overrides; the name says which
    (`default-32x32-ws [units.sa.rows=64]`) unless an override sets `name` itself."""
    from archsim.config.loader import load_config, parse_overrides

    overrides = parse_overrides(args.overrides)
    design = load_config(config_path(args.config), overrides=overrides)
    if overrides and "name" not in overrides:
        design.name = f"{design.name} [{', '.join(f'{k}={v}' for k, v in overrides.items())}]"
    return design


def write_json(obj: Any, dest: str) -> None:
    """Write JSON to a path (atomically: temp file then rename) or to stdout for '-'."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=_default)
    if dest == "-":
        sys.stdout.write(text + "\n")
        return
    atomic_write_text(dest, text + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    return str(o)


class progress:
    """`with progress("simulating 17 ops"):` shows the label and the seconds elapsed on stderr while
    the block runs, when stderr is a terminal; piped or redirected it prints nothing. Command-level
    only (the runner reports its own per-op progress)."""

    def __init__(self, label: str, stream: Any = None, interval_s: float = 0.5):
        self.label, self.interval_s = label, interval_s
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._stop = None

    def __enter__(self) -> "progress":
        if self.enabled:
            import threading
            import time

            self._stop = threading.Event()
            t0 = time.monotonic()

            def tick() -> None:
                while not self._stop.wait(self.interval_s):
                    self._write(f"\r{self.label} ... {time.monotonic() - t0:.0f} s")

            self._write(f"{self.label} ...")
            threading.Thread(target=tick, daemon=True).start()
        return self

    def update(self, label: str) -> None:
        self.label = label
        if self.enabled:
            self._write(f"\r\033[K{label} ...")

    def __exit__(self, *exc: Any) -> None:
        if self._stop is not None:
            self._stop.set()
            self._write("\r\033[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False
