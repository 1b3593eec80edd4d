"""Elementwise ops: arithmetic with broadcasting, and the unary math functions.

Each class is one op: ``forward`` on NumPy arrays, ``backward`` the vector-Jacobian
product. Broadcasting is undone by ``grad_like`` (sum back to each input's shape).
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node, apply
from ..tensor import Tensor
from ._util import _kind_of_scalar, grad_like, is_array, promote

# ------------------------------------------------------------------ arithmetic


class Add(Node):
    save_inputs = False

    def forward(self, a, b):
        # the inputs' own dtypes (before promotion): each gradient comes back in its input's dtype
        self.a_meta = (getattr(a, "shape", ()), getattr(a, "dtype", None))
        self.b_meta = (getattr(b, "shape", ()), getattr(b, "dtype", None))
        a, b = promote(a, b)
        return a + b

    def backward(self, g):
        return (_reduce(g, self.a_meta) if self.needs[0] else None,
                _reduce(g, self.b_meta) if self.needs[1] else None)


class Sub(Node):
    save_inputs = False

    def forward(self, a, b):
        # the inputs' own dtypes (before promotion): each gradient comes back in its input's dtype
        self.a_meta = (getattr(a, "shape", ()), getattr(a, "dtype", None))
        self.b_meta = (getattr(b, "shape", ()), getattr(b, "dtype", None))
        a, b = promote(a, b)
        return a - b

    def backward(self, g):
        return (_reduce(g, self.a_meta) if self.needs[0] else None,
                _reduce(-g, self.b_meta) if self.needs[1] else None)


def _reduce(g, meta):
    shape, dtype = meta
    if g.shape != shape:
        from ._util import sum_to

        g = sum_to(g, shape)
    if dtype is not None and g.dtype != dtype and dtype.kind == "f":
        g = g.astype(dtype) if is_array(g) else g.to(dtype)
    return g


class Mul(Node):
    reads = staticmethod(lambda needs: (needs[1], needs[0]))

    def forward(self, a, b):
        a, b = promote(a, b)
        return a * b

    def backward(self, g, a, b):
        return (grad_like(g * b, a) if self.needs[0] else None,
                grad_like(g * a, b) if self.needs[1] else None)


class Div(Node):
    reads = staticmethod(lambda needs: (needs[1], True))

    def forward(self, a, b):
        a, b = promote(a, b)
        ka = a.dtype.kind if a.__class__ is np.ndarray else _kind_of_scalar(a)
        kb = b.dtype.kind if b.__class__ is np.ndarray else _kind_of_scalar(b)
        if ka in "biu" and kb in "biu":
            # true division of integers gives the default float dtype, as in PyTorch

            dt = backend.get_default_dtype()
            return np.true_divide(a, b, dtype=dt)
        return a / b

    def backward(self, g, a, b):
        ga = grad_like(g / b, a) if self.needs[0] else None
        gb = grad_like(-g * a / (b * b), b) if self.needs[1] else None
        return ga, gb


class Neg(Node):
    save_inputs = False

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Node):
    """``a ** b`` for tensor/tensor, tensor/scalar and scalar/tensor."""

    save_output = True

    def forward(self, a, b):
        a, b = promote(a, b)
        if (b.__class__ is int or b.__class__ is float) and (b == 2 or b == 3) \
                and a.__class__ is np.ndarray and a.dtype.kind == "f":
            # PyTorch computes x**2 and x**3 as products (bitwise equal results);
            # np.power takes ~50x longer for these exponents
            return a * a if b == 2 else a * a * a
        if isinstance(b, np.ndarray) and b.dtype.kind in "iu" and (b < 0).any():
            raise RuntimeError("pow: integers to negative integer powers are not allowed; "
                               "use a float tensor (x.float() ** n)")
        return np.power(a, b)

    def backward(self, g, a, b):
        ga = gb = None
        if self.needs[0]:
            if isinstance(b, (int, float)):
                ga = g * (b * a ** (b - 1)) if b != 0 else g * 0
            else:
                ga = grad_like(g * b * a ** (b - 1), a)
        if self.needs[1]:
            y = self.output(g)
            # d(a^b)/db = a^b log a; PyTorch takes it as 0 where a == 0
            if isinstance(a, (int, float)):
                ln = math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
            elif a.__class__ is np.ndarray:
                ln = np.log(np.where(a == 0, 1, a))
            else:
                ln = where(a == 0, 1.0, a).log()
            gb = grad_like(g * y * ln, b)
        return ga, gb


class Abs(Node):
    def forward(self, a):
        return np.abs(a)

    def backward(self, g, a):
        return g * np.sign(a)


class Exp(Node):
    save_inputs = False
    save_output = True

    def forward(self, a):
        return np.exp(a)

    def backward(self, g):
        return g * self.output(g)


class Log(Node):
    def forward(self, a):
        return np.log(a)

    def backward(self, g, a):
        return g / a


class Log1p(Node):
    def forward(self, a):
        return np.log1p(a)

    def backward(self, g, a):
        return g / (1 + a)


class Sqrt(Node):
    save_inputs = False
    save_output = True

    def forward(self, a):
        return np.sqrt(a)

    def backward(self, g):
        return g / (2 * self.output(g))


class Rsqrt(Node):
    save_inputs = False
    save_output = True

    def forward(self, a):
        return 1 / np.sqrt(a)

    def backward(self, g):
        y = self.output(g)
        return g * (-0.5 * y * y * y)


class Sin(Node):
    def forward(self, a):
        return np.sin(a)

    def backward(self, g, a):
        return g * np.cos(a)


class Cos(Node):
    def forward(self, a):
        return np.cos(a)

    def backward(self, g, a):
        return -g * np.sin(a)


class Tanh(Node):
    save_inputs = False
    save_output = True

    def forward(self, a):
        return np.tanh(a)

    def backward(self, g):
        y = self.output(g)
        return g * (1 - y * y)


class Sigmoid(Node):
    save_inputs = False
    save_output = True

    def forward(self, a):
        # stable in both tails: exp of a non-positive number only
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)

    def backward(self, g):
        y = self.output(g)
        return g * (y * (1 - y))


class Relu(Node):
    save_inputs = False
    save_output = True

    def forward(self, a):
        return np.maximum(a, 0)

    def backward(self, g):
        return g * (self.output(g) > 0)


class Clamp(Node):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, a):
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            return np.minimum(np.maximum(a, lo), hi).astype(a.dtype, copy=False)
        if lo is not None:
            return np.maximum(a, lo).astype(a.dtype, copy=False)
        return np.minimum(a, hi).astype(a.dtype, copy=False)

    def backward(self, g, a):
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            return g * ((a >= lo) & (a <= hi))
        if lo is not None:
            return g * (a >= lo)
        return g * (a <= hi)


class Maximum(Node):
    """Elementwise max; on ties the gradient is shared half and half, as in PyTorch."""

    def forward(self, a, b):
        a, b = promote(a, b)
        return np.maximum(a, b)

    def backward(self, g, a, b):
        wa = _tie_weight(a > b, a == b, g)
        return (grad_like(g * wa, a) if self.needs[0] else None,
                grad_like(g * (1 - wa), b) if self.needs[1] else None)


def _tie_weight(wins, ties, g):
    """1 where the first operand wins, 0.5 on ties, 0 elsewhere; in ``g``'s dtype (no upcast)."""
    w = wins + ties * 0.5
    return np.asarray(w, dtype=g.dtype) if is_array(g) else w


