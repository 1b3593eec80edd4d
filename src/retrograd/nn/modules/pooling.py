"""Pooling layers: max, average and adaptive pooling over 1-D and 2-D inputs."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


def _check_input(layer, input, nd):
    """Name the layer and the expected shape when the input has the wrong rank."""
    shape = tuple(getattr(input, "shape", ()))
    if len(shape) in (nd + 1, nd + 2):
        return
    sp = ("L",) if nd == 1 else ("H", "W")
    raise RuntimeError(
        f"{type(layer).__name__}({layer.extra_repr()}): expected input of shape "
        f"({', '.join(('N', 'C') + sp)}) or ({', '.join(('C',) + sp)}), got {shape}"
        + (". Add the missing dimensions, e.g. x.unsqueeze(0)" if len(shape) < nd + 1 else ""))


def _single(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    r"""1-D max pooling: the maximum of each window of ``kernel_size`` positions.

    Args:
        kernel_size: window size.
        stride: window step (default: ``kernel_size``).
        padding: implicit ``-inf`` padding on both sides (at most half the kernel).
        dilation: spacing between window elements.
        return_indices: also return the positions of the maxima.
        ceil_mode: round the output length up instead of down.

    Shape:
        ``(N, C, L)`` or ``(C, L)`` → ``(N, C, L_out)``,
        ``L_out = floor((L + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``.
    """

    def forward(self, input):
        _check_input(self, input, 1)
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    r"""2-D max pooling: the maximum of each ``kernel_size`` window.

    Args:
        kernel_size: window size, int or ``(kH, kW)``.
        stride: window step (default: ``kernel_size``).
        padding: implicit ``-inf`` padding on both sides (at most half the kernel).
        dilation: spacing between window elements.
        return_indices: also return the flat index (in each ``H*W`` plane) of the maxima.
        ceil_mode: round the output size up instead of down.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)``,
        ``H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1``.

    The gradient goes to the first maximum of each window, as in PyTorch.

    Example::

        >>> nn.MaxPool2d(2)(retrograd.randn(8, 6, 28, 28)).shape
        retrograd.Size([8, 6, 14, 14])
    """

    def forward(self, input):
        _check_input(self, input, 2)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    r"""1-D average pooling: the mean of each window of ``kernel_size`` positions.

    Args:
        kernel_size: window size.
        stride: window step (default: ``kernel_size``).
        padding: implicit zero padding on both sides (at most half the kernel).
        ceil_mode: round the output length up instead of down.
        count_include_pad: count the zero padding in the divisor (default True).

    Shape:
        ``(N, C, L)`` or ``(C, L)`` → ``(N, C, L_out)``,
        ``L_out = floor((L + 2*padding - kernel_size) / stride) + 1``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        _check_input(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    r"""2-D average pooling: the mean of each ``kernel_size`` window.

    Args:
        kernel_size: window size, int or ``(kH, kW)``.
        stride: window step (default: ``kernel_size``).
        padding: implicit zero padding on both sides (at most half the kernel).
        ceil_mode: round the output size up instead of down.
        count_include_pad: count the zero padding in the divisor (default True).
        divisor_override: divide every window sum by this number instead.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)``,
        ``H_out = floor((H + 2*pH - kH) / sH) + 1``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        _check_input(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    r"""1-D average pooling to ``output_size`` positions, whatever the input length.

    Shape:
        ``(N, C, L)`` or ``(C, L)`` → ``(N, C, output_size)``.
    """

    def forward(self, input):
        _check_input(self, input, 1)
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    r"""2-D average pooling to a fixed ``output_size``, whatever the input size.

    Args:
        output_size: ``(oH, oW)`` or one int for both; ``None`` keeps that input size.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, oH, oW)``.

    Example::

        >>> nn.AdaptiveAvgPool2d(1)(retrograd.randn(2, 512, 7, 7)).shape
        retrograd.Size([2, 512, 1, 1])
    """

    def forward(self, input):
        _check_input(self, input, 2)
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    r"""1-D max pooling to ``output_size`` positions, whatever the input length.

    Args:
        output_size: the output length.
        return_indices: also return the positions of the maxima.
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        _check_input(self, input, 1)
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptivePool):
    r"""2-D max pooling to a fixed ``output_size``, whatever the input size.

    Args:
        output_size: ``(oH, oW)`` or one int for both; ``None`` keeps that input size.
        return_indices: also return the flat index (in each ``H*W`` plane) of the maxima.
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        _check_input(self, input, 2)
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
