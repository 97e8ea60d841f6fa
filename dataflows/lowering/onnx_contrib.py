"""Output shapes of com.microsoft contrib nodes, which ONNX shape inference does not know: the
attention nodes (from their spec, onnx_attention.py) and the fused activations and normalisations
ONNX Runtime's transformer optimizer writes around them, whose first output has their first
input's shape. Without these, every tensor after such a node would have no static shape.
"""
from __future__ import annotations

from typing import Any

from dataflows.lowering.onnx_attention import is_attention_node, node_spec

# fused activations and normalisations: {op: outputs with input 0's shape}
SAME_SHAPE = {"FastGelu": (0,), "BiasGelu": (0,), "QuickGelu": (0,), "Gelu": (0,), "BiasAdd": (0,),
              "SkipLayerNormalization": (0, 3), "SkipSimplifiedLayerNormalization": (0, 3),
              "RotaryEmbedding": (0,)}


def contrib_output_shapes(model: Any, shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Output shapes of the contrib nodes whose inputs have shapes and outputs not yet."""
    out: dict[str, tuple[int, ...]] = {}
    for node in model.graph.node:
        if node.domain != "com.microsoft" or node.output[0] in shapes:
            continue
        if is_attention_node(node):
            spec = node_spec(node, shapes.get)
            out.update(spec.outputs if spec is not None else {})
        elif node.op_type in SAME_SHAPE and node.input[0] in shapes:
            out.update({node.output[i]: shapes[node.input[0]] for i in SAME_SHAPE[node.op_type]
                        if len(node.output) > i and node.output[i]})
    return out
