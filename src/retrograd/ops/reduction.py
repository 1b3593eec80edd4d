"""Reductions: sum, mean, prod, max/min, var/std, logsumexp, norm, softmax, log_softmax.

A reduction's backward broadcasts the upstream gradient back over the reduced axes
(``_unreduce``), then applies the local derivative.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.graph import Node, apply
from ..tensor import Tensor
from ._util import expand, is_array, normalize_dim, normalize_dims


def _kept_shape(shape, axes):
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unreduce(g, shape, axes, keepdims):
    """Upstream gradient of a reduction, broadcast back to the input's ``shape``."""
    if not keepdims:
        g = g.reshape(_kept_shape(shape, axes))
    return expand(g, shape)


def _count(shape, axes):
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


class Sum(Node):
    save_inputs = False

    def __init__(self, axes, keepdims, dtype=None):
        self.axes, self.keepdims, self.dtype = axes, keepdims, dtype

    def forward(self, a):
        self.shape = a.shape
        self.in_dtype = a.dtype
        dt = self.dtype
        if dt is None and a.dtype.kind in "biu":
            dt = np.int64  # PyTorch sums integers and bools into int64
        return a.sum(axis=self.axes, keepdims=self.keepdims, dtype=dt)

    def backward(self, g):
        g = _unreduce(g, self.shape, self.axes, self.keepdims)
        if g.dtype != self.in_dtype and self.in_dtype.kind == "f":
            g = g.astype(self.in_dtype) if is_array(g) else g.to(self.in_dtype)
        return g


class Mean(Node):
    save_inputs = False

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, a):
        if a.dtype.kind not in "fc":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {a.dtype}. Convert first, e.g. x.float().mean()"
            )
        self.shape = a.shape
        return a.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        n = _count(self.shape, self.axes)
        return _unreduce(g, self.shape, self.axes, self.keepdims) * (1.0 / n if n else float("nan"))


class Prod(Node):
    save_output = True

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        return a.prod(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g, a):
        axes = None if self.axis is None else (self.axis,)
        g = _unreduce(g, a.shape, axes, self.keepdims)
        y = _unreduce(self.output(g), a.shape, axes, self.keepdims)
        if g.__class__ is np.ndarray and (a == 0).any():
            return g * _prod_of_others(a, self.axis)
        return g * y / a


def _prod_of_others(a, axis):
    """Product of all other elements along ``axis`` (exact even with zeros)."""
    if axis is None:
        flat = a.reshape(-1)
        return _prod_of_others(flat, 0).reshape(a.shape)
    x = np.moveaxis(a, axis, -1)
    ones = np.ones(x.shape[:-1] + (1,), dtype=a.dtype)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([x[..., 1:], ones], axis=-1), -1), axis=-1), -1)
    return np.moveaxis(left * right, -1, axis)


class AMax(Node):
    """max/min over axes; ties share the gradient evenly (PyTorch's amax/amin rule)."""

    save_output = True

    def __init__(self, axes, keepdims, is_min=False):
        self.axes, self.keepdims, self.is_min = axes, keepdims, is_min

    def forward(self, a):
        if a.size == 0:
            raise RuntimeError(f"{'amin' if self.is_min else 'amax'}(): Expected reduction dim to "
                               "be specified for input.numel() == 0 / to have a non-zero size")
        f = np.min if self.is_min else np.max
        return f(a, axis=self.axes, keepdims=self.keepdims)

    def backward(self, g, a):
        y = _unreduce(self.output(g), a.shape, self.axes, self.keepdims)
        mask = a == y
        count = mask.sum(axis=self.axes, keepdims=True)
        if is_array(count):
            count = count.astype(g.dtype)  # int counts would upcast the gradient to float64
        return _unreduce(g, a.shape, self.axes, self.keepdims) * mask / count


class MaxDim(Node):
    """max/min along one dim returning values; the gradient goes to the selected index."""

    save_inputs = False

    def __init__(self, axis, keepdims, is_min=False):
        self.axis, self.keepdims, self.is_min = axis, keepdims, is_min

    def forward(self, a):
        if a.ndim and a.shape[self.axis] == 0:
            raise IndexError(f"{'min' if self.is_min else 'max'}(): Expected reduction dim "
                             f"{self.axis} to have non-zero size (input shape {a.shape})")
        if a.ndim == 0:  # a 0-d input is its own max, at index 0
            self.idx, self.shape = np.zeros((), np.intp), ()
            return a.copy()
        idx = (np.argmin if self.is_min else np.argmax)(a, axis=self.axis, keepdims=True)
        self.idx = idx
        self.shape = a.shape
        vals = np.take_along_axis(a, idx, axis=self.axis)
        return vals if self.keepdims else vals.squeeze(self.axis) if a.ndim else vals.reshape(())

    def backward(self, g):
        if not self.shape:
            return g
        if not self.keepdims:
            g = g.reshape(g.shape[: self.axis] + (1,) + g.shape[self.axis:])
        from .shape import scatter_add_along

        return scatter_add_along(g, self.idx, self.axis, self.shape)


