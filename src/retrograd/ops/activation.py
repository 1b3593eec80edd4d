"""Activation functions and the error function, as fused ops.

Each activation is one :class:`Node`: the forward on NumPy arrays (written in a
numerically stable form), the backward as the local derivative times the upstream
gradient. The derivatives are written with operators, NumPy ufuncs and the small
helpers below (``_where``, ``_sigmoid``, ``_softplus``, ...), which take arrays *or*
Tensors: a plain backward runs them on arrays, ``create_graph=True`` runs the same
formula on Tensors and so records it, which gives second derivatives for free.

The error function is computed with W. J. Cody's rational Chebyshev approximations
(Math. Comp. 23, 1969), accurate to about 1e-16 relative in float64, in NumPy only.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.graph import Node, apply
from ..tensor import Tensor
from . import elementwise as E
from ._util import grad_like, promote, sum_to

SQRT1_2 = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_GELU_TANH_BETA = math.sqrt(2.0 / math.pi)
_GELU_TANH_KAPPA = 0.044715


# ------------------------------------------------------------------ array-or-Tensor helpers
# Backward formulas call these so that the same line works on arrays (plain backward)
# and on Tensors (create_graph=True), where only differentiable ops may be used.

def _is_tensor(*xs):

    return any(isinstance(x, Tensor) for x in xs)


def _where(cond, a, b):
    if _is_tensor(cond, a, b):
        return E.where(cond, a, b)
    return np.where(cond, a, b)


def _sigmoid_array(x):
    # exp of a non-positive number only: no overflow in either tail
    e = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + e)
    return np.where(x >= 0, r, e * r)


def _sigmoid(x):
    if _is_tensor(x):
        return E.sigmoid(x)
    return _sigmoid_array(x)


def _softplus(x):
    """log(1 + exp(x)), stable for any x."""
    if _is_tensor(x):
        return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0)
    return np.logaddexp(0.0, x)


def _clip(x, lo, hi):
    if _is_tensor(x):
        return E.clamp(x, lo, hi)
    return np.clip(x, lo, hi)


def _min0(x):
    """min(x, 0) whose derivative is 1 at x == 0 (so exp(min(x, 0)) never overflows)."""
    if _is_tensor(x):
        return E.clamp(x, max=0.0)
    return np.minimum(x, 0.0)


def _erfc_any(x):
    if _is_tensor(x):
        return apply(Erfc(), x)
    return erfc_array(x)


# ------------------------------------------------------------------ the error function
# Cody's coefficients: erf on |x| <= 0.46875 (A/B), erfc on 0.46875 < |x| <= 4 (C/D),
# erfc as an asymptotic series in 1/x^2 beyond 4 (P/Q).
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_INV_SQRT_PI = 5.6418958354775628695e-1
_ERF_SMALL = 0.46875


def _exp_neg_square(y):
    """exp(-y*y) without the rounding error of forming y*y: split y = ysq + rest."""
    ysq = np.trunc(y * 16.0) / 16.0
    rest = (y - ysq) * (y + ysq)
    return np.exp(-ysq * ysq) * np.exp(-rest)


def _erf_small(x):
    z = x * x
    num = _A[4] * z
    den = z
    for i in range(3):
        num = (num + _A[i]) * z
        den = (den + _B[i]) * z
    return x * (num + _A[3]) / (den + _B[3])


def _erfc_large(y):
    """erfc(y) for y > 0.46875 (y a 1-D array)."""
    out = np.empty_like(y)
    mid = y <= 4.0
    ym = y[mid]
    num = _C[8] * ym
    den = ym
    for i in range(7):
        num = (num + _C[i]) * ym
        den = (den + _D[i]) * ym
    out[mid] = (num + _C[7]) / (den + _D[7]) * _exp_neg_square(ym)
    tail = ~mid
    yt = np.minimum(y[tail], 27.5)  # erfc(27.5) underflows to 0; keeps y*y finite
    z = 1.0 / (yt * yt)
    num = _P[5] * z
    den = z
    for i in range(4):
        num = (num + _P[i]) * z
        den = (den + _Q[i]) * z
    r = z * (num + _P[4]) / (den + _Q[4])
    r = (_INV_SQRT_PI - r) / yt * _exp_neg_square(yt)
    out[tail] = r
    return out


def _float_input(x, op):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        if x.dtype.kind in "biu":

            return x.astype(backend.get_default_dtype())
        raise TypeError(f"{op}: expected a real floating-point tensor, got dtype {x.dtype}")
    return x


def erf_array(x):
    """The error function of a NumPy array, in the array's floating dtype."""
    x = _float_input(x, "erf")
    if x.dtype.itemsize < 4:  # float16 would overflow inside the rational functions
        return erf_array(x.astype(np.float32)).astype(x.dtype)
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    small = np.abs(flat) <= _ERF_SMALL
    out[small] = _erf_small(flat[small])
    big = ~small
    xb = flat[big]
    ec = _erfc_large(np.abs(xb))
    out[big] = np.copysign((0.5 - ec) + 0.5, xb)
    return out.reshape(x.shape)


