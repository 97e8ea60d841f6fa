"""ResNet-18 and ResNet-50 (He et al. 2016, arXiv:1512.03385, Table 1).

`stride_in_3x3` (the torchvision "v1.5" variant) puts a bottleneck's stride on its 3x3 conv
instead of the first 1x1, which adds MACs (4.09 G instead of the paper's 3.8 G for ResNet-50)
and no parameters.
"""
from __future__ import annotations

from dataflows.vision.builder import Net


def _stem(net: Net) -> None:
    net.conv(64, 7, 2)
    net.pool(3, 2, pad=1, name="maxpool")


def _head(net: Net, classes: int) -> Net:
    net.global_pool()
    net.fc(classes)
    return net


def _shortcut(net: Net, x, out: int, stride: int):
    return x if stride == 1 and x.c == out else net.conv(out, 1, stride, x=x, name="down")


def resnet18(net: Net, classes: int = 1000) -> Net:
    _stem(net)
    for i, c in enumerate((64, 128, 256, 512)):
        for b in range(2):
            s = 2 if i > 0 and b == 0 else 1
            x = net.x
            net.conv(c, 3, s)
            y = net.conv(c, 3)
            net.add(y, _shortcut(net, x, c, s))
    return _head(net, classes)


def resnet50(net: Net, classes: int = 1000, stride_in_3x3: bool = True) -> Net:
    _stem(net)
    for i, (c, n) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3))):
        for b in range(n):
            s = 2 if i > 0 and b == 0 else 1
            x = net.x
            net.conv(c, 1, 1 if stride_in_3x3 else s)
            net.conv(c, 3, s if stride_in_3x3 else 1)
            y = net.conv(4 * c, 1)
            net.add(y, _shortcut(net, x, 4 * c, s))
    return _head(net, classes)
