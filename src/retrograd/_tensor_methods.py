"""Tensor operators and methods, each delegating to the function form in ``ops``.

Kept apart from ``tensor.py`` so the Tensor class reads as data + autograd state,
and this file as the (long) list of PyTorch method names.
"""

from __future__ import annotations

import numpy as np

from . import backend
from . import creation as C
from .autograd.graph import apply
from .ops import compare as K
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .tensor import Tensor


def _operand(x):
    """Accept Tensors, Python numbers and NumPy arrays as the other operand."""
    if isinstance(x, (Tensor, int, float, bool)):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x, None, False)
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple)):
        return C.tensor(x)
    return NotImplemented


def _binary(node_cls, reflected=False):
    if reflected:
        def op(self, other):
            other = _operand(other)
            if other is NotImplemented:
                return NotImplemented
            return apply(node_cls(), other, self)
    else:
        def op(self, other):
            other = _operand(other)
            if other is NotImplemented:
                return NotImplemented
            return apply(node_cls(), self, other)
    return op


Tensor.__add__ = _binary(E.Add)
Tensor.__radd__ = _binary(E.Add, True)
Tensor.__sub__ = _binary(E.Sub)
Tensor.__rsub__ = _binary(E.Sub, True)
Tensor.__mul__ = _binary(E.Mul)
Tensor.__rmul__ = _binary(E.Mul, True)
Tensor.__truediv__ = _binary(E.Div)
Tensor.__rtruediv__ = _binary(E.Div, True)
Tensor.__pow__ = _binary(E.Pow)
Tensor.__rpow__ = _binary(E.Pow, True)


def _matmul(self, other):
    other = _operand(other)
    return NotImplemented if other is NotImplemented else L.matmul(self, other)


def _rmatmul(self, other):
    other = _operand(other)
    return NotImplemented if other is NotImplemented else L.matmul(other, self)


Tensor.__matmul__ = _matmul
Tensor.__rmatmul__ = _rmatmul
Tensor.__neg__ = lambda self: apply(E.Neg(), self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: E.abs(self)
Tensor.__floordiv__ = lambda self, o: K.floor_divide(self, o)
Tensor.__rfloordiv__ = lambda self, o: K.floor_divide(o, self)
Tensor.__mod__ = lambda self, o: K.remainder(self, o)
Tensor.__rmod__ = lambda self, o: K.remainder(o, self)
Tensor.__eq__ = lambda self, o: K.eq(self, _operand(o))
Tensor.__ne__ = lambda self, o: K.ne(self, _operand(o))
Tensor.__lt__ = lambda self, o: K.lt(self, _operand(o))
Tensor.__le__ = lambda self, o: K.le(self, _operand(o))
Tensor.__gt__ = lambda self, o: K.gt(self, _operand(o))
Tensor.__ge__ = lambda self, o: K.ge(self, _operand(o))
Tensor.__and__ = lambda self, o: K.bitwise_and(self, o)
Tensor.__rand__ = lambda self, o: K.bitwise_and(o, self)
Tensor.__or__ = lambda self, o: K.bitwise_or(self, o)
Tensor.__ror__ = lambda self, o: K.bitwise_or(o, self)
Tensor.__xor__ = lambda self, o: K.bitwise_xor(self, o)
Tensor.__invert__ = lambda self: K.bitwise_not(self)
Tensor.__hash__ = object.__hash__


# ------------------------------------------------------------------ in-place operators

def _inplace_binary(fn, name):
    def method(self, other, *args, **kwargs):
        if not (GRAD_ON() and (self.requires_grad or getattr(other, "requires_grad", False))):
            # fast path: plain NumPy in place (optimizer updates, .data tricks, no_grad code)
            o = other._data if isinstance(other, Tensor) else other
            alpha = kwargs.get("alpha", args[0] if args else 1)
            if alpha != 1:
                o = o * alpha
            try:
                _NUMPY_INPLACE[name](self._data, o)
            except (TypeError, ValueError) as e:  # NumPy's UFuncTypeError is a TypeError
                raise RuntimeError(f"{name}: cannot apply to a tensor of shape {tuple(self.shape)} "
                                   f"and dtype {self.dtype} with other of shape "
                                   f"{tuple(np.shape(o))}: {e}") from None
            self._version[0] += 1
            return self
        return self._inplace(fn, other, *args, op=name, **kwargs)

    method.__name__ = name
    return method


def _np_div_(a, b):
    if a.dtype.kind != "f":
        raise TypeError("result type Float can't be cast to the desired output type " + str(a.dtype))
    np.divide(a, b, out=a, casting="same_kind")


_NUMPY_INPLACE = {
    "add_": lambda a, b: np.add(a, b, out=a, casting="same_kind"),
    "sub_": lambda a, b: np.subtract(a, b, out=a, casting="same_kind"),
    "mul_": lambda a, b: np.multiply(a, b, out=a, casting="same_kind"),
    "div_": _np_div_,
    "pow_": lambda a, b: np.power(a, b, out=a, casting="same_kind"),
}


def GRAD_ON():
    from .autograd.grad_mode import GRAD

    return GRAD.enabled


Tensor.add_ = _inplace_binary(E.add, "add_")
Tensor.sub_ = _inplace_binary(E.sub, "sub_")
Tensor.mul_ = _inplace_binary(E.mul, "mul_")
Tensor.div_ = _inplace_binary(E.div, "div_")
Tensor.pow_ = _inplace_binary(E.pow, "pow_")
Tensor.subtract_ = Tensor.sub_
Tensor.multiply_ = Tensor.mul_
Tensor.divide_ = Tensor.div_
Tensor.true_divide_ = Tensor.div_
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_


def _inplace_unary(fn, name):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, op=name, **kwargs)

    method.__name__ = name
    return method


