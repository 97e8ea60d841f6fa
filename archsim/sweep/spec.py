"""Sweep specs: a base design, workloads, parameter axes and constraints, expanded into design points.

A spec is YAML validated like every config (unknown keys rejected, errors carry the line). Axes are
groups combined by cartesian product; inside a group values are combined as the group says:

    axes:
      - grid:   {units.sa.rows: [32, 64], units.sa.dataflow: [os, ws]}   # all combinations
      - zip:    {memory.sram.ifmap.capacity: [128 KiB, 256 KiB],            # element-wise
                 memory.sram.filter.capacity: [128 KiB, 256 KiB]}
      - points: [{units.sa.rows: 16, units.sa.cols: 256}]                   # explicit list
      - random: {samples: 8, seed: 1, params: {energy.mac: {low: 0.1, high: 0.4}}}

Keys starting with `workload.` set a field of every workload (e.g. `workload.batch`); all other
keys are dotted design keys. `set:` holds dotted overrides applied to every point before the axes.
Every point is resolved through the config loader before anything runs, so a bad value fails the
whole sweep up front, naming the key and the point.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, model_validator

from archsim.config.base import StrictModel
from archsim.errors import ArchsimError, ConfigError
from archsim.sweep import evaluate
from archsim.sweep.expr import Expr, flatten

WORKLOAD_PREFIX = "workload."


class RandomParam(StrictModel):
    """One randomly sampled parameter: either `choices`, or a `low`..`high` range (optionally log, integer)."""

    choices: list[Any] | None = Field(None, min_length=1)
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    unit: str | None = None  # appended to numeric samples, e.g. "pJ" -> "0.23 pJ"

    @model_validator(mode="after")
    def _one_form(self) -> "RandomParam":
        rng = self.low is not None and self.high is not None
        if (self.choices is not None) == rng:
            raise ValueError("give either 'choices' or both 'low' and 'high'")
        if rng and (self.high < self.low or (self.log and self.low <= 0)):
            raise ValueError(f"need 0 < low <= high for a log range and low <= high otherwise, "
                             f"got low={self.low}, high={self.high}")
        return self


class RandomGroup(StrictModel):
    samples: int = Field(ge=1, le=1_000_000)
    seed: int = 0
    params: dict[str, RandomParam] = Field(min_length=1)


class AxisGroup(StrictModel):
    """Exactly one of grid / zip / points / random."""

    grid: dict[str, list[Any]] | None = None
    zip: dict[str, list[Any]] | None = None
    points: list[dict[str, Any]] | None = Field(None, min_length=1)
    random: RandomGroup | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "AxisGroup":
        given = [k for k in ("grid", "zip", "points", "random") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"an axis group has exactly one of grid, zip, points, random; got {given or 'none'}")
        for form in ("grid", "zip"):
            axes = getattr(self, form)
            if axes is None:
                continue
            if not axes:
                raise ValueError(f"{form} needs at least one axis")
            for key, values in axes.items():
                if not values:
                    raise ValueError(f"axis {key!r} is empty; give at least one value")
        if self.zip:
            lengths = {k: len(v) for k, v in self.zip.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"zip axes must have equal lengths, got {lengths}")
        return self

    def expand(self) -> list[dict[str, Any]]:
        """The parameter assignments this group contributes, in a deterministic order."""
        if self.grid is not None:
            keys = list(self.grid)
            return [dict(zip(keys, combo)) for combo in itertools.product(*self.grid.values())]
        if self.zip is not None:
            keys = list(self.zip)
            return [dict(zip(keys, combo)) for combo in zip(*self.zip.values())]
        if self.points is not None:
            return [dict(p) for p in self.points]
        assert self.random is not None
        rng = random.Random(self.random.seed)
        return [{k: _sample(rng, p) for k, p in self.random.params.items()} for _ in range(self.random.samples)]


def _sample(rng: random.Random, p: RandomParam) -> Any:
    if p.choices is not None:
        return rng.choice(p.choices)
    lo, hi = float(p.low), float(p.high)  # type: ignore[arg-type]
    v = math.exp(rng.uniform(math.log(lo), math.log(hi))) if p.log else rng.uniform(lo, hi)
    v = int(round(v)) if p.integer else float(f"{v:.6g}")
    return f"{v} {p.unit}" if p.unit else v


class SweepSpec(StrictModel):
    name: str = Field(min_length=1)
    description: str = ""
    base: str | dict[str, Any] = Field(description="design YAML path (relative to the spec) or an inline design")
    set: dict[str, Any] = Field(default_factory=dict, description="dotted overrides applied to every point")
    workloads: list[dict[str, Any]] = Field(min_length=1)
    axes: list[AxisGroup] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list)
    fidelity: Literal["fast", "cycle"] = "fast"


@dataclass
class Point:
    """One design point: the swept values, the resolved design and workload, and its content hash."""

    index: int
    params: dict[str, Any]
    workload: dict[str, Any]
    design: dict[str, Any] | None
    point_id: str
    skip_reason: str | None = None
    fidelity: str = "fast"

    def task(self) -> dict[str, Any]:
        """What a worker needs (plain data, picklable under spawn and Dask)."""
        return {"point_id": self.point_id, "design": self.design, "workload": self.workload,
                "fidelity": self.fidelity}


@dataclass
class Sweep:
    spec: SweepSpec
    source: str
    points: list[Point]
    duplicates: int = 0
    spec_data: dict[str, Any] = field(default_factory=dict)

    @property
    def param_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in self.points:
            seen.update(dict.fromkeys(p.params))
        return list(seen)


def point_id(design: Any, workload: Mapping[str, Any], fidelity: str) -> str:
    """sha256 of the canonical JSON of what is simulated and of the simulator's version: equal designs get
    equal ids whatever the spelling, and a resumed sweep never reuses points computed by another version."""
    from archsim import __version__

    blob = json.dumps({"design": design, "workload": workload, "fidelity": fidelity, "archsim": __version__},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_spec(source: str | Path | Mapping[str, Any]) -> tuple[SweepSpec, str, Path, dict]:
    """Parse and validate a spec; returns (spec, where, directory for relative paths, raw data)."""
    from archsim.config.loader import read_yaml, validate

    if isinstance(source, Mapping):
        data, lines, where, folder = dict(source), {}, "<sweep spec>", Path.cwd()
    else:
        data, lines = read_yaml(source)
        where, folder = str(source), Path(source).resolve().parent
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a sweep spec is a mapping with name, base, workloads, axes")
    return validate(SweepSpec, data, where, lines), where, folder, data


def _workload_name(w: Mapping[str, Any], i: int) -> str:
    if "name" in w:
        return str(w["name"])
    if "model" in w:
        extra = ",".join(f"{k}={w[k]}" for k in sorted(w) if k != "model")
        return f"{w['model']}({extra})" if extra else str(w["model"])
    g = w.get("gemm")
    return ",".join(g) if isinstance(g, list) else str(g) if g is not None else f"w{i}"


def expand(source: str | Path | Mapping[str, Any]) -> Sweep:
    """Expand a spec into its points, resolving every design through the loader (fails before any run)."""
    spec, where, folder, raw = read_spec(source)
    base: Any = spec.base if isinstance(spec.base, dict) else folder / spec.base
    if not isinstance(base, dict) and not Path(base).is_file():
        raise ConfigError(f"{where}: base: design file {spec.base!r} not found (relative to the spec file)")
    base_data = base if isinstance(base, dict) else _read(base)
    constraints = [Expr(c) for c in spec.constraints]

    combos = [{}] if not spec.axes else [
        {k: v for part in parts for k, v in part.items()}
        for parts in itertools.product(*(g.expand() for g in spec.axes))]
    resolved: dict[str, dict] = {}
    checked: set[str] = set()
    points: list[Point] = []
    seen: set[str] = set()
    dupes = 0
    for w_i, w in enumerate(spec.workloads):
        for params in combos:
            wl = {k: v for k, v in w.items() if k != "name"}
            if isinstance(wl.get("gemm"), str):
                wl["gemm"] = [wl["gemm"]]
            wl.update({k[len(WORKLOAD_PREFIX):]: v for k, v in params.items() if k.startswith(WORKLOAD_PREFIX)})
            overrides = {**spec.set, **{k: v for k, v in params.items() if not k.startswith(WORKLOAD_PREFIX)}}
            _check_workload(wl, checked, f"{where}: workloads.{w_i}", params)
            shown = {"workload": _workload_name(w, w_i), **params}
            reason = _skip_reason(constraints, base_data, overrides, params, wl, where)
            if reason is None:
                design = _resolve(base, overrides, resolved, shown, where)
                pid = point_id(design, wl, spec.fidelity)
            else:
                design, pid = None, point_id({"skipped": overrides}, wl, spec.fidelity)
            if pid in seen:
                dupes += 1
                continue
            seen.add(pid)
            points.append(Point(len(points), shown, wl, design, pid, reason, spec.fidelity))
    return Sweep(spec, where, points, dupes, raw)


def _check_workload(wl: dict, checked: set[str], where: str, params: dict) -> None:
    key = json.dumps(wl, sort_keys=True, default=str)
    if key in checked:
        return
    try:
        evaluate.check_workload(wl)
    except ArchsimError as exc:
        swept = {k: v for k, v in params.items() if k.startswith(WORKLOAD_PREFIX)}
        raise ConfigError(f"{where}{' with ' + str(swept) if swept else ''}: {exc}") from None
    checked.add(key)


def _read(path: Path) -> dict:
    from archsim.config.loader import read_yaml

    return read_yaml(path)[0]


def _resolve(base: Any, overrides: dict, cache: dict, shown: dict, where: str) -> dict:
    key = json.dumps(overrides, sort_keys=True, default=str)
    if key not in cache:
        try:
            cache[key] = evaluate.resolve_design(base, overrides)
        except ArchsimError as exc:
            params = ", ".join(f"{k}={v}" for k, v in overrides.items())
            raise ConfigError(f"{where}: the design point ({params}) is rejected by the design schema:"
                              f"\n{exc}") from None
    return cache[key]


def _skip_reason(constraints: list[Expr], base_data: dict, overrides: dict, params: dict,
                 workload: dict, where: str) -> str | None:
    """The first constraint that is false for this point, as a readable reason; None if all hold."""
    if not constraints:
        return None
    from archsim.config.loader import apply_overrides

    env = flatten(apply_overrides(base_data, overrides))
    env.update(params)
    env.update({WORKLOAD_PREFIX + k: v for k, v in workload.items()})
    for c in constraints:
        try:
            ok = c.evaluate(env)
        except ArchsimError as exc:
            raise ConfigError(f"{where}: constraints: {exc}") from None
        if not ok:
            return f"constraint {c.text!r} is false"
    return None