def erfc_array(x):
    """The complementary error function ``1 - erf(x)`` of a NumPy array, without cancellation."""
    x = _float_input(x, "erfc")
    if x.dtype.itemsize < 4:
        return erfc_array(x.astype(np.float32)).astype(x.dtype)
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    small = np.abs(flat) <= _ERF_SMALL
    out[small] = 1.0 - _erf_small(flat[small])
    big = ~small
    xb = flat[big]
    ec = _erfc_large(np.abs(xb))
    out[big] = np.where(xb < 0, 2.0 - ec, ec)
    return out.reshape(x.shape)


class Erf(Node):
    """The error function; d/dx erf(x) = 2/sqrt(pi) exp(-x^2)."""

    def forward(self, a):
        return erf_array(a)

    def backward(self, g, a):
        return g * (TWO_OVER_SQRT_PI * np.exp(-(a * a)))


class Erfc(Node):
    """The complementary error function 1 - erf(x), computed without cancellation."""

    def forward(self, a):
        return erfc_array(a)

    def backward(self, g, a):
        return g * (-TWO_OVER_SQRT_PI * np.exp(-(a * a)))


class Logit(Node):
    """``log(p / (1 - p))``, with ``p`` first clamped to ``[eps, 1 - eps]`` when eps is given."""

    def __init__(self, eps):
        self.eps = eps

    def forward(self, a):
        if self.eps is not None:
            a = np.clip(a, self.eps, 1.0 - self.eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a / (1.0 - a))

    def backward(self, g, a):
        if self.eps is None:
            return g / (a * (1.0 - a))
        lo, hi = self.eps, 1.0 - self.eps
        inside = (a >= lo) & (a <= hi)
        safe = _where(inside, a, 0.5)  # outside the clamp the gradient is 0, not 0/0
        return _where(inside, g / (safe * (1.0 - safe)), 0.0)


class XLogY(Node):
    """``x * log(y)``, defined as 0 where ``x == 0`` (unless y is NaN)."""

    def forward(self, x, y):
        x, y = promote(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), 0.0, r).astype(r.dtype, copy=False)

    def backward(self, g, x, y):
        gx = gy = None
        if self.needs[0]:
            # xlogy(g, y), except 0 where x == 0 and y <= 0 (PyTorch's convention)
            zero = ((x == 0) & (y <= 0)) | (g == 0)
            safe_y = _where(zero, 1.0, y)
            gx = grad_like(_where(zero, 0.0, g * np.log(safe_y)), x)
        if self.needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = grad_like(g * x / y, y)
        return gx, gy


def erf(input, *, out=None):
    r"""The error function :math:`\mathrm{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2}\,dt`.

    Differentiable (:math:`\frac{d}{dx}\mathrm{erf}(x) = \frac{2}{\sqrt\pi}e^{-x^2}`), to any order.

    Example::

        >>> retrograd.special.erf(retrograd.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8427])
    """
    return E._out(apply(Erf(), _as_tensor(input)), out)


def erfc(input, *, out=None):
    r"""The complementary error function :math:`1 - \mathrm{erf}(x)`, accurate in the far tail."""
    return E._out(apply(Erfc(), _as_tensor(input)), out)


def logit(input, eps=None, *, out=None):
    r"""The log-odds :math:`\log(p / (1 - p))`; with ``eps``, ``p`` is first clamped to
    ``[eps, 1 - eps]``."""
    return E._out(apply(Logit(eps), _as_tensor(input)), out)


def xlogy(input, other, *, out=None):
    r"""``input * log(other)``, with the convention ``0 * log(y) = 0`` (y not NaN)."""
    return E._out(apply(XLogY(), input, other), out)


def _as_tensor(x):

    return x if isinstance(x, Tensor) else Tensor(x)


# ------------------------------------------------------------------ piecewise-linear family

class LeakyRelu(Node):
    """``x`` where positive, ``negative_slope * x`` elsewhere (slope used at 0, as PyTorch)."""

    def __init__(self, negative_slope):
        self.slope = negative_slope

    def forward(self, a):
        return np.where(a > 0, a, a * self.slope)

    def backward(self, g, a):
        return _where(a > 0, g, g * self.slope)