class Minimum(Node):
    def forward(self, a, b):
        a, b = promote(a, b)
        return np.minimum(a, b)

    def backward(self, g, a, b):
        wa = _tie_weight(a < b, a == b, g)
        return (grad_like(g * wa, a) if self.needs[0] else None,
                grad_like(g * (1 - wa), b) if self.needs[1] else None)


class Where(Node):
    reads = staticmethod(lambda needs: (True, False, False))  # only the condition's values

    def forward(self, cond, a, b):
        a, b = promote(a, b)
        return np.where(cond, a, b)

    def backward(self, g, cond, a, b):
        return (None,
                grad_like(g * cond, a) if self.needs[1] else None,
                grad_like(g * ~cond, b) if self.needs[2] else None)


# ------------------------------------------------------------------ function forms

def _t(x):

    return x if isinstance(x, Tensor) else Tensor(x)


def add(input, other, *, alpha=1, out=None):
    """Add ``other`` (times ``alpha``) to ``input``, with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _out(apply(Add(), input, other), out)


def sub(input, other, *, alpha=1, out=None):
    """Subtract ``other`` (times ``alpha``) from ``input``, with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _out(apply(Sub(), input, other), out)


subtract = sub


def mul(input, other, *, out=None):
    """Elementwise product with broadcasting."""
    return _out(apply(Mul(), input, other), out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """Elementwise division; ``rounding_mode`` 'trunc' or 'floor' gives a non-differentiable result."""
    if rounding_mode is None:
        return _out(apply(Div(), input, other), out)

    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    a, b = promote(a, b)
    if rounding_mode == "floor":
        r = np.floor_divide(a, b)
    elif rounding_mode == "trunc":
        r = np.trunc(np.true_divide(a, b)).astype(np.result_type(a, b))
    else:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return _out(Tensor._make(r), out)


divide = true_divide = div


def neg(input):
    """Elementwise negation."""
    return apply(Neg(), input)


negative = neg


def pow(input, exponent):
    """``input ** exponent`` elementwise (tensor or scalar on either side)."""
    return apply(Pow(), input, exponent)


def _unary(cls):
    def fn(input, *, out=None):
        return _out(apply(cls(), input), out)

    return fn


exp = _unary(Exp)
log = _unary(Log)
log1p = _unary(Log1p)
sqrt = _unary(Sqrt)
rsqrt = _unary(Rsqrt)
abs = _unary(Abs)
absolute = abs
sin = _unary(Sin)
cos = _unary(Cos)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)
relu = _unary(Relu)
for _f, _n in [(exp, "exp"), (log, "log"), (log1p, "log1p"), (sqrt, "sqrt"), (rsqrt, "rsqrt"),
               (abs, "abs"), (sin, "sin"), (cos, "cos"), (tanh, "tanh"), (sigmoid, "sigmoid"),
               (relu, "relu")]:
    _f.__name__ = _n
    _f.__doc__ = f"Elementwise ``{_n}`` of ``input``, differentiable."