class Var(Node):
    def __init__(self, axes, correction, keepdims):
        self.axes, self.correction, self.keepdims = axes, correction, keepdims

    def forward(self, a):
        return a.var(axis=self.axes, ddof=self.correction, keepdims=self.keepdims)

    def backward(self, g, a):
        n = _count(a.shape, self.axes)
        mean = a.mean(axis=self.axes, keepdims=True)
        g = _unreduce(g, a.shape, self.axes, self.keepdims)
        return g * (a - mean) * (2.0 / (n - self.correction) if n > self.correction else float("nan"))


class LogSumExp(Node):
    save_output = True

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, a):
        m = np.max(a, axis=self.axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        r = np.log(np.sum(np.exp(a - m), axis=self.axes, keepdims=True)) + m
        return r if self.keepdims else r.reshape(np.sum(a, axis=self.axes).shape)

    def backward(self, g, a):
        y = _unreduce(self.output(g), a.shape, self.axes, self.keepdims)
        return _unreduce(g, a.shape, self.axes, self.keepdims) * np.exp(a - y)


class Norm(Node):
    """The p-norm over axes; at zero its subgradient is zero, as in PyTorch."""

    save_output = True

    def __init__(self, p, axes, keepdims):
        self.p, self.axes, self.keepdims = p, axes, keepdims

    def forward(self, a):
        p = self.p
        if p == 2:
            return np.sqrt(np.sum(a * a, axis=self.axes, keepdims=self.keepdims))
        if p == 1:
            return np.sum(np.abs(a), axis=self.axes, keepdims=self.keepdims)
        if p == 0:
            return np.sum(a != 0, axis=self.axes, keepdims=self.keepdims).astype(a.dtype)
        return np.sum(np.abs(a) ** p, axis=self.axes, keepdims=self.keepdims) ** (1.0 / p)

    def backward(self, g, a):
        p = self.p
        g = _unreduce(g, a.shape, self.axes, self.keepdims)
        if p == 1:
            return g * np.sign(a)
        if p == 0:
            return g * 0
        y = _unreduce(self.output(g), a.shape, self.axes, self.keepdims)
        if p == 2:
            safe = y + (y == 0)
            return g * a / safe * (y != 0)
        safe = y + (y == 0)
        return g * a * np.abs(a) ** (p - 2) / safe ** (p - 1) * (y != 0)


class Softmax(Node):
    save_inputs = False
    save_output = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, a):
        m = a.max(axis=self.axis, keepdims=True)
        e = np.exp(a - m)
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def backward(self, g):
        y = self.output(g)
        gy = g * y
        return gy - y * gy.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Node):
    save_inputs = False
    save_output = True

    def __init__(self, axis):
        self.axis = axis

    def forward(self, a):
        m = a.max(axis=self.axis, keepdims=True)
        s = a - m
        s -= np.log(np.exp(s).sum(axis=self.axis, keepdims=True))
        return s

    def backward(self, g):
        y = self.output(g)
        return g - np.exp(y) * g.sum(axis=self.axis, keepdims=True)


# ------------------------------------------------------------------ function forms

def _tensor(x):

    return x if isinstance(x, Tensor) else Tensor(x)


def _dims(input, dim, op):
    return normalize_dims(dim, input.ndim, op)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum of elements, over all of them or over ``dim`` (int or tuple)."""

    input = _tensor(input)
    dim = axis if dim is None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    axes = _dims(input, dim, "sum")
    return apply(Sum(axes, keepdim, backend.to_dtype(dtype)), input)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Mean of elements, over all of them or over ``dim``."""
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    dim = axis if dim is None else dim
    keepdim = keepdims if keepdims is not None else keepdim
    return apply(Mean(_dims(input, dim, "mean"), keepdim), input)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of elements, over all of them or along one ``dim``."""
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    axis = None if dim is None else normalize_dim(dim, input.ndim, "prod")
    return apply(Prod(axis, keepdim), input)


def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (all dims when empty); ties share the gradient."""
    input = _tensor(input)
    axes = None if dim == () or dim is None else _dims(input, dim, "amax")
    return apply(AMax(axes, keepdim), input)


