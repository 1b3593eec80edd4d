"""Activation layers: thin modules over :mod:`retrograd.nn.functional` (reprs as in PyTorch)."""

from __future__ import annotations

import warnings

from ... import creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = [
    "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid",
    "Tanh", "Hardtanh", "Softplus", "Softsign", "Hardsigmoid", "Hardswish", "LogSigmoid",
    "Tanhshrink", "Threshold", "GLU", "Softmax", "LogSoftmax", "Softmin", "Softmax2d", "PReLU",
    "RReLU", "Hardshrink", "Softshrink",
]


def _inplace_suffix(inplace):
    return ", inplace=True" if inplace else ""


class _Inplace(Module):
    """An elementwise activation whose only option is ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    r"""Applies :math:`\max(0, x)` elementwise.

    Args:
        inplace: overwrite the input (default False).

    Shape:
        any shape → same shape.

    Example::

        >>> m = nn.ReLU()
        >>> m(retrograd.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)


class SELU(_Inplace):
    r"""Scaled ELU with the self-normalising constants (α ≈ 1.6733, scale ≈ 1.0507)."""

    def forward(self, input):
        return F.selu(input, self.inplace)


class SiLU(_Inplace):
    r"""Sigmoid linear unit (swish) :math:`x \sigma(x)`."""

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)


class Mish(_Inplace):
    r"""Mish :math:`x \tanh(\text{softplus}(x))`."""

    def forward(self, input):
        return F.mish(input, inplace=self.inplace)


class Hardsigmoid(Module):
    r"""Applies :math:`\text{relu6}(x + 3) / 6` elementwise."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)


class Hardswish(Module):
    r"""Applies :math:`x \cdot \text{relu6}(x + 3) / 6` elementwise."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardswish(input, self.inplace)


class LeakyReLU(Module):
    r""":math:`\max(0, x) + \text{negative\_slope} \cdot \min(0, x)`.

    Args:
        negative_slope: slope for negative inputs (default 0.01).
        inplace: overwrite the input.
    """

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"


class ELU(Module):
    r"""``x`` for x > 0, else :math:`\alpha (e^x - 1)`.

    Args:
        alpha: the negative saturation value (default 1.0).
        inplace: overwrite the input.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class CELU(ELU):
    r""":math:`\max(0, x) + \min(0, \alpha (e^{x/\alpha} - 1))`.

    Args:
        alpha: default 1.0 (must not be 0).
        inplace: overwrite the input.
    """

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    r"""Gaussian error linear unit :math:`x \Phi(x)`.

    Args:
        approximate: ``'none'`` (exact, through erf) or ``'tanh'``.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    r"""The logistic function :math:`1 / (1 + e^{-x})`."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent, elementwise."""

    def forward(self, input):
        return F.tanh(input)


class Softsign(Module):
    r""":math:`x / (1 + |x|)`."""

    def forward(self, input):
        return F.softsign(input)


class LogSigmoid(Module):
    r""":math:`\log \sigma(x)`, computed stably."""

    def forward(self, input):
        return F.logsigmoid(input)


class Tanhshrink(Module):
    r""":math:`x - \tanh(x)`."""

    def forward(self, input):
        return F.tanhshrink(input)


class Hardtanh(Module):
    r"""Clamp to ``[min_val, max_val]`` (zero gradient at and beyond the bounds).

    Args:
        min_val: default -1.
        max_val: default 1.
        inplace: overwrite the input.
        min_value, max_value: deprecated names of ``min_val`` and ``max_val``.
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if max_val <= min_val:
            # AssertionError, as PyTorch raises
            raise AssertionError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                                 f"({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"


class ReLU6(Hardtanh):
    r"""Applies :math:`\min(\max(0, x), 6)` elementwise (a :class:`Hardtanh` on [0, 6]).

    Args:
        inplace: overwrite the input.
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    r""":math:`\frac{1}{\beta}\log(1 + e^{\beta x})`; linear where :math:`\beta x` exceeds
    ``threshold``.

    Args:
        beta: default 1.0.
        threshold: default 20.0.
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Threshold(Module):
    r"""``x`` where ``x > threshold``, else ``value``.

    Args:
        threshold: the value to threshold at.
        value: the replacement value.
        inplace: overwrite the input.
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_suffix(self.inplace)}"


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0 (default ``lambd`` 0.5)."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """Shrink towards zero by ``lambd`` (default 0.5); 0 inside ``[-lambd, lambd]``."""

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class RReLU(Module):
    r"""Randomized leaky ReLU: slopes drawn from ``U(lower, upper)`` in training, their mean
    in evaluation.

    Args:
        lower: default 1/8.
        upper: default 1/3.
        inplace: overwrite the input.
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_suffix(self.inplace)}"


class GLU(Module):
    r"""Gated linear unit: halves ``a, b`` of the input along ``dim``, output :math:`a \sigma(b)`.

    Args:
        dim: the dimension to split (default -1).

    Shape:
        ``(*, 2N, *)`` → ``(*, N, *)``.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class _DimModule(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_DimModule):
    r"""Softmax along ``dim``: :math:`e^{x_i} / \sum_j e^{x_j}`, computed stably.

    Args:
        dim: the dimension whose slices sum to 1.

    Example::

        >>> nn.Softmax(dim=1)(retrograd.randn(2, 3)).sum(1)
        tensor([1.0000, 1.0000])
    """

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)


class LogSoftmax(_DimModule):
    r""":math:`\log(\text{softmax}(x))` along ``dim``, computed stably."""

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Softmin(_DimModule):
    r""":math:`\text{softmax}(-x)` along ``dim``."""

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)


class Softmax2d(Module):
    """Softmax over the channels of ``(N, C, H, W)`` or ``(C, H, W)`` input, at each location."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input of 3 or 4 dimensions ((C, H, W) or "
                             f"(N, C, H, W)), got shape {tuple(input.shape)}")
        return F.softmax(input, -3, _stacklevel=5)


class PReLU(Module):
    r""":math:`\max(0, x) + a \min(0, x)` with a learnable slope ``a``.

    Args:
        num_parameters: 1 (one shared slope) or the number of channels (dim 1 of the input).
        init: the slopes' initial value (default 0.25).

    Attributes:
        weight: the slopes, shape ``(num_parameters,)``.

    Example::

        >>> m = nn.PReLU(3)
        >>> m(retrograd.randn(2, 3, 4)).shape
        retrograd.Size([2, 3, 4])
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(creation.empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
