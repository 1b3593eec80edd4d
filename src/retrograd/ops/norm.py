"""Normalization: batch norm, layer norm, group norm and instance norm as fused ops.

All of them compute the same thing over different axes::

    x̂ = (x - mean) / sqrt(var + eps)        (biased variance, over the statistic axes)
    y = x̂ * weight + bias                   (weight and bias broadcast per channel/element)

and share one backward, the closed form of the vector-Jacobian product. With
``g`` the upstream gradient, ``ĝ = g * weight`` and means taken over the statistic
axes (``M`` elements per statistic)::

    dx = invstd * (ĝ - mean(ĝ) - x̂ * mean(ĝ * x̂))
    dweight = sum(g * x̂)      dbias = sum(g)          (over the non-parameter axes)

The forward keeps ``x̂`` and ``invstd``, so the backward is a couple of elementwise
passes and two reductions. For a double backward (``create_graph=True``) the same
formula runs on Tensors, with the statistics recomputed from the graph-connected
input so that their dependence on ``x`` is differentiated too.
"""

from __future__ import annotations

import numpy as np

from ..autograd.graph import Node


def _moments(x, axes, eps, stat_shape=None):
    """Mean, biased variance, ``1/sqrt(var + eps)`` and ``x̂`` over ``axes`` of ``x`` viewed
    as ``stat_shape``. Written with methods and operators, so it also runs on Tensors (the
    double-backward path); the plain path is :meth:`Normalize.forward`."""
    xs = x.reshape(stat_shape) if stat_shape is not None else x
    mean = xs.mean(axis=axes, keepdims=True)
    xc = xs - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    invstd = (var + eps) ** -0.5
    return mean, var, invstd, xc * invstd


def _count(shape, axes):
    """Elements per statistic (at least 1: no division by zero for an empty input)."""
    n = 1
    for a in axes:
        n *= shape[a]
    return max(n, 1)


def _dot(a, b, axes):
    """``(a * b).sum(axes)`` (dims kept) without materialising the product: einsum reads both
    operands once, where ``a * b`` would allocate and fill an array of the input's size."""
    letters = "abcdefghijklmnopqrstuvwxyz"[: a.ndim]
    out = "".join(c for i, c in enumerate(letters) if i not in axes)
    r = np.einsum(f"{letters},{letters}->{out}", a, b)
    return r.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))


