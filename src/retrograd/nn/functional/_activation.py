"""Activation functions: the stateless forms behind ``nn.ReLU``, ``nn.GELU`` and friends.

The math lives in :mod:`retrograd.ops.activation` (one fused op each); this file adds
PyTorch's signatures, argument checks and the ``inplace=True`` variants, which write
the result into the input's memory and keep the graph correct (PyTorch's rules: an
in-place op on a leaf that requires grad is an error).
"""

from __future__ import annotations

import numpy as np

from ... import backend
from ...ops import activation as A
from ...ops import elementwise as E
from ...ops import reduction as R
from ...ops import shape as S
from ...ops._util import normalize_dim

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "selu_",
    "celu", "celu_", "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_",
    "softplus", "softsign", "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink", "prelu",
    "rrelu", "rrelu_", "glu", "softmin", "threshold", "threshold_", "hardshrink", "softshrink",
    "normalize",
]


def _maybe_inplace(input, fn, inplace, name):
    """``fn(input)``, or the same result written into ``input`` when ``inplace``."""
    if inplace:
        return input._inplace(fn, op=name)
    return fn(input)


# ------------------------------------------------------------------ ReLU family

def relu(input, inplace=False):
    r"""Rectified linear unit :math:`\max(0, x)`, elementwise.

    Args:
        input: any shape.
        inplace: write the result into ``input`` (default False).

    Example::

        >>> F.relu(retrograd.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return _maybe_inplace(input, E.relu, inplace, "relu_")


def relu_(input):
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


def relu6(input, inplace=False):
    r""":math:`\min(\max(0, x), 6)`; the gradient is zero outside (0, 6), bounds included."""
    return _maybe_inplace(input, lambda x: A.hardtanh(x, 0.0, 6.0), inplace, "relu6_")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    r""":math:`\max(0, x) + \text{negative\_slope} \cdot \min(0, x)`.

    Args:
        input: any shape.
        negative_slope: slope for negative inputs (default 0.01).
        inplace: write the result into ``input``.
    """
    return _maybe_inplace(input, lambda x: A.leaky_relu(x, negative_slope), inplace,
                          "leaky_relu_")


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    r"""Clamp to ``[min_val, max_val]``; the gradient is 1 strictly inside, 0 elsewhere.

    Args:
        input: any shape.
        min_val: lower bound (default -1).
        max_val: upper bound (default 1).
        inplace: write the result into ``input``.
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val (got min_val={min_val}"
                         f", max_val={max_val})")
    return _maybe_inplace(input, lambda x: A.hardtanh(x, min_val, max_val), inplace, "hardtanh_")


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold(input, threshold, value, inplace=False):
    r"""``x`` where ``x > threshold``, else ``value``.

    Args:
        input: any shape.
        threshold: the value to threshold at.
        value: the value to replace with.
        inplace: write the result into ``input``.
    """
    thr = threshold
    return _maybe_inplace(input, lambda x: A.threshold(x, thr, value), inplace, "threshold_")


def threshold_(input, threshold, value):
    """In-place :func:`threshold`."""
    thr = threshold
    return _maybe_inplace(input, lambda x: A.threshold(x, thr, value), True, "threshold_")


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    r"""Randomized leaky ReLU: in training each non-positive element is scaled by a slope drawn
    from ``U(lower, upper)``; in evaluation the slope is ``(lower + upper) / 2``.

    Random draws go through ``retrograd.manual_seed``.
    """
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from ...tensor import Tensor

    x = input._data
    slopes = backend.rng().uniform(lower, upper, x.shape).astype(x.dtype, copy=False)
    noise = Tensor._make(np.where(x <= 0, slopes, np.ones((), x.dtype)), None)
    return _maybe_inplace(input, lambda t: E.mul(t, noise), inplace, "rrelu_")


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


