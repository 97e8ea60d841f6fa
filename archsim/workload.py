"""Every way a user names a workload, turned into IR ops: GEMM strings, convs, workload files, models."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archsim.errors import WorkloadError

_GEMM = re.compile(r"^\s*(?:(?P<name>[\w.\-/]+)\s*=\s*)?(?:(?P<b>\d+)\s*[xX]\s*)?(?P<m>\d+)\s*[xX]\s*(?P<n>\d+)"
                   r"\s*[xX]\s*(?P<k>\d+)\s*$")
CONV_KEYS = ("H", "W", "R", "S", "C", "F", "stride", "pad")


@dataclass
class Workload:
    ops: list
    meta: dict[str, Any] = field(default_factory=dict)   # model, phase, batch, seq/kv for model runs
    tokens: int = 0                                      # tokens one run produces (tokens/s)
    independent: bool = False   # ops are separate problems (a standalone list) that may overlap
    values: dict[str, Any] = field(default_factory=dict)  # operand role -> value source (dataflows.values)
    seed: int = 0                                        # seed of the value distributions


def parse_gemm(text: str, index: int = 0, bits: int = 8):
    """'MxNxK', 'BxMxNxK' or 'name=...' -> a GEMM op (M x K activations times K x N weights, B times)."""
    from dataflows.ir import gemm_op

    m = _GEMM.match(str(text))
    if not m:
        raise WorkloadError(f"--gemm {text!r}: expected MxNxK (e.g. 128x768x768), BxMxNxK or name=MxNxK")
    B = int(m.group("b") or 1)
    M, N, K = (int(m.group(k)) for k in "mnk")
    if min(B, M, N, K) < 1:
        raise WorkloadError(f"--gemm {text!r}: B, M, N and K must be at least 1")
    shape = f"{B}x{M}x{N}x{K}" if m.group("b") else f"{M}x{N}x{K}"
    return gemm_op(m.group("name") or f"gemm{index}_{shape}", M, N, K, bits=bits, batch=B)


def key_values(spec: str | Mapping[str, Any], flag: str, example: str) -> dict[str, Any]:
    """'K=V,K=V' (or a mapping) -> a dict."""
    if not isinstance(spec, str):
        return dict(spec)
    items = {}
    for part in spec.split(","):
        k, sep, v = part.partition("=")
        if not sep:
            raise WorkloadError(f"{flag} {spec!r}: expected KEY=VALUE pairs, e.g. {example}")
        items[k.strip()] = v.strip()
    return items


def _int_fields(what: str, name: str, items: dict[str, Any], keys: tuple[str, ...], required: tuple[str, ...]) -> dict:
    """Check a KEY=VALUE op spec against its keys and required keys; every value an integer."""
    unknown = set(items) - set(keys)
    if unknown:
        raise WorkloadError(f"{what} {name!r}: unknown key(s) {sorted(unknown)}; expected {', '.join(keys)}")
    missing = [k for k in required if k not in items]
    if missing:
        raise WorkloadError(f"{what} {name!r}: missing {', '.join(missing)} (expected {', '.join(keys)})")
    try:
        return {k: int(v) for k, v in items.items()}
    except (TypeError, ValueError) as exc:
        raise WorkloadError(f"{what} {name!r}: every value must be an integer ({exc})") from None


def parse_conv(spec: str | Mapping[str, Any], index: int = 0, bits: int = 8):
    """'H=224,W=224,R=7,S=7,C=3,F=64,stride=2,pad=3[,name=conv1]' (or the same as a mapping) -> a conv op."""
    from dataflows.ir import conv_op

    items = key_values(spec, "--conv", "H=56,W=56,R=3,S=3,C=64,F=64,stride=1,pad=1")
    name = str(items.pop("name", f"conv{index}"))
    return conv_op(name, bits=bits, **_int_fields("conv", name, items, CONV_KEYS, CONV_KEYS[:6]))


ATTENTION_KEYS = ("B", "H", "P", "M", "E", "F", "kv_heads", "causal", "name")


def parse_eltwise(text: str, index: int = 0, bits: int = 16) -> list:
    """'add:1048576,mul:4096,relu:512' -> element-wise ops (FP16 elements unless --bits says otherwise)."""
    from dataflows.ir import ELTWISE_KINDS, eltwise_op

    ops = []
    for k, item in enumerate(x.strip() for x in str(text).split(",") if x.strip()):
        kind, _, n = item.partition(":")
        if kind not in ELTWISE_KINDS or not n.strip().isdigit() or int(n) < 1:
            raise WorkloadError(f"--eltwise {item!r}: expected KIND:N with KIND one of {', '.join(ELTWISE_KINDS)} "
                                f"and N a positive element count (e.g. add:1048576)")
        ops.append(eltwise_op(f"{kind}{index}_{k}_{int(n)}", kind, int(n), bits))
    return ops


def parse_attention(spec: str | Mapping[str, Any], index: int = 0, bits: int = 16):
    """'B=64,H=12,P=1024,M=1024,E=64,F=64[,kv_heads=4,causal=1,name=att]' -> a fused attention op."""
    from dataflows.ir import attention_op

    items = key_values(spec, "--attention", "B=1,H=12,P=1024,M=1024,E=64,F=64")
    name = str(items.pop("name", f"attention{index}"))
    vals = _int_fields("--attention", name, items, ATTENTION_KEYS[:-1], ("B", "H", "P", "M", "E"))
    causal = bool(vals.pop("causal", 0))
    return attention_op(name, causal=causal, bits=bits, **vals)


def vision_workload(model: str, batch: int = 1, bits: int = 8, **params: Any) -> Workload:
    """One inference of a bundled vision network (dataflows/vision) on `batch` images."""
    from dataflows.vision import build_network

    net = build_network(model, batch=batch, bits=bits, **params)
    meta = {"model": net.name, "batch": batch, **{k: v for k, v in net.graph.meta.items() if k != "network"},
            "network_macs": net.macs, "network_params": net.params()}
    return Workload(list(net.graph), meta, tokens=0)


def model_workload(model: str, phase: str = "prefill", batch: int = 1, seq: int | None = None,
                   kv: int | None = None, bits: int = 16, **kw: Any) -> Workload:
    """Lower a transformer preset or config.json for one prefill pass or one decode step."""
    from dataflows.lowering import lower

    graph = lower(model, phase=phase, batch=batch, seq=seq, kv=kv, bits=bits, **kw)
    ops = list(graph)
    meta = {"model": model, "phase": phase, "batch": batch, "bits": bits}
    if phase == "prefill":               # the lowering resolves a missing length to its default
        meta["seq"] = graph.meta["new_tokens"]
        tokens = batch * graph.meta["new_tokens"]
    else:
        meta["kv"] = graph.meta["context"]
        tokens = batch
    return Workload(ops, meta, tokens)


def _is_network(model: Any) -> bool:
    from dataflows.vision import is_network

    return isinstance(model, str) and is_network(model)


def resolve_workload(workload: Any, design: Any = None) -> Workload:
    """Accept a Workload, a list of ops, a Graph, a dict spec, a workload-file path, or None (the design's)."""
    if isinstance(workload, Workload):
        return workload
    if workload is None:
        spec = getattr(design, "workload", None)
        if spec is None:
            raise WorkloadError("no workload given and the design has no `workload:` section; "
                                "pass --gemm MxNxK, --conv ..., --workload FILE or --model NAME")
        workload = spec.model_dump(exclude_none=True)
    if isinstance(workload, (str, Path)):
        from dataflows.ir import load_workload

        return Workload(list(load_workload(workload)))
    if isinstance(workload, Mapping):
        return _from_mapping(workload)
    ops = list(workload)
    if not ops:
        raise WorkloadError("the workload has no operators")
    return Workload(ops)


def onnx_workload(onnx: str, dims: Mapping[str, Any] | None = None, bits: int = 8,
                  skip_unsupported: bool = False, attention: str = "unfused") -> Workload:
    """The ops of an ONNX model (shapes only; dataflows/lowering/onnx_graph.py); `attention: fused`
    makes each attention subgraph or node one attention op."""
    from dataflows.lowering.onnx_graph import lower_onnx

    if attention not in ("unfused", "fused"):
        raise WorkloadError(f"attention must be 'unfused' or 'fused', got {attention!r}")
    graph = lower_onnx(onnx, dims, bits, skip_unsupported, fused=attention == "fused")
    meta = {"onnx": str(onnx), "onnx_skipped": graph.meta["onnx_skipped"]}
    if graph.meta["onnx_unfused"]:
        meta["onnx_unfused"] = graph.meta["onnx_unfused"]
    return Workload(list(graph), meta)


ONNX_KEYS = ("onnx", "dims", "bits", "skip_unsupported", "attention")


def _from_mapping(spec: Mapping[str, Any]) -> Workload:
    spec = dict(spec)
    values, seed = spec.pop("values", None) or {}, spec.pop("seed", None)
    wl = _ops_from_mapping(spec)
    if values:
        from dataflows.values import OperandValues

        OperandValues.from_spec(values)   # a bad role or source is an error here, naming it
        wl.values = dict(values)
    wl.seed = int(seed or 0)
    return wl


def _ops_from_mapping(spec: dict[str, Any]) -> Workload:
    if spec.get("onnx"):
        unknown = {k for k, v in spec.items() if v not in (None, [], False)} - set(ONNX_KEYS) - {"phase", "batch"}
        if unknown:
            raise WorkloadError(f"workload: unknown key(s) {sorted(unknown)} with onnx; "
                                f"expected {', '.join(ONNX_KEYS)}")
        return onnx_workload(**{k: v for k, v in spec.items() if k in ONNX_KEYS and v is not None})
    if spec.get("model") and _is_network(spec["model"]):
        from dataflows.vision import network_params

        vkeys = ("model", "batch", "bits", *network_params(spec["model"]))
        unknown = {k for k, v in spec.items() if v is not None} - set(vkeys) - {"gemm", "conv", "phase"}
        if unknown:
            raise WorkloadError(f"workload: unknown key(s) {sorted(unknown)} for {spec['model']}; "
                                f"expected {', '.join(vkeys)}")
        return vision_workload(**{k: v for k, v in spec.items() if k in vkeys and v is not None})
    if spec.get("model"):
        keys = ("model", "phase", "batch", "seq", "kv", "bits", "moe_imbalance", "allow_long", "attention")
        unknown = set(spec) - set(keys) - {"gemm", "conv"}
        if unknown:
            raise WorkloadError(f"workload: unknown key(s) {sorted(unknown)}; expected {', '.join(keys)}, values, seed")
        return model_workload(**{k: v for k, v in spec.items() if k in keys and v is not None})
    unknown = set(spec) - {"gemm", "conv", "attention", "eltwise", "file", "bits", "phase", "batch"}
    if unknown:
        raise WorkloadError(f"workload: unknown key(s) {sorted(unknown)}; expected gemm, conv, attention, eltwise, "
                            "file or model (and values, seed)")
    bits = int(spec.get("bits", 8))
    ops = [parse_gemm(g, i, bits) for i, g in enumerate(spec.get("gemm") or [])]
    ops += [parse_conv(c, i, bits) for i, c in enumerate(spec.get("conv") or [])]
    ops += [parse_attention(a, i, bits) for i, a in enumerate(spec.get("attention") or [])]
    ew_bits = int(spec.get("bits", 16))
    ops += [op for i, e in enumerate(spec.get("eltwise") or []) for op in parse_eltwise(e, i, ew_bits)]
    if spec.get("file"):
        return Workload(ops + resolve_workload(spec["file"]).ops)
    if not ops:
        raise WorkloadError("the workload has no operators")
    return Workload(ops, independent=True)
