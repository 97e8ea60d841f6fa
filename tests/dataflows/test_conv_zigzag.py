"""ResNet-18's convs against ZigZag's recorded DRAM bytes on tpu_like
(validation/zigzag/zigzag_tpu_like_resnet18.csv; the session's empty mapping cache, tests/conftest.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

COMPARE = Path(__file__).resolve().parents[2] / "validation" / "zigzag" / "compare_conv.py"


@pytest.fixture(scope="module")
def rows():
    spec = importlib.util.spec_from_file_location("zigzag_compare_conv", COMPARE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {r["name"]: r for r in mod.compare(at_zigzag_latency=False)}


def test_every_layer_moves_at_least_zigzags_compulsory_bytes_and_less_than_im2col(rows):
    for r in rows.values():
        # ZigZag moves every operand exactly once on all these layers: the compulsory traffic
        assert r["run_bytes"] >= r["zigzag_bytes"], r
        assert r["run_bytes"] <= r["im2col_bytes"], r


def test_one_by_one_convs_equal_zigzag(rows):
    for r in rows.values():
        if r["kernel"] == 1:
            assert r["run_bytes"] == r["zigzag_bytes"], r


def test_convs_whose_operands_fit_once_equal_zigzag(rows):
    """Where archsim's buffers hold a band of every input channel beside its filter tile, the input
    crosses the port once, as in ZigZag: conv1 (7x7), layer1 and layer4's 3x3 convs, to the byte."""
    for name in ("conv1", "layer1_3x3", "layer4_3x3_s2", "layer4_3x3"):
        assert rows[name]["run_bytes"] == rows[name]["zigzag_bytes"], rows[name]


def test_the_other_3x3_convs_are_within_the_stated_gap(rows):
    """layer2_3x3, layer2_3x3_s2, layer3_3x3(_s2): the mapper's one K tile for input and filter
    refetches the input per filter tile (README: ZigZag keeps the whole input in its 2 MB SRAM while
    weight slices stream through its per-PE register files). Held to the measured figures."""
    for name, limit in (("layer2_3x3_s2", 1.21), ("layer2_3x3", 2.22), ("layer3_3x3_s2", 1.23),
                        ("layer3_3x3", 1.22)):
        assert rows[name]["run_bytes"] <= limit * rows[name]["zigzag_bytes"], rows[name]
