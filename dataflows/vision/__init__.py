"""Bundled vision networks, built in code (no downloads): `build_network("mobilenet-v1", width=0.5)`.

Each entry names its builder and its parameters with their defaults; `archsim run --model NAME`
and `--set workload.KEY=VALUE` (or a sweep's `workload.KEY` axis) set them. The builders live in
mobilenet.py, resnet.py, efficientnet.py and detect_sr.py; builder.py holds the layer vocabulary
and the counting conventions.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from archsim.errors import WorkloadError
from dataflows.vision.builder import Feature, Layer, Net, make_divisible
from dataflows.vision.detect_sr import imdn, yolov3_tiny
from dataflows.vision.efficientnet import efficientnet_b0
from dataflows.vision.mobilenet import mobilenet_v1, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from dataflows.vision.resnet import resnet18, resnet50


@dataclass(frozen=True)
class Network:
    build: Callable[..., Net]
    params: dict[str, Any]             # builder parameters and defaults, plus the input size keys
    summary: str


_CLS = {"resolution": 224, "classes": 1000}
NETWORKS: dict[str, Network] = {
    "mobilenet-v1": Network(mobilenet_v1, {"width": 1.0, "group": 1, **_CLS},
                            "MobileNetV1 (width multiplier, resolution; group: channels per group of the 3x3 layers)"),
    "mobilenet-v2": Network(mobilenet_v2, {"width": 1.0, **_CLS}, "MobileNetV2"),
    "mobilenet-v3-large": Network(mobilenet_v3_large, {"width": 1.0, **_CLS}, "MobileNetV3-Large"),
    "mobilenet-v3-small": Network(mobilenet_v3_small, {"width": 1.0, **_CLS}, "MobileNetV3-Small"),
    "resnet-18": Network(resnet18, dict(_CLS), "ResNet-18"),
    "resnet-50": Network(resnet50, {"stride_in_3x3": True, **_CLS},
                         "ResNet-50 (stride_in_3x3: the torchvision v1.5 variant; false: the paper's)"),
    "efficientnet-b0": Network(efficientnet_b0, dict(_CLS), "EfficientNet-B0"),
    "yolov3-tiny": Network(yolov3_tiny, {"resolution": 416, "classes": 80},
                           "YOLOv3-tiny detector (Darknet cfg, two heads)"),
    "imdn": Network(imdn, {"scale": 4, "out_height": 720, "out_width": 1280, "blocks": 6},
                    "IMDN super-resolution (output out_height x out_width, input that / scale)"),
}
SIZE_KEYS = ("resolution", "out_height", "out_width")   # input size, not builder arguments


def is_network(name: str) -> bool:
    return str(name).lower() in NETWORKS


def network_params(name: str) -> dict[str, Any]:
    return dict(_lookup(name).params)


def _lookup(name: str) -> Network:
    try:
        return NETWORKS[str(name).lower()]
    except KeyError:
        close = difflib.get_close_matches(str(name).lower(), list(NETWORKS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise WorkloadError(f"unknown vision network {name!r}; {hint}known: {', '.join(NETWORKS)}") from None


def _coerce(name: str, key: str, value: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes")
            return bool(value)
        out = type(default)(value)
        if isinstance(default, int) and out != float(value):
            raise ValueError(value)
    except (TypeError, ValueError):
        raise WorkloadError(f"{name}: {key}={value!r} is not a {type(default).__name__}") from None
    if isinstance(out, (int, float)) and not isinstance(out, bool) and out <= 0:
        raise WorkloadError(f"{name}: {key} must be positive, got {value!r}")
    return out


def build_network(name: str, batch: int = 1, bits: int = 8, **params: Any) -> Net:
    """The network's graph and layer table for `batch` images at `bits` (weights and activations)."""
    spec = _lookup(name)
    unknown = set(params) - set(spec.params)
    if unknown:
        raise WorkloadError(f"{name}: unknown parameter(s) {sorted(unknown)}; "
                            f"parameters: {', '.join(f'{k} (default {v})' for k, v in spec.params.items())}")
    p = {k: _coerce(name, k, params.get(k, d), d) for k, d in spec.params.items()}
    if "scale" in p:
        h, w = round(p["out_height"] / p["scale"]), round(p["out_width"] / p["scale"])
    else:
        h = w = p["resolution"]
    net = Net(str(name).lower(), h, w, 3, batch, bits)
    net.graph.meta.update(p)
    spec.build(net, **{k: v for k, v in p.items() if k not in SIZE_KEYS})
    return net


__all__ = ["NETWORKS", "Feature", "Layer", "Net", "build_network", "is_network", "make_divisible",
           "network_params"]
