"""NumPy ufuncs applied to Tensors: ``np.exp(t)`` runs retrograd's differentiable ``exp``.

This is also what lets backward formulas be written once with ``np.cos(x)`` and run
on arrays (plain backward) or on Tensors (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def _table():
    from . import compare as C
    from . import elementwise as E
    from . import linalg as L

    return {
        np.add: E.add, np.subtract: E.sub, np.multiply: E.mul, np.divide: E.div,
        np.true_divide: E.div, np.negative: E.neg, np.power: E.pow, np.exp: E.exp,
        np.log: E.log, np.log1p: E.log1p, np.sqrt: E.sqrt, np.sin: E.sin, np.cos: E.cos,
        np.tanh: E.tanh, np.abs: E.abs, np.absolute: E.abs, np.sign: E.sign,
        np.maximum: E.maximum, np.minimum: E.minimum, np.matmul: L.matmul,
        np.greater: C.gt, np.greater_equal: C.ge, np.less: C.lt, np.less_equal: C.le,
        np.equal: C.eq, np.not_equal: C.ne, np.logical_not: C.logical_not,
        np.logical_and: C.logical_and, np.logical_or: C.logical_or, np.invert: C.logical_not,
        np.isnan: C.isnan, np.isfinite: C.isfinite, np.isinf: C.isinf,
        np.square: E.square, np.reciprocal: E.reciprocal, np.floor: C.floor, np.ceil: C.ceil,
    }


_TABLE = None


def dispatch(ufunc, method, inputs, kwargs):
    global _TABLE
    if _TABLE is None:
        _TABLE = _table()
    fn = _TABLE.get(ufunc)
    if method != "__call__" or fn is None or kwargs.get("out") is not None:

        # anything else: compute on plain arrays (no gradient)
        arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o._data if isinstance(o, Tensor) else o for o in kwargs["out"])
        r = getattr(ufunc, method)(*arrays, **kwargs)
        return Tensor._make(r, None) if isinstance(r, np.ndarray) else r
    return fn(*inputs)