class Hardtanh(Node):
    """Clamp to ``[min_val, max_val]``; like PyTorch the gradient is 0 *at* the bounds too."""

    def __init__(self, min_val, max_val):
        self.lo, self.hi = min_val, max_val

    def forward(self, a):
        return np.clip(a, self.lo, self.hi).astype(a.dtype, copy=False)

    def backward(self, g, a):
        return g * ((a > self.lo) & (a < self.hi))


class Threshold(Node):
    """``value`` where ``x <= threshold``, else ``x``."""

    def __init__(self, threshold, value):
        self.threshold, self.value = threshold, value

    # written as PyTorch does (x <= threshold ? value : x), so NaN passes through
    def forward(self, a):
        return np.where(a <= self.threshold, self.value, a).astype(a.dtype, copy=False)

    def backward(self, g, a):
        return _where(a <= self.threshold, 0.0, g)


class Hardshrink(Node):
    """0 inside ``[-lambd, lambd]``, ``x`` outside."""

    def __init__(self, lambd):
        self.lambd = lambd

    def forward(self, a):
        return np.where((a >= -self.lambd) & (a <= self.lambd), 0.0, a).astype(a.dtype, copy=False)

    def backward(self, g, a):
        return g * ((a < -self.lambd) | (a > self.lambd))


class Softshrink(Node):
    """0 inside ``[-lambd, lambd]``, ``x`` moved towards 0 by ``lambd`` outside."""

    def __init__(self, lambd):
        self.lambd = lambd

    def forward(self, a):
        lam = self.lambd
        r = np.where((a >= -lam) & (a <= lam), 0.0, np.where(a > 0, a - lam, a + lam))
        return r.astype(a.dtype, copy=False)

    def backward(self, g, a):
        return g * ((a < -self.lambd) | (a > self.lambd))


class Hardsigmoid(Node):
    """``clip(x + 3, 0, 6) / 6``; gradient 1/6 strictly inside (-3, 3)."""

    def forward(self, a):
        return np.clip(a + 3.0, 0.0, 6.0) / 6.0

    def backward(self, g, a):
        return g * ((a > -3.0) & (a < 3.0)) / 6.0


class Hardswish(Node):
    """``x * clip(x + 3, 0, 6) / 6``; gradient 0 up to -3, ``x/3 + 1/2`` inside, 1 from 3."""

    def forward(self, a):
        return a * np.clip(a + 3.0, 0.0, 6.0) / 6.0

    def backward(self, g, a):
        inner = g * (a / 3.0 + 0.5)
        return _where(a <= -3.0, 0.0, _where(a < 3.0, inner, g))


class PRelu(Node):
    """``x`` where positive, ``weight * x`` elsewhere; one weight per channel (dim 1)."""

    def forward(self, x, w):
        x, w = promote(x, w)
        self.w_shape = w.shape
        self.wb_shape = (1, w.size) + (1,) * (x.ndim - 2) if x.ndim >= 2 and w.size != 1 \
            else (1,) * x.ndim
        return np.where(x > 0, x, w.reshape(self.wb_shape) * x)

    def backward(self, g, x, w):
        pos = x > 0
        gx = gw = None
        if self.needs[0]:
            gx = _where(pos, g, g * w.reshape(self.wb_shape))
        if self.needs[1]:
            gw = sum_to(_where(pos, 0.0, g * x), self.wb_shape).reshape(self.w_shape)
        return gx, gw


# ------------------------------------------------------------------ smooth activations

class Elu(Node):
    """ELU, SELU and CELU in one: ``scale * x`` for x > 0, else
    ``scale * alpha * (exp(x * input_scale) - 1)``."""

    def __init__(self, alpha, scale=1.0, input_scale=1.0):
        self.alpha, self.scale, self.input_scale = alpha, scale, input_scale

    def forward(self, a):
        neg = np.expm1(np.minimum(a, 0.0) * self.input_scale) * (self.alpha * self.scale)
        return np.where(a > 0, a * self.scale, neg)

    def backward(self, g, a):
        d_neg = np.exp(_min0(a) * self.input_scale) * (self.alpha * self.scale * self.input_scale)
        return _where(a > 0, g * self.scale, g * d_neg)


