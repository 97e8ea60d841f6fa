"""A tiny YAML format for stand-alone GEMM / conv workloads (what `--gemm MxNxK` does for one op).

    bits: 8                      # optional, default for every op
    ops:
      - {name: fc1, gemm: 64x128x256}                    # M x N x K
      - {name: c1, conv: {H: 56, W: 56, R: 3, S: 3, C: 64, F: 64, stride: 1, pad: 1}, count: 2}

Ops run in file order, each depending on the previous one. Errors name the file, line and key.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from archsim.config.loader import read_yaml
from archsim.errors import WorkloadError
from dataflows.ir import Graph, Op, conv_op, gemm_op

_GEMM = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*[xX]\s*(\d+)\s*$")
_CONV_KEYS = {"H", "W", "R", "S", "C", "F", "stride", "pad", "N"}
_CONV_REQUIRED = ("H", "W", "R", "S", "C", "F")
_OP_KEYS = {"name", "gemm", "conv", "count", "bits"}


def parse_gemm(spec: str, where: str = "--gemm") -> tuple[int, int, int]:
    """'MxNxK' -> (M, N, K), each positive."""
    m = _GEMM.match(str(spec))
    if not m or min(int(g) for g in m.groups()) < 1:
        raise WorkloadError(f"{where}: expected a GEMM shape 'MxNxK' with positive integers "
                            f"(e.g. 64x128x256), got {spec!r}")
    return int(m[1]), int(m[2]), int(m[3])


def _int(v: Any, where: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise WorkloadError(f"{where}: expected an integer >= {minimum}, got {v!r}")
    return v


def _op(item: Any, i: int, bits: int, where: str, lines: dict) -> Op:
    at = f"{where}:{lines.get(('ops', i), '?')}: ops[{i}]"
    if not isinstance(item, dict):
        raise WorkloadError(f"{at}: each op must be a mapping like {{name: fc1, gemm: 64x128x256}}, got {item!r}")
    unknown = sorted(set(item) - _OP_KEYS, key=str)
    if unknown:
        raise WorkloadError(f"{at}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(_OP_KEYS))}")
    name = item.get("name", f"op{i}")
    if not isinstance(name, str) or not name:
        raise WorkloadError(f"{at}.name: expected a non-empty string, got {name!r}")
    bits = _int(item.get("bits", bits), f"{at}.bits")
    count = _int(item.get("count", 1), f"{at}.count")
    if ("gemm" in item) == ("conv" in item):
        raise WorkloadError(f"{at} ({name}): give exactly one of 'gemm: MxNxK' or "
                            "'conv: {H, W, R, S, C, F, stride, pad}'")
    if "gemm" in item:
        M, N, K = parse_gemm(item["gemm"], f"{where}:{lines.get(('ops', i, 'gemm'), '?')}: ops[{i}].gemm")
        return gemm_op(name, M, N, K, bits=bits, count=count)
    conv = item["conv"]
    cat = f"{where}:{lines.get(('ops', i, 'conv'), '?')}: ops[{i}].conv"
    if not isinstance(conv, dict):
        raise WorkloadError(f"{cat}: expected a mapping with keys {', '.join(_CONV_REQUIRED)} (+ stride, pad, N)")
    bad = sorted(set(conv) - _CONV_KEYS, key=str)
    missing = [k for k in _CONV_REQUIRED if k not in conv]
    if bad or missing:
        what = f"unknown key {bad[0]!r}" if bad else f"missing key {missing[0]!r}"
        raise WorkloadError(f"{cat}: {what}; expected {', '.join(_CONV_REQUIRED)} and optional stride, pad, N")
    args = {k: _int(v, f"{cat}.{k}", 0 if k == "pad" else 1) for k, v in conv.items()}
    op = conv_op(name, bits=bits, **args)
    return op.with_count(count) if count != 1 else op


def load_workload(path: str | Path) -> Graph:
    """Read a workload YAML file into a Graph (ops chained in file order)."""
    data, lines = read_yaml(path)
    where = str(path)
    if not isinstance(data, dict) or "ops" not in data:
        raise WorkloadError(f"{where}: a workload file is a mapping with an 'ops' list (and optional 'bits')")
    unknown = sorted(set(data) - {"ops", "bits", "name"}, key=str)
    if unknown:
        raise WorkloadError(f"{where}:{lines.get((unknown[0],), '?')}: unknown key {unknown[0]!r}; "
                            "allowed: ops, bits, name")
    ops = data["ops"]
    if not isinstance(ops, list) or not ops:
        raise WorkloadError(f"{where}:{lines.get(('ops',), '?')}: 'ops' must be a non-empty list")
    bits = _int(data.get("bits", 8), f"{where}:{lines.get(('bits',), '?')}: bits")
    g = Graph(str(data.get("name", Path(path).stem)))
    prev = None
    for i, item in enumerate(ops):
        op = _op(item, i, bits, where, lines)
        if op.name in g.g:
            raise WorkloadError(f"{where}:{lines.get(('ops', i), '?')}: ops[{i}]: duplicate op name {op.name!r}")
        prev = g.add(op, (prev,) if prev else ())
    return g
