"""Per-sample normalization layers: LayerNorm, GroupNorm, RMSNorm."""

from __future__ import annotations

import numbers

from ... import creation
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm"]


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class LayerNorm(Module):
    r"""Layer normalization over the last dimensions of the input.

    Each slice of shape ``normalized_shape`` is normalised by its own mean and biased
    variance, then scaled and shifted elementwise:
    :math:`y = \frac{x - E[x]}{\sqrt{Var[x] + \epsilon}} * \gamma + \beta`.

    Args:
        normalized_shape: the trailing shape to normalise over (an int or a tuple).
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of shape
            ``normalized_shape`` (default True).
        bias: learn the bias too (default True; only with ``elementwise_affine``).

    Shape:
        input ``(*, *normalized_shape)`` → output of the same shape.

    Example::

        >>> ln = nn.LayerNorm(64)
        >>> ln(retrograd.randn(8, 10, 64)).shape
        retrograd.Size([8, 10, 64])
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty(*self.normalized_shape, dtype=dtype,
                                                   device=device))
            if bias:
                self.bias = Parameter(creation.empty(*self.normalized_shape, dtype=dtype,
                                                     device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones, bias to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    r"""Group normalization: the ``num_channels`` channels are split into ``num_groups``
    groups, each normalised (per sample) over its channels and spatial positions, then
    scaled and shifted per channel.

    Args:
        num_groups: the number of groups; must divide ``num_channels``.
        num_channels: the number of channels ``C``.
        eps: added to the variance (default 1e-5).
        affine: learn per-channel ``weight`` (ones) and ``bias`` (zeros) (default True).
        bias: learn the bias too (default True; only with ``affine``).

    Shape:
        input ``(N, C, *)`` → output of the same shape.

    Example::

        >>> gn = nn.GroupNorm(4, 32)
        >>> gn(retrograd.randn(2, 32, 8, 8)).shape
        retrograd.Size([2, 32, 8, 8])
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(creation.empty(num_channels, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(creation.empty(num_channels, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones, bias to zeros."""
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise RuntimeError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected "
                               f"input of shape (N, {self.num_channels}, *), got "
                               f"{tuple(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    r"""Root-mean-square normalization over the last dimensions:
    :math:`y = \frac{x}{\sqrt{\mathrm{mean}(x^2) + \epsilon}} * \gamma`.

    Args:
        normalized_shape: the trailing shape to normalise over (an int or a tuple).
        eps: added to the mean square; None uses the dtype's machine epsilon.
        elementwise_affine: learn ``weight`` (ones) of shape ``normalized_shape``.

    Shape:
        input ``(*, *normalized_shape)`` → output of the same shape.
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty(*self.normalized_shape, dtype=dtype,
                                                   device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
