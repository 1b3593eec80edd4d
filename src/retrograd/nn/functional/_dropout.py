"""Dropout: zero random elements (or channels) in training and rescale by 1/(1-p)."""

from __future__ import annotations

import numpy as np

from ... import backend
from ...autograd.graph import Node, apply
from ...tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def _check_p(p, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


class Dropout(Node):
    """``x * mask / (1 - p)``; the graph keeps only the boolean mask (1 byte per element)."""

    save_inputs = False

    def __init__(self, keep, scale):
        self.keep, self.scale = keep, scale

    def forward(self, a):
        out = a * self.keep
        out *= np.asarray(self.scale, dtype=a.dtype)
        return out

    def backward(self, g):
        if g.__class__ is np.ndarray:
            gi = g * self.keep
            gi *= np.asarray(self.scale, dtype=g.dtype)
            return gi
        return g * Tensor._make(self.keep, None) * self.scale


def _apply_mask(input, mask_shape, p, inplace):
    keep = backend.rng().random(mask_shape, dtype=np.float32) >= p
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    if inplace:
        return input.mul_(Tensor._make(keep.astype(input.dtype) * np.asarray(scale, input.dtype), None))
    return apply(Dropout(keep, scale), input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` (training only) and scale the rest by 1/(1-p)."""
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    return _apply_mask(input, input.shape, p, inplace)


def _feature_dropout(input, p, training, inplace, batched_ndim, op):
    _check_p(p, op)
    if not training or p == 0:
        return input
    if input.ndim not in (batched_ndim, batched_ndim - 1):
        raise RuntimeError(f"{op}: expected {batched_ndim - 1}-D or {batched_ndim}-D input, got "
                           f"shape {tuple(input.shape)}")
    if input.ndim == batched_ndim:
        shape = input.shape[:2] + (1,) * (input.ndim - 2)
    else:
        shape = input.shape[:1] + (1,) * (input.ndim - 1)
    return _apply_mask(input, shape, p, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (feature maps) of (N, C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance."""
    _check_p(p, "alpha_dropout")
    if not training or p == 0:
        return input
    alpha = -1.7580993408473766
    keep = (backend.rng().random(input.shape) >= p).astype(input.dtype)
    a = ((1 - p) * (1 + p * alpha ** 2)) ** -0.5
    b = -a * alpha * p
    k = Tensor._make(keep * a, None)
    return input * k + Tensor._make((1 - keep) * (alpha * a) + b, None)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return alpha_dropout(input, p, training, inplace)