for _name, _fn in [("exp_", E.exp), ("log_", E.log), ("sqrt_", E.sqrt), ("neg_", E.neg),
                   ("abs_", E.abs), ("tanh_", E.tanh), ("sigmoid_", E.sigmoid), ("relu_", E.relu),
                   ("clamp_", E.clamp), ("clip_", E.clamp), ("sin_", E.sin), ("cos_", E.cos),
                   ("log1p_", E.log1p), ("rsqrt_", E.rsqrt), ("square_", E.square),
                   ("reciprocal_", E.reciprocal), ("masked_fill_", S.masked_fill),
                   ("floor_", K.floor), ("ceil_", K.ceil), ("round_", K.round),
                   ("trunc_", K.trunc), ("sign_", E.sign), ("lerp_", E.lerp),
                   ("clamp_min_", lambda x, v: E.clamp(x, min=v)),
                   ("clamp_max_", lambda x, v: E.clamp(x, max=v)),
                   ("tril_", S.tril), ("triu_", S.triu), ("scatter_", S.scatter),
                   ("scatter_add_", S.scatter_add)]:
    setattr(Tensor, _name, _inplace_unary(_fn, _name))
Tensor.negative_ = Tensor.neg_


def _addcmul(self, tensor1, tensor2, *, value=1):
    return self + value * tensor1 * tensor2 if value != 1 else self + tensor1 * tensor2


def _addcdiv(self, tensor1, tensor2, *, value=1):
    return self + value * tensor1 / tensor2 if value != 1 else self + tensor1 / tensor2


def _addcmul_(self, tensor1, tensor2, *, value=1):
    if not GRAD_ON() or not (self.requires_grad or tensor1.requires_grad or tensor2.requires_grad):
        prod = tensor1._data * tensor2._data
        if value != 1:
            prod *= value
        np.add(self._data, prod, out=self._data, casting="same_kind")
        self._version[0] += 1
        return self
    return self._inplace(_addcmul, tensor1, tensor2, value=value, op="addcmul_")


def _addcdiv_(self, tensor1, tensor2, *, value=1):
    if not GRAD_ON() or not (self.requires_grad or tensor1.requires_grad or tensor2.requires_grad):
        q = tensor1._data / tensor2._data
        if value != 1:
            q *= value
        np.add(self._data, q, out=self._data, casting="same_kind")
        self._version[0] += 1
        return self
    return self._inplace(_addcdiv, tensor1, tensor2, value=value, op="addcdiv_")


Tensor.addcmul = _addcmul
Tensor.addcdiv = _addcdiv
Tensor.addcmul_ = _addcmul_
Tensor.addcdiv_ = _addcdiv_


# random in-place fills (used by nn.init)
def _uniform_(self, a=0.0, b=1.0, *, generator=None):
    self._data[...] = backend.rng(generator).uniform(a, b, self.shape)
    self._version[0] += 1
    return self


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    self._data[...] = backend.rng(generator).normal(mean, std, self.shape)
    self._version[0] += 1
    return self


def _bernoulli_(self, p=0.5, *, generator=None):
    pr = p._data if isinstance(p, Tensor) else p
    self._data[...] = backend.rng(generator).random(self.shape) < pr
    self._version[0] += 1
    return self


def _random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        from_, to = 0, from_ if from_ else 2 ** 24
    self._data[...] = backend.rng(generator).integers(from_, to, self.shape)
    self._version[0] += 1
    return self


