"""Workloads and mapping: the operator IR, transformer lowering, mapspaces and the mapper."""
from dataflows.ir import GEMM_KINDS, ROLES, Graph, Op, Operand, conv_op, gemm_op
from dataflows.lowering import lower
from dataflows.models import get_model, param_counts

__all__ = ["GEMM_KINDS", "ROLES", "Graph", "Op", "Operand", "conv_op", "gemm_op", "get_model", "lower",
           "param_counts"]
