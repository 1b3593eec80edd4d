"""Embedding lookup and one-hot encoding."""

from __future__ import annotations

import numpy as np

from ...autograd.graph import Node, apply
from ...ops.shape import index_put_add
from ...tensor import Tensor

__all__ = ["embedding", "one_hot"]


class Embedding(Node):
    """Row lookup ``weight[indices]``; backward adds each output row's gradient to its row."""

    save_inputs = False

    def __init__(self, indices, padding_idx):
        self.indices, self.padding_idx = indices, padding_idx

    def forward(self, weight):
        self.w_shape, self.w_dtype = weight.shape, weight.dtype
        return weight[self.indices]

    def backward(self, g):
        gw = index_put_add(g.reshape(-1, self.w_shape[1]), (self.indices.reshape(-1),), self.w_shape,
                           self.w_dtype)
        if self.padding_idx is not None:  # the padding row never learns
            if gw.__class__ is np.ndarray:
                gw[self.padding_idx] = 0
            else:
                mask = np.ones((self.w_shape[0], 1), dtype=self.w_dtype)
                mask[self.padding_idx] = 0
                gw = gw * mask
        return gw


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) for integer indices ``input``.

    Shape: input ``(*)`` of int64 → output ``(*, embedding_dim)``. The row ``padding_idx``
    gets no gradient. ``max_norm`` renormalises looked-up rows in place (as PyTorch does).
    """
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected indices of an integer dtype (Long or Int), got "
                           f"{idx.dtype}; convert with .long()")
    n = weight.shape[0]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table of "
                         f"{n} rows (valid: 0..{n - 1})")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        rows = np.unique(idx)
        w = weight._data
        norms = np.linalg.norm(w[rows], ord=norm_type, axis=1, keepdims=True)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        w[rows] *= scale
    return apply(Embedding(idx, padding_idx), weight)


def one_hot(tensor, num_classes=-1):
    """Integer class indices ``(*)`` → int64 one-hot ``(*, num_classes)``."""
    idx = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor of integer dtype, got {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got min "
                           f"{int(idx.min())} and max {int(idx.max())}")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._make(out, None)