class Normalize(Node):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias`` with statistics over ``axes``.

    Args (of the node):
        axes: axes reduced for the statistics (of ``x`` itself, or of ``x`` reshaped to
            ``stat_shape``: group norm takes its statistics on an (N, G, -1) view).
        eps: added to the variance.
        param_shape: shape ``weight``/``bias`` are reshaped to, to broadcast against ``x``.
        param_axes: axes of ``x`` summed for the gradients of ``weight`` and ``bias``.

    Inputs: ``x``, ``weight`` (or None), ``bias`` (or None). After forward, ``mean``
    and ``var`` (biased) hold the statistics, one per normalised slice.
    """

    def __init__(self, axes, eps, param_shape, param_axes, stat_shape=None):
        self.axes, self.eps = axes, eps
        self.param_shape, self.param_axes = param_shape, param_axes
        self.stat_shape = stat_shape

    def forward(self, x, w, b):
        xs = x.reshape(self.stat_shape) if self.stat_shape is not None else x
        mean = xs.mean(axis=self.axes, keepdims=True)
        xhat = xs - mean  # the one array of the input's size the statistics need
        var = _dot(xhat, xhat, self.axes) / _count(xs.shape, self.axes)
        invstd = 1.0 / np.sqrt(var + self.eps)
        xhat *= invstd
        if xhat.shape != x.shape:
            xhat = xhat.reshape(x.shape)
        self.mean, self.var, self.invstd, self.xhat = mean, var, invstd, xhat
        if w is not None:
            y = xhat * w.reshape(self.param_shape)
        else:
            y = xhat.copy()  # the output must not alias the saved x̂ (in-place ops on y)
        if b is not None:
            y += b.reshape(self.param_shape)
        return y

    def backward(self, g, x, w, b):
        if g.__class__ is not np.ndarray:
            return self._backward_graph(g, x, w, b)
        xhat, invstd, axes = self.xhat, self.invstd, self.axes
        gx = gw = gb = None
        if self.param_axes == axes and self.stat_shape is None:
            # batch norm: weight is constant over each statistic's slice, so the two sums of
            # dx are the bias and weight gradients themselves: sum(g) and sum(g * x̂)
            m = _count(x.shape, axes)
            sum_g, sum_gx = g.sum(axis=axes, keepdims=True), _dot(g, xhat, axes)
            if self.needs[0]:
                scale = invstd if w is None else invstd * w.reshape(self.param_shape)
                gx = xhat * (sum_gx / m)
                np.subtract(g, gx, out=gx)
                gx -= sum_g / m
                gx *= scale
            if w is not None and self.needs[1]:
                gw = sum_gx.reshape(w.shape)
            if b is not None and self.needs[2]:
                gb = sum_g.reshape(b.shape)
            return gx, gw, gb
        if self.needs[0]:
            gh = g * w.reshape(self.param_shape) if w is not None else g
            xh = xhat
            if self.stat_shape is not None:
                gh, xh = gh.reshape(self.stat_shape), xhat.reshape(self.stat_shape)
            # dx = invstd * (ĝ - mean(ĝ) - x̂ * mean(ĝ x̂)), built in one new array
            gx = xh * (_dot(gh, xh, axes) / _count(xh.shape, axes))
            np.subtract(gh, gx, out=gx)
            gx -= gh.mean(axis=axes, keepdims=True)
            gx *= invstd
            if gx.shape != x.shape:
                gx = gx.reshape(x.shape)
        if w is not None and self.needs[1]:
            gw = _dot(g, xhat, self.param_axes).reshape(w.shape)
        if b is not None and self.needs[2]:
            gb = g.sum(axis=self.param_axes).reshape(b.shape)
        return gx, gw, gb

    def _backward_graph(self, g, x, w, b):
        """The same formula on Tensors (create_graph): x̂ and invstd are recomputed from the
        graph-connected ``x`` so that their own dependence on ``x`` is differentiated."""
        _, _, invstd, xhat = _moments(x, self.axes, self.eps, self.stat_shape)
        xhat = xhat.reshape(x.shape)
        gx = gw = gb = None
        if self.needs[0]:
            gh = g * w.reshape(self.param_shape) if w is not None else g
            xh = xhat
            if self.stat_shape is not None:
                gh, xh = gh.reshape(self.stat_shape), xhat.reshape(self.stat_shape)
            gx = invstd * (gh - gh.mean(axis=self.axes, keepdims=True)
                           - xh * (gh * xh).mean(axis=self.axes, keepdims=True))
            gx = gx.reshape(x.shape)
        if w is not None and self.needs[1]:
            gw = (g * xhat).sum(axis=self.param_axes).reshape(w.shape)
        if b is not None and self.needs[2]:
            gb = g.sum(axis=self.param_axes).reshape(b.shape)
        return gx, gw, gb


class AffineStats(Node):
    """``y = (x - mean) * invstd * weight + bias`` with *constant* statistics (batch norm in
    eval mode, with the running estimates): an affine map per channel.

    The statistics are not inputs of the graph (PyTorch gives running buffers no gradient).
    """

    def __init__(self, mean, invstd, param_shape, param_axes):
        self.mean = mean.reshape(param_shape)
        self.invstd = invstd.reshape(param_shape)
        self.param_shape, self.param_axes = param_shape, param_axes

    def forward(self, x, w, b):
        scale = self.invstd if w is None else self.invstd * w.reshape(self.param_shape)
        shift = -self.mean * scale
        if b is not None:
            shift = shift + b.reshape(self.param_shape)
        return x * scale + shift

    def backward(self, g, x, w, b):
        gx = gw = gb = None
        if self.needs[0]:
            scale = self.invstd if w is None else w.reshape(self.param_shape) * self.invstd
            gx = g * scale
        if w is not None and self.needs[1]:
            gw = (g * ((x - self.mean) * self.invstd)).sum(axis=self.param_axes).reshape(w.shape)
        if b is not None and self.needs[2]:
            gb = g.sum(axis=self.param_axes).reshape(b.shape)
        return gx, gw, gb
