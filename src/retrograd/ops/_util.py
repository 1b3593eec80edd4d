"""Helpers shared by the ops: broadcasting, dtype promotion, argument checks.

Backward formulas receive either NumPy arrays (a plain backward) or Tensors (when
``create_graph=True``). The helpers here accept both, so every derivative is written
once.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor

_np = np.ndarray


def is_array(v):
    """True for a NumPy array (a plain backward), False for a Tensor (create_graph).

    NumPy scalars count as arrays: arithmetic on 0-d arrays produces them.
    """
    return v.__class__ is _np or isinstance(v, np.generic)


def shape_of(x):
    return x.shape if hasattr(x, "shape") else ()


def sum_to(g, shape):
    """Sum a broadcast gradient back to ``shape`` (the un-broadcast rule, in one place)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead or g.shape != shape:
        g = g.reshape(shape)
    return g


def grad_like(g, x):
    """Gradient ``g`` reduced to the shape of input ``x`` and cast to its dtype."""
    shape = shape_of(x)
    if g.shape != shape:
        g = sum_to(g, shape)
    dt = getattr(x, "dtype", None)
    if dt is not None and g.dtype != dt and dt.kind == "f":
        g = g.astype(dt) if is_array(g) else g.to(dt)
    return g


def expand(g, shape):
    """Broadcast ``g`` to ``shape`` (a read-only view for arrays)."""
    if g.shape == tuple(shape):
        return g
    if is_array(g):
        if g.ndim == 0:
            # a full reduction's gradient: np.full is cheaper than a broadcast view
            return np.full(shape, g, dtype=g.dtype)
        return np.broadcast_to(g, shape)
    return g.expand(*shape)


def permute(g, axes):
    if is_array(g):
        return g.transpose(axes)
    return g.permute(*axes)


def flip(g, dims):
    if is_array(g):
        return np.flip(g, dims)
    return g.flip(dims)


def zeros_like(g, shape=None, dtype=None):

    shape = g.shape if shape is None else shape
    dtype = g.dtype if dtype is None else dtype
    z = np.zeros(shape, dtype=dtype)
    return z if is_array(g) else Tensor._make(z, None)


# ------------------------------------------------------------------ dtype promotion
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _scalar_dtype(v):
    if isinstance(v, bool):
        return backend.bool_
    if isinstance(v, int):
        return backend.int64
    if isinstance(v, float):
        return backend.get_default_dtype()
    if isinstance(v, complex):
        return np.dtype(np.complex64)
    return np.asarray(v).dtype


def result_type(*xs):
    """PyTorch's type promotion for arrays and Python scalars.

    Within one category (bool < integer < floating), tensors with dimensions decide over
    zero-dimensional tensors, which decide over Python scalars; a Python float meeting
    integer tensors gives the default float dtype (float32), not float64 as NumPy would.
    """
    groups = [None, None, None]  # dimensioned arrays, 0-d arrays, scalars
    for x in xs:
        if isinstance(x, np.ndarray):
            k = 0 if x.ndim else 1
            dt = x.dtype
        elif isinstance(x, np.generic):
            k, dt = 1, x.dtype
        else:
            k, dt = 2, _scalar_dtype(x)
        groups[k] = dt if groups[k] is None else _promote_two(groups[k], dt)
    top = max(_CATEGORY[g.kind] for g in groups if g is not None)
    for g in groups:
        if g is not None and _CATEGORY[g.kind] == top:
            return g
    raise AssertionError("unreachable")


def _promote_two(d1, d2):
    """Promote two dtypes of the same priority: the higher category wins outright
    (int64 with float32 gives float32, as in PyTorch; NumPy would say float64)."""
    c1, c2 = _CATEGORY[d1.kind], _CATEGORY[d2.kind]
    if c1 == c2:
        return np.promote_types(d1, d2)
    return d1 if c1 > c2 else d2


def promote(a, b):
    """Cast two operands (arrays or scalars) to PyTorch's common dtype, cheaply when equal."""
    ta, tb = a.__class__ is _np, b.__class__ is _np
    if ta and tb:
        if a.dtype == b.dtype:
            return a, b
    elif ta and isinstance(b, float):
        if a.dtype.kind == "f":
            return a, b
    elif tb and isinstance(a, float):
        if b.dtype.kind == "f":
            return a, b
    elif ta and isinstance(b, int) and a.dtype.kind in "fiu" and not isinstance(b, bool):
        return a, b
    elif tb and isinstance(a, int) and b.dtype.kind in "fiu" and not isinstance(a, bool):
        return a, b
    dt = result_type(a, b)
    if isinstance(a, np.ndarray) and a.dtype != dt:
        a = a.astype(dt)
    elif not isinstance(a, np.ndarray):
        a = np.asarray(a, dtype=dt) if dt.kind != _kind_of_scalar(a) else a
    if isinstance(b, np.ndarray) and b.dtype != dt:
        b = b.astype(dt)
    elif not isinstance(b, np.ndarray):
        b = np.asarray(b, dtype=dt) if dt.kind != _kind_of_scalar(b) else b
    return a, b


def _kind_of_scalar(v):
    if isinstance(v, bool):
        return "b"
    if isinstance(v, int):
        return "i"
    if isinstance(v, float):
        return "f"
    return np.asarray(v).dtype.kind


def normalize_dim(dim, ndim, op="op"):
    """A possibly negative dimension index, checked against ``ndim``."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n if ndim else 0


def normalize_dims(dim, ndim, op="op"):
    """``dim`` (None, int, or sequence) as a sorted tuple of non-negative axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        d = normalize_dim(int(dim), ndim, op)
        return (d,) if ndim else ()
    dims = tuple(normalize_dim(int(d), ndim, op) for d in dim)
    if not dims:
        return None  # an empty dim list reduces over every dimension, as in PyTorch
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    if ndim == 0:
        return ()
    return tuple(sorted(dims))
