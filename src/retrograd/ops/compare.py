"""Comparisons, logical ops, rounding, sorting: results carry no gradient (except sort/topk values)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._util import normalize_dim, promote


def _arr(x):

    return x._data if isinstance(x, Tensor) else x


def _wrap(a):

    return Tensor._make(np.asarray(a), None, False)


def _cmp(ufunc, name):
    def fn(input, other, *, out=None):
        a, b = _arr(input), _arr(other)
        try:
            a, b = promote(a, b)
            return _wrap(ufunc(a, b))
        except ValueError:
            raise RuntimeError(f"{name}: shapes {np.shape(a)} and {np.shape(b)} do not broadcast") from None

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` comparison; returns a bool tensor (no gradient)."
    return fn


eq = _cmp(np.equal, "eq")
ne = _cmp(np.not_equal, "ne")
lt = _cmp(np.less, "lt")
le = _cmp(np.less_equal, "le")
gt = _cmp(np.greater, "gt")
ge = _cmp(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logic(ufunc, name):
    def fn(input, other):
        return _wrap(ufunc(_arr(input), _arr(other)))

    fn.__name__ = name
    return fn


logical_and = _logic(np.logical_and, "logical_and")
logical_or = _logic(np.logical_or, "logical_or")
logical_xor = _logic(np.logical_xor, "logical_xor")
bitwise_and = _logic(np.bitwise_and, "bitwise_and")
bitwise_or = _logic(np.bitwise_or, "bitwise_or")
bitwise_xor = _logic(np.bitwise_xor, "bitwise_xor")


def logical_not(input):
    return _wrap(np.logical_not(_arr(input)))


def bitwise_not(input):
    a = _arr(input)
    return _wrap(np.logical_not(a) if a.dtype == np.bool_ else np.invert(a))


def isnan(input):
    return _wrap(np.isnan(_arr(input)))


def isinf(input):
    return _wrap(np.isinf(_arr(input)))


def isposinf(input):
    return _wrap(np.isposinf(_arr(input)))


def isneginf(input):
    return _wrap(np.isneginf(_arr(input)))


def isfinite(input):
    return _wrap(np.isfinite(_arr(input)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _wrap(np.isclose(_arr(input), _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(_arr(input), _arr(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    a, b = _arr(input), _arr(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _round_like(ufunc, name):
    def fn(input, *, out=None):
        a = _arr(input)
        return _wrap(ufunc(a) if a.dtype.kind == "f" else a.copy())

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (piecewise constant: no gradient)."
    return fn


floor = _round_like(np.floor, "floor")
ceil = _round_like(np.ceil, "ceil")
trunc = fix = _round_like(np.trunc, "trunc")


def round(input, *, decimals=0):
    a = _arr(input)
    return _wrap(np.round(a, decimals) if a.dtype.kind == "f" else a.copy())


def frac(input):
    from .elementwise import sub

    return sub(input, trunc(input))


def remainder(input, other):
    a, b = promote(_arr(input), _arr(other))
    return _wrap(np.mod(a, b))


def fmod(input, other):
    a, b = promote(_arr(input), _arr(other))
    return _wrap(np.fmod(a, b))


def floor_divide(input, other):
    a, b = promote(_arr(input), _arr(other))
    return _wrap(np.floor_divide(a, b))


def nonzero(input, *, as_tuple=False):
    a = _arr(input)
    nz = np.nonzero(a)
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in nz)
    return _wrap(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


def count_nonzero(input, dim=None):
    return _wrap(np.asarray(np.count_nonzero(_arr(input), axis=dim), dtype=np.int64))


def argsort(input, dim=-1, descending=False, stable=False):
    a = _arr(input)
    d = normalize_dim(dim, a.ndim, "argsort")
    if descending:
        idx = np.flip(np.argsort(np.flip(a, d), axis=d, kind="stable"), d)
        idx = a.shape[d] - 1 - idx if a.ndim else idx
    else:
        idx = np.argsort(a, axis=d, kind="stable")
    return _wrap(idx.astype(np.int64))


class _SortResult(tuple):
    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values (differentiable, via gather) and their indices."""
    from .shape import gather

    idx = argsort(input, dim, descending)
    if input.ndim == 0:
        return _SortResult((input.clone(), idx))
    return _SortResult((gather(input, dim, idx), idx))


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    from .shape import gather, narrow

    d = normalize_dim(dim, input.ndim, "topk")
    if k > input.shape[d] or k < 0:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {d} of size {input.shape[d]}")
    idx = narrow(argsort(input, d, descending=largest), d, 0, k).contiguous()
    return _SortResult((gather(input, d, idx), idx))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    a = _arr(input)
    res = np.unique(a, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return _wrap(res)
    out = [_wrap(res[0])]
    i = 1
    if return_inverse:
        out.append(_wrap(res[i].reshape(a.shape).astype(np.int64)))
        i += 1
    if return_counts:
        out.append(_wrap(res[i].astype(np.int64)))
    return tuple(out)


def bincount(input, weights=None, minlength=0):
    w = None if weights is None else _arr(weights)
    return _wrap(np.bincount(_arr(input), weights=w, minlength=minlength))


def searchsorted(sorted_sequence, values, *, right=False, side=None):
    side = side or ("right" if right else "left")
    return _wrap(np.searchsorted(_arr(sorted_sequence), _arr(values), side=side).astype(np.int64))


def bucketize(input, boundaries, *, right=False):
    side = "left" if not right else "right"
    return _wrap(np.searchsorted(_arr(boundaries), _arr(input), side=side).astype(np.int64))