class Gelu(Node):
    """``x * Phi(x)`` with the normal CDF Phi exact (erf) or the tanh approximation."""

    def __init__(self, approximate="none"):
        self.approximate = approximate

    def forward(self, a):
        if self.approximate == "tanh":
            inner = _GELU_TANH_BETA * (a + _GELU_TANH_KAPPA * a * a * a)
            return 0.5 * a * (1.0 + np.tanh(inner))
        # Phi(x) = erfc(-x / sqrt 2) / 2 keeps its accuracy in the left tail
        return a * (0.5 * erfc_array(-a * SQRT1_2))

    def backward(self, g, a):
        if self.approximate == "tanh":
            a2 = a * a
            t = np.tanh(_GELU_TANH_BETA * (a + _GELU_TANH_KAPPA * a2 * a))
            d_inner = _GELU_TANH_BETA * (1.0 + 3.0 * _GELU_TANH_KAPPA * a2)
            return g * (0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * d_inner)
        cdf = 0.5 * _erfc_any(-a * SQRT1_2)
        pdf = INV_SQRT_2PI * np.exp(-0.5 * (a * a))
        return g * (cdf + a * pdf)


class Silu(Node):
    """``x * sigmoid(x)``; derivative ``s (1 + x (1 - s))``."""

    def forward(self, a):
        return a * _sigmoid_array(a)

    def backward(self, g, a):
        s = _sigmoid(a)
        return g * (s * (1.0 + a * (1.0 - s)))


class Mish(Node):
    """``x * tanh(softplus(x))``; derivative ``t + x sigmoid(x) (1 - t^2)``."""

    def forward(self, a):
        return a * np.tanh(np.logaddexp(0.0, a))

    def backward(self, g, a):
        t = np.tanh(_softplus(a))
        return g * (t + a * _sigmoid(a) * (1.0 - t * t))


class Softplus(Node):
    """``log(1 + exp(beta x)) / beta``, reverting to ``x`` where ``beta x > threshold``."""

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def forward(self, a):
        z = a * self.beta
        return np.where(z > self.threshold, a, np.logaddexp(0.0, z) / self.beta)

    def backward(self, g, a):
        z = a * self.beta
        return _where(z > self.threshold, g, g * _sigmoid(z))


class LogSigmoid(Node):
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any x."""

    def forward(self, a):
        return -np.logaddexp(0.0, -a)

    def backward(self, g, a):
        return g * _sigmoid(-a)


class Softsign(Node):
    """``x / (1 + |x|)``; derivative ``1 / (1 + |x|)^2``."""

    def forward(self, a):
        return a / (1.0 + np.abs(a))

    def backward(self, g, a):
        d = 1.0 + np.abs(a)
        return g / (d * d)


class Tanhshrink(Node):
    """``x - tanh(x)``; derivative ``tanh(x)^2``."""

    def forward(self, a):
        return a - np.tanh(a)

    def backward(self, g, a):
        t = np.tanh(a)
        return g * (t * t)


# ------------------------------------------------------------------ function forms
# (the torch-style wrappers with inplace=... live in nn.functional)

def leaky_relu(input, negative_slope=0.01):
    """``max(0, x) + negative_slope * min(0, x)``."""
    return apply(LeakyRelu(negative_slope), input)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    """Clamp to ``[min_val, max_val]`` (zero gradient outside and at the bounds)."""
    return apply(Hardtanh(min_val, max_val), input)


def threshold(input, threshold, value):
    """``x`` where ``x > threshold``, else ``value``."""
    return apply(Threshold(threshold, value), input)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return apply(Hardshrink(lambd), input)


def softshrink(input, lambd=0.5):
    """Shrink towards zero by ``lambd``: ``x - lambd`` above, ``x + lambd`` below, else 0."""
    return apply(Softshrink(lambd), input)


def hardsigmoid(input):
    """``relu6(x + 3) / 6``."""
    return apply(Hardsigmoid(), input)


def hardswish(input):
    """``x * relu6(x + 3) / 6``."""
    return apply(Hardswish(), input)


def prelu(input, weight):
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 or C (= dim 1) entries."""
    return apply(PRelu(), input, weight)


def elu(input, alpha=1.0, scale=1.0, input_scale=1.0):
    """``scale * x`` for x > 0, else ``scale * alpha * (exp(input_scale * x) - 1)``."""
    return apply(Elu(alpha, scale, input_scale), input)


def gelu(input, approximate="none"):
    """``x * Phi(x)`` (Phi the standard normal CDF), or its tanh approximation."""
    return apply(Gelu(approximate), input)


def silu(input):
    """``x * sigmoid(x)`` (also called swish)."""
    return apply(Silu(), input)


def mish(input):
    """``x * tanh(softplus(x))``."""
    return apply(Mish(), input)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``; linear where ``beta * x > threshold``."""
    return apply(Softplus(beta, threshold), input)


def logsigmoid(input):
    """``log(1 / (1 + exp(-x)))``, computed stably."""
    return apply(LogSigmoid(), input)


def softsign(input):
    """``x / (1 + |x|)``."""
    return apply(Softsign(), input)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return apply(Tanhshrink(), input)
