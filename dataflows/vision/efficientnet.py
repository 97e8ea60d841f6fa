"""EfficientNet-B0 (Tan and Le 2019, arXiv:1905.11946, Table 1): MBConv blocks with squeeze-excite
of input/4 channels, as the reference implementations build it."""
from __future__ import annotations

from dataflows.vision.builder import Net
from dataflows.vision.mobilenet import inverted_residual

# (expansion, kernel, stride, output channels, repeats)
B0 = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
      (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))


def efficientnet_b0(net: Net, classes: int = 1000) -> Net:
    net.conv(32, 3, 2)
    for t, k, s, c, n in B0:
        for i in range(n):
            cin = net.x.c
            inverted_residual(net, c, cin * t, k, s if i == 0 else 1, se=max(1, cin // 4))
    net.conv(1280, 1)
    net.global_pool()
    net.fc(classes)
    return net
