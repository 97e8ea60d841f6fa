"""Workloads and mapping: the operator IR, transformer lowering, mapspaces and the mapper."""
from dataflows.ir import GEMM_KINDS, ROLES, Graph, Op, Operand, conv_op, gemm_op

__all__ = ["GEMM_KINDS", "ROLES", "Graph", "Op", "Operand", "conv_op", "gemm_op"]