def prelu(input, weight):
    r""":math:`\max(0, x) + \text{weight} \cdot \min(0, x)` with a learnable ``weight``.

    Args:
        input: ``(N, C, *)`` (or any shape when ``weight`` has one element).
        weight: one slope, or ``C`` slopes (one per channel, dim 1).
    """
    wn = int(np.size(weight._data)) if hasattr(weight, "_data") else int(np.size(weight))
    wdim = weight.ndim if hasattr(weight, "ndim") else np.ndim(weight)
    if wdim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {wdim}")
    if wn != 1:
        if input.ndim == 0:
            raise RuntimeError(f"prelu: Not allow zero-dim input tensor with {wn} weights")
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != wn:
            raise RuntimeError(
                f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {wn} and channel size = {channels} (input shape "
                f"{tuple(input.shape)}; the channels are dim 1).")
    return A.prelu(input, weight)


# ------------------------------------------------------------------ exponential family

def elu(input, alpha=1.0, inplace=False):
    r"""Exponential linear unit: ``x`` for x > 0, else :math:`\alpha (e^x - 1)`."""
    return _maybe_inplace(input, lambda x: A.elu(x, alpha), inplace, "elu_")


def elu_(input, alpha=1.0):
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    r"""Scaled ELU: :math:`\text{scale} \cdot \text{elu}(x, \alpha)` with PyTorch's constants
    (α ≈ 1.6733, scale ≈ 1.0507), which keep activations self-normalising."""
    return _maybe_inplace(input, lambda x: A.elu(x, A.SELU_ALPHA, A.SELU_SCALE), inplace, "selu_")


def selu_(input):
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    r"""Continuously differentiable ELU: :math:`\max(0,x) + \min(0, \alpha (e^{x/\alpha} - 1))`."""
    if alpha == 0:
        raise ValueError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    return _maybe_inplace(input, lambda x: A.elu(x, alpha, 1.0, 1.0 / alpha), inplace, "celu_")


def celu_(input, alpha=1.0):
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    r"""Gaussian error linear unit :math:`x \Phi(x)`.

    Args:
        input: any shape.
        approximate: ``'none'`` for the exact normal CDF (through erf), ``'tanh'`` for
            :math:`0.5 x (1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`.
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    return A.gelu(input, approximate)


def silu(input, inplace=False):
    r"""Sigmoid linear unit (swish) :math:`x \sigma(x)`."""
    return _maybe_inplace(input, A.silu, inplace, "silu_")


def mish(input, inplace=False):
    r"""Mish :math:`x \tanh(\text{softplus}(x))`."""
    return _maybe_inplace(input, A.mish, inplace, "mish_")


def softplus(input, beta=1, threshold=20):
    r""":math:`\frac{1}{\beta} \log(1 + e^{\beta x})`, reverting to ``x`` where
    :math:`\beta x > \text{threshold}`; finite for any input."""
    return A.softplus(input, beta, threshold)


def logsigmoid(input):
    r""":math:`\log \sigma(x) = -\text{softplus}(-x)`, finite for any input."""
    return A.logsigmoid(input)


def sigmoid(input):
    r"""The logistic function :math:`1 / (1 + e^{-x})`."""
    return E.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent, elementwise."""
    return E.tanh(input)


# ------------------------------------------------------------------ hard / shrink family

def hardsigmoid(input, inplace=False):
    r""":math:`\text{relu6}(x + 3) / 6`."""
    return _maybe_inplace(input, A.hardsigmoid, inplace, "hardsigmoid_")


def hardswish(input, inplace=False):
    r""":math:`x \cdot \text{relu6}(x + 3) / 6`."""
    return _maybe_inplace(input, A.hardswish, inplace, "hardswish_")


def softsign(input):
    r""":math:`x / (1 + |x|)`."""
    return A.softsign(input)


def tanhshrink(input):
    r""":math:`x - \tanh(x)`."""
    return A.tanhshrink(input)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return A.hardshrink(input, lambd)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    return A.softshrink(input, lambd)


# ------------------------------------------------------------------ along a dimension

def glu(input, dim=-1):
    r"""Gated linear unit: split ``input`` in halves ``a, b`` along ``dim``; return
    :math:`a \otimes \sigma(b)`.

    Shape:
        input ``(*, 2N, *)`` → output ``(*, N, *)``.
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = normalize_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size {n} "
                           f"(input shape {tuple(input.shape)})")
    a = S.narrow(input, d, 0, n // 2)
    b = S.narrow(input, d, n // 2, n // 2)
    return a * E.sigmoid(b)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    r""":math:`\text{softmax}(-x)` along ``dim``: weights that favour the smallest entries."""
    return R.softmax(-input, dim, dtype=dtype)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    r""":math:`x / \max(\|x\|_p, \epsilon)` along ``dim``.

    Args:
        input: any shape.
        p: the norm's exponent (default 2).
        dim: the dimension to normalise over (default 1).
        eps: lower bound of the norm, to avoid division by zero.
        out: optional output tensor.
    """
    denom = E.clamp(R.norm(input, p, dim, keepdim=True), min=eps)
    return E.div(input, denom, out=out)