def _exponential_(self, lambd=1.0, *, generator=None):
    self._data[...] = backend.rng(generator).exponential(1.0 / lambd, self.shape)
    self._version[0] += 1
    return self


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.bernoulli_ = _bernoulli_
Tensor.random_ = _random_
Tensor.exponential_ = _exponential_
Tensor.bernoulli = lambda self, p=None, *, generator=None: C.bernoulli(self, p, generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: \
    C.multinomial(self, num_samples, replacement, generator=generator)


# ------------------------------------------------------------------ plain methods
for _name, _fn in {
    # elementwise
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul, "div": E.div,
    "divide": E.div, "true_divide": E.div, "neg": E.neg, "negative": E.neg, "pow": E.pow,
    "exp": E.exp, "log": E.log, "log1p": E.log1p, "sqrt": E.sqrt, "rsqrt": E.rsqrt, "abs": E.abs,
    "absolute": E.abs, "sign": E.sign, "sin": E.sin, "cos": E.cos, "tanh": E.tanh,
    "sigmoid": E.sigmoid, "relu": E.relu, "clamp": E.clamp, "clip": E.clamp, "maximum": E.maximum,
    "minimum": E.minimum, "square": E.square, "reciprocal": E.reciprocal, "exp2": E.exp2,
    "lerp": E.lerp,
    # reductions
    "sum": R.sum, "mean": R.mean, "prod": R.prod, "amax": R.amax, "amin": R.amin, "max": R.max,
    "min": R.min, "argmax": R.argmax, "argmin": R.argmin, "var": R.var, "std": R.std,
    "logsumexp": R.logsumexp, "norm": R.norm, "softmax": R.softmax, "log_softmax": R.log_softmax,
    "all": R.all, "any": R.any, "cumsum": R.cumsum,
    # shape
    "reshape": S.reshape, "view": S.view, "flatten": S.flatten, "unflatten": S.unflatten,
    "squeeze": S.squeeze, "unsqueeze": S.unsqueeze, "permute": S.permute,
    "transpose": S.transpose, "swapaxes": S.swapaxes, "swapdims": S.swapdims, "t": S.t,
    "movedim": S.movedim, "moveaxis": S.movedim, "expand": S.expand, "expand_as": S.expand_as,
    "broadcast_to": S.broadcast_to, "repeat": S.repeat, "repeat_interleave": S.repeat_interleave,
    "tile": S.tile, "split": S.split, "chunk": S.chunk, "unbind": S.unbind, "narrow": S.narrow,
    "flip": S.flip, "fliplr": S.fliplr, "flipud": S.flipud, "roll": S.roll, "gather": S.gather,
    "index_select": S.index_select, "masked_fill": S.masked_fill, "masked_select": S.masked_select,
    "tril": S.tril, "triu": S.triu, "diagonal": S.diagonal, "trace": S.trace,
    "take_along_dim": S.take_along_dim, "tensor_split": S.tensor_split, "scatter": S.scatter,
    "scatter_add": S.scatter_add,
    # linear algebra
    "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "mv": L.mv, "dot": L.dot, "outer": L.outer,
    # comparisons and friends
    "eq": K.eq, "ne": K.ne, "lt": K.lt, "le": K.le, "gt": K.gt, "ge": K.ge, "greater": K.gt,
    "greater_equal": K.ge, "less": K.lt, "less_equal": K.le, "not_equal": K.ne,
    "logical_and": K.logical_and, "logical_or": K.logical_or, "logical_xor": K.logical_xor,
    "logical_not": K.logical_not, "isnan": K.isnan, "isinf": K.isinf, "isfinite": K.isfinite,
    "isclose": K.isclose, "allclose": K.allclose, "equal": K.equal, "floor": K.floor,
    "ceil": K.ceil, "round": K.round, "trunc": K.trunc, "frac": K.frac, "remainder": K.remainder,
    "fmod": K.fmod, "nonzero": K.nonzero, "count_nonzero": K.count_nonzero, "argsort": K.argsort,
    "sort": K.sort, "topk": K.topk, "unique": K.unique, "bincount": K.bincount,
    "floor_divide": K.floor_divide,
}.items():
    # plain functions bind as methods: t.sum(dim) calls R.sum(t, dim) with no extra frame
    setattr(Tensor, _name, _fn)


def _view_as(self, other):
    return S.view(self, other.shape)


def _reshape_as(self, other):
    return S.reshape(self, other.shape)


Tensor.view_as = _view_as
Tensor.reshape_as = _reshape_as
Tensor.clamp_min = lambda self, m: E.clamp(self, min=m)
Tensor.clamp_max = lambda self, m: E.clamp(self, max=m)
Tensor.softmax = lambda self, dim, dtype=None: R.softmax(self, dim, dtype)
Tensor.log_softmax = lambda self, dim, dtype=None: R.log_softmax(self, dim, dtype)
Tensor.nan_to_num = lambda self, nan=0.0, posinf=None, neginf=None: Tensor._make(
    np.nan_to_num(self._data, nan=nan, posinf=posinf, neginf=neginf), None)
