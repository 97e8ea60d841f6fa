"""ONNX's own Attention test cases (shipped in the onnx package, generated in code): each node and its
`_expanded` twin (the node's function body written out in primitive ops, by ONNX, not by us) fuse to the
same attention op. The twins cover GQA repeats, causal masks from index Ranges, past keys, boolean and
float masks, softcap, fully masked rows and padded keys."""
import pytest

pytest.importorskip("onnx", reason="ONNX import is the optional onnx extra")

from archsim.errors import WorkloadError  # noqa: E402
from dataflows.ir import AttentionOp  # noqa: E402
from dataflows.lowering.onnx_graph import lower_onnx  # noqa: E402

BY_DESIGN = ("qk_matmul_output", "sliding-window")      # node forms refused, naming the node


@pytest.fixture(scope="module")
def cases():
    import onnx.backend.test.case.node.attention  # noqa: F401  (importing it generates the Attention cases)
    from onnx.backend.test.case.node import _NodeTestCases

    return {c.name: c.model for c in _NodeTestCases if c.name.startswith("test_attention")}


def _shape(model):
    ops = [o for o in lower_onnx(model, fused=True) if isinstance(o, AttentionOp)]
    assert len(ops) == 1
    return ops[0].shape


def test_every_attention_node_fuses_like_its_expanded_subgraph(cases):
    same, refused = [], []
    for name, model in sorted(cases.items()):
        twin = cases.get(name + "_expanded")
        if name.endswith("_expanded") or twin is None:
            continue
        try:
            shape = _shape(model)
        except WorkloadError as exc:
            assert "(Attention)" in str(exc) and any(k in str(exc) for k in BY_DESIGN), (name, exc)
            refused.append(name)
            continue
        assert _shape(twin) == shape, name
        same.append(name)
    assert len(same) >= 60 and len(refused) <= len(same) // 2, (len(same), len(refused))
    assert {"test_attention_4d_gqa_causal", "test_attention_3d_gqa_with_past_and_present",
            "test_attention_4d_softcap", "test_attention_4d_attn_mask_bool"} <= set(same)
