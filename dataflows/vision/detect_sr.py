"""A YOLO-tiny detector and an IMDN super-resolution network.

YOLOv3-tiny: Redmon and Farhadi 2018 (arXiv:1804.02767), the Darknet `yolov3-tiny.cfg` layer list
(two detection heads at 13x13 and 26x26 for a 416x416 input, 3 anchors x (5 + classes) outputs).
IMDN: Hui et al. 2019 (ACM MM, arXiv:1909.11856): 6 information multi-distillation blocks of 64
channels, each splitting 16 channels off after each of its 3x3 convs and fusing them through
contrast-aware channel attention (CCA) and a 1x1 conv; sub-pixel upsampling by `scale`.
"""
from __future__ import annotations

from dataflows.vision.builder import Net


def yolov3_tiny(net: Net, classes: int = 80) -> Net:
    out = 3 * (5 + classes)
    for c in (16, 32, 64, 128, 256):
        net.conv(c, 3)
        if c == 256:
            route8 = net.x
        net.pool(2, 2, name="maxpool")
    net.conv(512, 3)
    net.pool(2, 1, pad_total=1, name="maxpool")    # Darknet pads one row and column: 13x13 stays
    net.conv(1024, 3)
    route13 = net.conv(256, 1)
    net.conv(512, 3)
    net.conv(out, 1, bias=True, bn=False, name="head1")
    net.conv(128, 1, x=route13)
    net.concat(net.upsample(2), route8)
    net.conv(256, 3)
    net.conv(out, 1, bias=True, bn=False, name="head2")
    return net


def _imdb(net: Net, c: int = 64, distilled: int = 16) -> None:
    """3x3 convs that each split `distilled` channels off, a fourth to `distilled`, CCA over the
    concatenated distilled parts, a 1x1 fusion conv and the block's residual add."""
    x = net.x
    parts = []
    for i in range(3):
        y = net.conv(c, 3, bias=True, bn=False, name=f"imdb_c{i + 1}")
        parts.append(y._replace(c=distilled))
        net.x = y._replace(c=c - distilled)          # the remaining channels go on
    parts.append(net.conv(distilled, 3, bias=True, bn=False, name="imdb_c4"))
    fused = net.concat(*parts)
    _cca(net, fused, reduction=16)
    y = net.conv(c, 1, bias=True, bn=False, name="imdb_c5")
    net.add(y, x)


def _cca(net: Net, x, reduction: int) -> None:
    """Contrast-aware channel attention: (std + mean) per channel, 1x1 down/up convs, channel scale."""
    net.global_pool(x)
    net.conv(x.c // reduction, 1, bias=True, bn=False, name="cca_reduce")
    gate = net.conv(x.c, 1, bias=True, bn=False, name="cca_expand")
    net.scale(x, gate)


def imdn(net: Net, scale: int = 4, blocks: int = 6, c: int = 64) -> Net:
    net.conv(c, 3, bias=True, bn=False, name="fea_conv")
    x0 = net.x
    outs = []
    for _ in range(blocks):
        _imdb(net, c)
        outs.append(net.x)
    net.concat(*outs)
    net.conv(c, 1, bias=True, bn=False, name="fuse")
    y = net.conv(c, 3, bias=True, bn=False, name="lr_conv")
    net.add(y, x0)
    net.conv(3 * scale * scale, 3, bias=True, bn=False, name="upsampler")
    net.pixel_shuffle(scale)
    return net