def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (all dims when empty); ties share the gradient."""
    input = _tensor(input)
    axes = None if dim == () or dim is None else _dims(input, dim, "amin")
    return apply(AMax(axes, keepdim, is_min=True), input)


class _MinMaxResult(tuple):
    """``(values, indices)`` with attribute access, like ``torch.return_types.max``."""

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _max_min(input, dim, keepdim, other, is_min):
    from .elementwise import maximum, minimum

    input = _tensor(input)
    if isinstance(dim, Tensor) or other is not None:
        return (minimum if is_min else maximum)(input, other if other is not None else dim)
    if dim is None:
        return apply(AMax(None, False, is_min), input)
    axis = normalize_dim(dim, input.ndim, "min" if is_min else "max")
    node = MaxDim(axis, keepdim, is_min)
    values = apply(node, input)
    idx = node.idx if keepdim else node.idx.squeeze(axis) if input.ndim else node.idx.reshape(())
    return _MinMaxResult((values, Tensor._make(idx.astype(np.int64, copy=False), None)))


def max(input, dim=None, keepdim=False, *, other=None):
    """``max(x)`` the largest element; ``max(x, dim)`` a ``(values, indices)`` pair;
    ``max(x, y)`` the elementwise maximum."""
    return _max_min(input, dim, keepdim, other, False)


def min(input, dim=None, keepdim=False, *, other=None):
    """``min(x)`` the smallest element; ``min(x, dim)`` a ``(values, indices)`` pair;
    ``min(x, y)`` the elementwise minimum."""
    return _max_min(input, dim, keepdim, other, True)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (over the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, np.argmax)


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element (over the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, np.argmin)


def _arg(input, dim, keepdim, f):

    input = _tensor(input)
    a = input._data
    if dim is None:
        r = f(a.reshape(-1))
        if keepdim:
            r = np.reshape(r, (1,) * a.ndim)
    else:
        r = f(a, axis=normalize_dim(dim, a.ndim, f.__name__), keepdims=keepdim)
    return Tensor._make(np.asarray(r, dtype=np.int64), None)


def _correction(unbiased, correction, op):
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{op}: pass either 'correction' or 'unbiased', not both")
    if correction is not None:
        return int(correction)
    return 0 if unbiased is False else 1


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1, i.e. unbiased)."""
    input = _tensor(input)
    if isinstance(dim, bool):  # var(x, False): the legacy positional `unbiased`
        unbiased, dim = dim, None
    return apply(Var(_dims(input, dim, "var"), _correction(unbiased, correction, "var"), keepdim), input)


class Std(Node):
    """Standard deviation; where it is zero the gradient is zero (not 0/0), as in PyTorch."""

    save_output = True

    def __init__(self, axes, correction, keepdims):
        self.axes, self.correction, self.keepdims = axes, correction, keepdims

    def forward(self, a):
        return np.sqrt(a.var(axis=self.axes, ddof=self.correction, keepdims=self.keepdims))

    def backward(self, g, a):
        n = _count(a.shape, self.axes)
        mean = a.mean(axis=self.axes, keepdims=True)
        y = _unreduce(self.output(g), a.shape, self.axes, self.keepdims)
        g = _unreduce(g, a.shape, self.axes, self.keepdims)
        scale = 1.0 / (n - self.correction) if n > self.correction else float("nan")
        return g * (a - mean) * scale / (y + (y == 0)) * (y != 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` (square root of :func:`var`)."""
    input = _tensor(input)
    if isinstance(dim, bool):  # std(x, False): the legacy positional `unbiased`
        unbiased, dim = dim, None
    return apply(Std(_dims(input, dim, "std"), _correction(unbiased, correction, "std"), keepdim),
                 input)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably."""
    input = _tensor(input)
    return apply(LogSumExp(_dims(input, dim, "logsumexp"), keepdim), input)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm (``p`` = 2, 1, inf, -inf, 0 or any number; 'fro' = 2) over ``dim``."""
    input = _tensor(input)
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("norm: the nuclear norm is not supported")
    axes = _dims(input, dim, "norm")
    if p in (float("inf"), float("-inf")):
        from .elementwise import abs as _abs

        a = _abs(input)
        return amax(a, axes or (), keepdim) if p > 0 else amin(a, axes or (), keepdim)
    return apply(Norm(float(p), axes, keepdim), input)


def softmax(input, dim=None, dtype=None, _stacklevel=3):
    """Softmax along ``dim``: ``exp(x) / sum(exp(x))``, computed stably."""
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return apply(Softmax(normalize_dim(dim, input.ndim, "softmax")), input)


def log_softmax(input, dim=None, dtype=None, _stacklevel=3):
    """``log(softmax(x))`` along ``dim``, computed stably."""
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return apply(LogSoftmax(normalize_dim(dim, input.ndim, "log_softmax")), input)


def all(input, dim=None, keepdim=False):

    input = _tensor(input)
    return Tensor._make(np.asarray(np.all(input._data, axis=dim, keepdims=keepdim)), None)


def any(input, dim=None, keepdim=False):

    input = _tensor(input)
    return Tensor._make(np.asarray(np.any(input._data, axis=dim, keepdims=keepdim)), None)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``."""
    input = _tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    return apply(CumSum(normalize_dim(dim, input.ndim, "cumsum")), input)


class CumSum(Node):
    save_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, a):
        dt = np.int64 if a.dtype.kind in "biu" else a.dtype
        self.nd = a.ndim
        if a.ndim == 0:  # NumPy would flatten a 0-d input to shape (1,)
            return a.astype(dt, copy=True)
        return np.cumsum(a, axis=self.axis, dtype=dt)

    def backward(self, g):
        from .shape import flip

        if not self.nd:
            return g
        if g.__class__ is np.ndarray:
            return np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis)
        return flip(cumsum(flip(g, (self.axis,)), self.axis), (self.axis,))
