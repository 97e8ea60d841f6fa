"""A small builder that writes a vision network as IR ops while counting its MACs and parameters.

Each network module calls `Net.conv`, `dw`, `fc`, `pool`, `add`, `se`, ... in forward order; the
builder tracks the feature map (h, w, c) and the op that produced it (graph edges), and keeps one
`Layer` row per op. Conventions (docs/workloads.md, "Vision networks"):
- MACs are those of convolutions and fully connected layers (squeeze-excite FCs included), the
  "multiply-adds" the papers report; pooling, residual adds and scales are element operations.
- Parameters are kept apart as weights, biases and batch-norm channels, because sources count
  them differently: papers usually count weights and biases, torchvision also each BN's scale and
  shift (2 per channel), a Darknet weight file also the running mean and variance (4 per channel).
- Activations are fused into the op that produces them (an array's output stage applies them);
  ReLU, h-swish, SiLU cost no op of their own. Concat and pixel shuffle are layout only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from archsim.errors import WorkloadError
from dataflows.ir import Graph, Op, Operand, conv_op, gemm_op


class Feature(NamedTuple):
    """A feature map and the ops whose outputs form it (its graph predecessors)."""

    h: int
    w: int
    c: int
    src: tuple[str, ...] = ()


@dataclass
class Layer:
    name: str
    type: str            # conv | depthwise | pointwise | grouped | fc | pool | add | scale | resize
    macs: int = 0
    weights: int = 0
    biases: int = 0
    bn_channels: int = 0


@dataclass
class Net:
    """Builds one network's graph; `x` is the current feature map."""

    name: str
    h: int
    w: int
    c: int
    batch: int = 1
    bits: int = 8
    graph: Graph = field(init=False)
    layers: list[Layer] = field(default_factory=list)
    x: Feature = field(init=False)

    def __post_init__(self) -> None:
        for k in ("h", "w", "c", "batch", "bits"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise WorkloadError(f"{self.name}: {k} must be a positive integer, got {v!r}")
        self.graph = Graph(self.name, {"network": self.name})
        self.x = Feature(self.h, self.w, self.c)

    # ---- bookkeeping -------------------------------------------------------------------------
    def _name(self, base: str) -> str:
        return f"{len(self.layers):03d}_{base}"

    def _add(self, op: Op, src: Feature, layer: Layer) -> str:
        self.graph.add(op, [s for s in src.src if s in self.graph.g])
        self.layers.append(layer)
        return op.name

    # ---- layers ------------------------------------------------------------------------------
    def conv(self, f: int, k: int, stride: int = 1, groups: int = 1, dilation: int = 1, bias: bool = False,
             bn: bool = True, pad: int | None = None, x: Feature | None = None, name: str = "conv") -> Feature:
        """A k x k convolution with "same" padding by default (pad = dilation*(k-1)//2)."""
        x = self.x if x is None else x
        pad = dilation * (k - 1) // 2 if pad is None else pad
        kind = ("depthwise" if groups == x.c == f and groups > 1 else "grouped" if groups > 1
                else "pointwise" if k == 1 else "conv")
        if name == "conv":                      # name plain convs by their kind: conv, pw, dw, gconv
            name = {"depthwise": "dw", "grouped": "gconv", "pointwise": "pw"}.get(kind, "conv")
        op = conv_op(self._name(name), x.h, x.w, k, k, x.c, f, stride, pad, N=self.batch, bits=self.bits,
                     groups=groups, dilation=dilation, tags=(kind,))
        d = op.dims
        layer = Layer(op.name, kind, op.macs // self.batch, k * k * (x.c // groups) * f, f if bias else 0,
                      f if bn else 0)
        self.x = Feature(d["p"], d["q"], f, (self._add(op, x, layer),))
        return self.x

    def dw(self, k: int, stride: int = 1, dilation: int = 1, bias: bool = False, bn: bool = True,
           x: Feature | None = None) -> Feature:
        x = self.x if x is None else x
        return self.conv(x.c, k, stride, groups=x.c, dilation=dilation, bias=bias, bn=bn, x=x, name="dw")

    def fc(self, f: int, bias: bool = True, x: Feature | None = None, name: str = "fc") -> Feature:
        """A fully connected layer over the flattened map (a 1x1 map after global pooling)."""
        x = self.x if x is None else x
        k = x.h * x.w * x.c
        op = gemm_op(self._name(name), self.batch, f, k, bits=self.bits)
        op = Op(op.name, op.kind, op.einsum, dict(op.dims), op.operands, tags=("fc",))
        layer = Layer(op.name, "fc", k * f, k * f, f if bias else 0)
        self.x = Feature(1, 1, f, (self._add(op, x, layer),))
        return self.x

    def pool(self, k: int, stride: int | None = None, pad: int = 0, x: Feature | None = None,
             name: str = "pool", pad_total: int | None = None) -> Feature:
        """Max or average pooling over k x k windows: k*k element operations per output. `pad` pads
        each side; `pad_total` (Darknet) pads the bottom and right edges only."""
        x = self.x if x is None else x
        s = k if stride is None else stride
        extra = 2 * pad if pad_total is None else pad_total
        p, q = (x.h + extra - k) // s + 1, (x.w + extra - k) // s + 1
        if p < 1 or q < 1:
            raise WorkloadError(f"{self.name}: pool {k}x{k} does not fit a {x.h}x{x.w} map")
        dims = {"n": self.batch, "h": x.h, "w": x.w, "p": p, "q": q, "r": k, "s": k, "c": x.c}
        op = Op(self._name(name), "pool", "npqrsc->npqc", dims,
                (Operand("x", "activation", ("n", "h", "w", "c"), self.bits),
                 Operand("y", "output", ("n", "p", "q", "c"), self.bits)), tags=("pool",))
        self.x = Feature(p, q, x.c, (self._add(op, x, Layer(op.name, "pool")),))
        return self.x

    def global_pool(self, x: Feature | None = None) -> Feature:
        x = self.x if x is None else x
        if x.h != x.w:
            return self._global_rect(x)
        return self.pool(x.h, x=x, name="gap")

    def _global_rect(self, x: Feature) -> Feature:
        dims = {"n": self.batch, "h": x.h, "w": x.w, "c": x.c}
        op = Op(self._name("gap"), "pool", "nhwc->nc", dims,
                (Operand("x", "activation", ("n", "h", "w", "c"), self.bits),
                 Operand("y", "output", ("n", "c"), self.bits)), tags=("pool",))
        self.x = Feature(1, 1, x.c, (self._add(op, x, Layer(op.name, "pool")),))
        return self.x

    def _elementwise(self, kind: str, base: str, a: Feature, b: Feature, ltype: str) -> Feature:
        dims = {"n": self.batch, "h": a.h, "w": a.w, "c": a.c}
        bdims = ("n", "h", "w", "c") if (b.h, b.w) == (a.h, a.w) else ("n", "c")
        op = Op(self._name(base), kind, f"nhwc,{''.join(bdims)}->nhwc", dims,
                (Operand("a", "activation", ("n", "h", "w", "c"), self.bits),
                 Operand("b", "activation", bdims, self.bits),
                 Operand("y", "output", ("n", "h", "w", "c"), self.bits)), tags=(ltype,))
        self.graph.add(op, [s for s in a.src + b.src if s in self.graph.g])
        self.layers.append(Layer(op.name, ltype))
        self.x = Feature(a.h, a.w, a.c, (op.name,))
        return self.x

    def add(self, a: Feature, b: Feature) -> Feature:
        """Residual add of two maps of one shape."""
        if a[:3] != b[:3]:
            raise WorkloadError(f"{self.name}: residual add of {a[:3]} and {b[:3]}")
        return self._elementwise("residual", "add", a, b, "add")

    def scale(self, a: Feature, gate: Feature) -> Feature:
        """Channel-wise scale of `a` by a 1x1 gate (squeeze-excite, channel attention)."""
        return self._elementwise("elementwise", "scale", a, gate, "scale")

    def se(self, squeeze: int, x: Feature | None = None) -> Feature:
        """Squeeze-excite: global pool, 1x1 conv to `squeeze` (bias), 1x1 conv back (bias), scale."""
        x = self.x if x is None else x
        self.global_pool(x)
        self.conv(squeeze, 1, bias=True, bn=False, name="se_reduce")
        gate = self.conv(x.c, 1, bias=True, bn=False, name="se_expand")
        return self.scale(x, gate)

    def concat(self, *xs: Feature) -> Feature:
        """Channel concat: layout only (the consumers read each part where it lies)."""
        if len({(x.h, x.w) for x in xs}) != 1:
            raise WorkloadError(f"{self.name}: concat of maps of different sizes {[x[:2] for x in xs]}")
        self.x = Feature(xs[0].h, xs[0].w, sum(x.c for x in xs), tuple(s for x in xs for s in x.src))
        return self.x

    def upsample(self, factor: int, x: Feature | None = None) -> Feature:
        """Nearest-neighbour upsampling: one element move per output element."""
        x = self.x if x is None else x
        dims = {"n": self.batch, "h": x.h, "w": x.w, "p": x.h * factor, "q": x.w * factor, "c": x.c}
        op = Op(self._name("upsample"), "elementwise", "npqc->npqc", dims,   # one move per output element
                (Operand("x", "activation", ("n", "h", "w", "c"), self.bits),
                 Operand("y", "output", ("n", "p", "q", "c"), self.bits)), tags=("resize",))
        self.x = Feature(x.h * factor, x.w * factor, x.c, (self._add(op, x, Layer(op.name, "resize")),))
        return self.x

    def pixel_shuffle(self, r: int, x: Feature | None = None) -> Feature:
        """Depth to space (sub-pixel upsampling): layout only."""
        x = self.x if x is None else x
        if x.c % (r * r):
            raise WorkloadError(f"{self.name}: pixel shuffle by {r} needs channels divisible by {r * r}")
        self.x = Feature(x.h * r, x.w * r, x.c // (r * r), x.src)
        return self.x

    # ---- totals ------------------------------------------------------------------------------
    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def params(self, bn_per_channel: int = 2) -> int:
        """Weights + biases + `bn_per_channel` per batch-norm channel (2: scale, shift; 4 with the
        running statistics; 0 for a count of conv and FC parameters only)."""
        return sum(la.weights + la.biases + bn_per_channel * la.bn_channels for la in self.layers)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a scaled channel count to a multiple of `divisor`, never below 90% of `v` (the rule of the
    MobileNetV2/V3 and EfficientNet reference code)."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new
