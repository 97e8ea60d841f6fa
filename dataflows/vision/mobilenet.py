"""MobileNetV1, V2 and V3 (Small, Large) as in their papers and reference implementations.

V1: Howard et al. 2017 (arXiv:1704.04861), Table 1, width multiplier alpha (channels int(alpha*c),
at least 8, as the TF-slim reference) and input resolution. V2: Sandler et al. 2018
(arXiv:1801.04381), Table 2, channels rounded by `make_divisible`. V3: Howard et al. 2019
(arXiv:1905.02244), Tables 1-2, squeeze-excite of make_divisible(expansion/4) channels.
"""
from __future__ import annotations

from archsim.errors import WorkloadError
from dataflows.vision.builder import Net, make_divisible

V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
             (512, 1), (512, 1), (1024, 2), (1024, 1))     # (pointwise output channels, dw stride)


def mobilenet_v1(net: Net, width: float = 1.0, classes: int = 1000, group: int = 1) -> Net:
    """`group` > 1 turns each 3x3 depthwise layer into a grouped conv of `group` channels per group
    (the DRACO-style reshaping: more reuse per input, more MACs)."""
    ch = lambda c: max(int(c * width), 8)  # noqa: E731
    net.conv(ch(32), 3, 2)
    for c, s in V1_BLOCKS:
        if group == 1:
            net.dw(3, s)
        elif net.x.c % group:
            raise WorkloadError(f"{net.name}: group={group} does not divide the {net.x.c} channels of a "
                                "depthwise layer")
        else:
            net.conv(net.x.c, 3, s, groups=net.x.c // group)
        net.conv(ch(c), 1)
    net.global_pool()
    net.fc(classes)
    return net


V2_BLOCKS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1))                               # (expansion t, channels c, repeats n, stride s)


def inverted_residual(net: Net, out: int, expand: int, k: int, stride: int, se: int = 0) -> None:
    """Expand 1x1 (when expand != input), k x k depthwise, optional squeeze-excite, project 1x1;
    a residual add when the stride is 1 and the channels match."""
    x = net.x
    if expand != x.c:
        net.conv(expand, 1)
    net.dw(k, stride)
    if se:
        net.se(se)
    y = net.conv(out, 1)
    if stride == 1 and x.c == out:
        net.add(y, x)


def mobilenet_v2(net: Net, width: float = 1.0, classes: int = 1000) -> Net:
    net.conv(make_divisible(32 * width), 3, 2)
    for t, c, n, s in V2_BLOCKS:
        out = make_divisible(c * width)
        for i in range(n):
            inverted_residual(net, out, net.x.c * t, 3, s if i == 0 else 1)
    net.conv(make_divisible(1280 * max(1.0, width)), 1)
    net.global_pool()
    net.fc(classes)
    return net


# (kernel, expansion, output, squeeze-excite, stride); the activation (ReLU / h-swish) is fused
V3_LARGE = ((3, 16, 16, 0, 1), (3, 64, 24, 0, 2), (3, 72, 24, 0, 1), (5, 72, 40, 1, 2), (5, 120, 40, 1, 1),
            (5, 120, 40, 1, 1), (3, 240, 80, 0, 2), (3, 200, 80, 0, 1), (3, 184, 80, 0, 1), (3, 184, 80, 0, 1),
            (3, 480, 112, 1, 1), (3, 672, 112, 1, 1), (5, 672, 160, 1, 2), (5, 960, 160, 1, 1),
            (5, 960, 160, 1, 1))
V3_SMALL = ((3, 16, 16, 1, 2), (3, 72, 24, 0, 2), (3, 88, 24, 0, 1), (5, 96, 40, 1, 2), (5, 240, 40, 1, 1),
            (5, 240, 40, 1, 1), (5, 120, 48, 1, 1), (5, 144, 48, 1, 1), (5, 288, 96, 1, 2), (5, 576, 96, 1, 1),
            (5, 576, 96, 1, 1))


def _mobilenet_v3(net: Net, blocks: tuple, last: int, head: int, width: float, classes: int) -> Net:
    net.conv(make_divisible(16 * width), 3, 2)
    for k, exp, out, se, s in blocks:
        e = make_divisible(exp * width)
        inverted_residual(net, make_divisible(out * width), e, k, s, make_divisible(e // 4) if se else 0)
    net.conv(make_divisible(last * width), 1)
    net.global_pool()
    net.fc(head)
    net.fc(classes)
    return net


def mobilenet_v3_large(net: Net, width: float = 1.0, classes: int = 1000) -> Net:
    return _mobilenet_v3(net, V3_LARGE, 960, 1280, width, classes)


def mobilenet_v3_small(net: Net, width: float = 1.0, classes: int = 1000) -> Net:
    return _mobilenet_v3(net, V3_SMALL, 576, 1024, width, classes)
