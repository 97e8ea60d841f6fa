"""PE occupancy and the idle-PE reason of a GEMM on an R x C array (archsim/units/systolic/occupancy.py)."""
from archsim.units.base import GemmShape
from archsim.units.systolic.occupancy import spatial_occupancy
from dataflows.ir import conv_op


def test_depthwise_runs_channel_by_channel_on_every_dataflow():
    g = conv_op("dw", 112, 112, 3, 3, 32, 32, 1, 1, groups=32).as_gemm()     # 32 x (12544 x 1 x 9)
    ws = spatial_occupancy(g, 64, 64, "ws", ("depthwise",))
    assert (ws["rows_used"], ws["cols_used"]) == (9, 1) and ws["mapping_efficiency"] == round(9 / 4096, 6)
    assert ws["idle_reason"].startswith("depthwise: 32 channels run one at a time")
    assert "N=1 (output channels) fills 1 of 64 columns" in ws["idle_reason"]
    os_ = spatial_occupancy(g, 64, 64, "os", ("depthwise",))
    assert (os_["rows_used"], os_["cols_used"]) == (64, 1) and os_["mapping_efficiency"] == round(1 / 64, 6)


def test_full_and_edge_folds():
    full = spatial_occupancy(GemmShape(128, 128, 64), 64, 64, "os")
    assert full["mapping_efficiency"] == 1.0 and full["idle_reason"] is None
    edge = spatial_occupancy(GemmShape(100, 64, 64), 64, 64, "os")
    assert edge["mapping_efficiency"] == round(100 / 128, 6)
    assert edge["idle_reason"] == "M=100 leaves its last fold 36 of 64 rows"
    grp = spatial_occupancy(conv_op("g", 8, 8, 3, 3, 8, 16, groups=4, pad=1).as_gemm(), 8, 8, "ws", ("grouped",))
    assert grp["idle_reason"].startswith("grouped: 4 groups run one at a time")


def test_short_streams_are_named():
    os_ = spatial_occupancy(GemmShape(4096, 1, 9, 32), 64, 64, "os", ("depthwise",))
    assert "K=9 streams per fold, shorter than the 64-cycle fold period (draining R rows)" in os_["idle_reason"]
