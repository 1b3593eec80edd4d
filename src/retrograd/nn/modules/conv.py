"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d."""

from __future__ import annotations

import math

from ... import creation
from ...ops import shape as S
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


def _ntuple(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


_SPATIAL = {1: ("L",), 2: ("H", "W")}


class _ConvNd(Module):
    """Shared parameters, initialisation, checks and repr of the convolution layers."""

    _nd = 2
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        n = self._nd
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups (in_channels="
                             f"{in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups (out_channels="
                             f"{out_channels}, groups={groups})")
        kernel_size, stride = _ntuple(kernel_size, n), _ntuple(stride, n)
        dilation, output_padding = _ntuple(dilation, n), _ntuple(output_padding, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, n)
        modes = ("zeros", "reflect", "replicate", "circular")
        if padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {set(modes)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.transposed, self.output_padding = dilation, transposed, output_padding
        self.groups, self.padding_mode = groups, padding_mode
        # F.pad's order: last dimension first, (left, right) for each
        if isinstance(padding, str):
            rev = [0, 0] * n
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(n - 1, -1, -1)):
                    total = d * (k - 1)
                    rev[2 * i], rev[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = rev
        else:
            self._reversed_padding_repeated_twice = tuple(p for p in reversed(padding)
                                                          for _ in range(2))
        if transposed:
            shape = (in_channels, out_channels // groups) + kernel_size
        else:
            shape = (out_channels, in_channels // groups) + kernel_size
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight: kaiming_uniform_(a=√5); bias: U(-1/√fan_in, 1/√fan_in) — PyTorch's defaults."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def _check_input(self, input):
        """A clear error, naming this layer and the shape it expects, before any work."""
        n, C = self._nd, self.in_channels
        shape = tuple(getattr(input, "shape", ()))
        if len(shape) in (n + 1, n + 2) and shape[-n - 1] == C:
            return
        sp = _SPATIAL[n]
        want = (f"({', '.join(('N', str(C)) + sp)}) or ({', '.join((str(C),) + sp)})")
        msg = (f"{type(self).__name__}({self.extra_repr()}): expected input of shape {want}, got "
               f"{shape}.")
        if len(shape) == n + 2 and shape[-1] == C and n == 2:
            msg += " The input looks channels-last (N, H, W, C): use x.permute(0, 3, 1, 2)."
        elif len(shape) < n + 1:
            msg += (f" Add the missing dimensions, e.g. x.view(N, {C}, "
                    + ", ".join(sp) + ")" + (" for flat images" if n == 2 else "") + ".")
        elif len(shape) in (n + 1, n + 2):
            msg += (f" The input has {shape[-n - 1]} channels but this layer was built with "
                    f"in_channels={C}.")
        raise RuntimeError(msg)


class Conv1d(_ConvNd):
    r"""1-D convolution over an input signal of several planes.

    Args:
        in_channels: channels of the input.
        out_channels: channels produced.
        kernel_size: size of the kernel.
        stride: step of the kernel (default 1).
        padding: int, ``'valid'`` or ``'same'`` (default 0).
        dilation: spacing between kernel elements (default 1).
        groups: blocked connections from input to output channels (default 1).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape:
        input ``(N, C_in, L)`` or ``(C_in, L)`` → output ``(N, C_out, L_out)`` or
        ``(C_out, L_out)``, ``L_out = floor((L + 2*padding - dilation*(k - 1) - 1) / stride) + 1``.

    Weight ``(C_out, C_in/groups, k)`` and bias start as in PyTorch
    (``kaiming_uniform_(a=√5)``, U(-1/√fan_in, 1/√fan_in)).
    """

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False,
                         0, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            input = S.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv1d(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return F.conv1d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)


class Conv2d(_ConvNd):
    r"""2-D convolution over an input image of several planes.

    Args:
        in_channels: channels of the input image.
        out_channels: channels produced (number of filters).
        kernel_size: int or ``(kH, kW)``.
        stride: int or ``(sH, sW)`` (default 1).
        padding: int, ``(pH, pW)``, ``'valid'`` or ``'same'`` (default 0).
        dilation: spacing between kernel elements (default 1).
        groups: blocked connections from input to output channels (default 1).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape:
        input ``(N, C_in, H, W)`` or ``(C_in, H, W)`` → output ``(N, C_out, H_out, W_out)``
        or ``(C_out, H_out, W_out)``, with
        ``H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1`` (likewise W).

    Weight ``(C_out, C_in/groups, kH, kW)`` and bias start as in PyTorch
    (``kaiming_uniform_(a=√5)``, U(-1/√fan_in, 1/√fan_in)).

    Example::

        >>> conv = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        >>> conv(retrograd.randn(32, 1, 28, 28)).shape
        retrograd.Size([32, 6, 28, 28])
    """

    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False,
                         0, groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            input = S.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv2d(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        self._check_input(input)
        return self._conv_forward(input, self.weight, self.bias)


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of ints, "
                             f"got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         transposed, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output exactly ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        n = self._nd
        output_size = tuple(int(v) for v in output_size)
        batched = input.ndim == n + 2
        lead = 2 if batched else 1
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have "
                             f"{n} or {lead + n} elements (got {len(output_size)})")
        spatial = tuple(input.shape[-n:])
        mins = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        maxs = [mins[d] + self.stride[d] - 1 for d in range(n)]
        for d in range(n):
            if not mins[d] <= output_size[d] <= maxs[d]:
                raise ValueError(f"requested an output size of {list(output_size)}, but valid "
                                 f"sizes range from {mins} to {maxs} (for an input of "
                                 f"{list(spatial)})")
        return tuple(output_size[d] - mins[d] for d in range(n))


class ConvTranspose1d(_ConvTransposeNd):
    r"""1-D transposed convolution: the gradient of :class:`Conv1d` with respect to its input.

    Args:
        in_channels, out_channels, kernel_size, stride, padding: as :class:`Conv1d`
            (``padding`` removes ``padding`` positions from each side of the output).
        output_padding: extra size on one side of the output (default 0).
        groups, bias, dilation: as :class:`Conv1d`.

    Shape:
        input ``(N, C_in, L)`` or ``(C_in, L)`` → output ``(N, C_out, L_out)``,
        ``L_out = (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``.

    Weight ``(C_in, C_out/groups, k)``.
    """

    _nd = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True,
                         output_padding, groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, op,
                                  self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    r"""2-D transposed convolution: the gradient of :class:`Conv2d` with respect to its input.

    Upsamples with a learned kernel (decoders, segmentation heads).

    Args:
        in_channels: channels of the input.
        out_channels: channels produced.
        kernel_size: int or ``(kH, kW)``.
        stride: int or pair (default 1).
        padding: ``dilation*(kernel_size - 1) - padding`` zeros are implicitly added to the input;
            equivalently ``padding`` rows/columns are removed from each side of the output.
        output_padding: extra size on the bottom/right of the output (default 0).
        groups: blocked connections from input to output channels (default 1).
        bias: learn an additive bias (default True).
        dilation: spacing between kernel elements (default 1).

    Shape:
        input ``(N, C_in, H, W)`` or ``(C_in, H, W)`` → output ``(N, C_out, H_out, W_out)``,
        ``H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + output_padding_H + 1``.
        ``forward(input, output_size)`` picks the output_padding giving ``output_size``.

    Weight ``(C_in, C_out/groups, kH, kW)``.

    Example::

        >>> up = nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
        >>> up(retrograd.randn(4, 16, 7, 7)).shape
        retrograd.Size([4, 8, 14, 14])
    """

    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True,
                         output_padding, groups, bias, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op,
                                  self.groups, self.dilation)
