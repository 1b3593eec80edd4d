"""Affine maps: ``linear`` (fused in ``ops.linalg``), ``bilinear``."""

from ...ops.linalg import linear

__all__ = ["linear", "bilinear"]


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1ᵀ W_k x2 + b_k`` for weight of shape (out, in1, in2)."""
    from ...ops.linalg import einsum

    y = einsum("bi,kij,bj->bk", input1, weight, input2)
    return y + bias if bias is not None else y