def sign(input):
    """Elementwise sign (-1, 0 or 1); its gradient is zero."""

    x = _t(input)
    r = Tensor._make(np.sign(x._data), None)
    if x.requires_grad and _grad_on():
        return apply(Mul(), x, 0.0) + r
    return r


def _grad_on():

    return GRAD.enabled


def exp2(input):
    return pow(2.0, input)


def square(input):
    return mul(input, input)


def reciprocal(input):
    return div(1.0, input)


def clamp(input, min=None, max=None, *, out=None):
    """Clamp every element into ``[min, max]``; the gradient passes where ``min <= x <= max``."""

    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        r = input
        if min is not None:
            r = maximum(r, min) if isinstance(min, Tensor) else clamp(r, min=min)
        if max is not None:
            r = minimum(r, max) if isinstance(max, Tensor) else clamp(r, max=max)
        return _out(r, out)
    return _out(apply(Clamp(min, max), input), out)


clip = clamp


def maximum(input, other, *, out=None):
    """Elementwise maximum of two tensors (ties share the gradient)."""
    return _out(apply(Maximum(), input, other), out)


def minimum(input, other, *, out=None):
    """Elementwise minimum of two tensors (ties share the gradient)."""
    return _out(apply(Minimum(), input, other), out)


def where(condition, input=None, other=None):
    """Choose ``input`` where ``condition`` is True, else ``other`` (broadcasting all three).

    With only ``condition``, returns the indices of its non-zero elements, like ``nonzero(as_tuple=True)``.
    """

    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor._make(i, None) for i in np.nonzero(cond))
    if cond.dtype != np.bool_:
        raise TypeError(f"where: expected a bool condition, got dtype {cond.dtype}")
    return apply(Where(), cond, input, other)


def lerp(input, end, weight):
    return input + weight * (end - input)


def _out(result, out):
    if out is None:
        return result
    out.copy_(result) if out.shape == result.shape else out.set_(result)
    return out


class Cast(Node):
    save_inputs = False

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        self.in_dtype = a.dtype
        return a.astype(self.dtype)

    def backward(self, g):
        if self.in_dtype.kind != "f":
            return None
        return g.astype(self.in_dtype) if is_array(g) else g.to(self.in_dtype)


def _cast(input, dtype):
    if dtype.kind not in "fc":  # integer and bool results carry no gradient, as in PyTorch

        return Tensor._make(input._data.astype(dtype), None, False)
    return apply(Cast(dtype), input)


class Clone(Node):
    save_inputs = False

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g


def _clone(input):
    return apply(Clone(), input)
