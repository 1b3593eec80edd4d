"""Convolution and pooling over NCHW arrays (1-D ops are the 2-D ops with height 1).

Convolution is a matrix product (im2col)
    A convolution slides a ``(C, KH, KW)`` kernel over the (zero-padded) input. Lay
    each window out as a column and a whole image becomes a matrix ``cols`` of shape
    ``(C*KH*KW, OH*OW)``; the convolution is then ``W.reshape(O, -1) @ cols``: one GEMM,
    the fastest thing NumPy does. The windows are read through a strided *view* of the
    input (``as_strided``: nothing is copied) and copied exactly once, into the layout
    the GEMM wants. With a batch, ``cols`` is ``(N, C*KH*KW, OH*OW)`` and the product
    lands directly in NCHW order. Groups split the channel axis: ``(G, O/G, C/G*KH*KW)``
    weights against ``(N, G, C/G*KH*KW, OH*OW)`` columns, still one ``matmul`` call.

The backward is the same picture read the other way
    For ``y = conv(x, w)``:

    * ``dL/dw = sum over n of g[n] @ cols[n].T``: one batched GEMM (``cols`` is kept
      from the forward pass when the weight needs a gradient);
    * ``dL/dx``: ``W.T @ g`` gives one column of gradient per window; *col2im* adds each
      column back onto the pixels its window covered. That sum runs over the
      ``KH*KW`` kernel offsets, never over data: for stride 1 it is a single
      ``sum`` over a strided view of the shifted gradient planes (see
      :func:`_input_grad_stride1`), otherwise one strided add per kernel offset.

Three nodes, closed under differentiation (so grad-of-grad works)
    * ``Conv``: ``y = conv(x, w)``; ``dx = convᵀ(g, w)``, ``dw = conv_w(x, g)``.
    * ``ConvTranspose``: ``x = convᵀ(y, w)``; ``dy = conv(g, w)``, ``dw = conv_w(g, y)``.
    * ``ConvWeight``: ``w = conv_w(x, gy)``; ``dx = convᵀ(gy, g)``, ``dgy = conv(x, g)``.

    All three share one :class:`ConvGeometry` (the shapes, strides, paddings of the
    forward convolution), so ``conv_transpose2d`` is simply the ``ConvTranspose`` node.

Pooling
    Max and average pooling reduce the ``KH*KW`` strided views of the padded input
    (``np.maximum`` / ``+`` of whole arrays; for ``MaxPool2d(2)`` these are the four
    quarter-views ``x[..., i::2, j::2]``). Max pooling's backward sends each gradient
    to the *first* maximum of its window (as PyTorch does), found again in the
    backward by comparing the views with the output. Adaptive pooling reuses these
    when the input divides evenly, and otherwise is built from differentiable
    primitives (matrix products with averaging matrices, ``gather``).
"""

from __future__ import annotations

import builtins
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node, apply
from ..tensor import Tensor

__all__ = [
    "ConvGeometry", "Conv", "ConvTranspose", "ConvWeight",
    "PoolGeometry", "MaxPool", "AvgPool",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
]


def _is_array(v):
    return v.__class__ is np.ndarray


# ============================================================================ geometry

class ConvGeometry:
    """Shapes of one 2-D convolution ``x (N, C, H, W) -> y (N, O, OH, OW)``.

    ``pad`` is ``((top, bottom), (left, right))``; bottom/right may be negative (the
    windows then stop short of the input's end: transposed convolutions with
    ``output_padding`` produce such inputs).
    """

    __slots__ = ("in_hw", "kernel", "stride", "dilation", "pad", "groups", "out_hw")

    def __init__(self, in_hw, kernel, stride, dilation, pad, groups):
        self.in_hw, self.kernel, self.stride = tuple(in_hw), tuple(kernel), tuple(stride)
        self.dilation, self.pad, self.groups = tuple(dilation), tuple(pad), groups
        self.out_hw = tuple(
            (lo + n + hi - d * (k - 1) - 1) // s + 1
            for n, k, s, d, (lo, hi) in zip(self.in_hw, self.kernel, self.stride, self.dilation,
                                            self.pad)
        )

    def __repr__(self):
        return (f"ConvGeometry(in_hw={self.in_hw}, kernel={self.kernel}, stride={self.stride}, "
                f"dilation={self.dilation}, pad={self.pad}, groups={self.groups}, "
                f"out_hw={self.out_hw})")


def _pad_input(x, geom):
    """``x`` zero-padded as the windows need it (``x`` itself when no padding is needed)."""
    (t, b), (l, r) = geom.pad
    if t == 0 and l == 0 and b <= 0 and r <= 0:
        return x
    H, W = x.shape[-2:]
    xp = np.zeros(x.shape[:-2] + (t + H + builtins.max(b, 0), l + W + builtins.max(r, 0)), x.dtype)
    xp[..., t:t + H, l:l + W] = x
    return xp


def _windows(xp, geom):
    """Every window of the padded input, as a read-only view ``(N, C, KH, KW, OH, OW)``."""
    N, C = xp.shape[:2]
    sN, sC, sH, sW = xp.strides
    (KH, KW), (OH, OW) = geom.kernel, geom.out_hw
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    return as_strided(xp, (N, C, KH, KW, OH, OW), (sN, sC, sH * dh, sW * dw, sH * sh, sW * sw),
                      writeable=False)


def im2col(x, geom):
    """The windows of ``x`` as GEMM columns: shape ``(N, C*KH*KW, OH*OW)``.

    A strided view gives every window without copying; one copy then lays them out
    contiguously (row ``c*KH*KW + kh*KW + kw``, column ``oh*OW + ow``). The copy goes
    into a recycled buffer (see :class:`_BufferPool`).
    """
    win = _windows(_pad_input(x, geom), geom)
    N, C, KH, KW, OH, OW = win.shape
    if win.flags.c_contiguous:  # a 1x1 convolution reads its input as is
        return win.reshape(N, C * KH * KW, OH * OW)
    cols = _POOL.take((N, C * KH * KW, OH * OW), x.dtype)
    np.copyto(cols.reshape(win.shape), win)
    return cols


class _BufferPool:
    """Recycles the big im2col buffers between training steps.

    A freed multi-megabyte array goes back to the operating system, and the next
    step's array of the same size is faulted in again page by page; at LeNet sizes
    that costs as much as the im2col copy itself (measured: ~2500 page faults per
    step at batch 128). A Conv node hands its columns back here once its backward has
    used them; the next forward of the same shape takes them instead of allocating.
    Only arrays that nothing else references are handed back, and the pool keeps at
    most ``limit`` bytes.
    """

    def __init__(self, limit=1 << 26):
        self.limit, self.free = limit, []

    def take(self, shape, dtype):
        for i, a in enumerate(self.free):
            if a.shape == shape and a.dtype == dtype:
                return self.free.pop(i)
        return np.empty(shape, dtype)

    def give(self, a):
        if a is None or a.base is not None or not a.flags.writeable:
            return  # a view (e.g. of a 1x1 convolution's input): not ours to recycle
        self.free.append(a)
        while sum(b.nbytes for b in self.free) > self.limit:
            self.free.pop(0)


_POOL = _BufferPool()


# Cache blocking for col2im: the per-window gradients are produced by a GEMM and
# consumed by the summation right after; handling the batch a block at a time keeps
# each block in cache between the two (measured 1.3-1.7x faster than one pass over the
# whole batch). Blocks hold about this many bytes: a few blocks for LeNet-sized
# layers; with large images a block may be a single image, but every iteration still
# moves at least this much data, so the Python overhead stays negligible.
_BLOCK_BYTES = 1 << 19


def _blocks(n, item_bytes):
    """Slices of the batch axis, each covering about ``_BLOCK_BYTES`` of intermediate data."""
    step = builtins.max(1, _BLOCK_BYTES // builtins.max(item_bytes, 1))
    return [slice(i, builtins.min(i + step, n)) for i in range(0, n, step)]


# ============================================================================ array kernels

def conv_forward(x, w, b, geom):
    """``y = conv(x, w) + b`` on arrays; returns ``(y, cols)`` (cols are kept for dL/dw)."""
    cols = im2col(x, geom)
    y = _gemm_cols(cols, w, geom)
    if b is not None:
        y += b.reshape(-1, 1, 1)
    return y, cols


def _gemm_cols(cols, w, geom):
    """The convolution's GEMM on ready columns: ``(O, C*KH*KW) @ (N, C*KH*KW, L)``."""
    N, CKK, L = cols.shape
    O, G = w.shape[0], geom.groups
    if G == 1:
        y = np.matmul(w.reshape(O, CKK), cols)
    else:  # one batched product over the groups
        y = np.matmul(w.reshape(G, O // G, CKK // G), cols.reshape(N, G, CKK // G, L))
    return y.reshape((N, O) + geom.out_hw)


def conv_weight_grad(x, g, geom, cols=None):
    """``dL/dw`` of ``y = conv(x, w)`` given ``g = dL/dy``: ``sum_n g[n] @ cols[n].T``."""
    if cols is None:
        cols = im2col(x, geom)
    N, CKK, L = cols.shape
    O, G = g.shape[1], geom.groups
    KH, KW = geom.kernel
    if G == 1:
        gw = np.matmul(g.reshape(N, O, L), cols.swapaxes(1, 2)).sum(axis=0)
    else:
        gw = np.matmul(g.reshape(N, G, O // G, L),
                       cols.reshape(N, G, CKK // G, L).swapaxes(2, 3)).sum(axis=0)
    return gw.reshape(O, CKK // (G * KH * KW), KH, KW)


def conv_input_grad(g, w, geom):
    """``dL/dx`` of ``y = conv(x, w)`` given ``g = dL/dy`` (a transposed convolution).

    ``W.T @ g`` gives the gradient of every window (GEMM); col2im then adds each kernel
    offset's share back onto the input positions it read.
    """
    if geom.stride == (1, 1):
        return _input_grad_stride1(g, w, geom)
    N, O = g.shape[:2]
    G = geom.groups
    Cg = w.shape[1]
    C = Cg * G
    (KH, KW), (OH, OW), (H, W) = geom.kernel, geom.out_hw, geom.in_hw
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    (t, _), (l, _) = geom.pad
    wT = w.reshape(G, O // G, Cg * KH * KW).swapaxes(1, 2)  # (G, C/G*KH*KW, O/G)
    gc = np.matmul(wT, g.reshape(N, G, O // G, OH * OW)).reshape(N, C, KH, KW, OH, OW)
    Hb = builtins.max(t + H, (OH - 1) * sh + dh * (KH - 1) + 1)
    Wb = builtins.max(l + W, (OW - 1) * sw + dw * (KW - 1) + 1)
    gxp = np.zeros((N, C, Hb, Wb), gc.dtype)
    for kh in range(KH):  # col2im: one strided add per kernel offset
        for kw in range(KW):
            gxp[:, :, kh * dh:kh * dh + (OH - 1) * sh + 1:sh,
                kw * dw:kw * dw + (OW - 1) * sw + 1:sw] += gc[:, :, kh, kw]
    if (Hb, Wb) != (H, W):
        gxp = gxp[:, :, t:t + H, l:l + W]
    return gxp


def _input_grad_stride1(g, w, geom):
    """col2im for stride 1, as one summation over a strided view.

    Flatten each padded input plane (``Hb`` rows of ``Wb``) and give ``g`` the same
    shape (zeros outside its ``OH x OW`` corner). Kernel offset ``(kh, kw)`` then moves
    a whole plane by ``s = kh*dh*Wb + kw*dw`` flat positions, so

        dx_flat[j] = sum over offsets of gc[offset][j - s]

    where ``gc[offset] = W[:, :, kh, kw].T @ g`` (one GEMM for all offsets). Because
    the last ``max(s)`` entries of every plane of ``gc`` are zero (rows below ``OH``,
    columns right of ``OW``), reading "before" a plane lands in zeros, and the shifted
    planes of every offset are a single ``as_strided`` view: ``dx = view.sum(offsets)``.
    """
    N, O = g.shape[:2]
    G = geom.groups
    Cg = w.shape[1]
    (KH, KW), (OH, OW), (H, W) = geom.kernel, geom.out_hw, geom.in_hw
    (dh, dw), ((t, _), (l, _)) = geom.dilation, geom.pad
    Hb = builtins.max(t + H, OH + dh * (KH - 1))
    Wb = builtins.max(l + W, OW + dw * (KW - 1))
    P = Hb * Wb
    CP = Cg * P
    # weight rows ordered (group, kh, kw, channel): gc[n, group, offset] is one flat plane run
    wk = w.reshape(G, O // G, Cg, KH * KW).transpose(0, 3, 2, 1).reshape(G, KH * KW * Cg, O // G)
    dtype = np.result_type(g.dtype, w.dtype)
    gx = np.empty((N, G * CP), dtype)
    blocks = _blocks(N, G * KH * KW * CP * g.itemsize)
    ge = np.zeros((blocks[0].stop if blocks else 0, O, Hb, Wb), g.dtype)
    it = gx.itemsize
    for s in blocks:
        n = s.stop - s.start
        ge[:n, :, :OH, :OW] = g[s]
        gc = np.matmul(wk, ge[:n].reshape(n, G, O // G, P))  # (n, G, KH*KW*Cg, P)
        view = as_strided(gc, (n, G, KH, KW, CP),
                          (G * KH * KW * CP * it, KH * KW * CP * it, (KW * CP - dh * Wb) * it,
                           (CP - dw) * it, it), writeable=False)
        np.sum(view, axis=(2, 3), out=gx[s].reshape(n, G, CP))
    gx = gx.reshape(N, G * Cg, Hb, Wb)
    if (Hb, Wb) != (H, W):
        gx = gx[:, :, t:t + H, l:l + W]
    return gx


# ============================================================================ nodes

class Conv(Node):
    """``y = conv(x, w) (+ b)``; ``x (N, C, H, W)``, ``w (O, C/groups, KH, KW)``."""

    @classmethod
    def name(cls):
        return "ConvolutionBackward0"  # PyTorch's grad_fn name

    def __init__(self, geom, keep_cols=False):
        self.geom = geom
        self.keep_cols = keep_cols
        self.cols = None

    def forward(self, x, w, b=None):
        y, cols = conv_forward(x, w, b, self.geom)
        if self.keep_cols:
            self.cols = cols  # reused by the weight gradient: saves a second im2col
        return y

    def backward(self, g, x, w, b=None):
        needs, geom = self.needs, self.geom
        cols, self.cols = self.cols, None
        gx = gw = gb = None
        if _is_array(g):
            if needs[0]:
                gx = conv_input_grad(g, w, geom)
            if needs[1]:
                gw = conv_weight_grad(x, g, geom, cols)
                _POOL.give(cols)
            if len(needs) > 2 and needs[2]:
                gb = g.sum(axis=(0, 2, 3))
        else:
            if needs[0]:
                gx = apply(ConvTranspose(geom), g, w)
            if needs[1]:
                gw = apply(ConvWeight(geom), x, g)
            if len(needs) > 2 and needs[2]:
                gb = g.sum(dim=(0, 2, 3))
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


class ConvTranspose(Node):
    """``x = convᵀ(y, w) (+ b)``: the adjoint of :class:`Conv` in its input.

    ``y (N, O, OH, OW)``, ``w (O, C/groups, KH, KW)`` (PyTorch's ``conv_transpose2d``
    weight layout), result ``(N, C, H, W)`` with ``H, W = geom.in_hw``.
    """

    @classmethod
    def name(cls):
        return "ConvolutionBackward0"

    def __init__(self, geom):
        self.geom = geom

    def forward(self, y, w, b=None):
        x = conv_input_grad(y, w, self.geom)
        if b is not None:
            x += b.reshape(-1, 1, 1)  # x lives in a fresh buffer: adding in place is safe
        return x

    def backward(self, g, y, w, b=None):
        needs, geom = self.needs, self.geom
        gy = gw = gb = None
        if _is_array(g):
            cols = im2col(g, geom) if needs[1] else None
            if needs[0]:
                if cols is None:
                    gy = conv_forward(g, w, None, geom)[0]
                else:
                    gy = _gemm_cols(cols, w, geom)
            if needs[1]:
                gw = conv_weight_grad(g, y, geom, cols)
            if len(needs) > 2 and needs[2]:
                gb = g.sum(axis=(0, 2, 3))
        else:
            if needs[0]:
                gy = apply(Conv(geom), g, w)
            if needs[1]:
                gw = apply(ConvWeight(geom), g, y)
            if len(needs) > 2 and needs[2]:
                gb = g.sum(dim=(0, 2, 3))
        return (gy, gw, gb) if len(needs) > 2 else (gy, gw)


class ConvWeight(Node):
    """``w = conv_w(x, gy)``: the weight gradient of a convolution, as a differentiable op.

    Only used when differentiating a convolution's backward (``create_graph=True``).
    """

    @classmethod
    def name(cls):
        return "ConvolutionBackwardBackward0"

    def __init__(self, geom):
        self.geom = geom

    def forward(self, x, gy):
        return conv_weight_grad(x, gy, self.geom)

    def backward(self, g, x, gy):
        needs, geom = self.needs, self.geom
        gx = ggy = None
        if _is_array(g):
            if needs[0]:
                gx = conv_input_grad(gy, g, geom)
            if needs[1]:
                ggy = conv_forward(x, g, None, geom)[0]
        else:
            if needs[0]:
                gx = apply(ConvTranspose(geom), gy, g)
            if needs[1]:
                ggy = apply(Conv(geom), x, g)
        return gx, ggy


# ============================================================================ argument checks

def _tensor(x, op):

    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x, None, False)
    raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def _tuple(v, n, name, op):
    """``v`` as an n-tuple of ints (an int or a 1-sequence is repeated)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    try:
        t = tuple(int(e) for e in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {name}={list(t)}")
    return t


def _check_float(t, what, op):
    if t.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point {what}, got dtype {t.dtype}; "
                           "convert it with .float()")


def _shape_str(names):
    return "(" + ", ".join(str(n) for n in names) + ")"


def _conv_input(input, nd, op):
    """Validate the input rank; returns (tensor, batched)."""
    input = _tensor(input, op)
    if input.ndim not in (nd + 1, nd + 2):
        sp = ("L",) if nd == 1 else ("H", "W")
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input "
            f"of size: {list(input.shape)}; expected shape {_shape_str(('N', 'C_in') + sp)} or "
            f"{_shape_str(('C_in',) + sp)}")
    return input, input.ndim == nd + 2


def _check_conv_weight(input, weight, bias, groups, nd, op, transposed=False):

    if not isinstance(weight, Tensor):
        weight = _tensor(weight, op)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-D weight, got weight of size "
                           f"{list(weight.shape)}")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported (groups={groups})")
    C = input.shape[1]
    if transposed:
        if C != weight.shape[0]:
            raise RuntimeError(
                f"{op}: given transposed=1, weight of size {list(weight.shape)}, expected input"
                f"{list(input.shape)} to have {weight.shape[0]} channels, but got {C} channels "
                "instead")
        if weight.shape[0] % groups:
            raise RuntimeError(f"{op}: the weight's first dimension ({weight.shape[0]}, "
                               f"in_channels) must be divisible by groups={groups}")
        out_ch = weight.shape[1] * groups
    else:
        if C != weight.shape[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got {C} "
                f"channels instead ({op})")
        if weight.shape[0] % groups:
            raise RuntimeError(f"{op}: out_channels ({weight.shape[0]}) must be divisible by "
                               f"groups={groups}")
        out_ch = weight.shape[0]
    _check_float(input, "input", op)
    if weight.dtype != input.dtype:
        raise RuntimeError(f"{op}: input type ({input.dtype}) and weight type ({weight.dtype}) "
                           "should be the same; convert the input (x.float()) or the model "
                           "(model.double())")
    if bias is not None:
        if not isinstance(bias, Tensor):
            bias = _tensor(bias, op)
        if bias.ndim != 1 or bias.shape[0] != out_ch:
            raise RuntimeError(f"{op}: given weight of size {list(weight.shape)}, expected bias "
                               f"to be 1-dimensional with {out_ch} elements, but got bias of size "
                               f"{list(bias.shape)} instead")
        if bias.dtype != input.dtype:
            raise RuntimeError(f"{op}: input type ({input.dtype}) and bias type ({bias.dtype}) "
                               "should be the same")
    return weight, bias


def _check_positive(vals, name, op):
    if builtins.any(v <= 0 for v in vals):
        raise RuntimeError(f"{op}: non-positive {name} is not supported ({name}={vals})")


def _to_4d(t, nd):
    """Batched 1-D/2-D tensor -> 4-D (height 1 for 1-D)."""
    if nd == 1:
        return t.reshape(t.shape[0], t.shape[1], 1, t.shape[2])
    return t


# ============================================================================ convolution API

def _convolution(input, weight, bias, stride, padding, dilation, groups, nd, op):
    input, batched = _conv_input(input, nd, op)
    if not batched:
        input = input.reshape((1,) + tuple(input.shape))
    weight, bias = _check_conv_weight(input, weight, bias, groups, nd, op)
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    ksize = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if builtins.any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(ksize, dilation):
                total = d * (k - 1)
                # an odd total puts the extra zero on the right/bottom, as PyTorch does
                pads.append((total // 2, total - total // 2))
            pads = tuple(pads)
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}; use 'same', 'valid', an "
                               "int or a tuple of ints")
    else:
        p = _tuple(padding, nd, "padding", op)
        if builtins.any(v < 0 for v in p):
            raise RuntimeError(f"{op}: negative padding is not supported (padding={p})")
        pads = tuple((v, v) for v in p)
    spatial = tuple(input.shape[2:])
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ksize, dilation))
    if builtins.any(pn < e for pn, e in zip(padded, eff)):
        raise RuntimeError(
            f"{op}: calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual "
            "input size "
            f"(input of shape {list(input.shape)}, weight of shape {list(weight.shape)}, "
            f"dilation={dilation}); use a larger input or more padding")
    if nd == 1:
        x4 = input.reshape(input.shape[0], input.shape[1], 1, input.shape[2])
        w4 = weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
        geom = ConvGeometry((1,) + spatial, (1,) + ksize, (1,) + stride, (1,) + dilation,
                            ((0, 0),) + pads, groups)
    else:
        x4, w4 = input, weight
        geom = ConvGeometry(spatial, ksize, stride, dilation, pads, groups)
    node = Conv(geom, keep_cols=GRAD.enabled and weight.requires_grad)
    out = apply(node, x4, w4) if bias is None else apply(node, x4, w4, bias)
    if nd == 1:
        out = out.reshape(out.shape[0], out.shape[1], out.shape[3])
    if not batched:
        out = out.reshape(tuple(out.shape[1:]))
    return out


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D convolution (cross-correlation, as in PyTorch) over an input of planes.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: optional ``(C_out,)``.
        stride: int or ``(sH, sW)``.
        padding: int, ``(pH, pW)``, ``'valid'`` (none) or ``'same'`` (output as large as the
            input; stride 1 only; an odd total puts the extra zero on the bottom/right).
        dilation: spacing between kernel elements, int or ``(dH, dW)``.
        groups: split the channels into this many independent convolutions.

    Shape:
        Output ``(N, C_out, H_out, W_out)`` with
        ``H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1`` (likewise W).

    Example::

        >>> x = retrograd.randn(8, 3, 32, 32)
        >>> F.conv2d(x, retrograd.randn(16, 3, 3, 3), padding=1).shape
        retrograd.Size([8, 16, 32, 32])
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""1-D convolution over an input signal of several planes.

    Args:
        input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_out, C_in / groups, k)``.
        bias: optional ``(C_out,)``.
        stride, padding, dilation, groups: as in :func:`conv2d` (one value each;
            padding may be ``'same'`` or ``'valid'``).

    Shape:
        Output ``(N, C_out, L_out)``, ``L_out = floor((L + 2*p - d*(k - 1) - 1) / s) + 1``.
    """
    return _convolution(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, op):
    input, batched = _conv_input(input, nd, op)
    if not batched:
        input = input.reshape((1,) + tuple(input.shape))
    weight, bias = _check_conv_weight(input, weight, bias, groups, nd, op, transposed=True)
    stride = _tuple(stride, nd, "stride", op)
    dilation = _tuple(dilation, nd, "dilation", op)
    padding = _tuple(padding, nd, "padding", op)
    output_padding = _tuple(output_padding, nd, "output_padding", op)
    _check_positive(stride, "stride", op)
    _check_positive(dilation, "dilation", op)
    if builtins.any(v < 0 for v in padding + output_padding):
        raise RuntimeError(f"{op}: negative padding is not supported (padding={padding}, "
                           f"output_padding={output_padding})")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= builtins.max(s, d):
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={output_padding}, "
                               f"stride={stride}, dilation={dilation}")
    ksize = tuple(weight.shape[2:])
    spatial = tuple(input.shape[2:])
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
                for n, s, p, d, k, op_ in zip(spatial, stride, padding, dilation, ksize,
                                              output_padding))
    if builtins.any(o <= 0 for o in out):
        raise RuntimeError(f"{op}: the output size {out} is too small (input of shape "
                           f"{list(input.shape)}, kernel {ksize}, stride {stride}, padding "
                           f"{padding}); "
                           "reduce the padding")
    # the convolution whose input-gradient this is: maps an `out`-sized x onto `spatial`
    pads = tuple((p, p - op_) for p, op_ in zip(padding, output_padding))
    if nd == 1:
        x4 = input.reshape(input.shape[0], input.shape[1], 1, input.shape[2])
        w4 = weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
        geom = ConvGeometry((1,) + out, (1,) + ksize, (1,) + stride, (1,) + dilation,
                            ((0, 0),) + pads, groups)
    else:
        x4, w4 = input, weight
        geom = ConvGeometry(out, ksize, stride, dilation, pads, groups)
    node = ConvTranspose(geom)
    res = apply(node, x4, w4) if bias is None else apply(node, x4, w4, bias)
    if nd == 1:
        res = res.reshape(res.shape[0], res.shape[1], res.shape[3])
    if not batched:
        res = res.reshape(tuple(res.shape[1:]))
    return res


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    r"""2-D transposed convolution ("deconvolution"): the gradient of :func:`conv2d` w.r.t. input.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kH, kW)``.
        bias: optional ``(C_out,)``.
        stride: int or ``(sH, sW)``.
        padding: ``dilation * (kernel_size - 1) - padding`` zeros are implicitly added to both
            sides of the input (int or pair).
        output_padding: extra size added to one side of the output (smaller than stride or
            dilation), to pick among the input sizes a strided conv2d maps to the same shape.
        groups: blocked connections from input to output channels.
        dilation: spacing between kernel elements.

    Shape:
        Output ``(N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + output_padding_H + 1``.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           2, "conv_transpose2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    r"""1-D transposed convolution: the gradient of :func:`conv1d` w.r.t. its input.

    Args:
        input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_in, C_out / groups, k)``.
        bias, stride, padding, output_padding, groups, dilation: as in :func:`conv_transpose2d`.

    Shape:
        Output ``(N, C_out, L_out)``, ``L_out = (L - 1)*s - 2*p + d*(k - 1) + output_padding + 1``.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           1, "conv_transpose1d")


# ============================================================================ pooling

class PoolGeometry:
    """Windows of a 2-D pooling: kernel, stride, symmetric padding, dilation, ceil mode."""

    __slots__ = ("in_hw", "kernel", "stride", "pad", "dilation", "out_hw", "buf_hw", "overlap",
                 "tiles")

    def __init__(self, in_hw, kernel, stride, pad, dilation, ceil_mode):
        self.in_hw, self.kernel, self.stride = tuple(in_hw), tuple(kernel), tuple(stride)
        self.pad, self.dilation = tuple(pad), tuple(dilation)
        out = []
        for n, k, s, p, d in zip(self.in_hw, self.kernel, self.stride, self.pad, self.dilation):
            span = n + 2 * p - d * (k - 1) - 1
            o = (span + (s - 1 if ceil_mode else 0)) // s + 1
            if ceil_mode and (o - 1) * s >= n + p:
                o -= 1  # the last window must start inside the input or its left padding
            out.append(o)
        self.out_hw = tuple(out)
        # the padded buffer: left padding, the input, then whatever the last window reads
        self.buf_hw = tuple(builtins.max(p + n, (o - 1) * s + d * (k - 1) + 1)
                            for n, k, s, p, d, o in zip(self.in_hw, self.kernel, self.stride,
                                                        self.pad, self.dilation, self.out_hw))
        self.overlap = builtins.any(s < d * (k - 1) + 1 for k, s, d in
                                    zip(self.kernel, self.stride, self.dilation))
        # the windows tile the input exactly (MaxPool2d(2) on even sizes): every input
        # position belongs to exactly one window
        self.tiles = (self.pad == (0, 0) and self.dilation == (1, 1) and self.stride == self.kernel
                      and builtins.all(o * k == n for o, k, n in
                                       zip(self.out_hw, self.kernel, self.in_hw)))

    def padded(self, x, fill):
        """``x`` inside a ``buf_hw`` buffer filled with ``fill`` (``x`` itself if none needed)."""
        (H, W), (Hb, Wb), (ph, pw) = self.in_hw, self.buf_hw, self.pad
        if ph == 0 and pw == 0 and Hb <= H and Wb <= W:
            return x
        xp = np.full(x.shape[:-2] + (Hb, Wb), fill, x.dtype)
        xp[..., ph:ph + H, pw:pw + W] = x
        return xp

    def crop(self, gp):
        """The input-sized part of a buffer-sized gradient."""
        (H, W), (ph, pw) = self.in_hw, self.pad
        if gp.shape[-2:] == (H, W):
            return gp
        return gp[..., ph:ph + H, pw:pw + W]

    def grad_buffer(self, like):
        """A buffer for the input gradient (uninitialised when the windows tile the input)."""
        (H, W), (Hb, Wb), (ph, pw) = self.in_hw, self.buf_hw, self.pad
        if self.tiles:
            return np.empty(like.shape[:-2] + (H, W), like.dtype)
        return np.zeros(like.shape[:-2] + (builtins.max(Hb, H + ph), builtins.max(Wb, W + pw)),
                        like.dtype)

    def slices(self):
        """One (row, column) slice pair per kernel offset, selecting that offset in every window."""
        (KH, KW), (OH, OW) = self.kernel, self.out_hw
        (sh, sw), (dh, dw) = self.stride, self.dilation
        return [(Ellipsis, slice(kh * dh, kh * dh + (OH - 1) * sh + 1, sh),
                 slice(kw * dw, kw * dw + (OW - 1) * sw + 1, sw))
                for kh in range(KH) for kw in range(KW)]


def _max_fill(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _window_max(xp, geom):
    views = [xp[s] for s in geom.slices()]
    if len(views) == 1:
        return views[0].copy()
    y = np.maximum(views[0], views[1])
    for v in views[2:]:
        np.maximum(y, v, out=y)
    return y


def _first_max_masks(xp, y, geom):
    """Per kernel offset, where that offset holds the window's first maximum (bool arrays)."""
    nan = y.dtype.kind == "f" and np.isnan(y).any()
    masks = []
    rest = None  # windows whose maximum is not found yet
    sl = geom.slices()
    for k, s in enumerate(sl):
        v = xp[s]
        hit = v == y
        if nan:
            hit |= np.isnan(v) & np.isnan(y)
        if rest is not None:
            hit &= rest
        if k < len(sl) - 1:
            if rest is None:
                rest = ~hit
            else:
                rest ^= hit  # hit is a subset of rest
        masks.append(hit)
    return masks


def _scatter_masked(g, masks, geom):
    """Send ``g`` to the positions the masks select (the backward of max pooling)."""
    gp = geom.grad_buffer(g)
    for s, m in zip(geom.slices(), masks):
        if geom.overlap:
            gp[s] += g * m
        else:
            np.multiply(g, m, out=gp[s])
    return geom.crop(gp)


def _gather_masked(gx, masks, geom, fill=0):
    """The adjoint of :func:`_scatter_masked`: each window's value at its selected position."""
    gp = geom.padded(gx, fill)
    sl = geom.slices()
    out = np.zeros(gx.shape[:-2] + geom.out_hw, gx.dtype)
    for s, m in zip(sl, masks):
        out += gp[s] * m
    return out


class MaxPool(Node):
    """2-D max pooling; the gradient goes to each window's first maximum."""

    save_output = True

    @classmethod
    def name(cls):
        return "MaxPool2DWithIndicesBackward0"

    def __init__(self, geom):
        self.geom = geom

    def forward(self, x):
        return _window_max(self.geom.padded(x, _max_fill(x.dtype)), self.geom)

    def backward(self, g, x):
        xa = x if _is_array(x) else x._data
        masks = _first_max_masks(self.geom.padded(xa, _max_fill(xa.dtype)), self.out, self.geom)
        if _is_array(g):
            return _scatter_masked(g, masks, self.geom)
        return apply(_MaskedScatter(masks, self.geom), g)


class _MaskedScatter(Node):
    """``g`` scattered to fixed window positions (max pooling's backward, differentiable)."""

    save_inputs = False

    def __init__(self, masks, geom):
        self.masks, self.geom = masks, geom

    def forward(self, g):
        return _scatter_masked(g, self.masks, self.geom)

    def backward(self, gg):
        if _is_array(gg):
            return _gather_masked(gg, self.masks, self.geom)
        return apply(_MaskedGather(self.masks, self.geom), gg)


class _MaskedGather(Node):
    save_inputs = False

    def __init__(self, masks, geom):
        self.masks, self.geom = masks, geom

    def forward(self, gx):
        return _gather_masked(gx, self.masks, self.geom)

    def backward(self, g):
        if _is_array(g):
            return _scatter_masked(g, self.masks, self.geom)
        return apply(_MaskedScatter(self.masks, self.geom), g)


def _window_sum(xp, geom):
    views = [xp[s] for s in geom.slices()]
    if len(views) == 1:
        return views[0].copy()
    y = views[0] + views[1]
    for v in views[2:]:
        y += v
    return y


def _avg_scatter(g, divisor, geom):
    """Adjoint of average pooling: every window position receives ``g / divisor``."""
    gs = g / divisor
    gp = geom.grad_buffer(g)
    for s in geom.slices():
        if geom.overlap:
            gp[s] += gs
        else:
            gp[s] = gs
    return geom.crop(gp)


class AvgPool(Node):
    """2-D average pooling: the sum of the window's views over a divisor (scalar or per window)."""

    save_inputs = False

    @classmethod
    def name(cls):
        return "AvgPool2DBackward0"

    def __init__(self, geom, divisor):
        self.geom, self.divisor = geom, divisor

    def forward(self, x):
        y = _window_sum(self.geom.padded(x, 0), self.geom)
        y /= self.divisor
        return y

    def backward(self, g):
        if _is_array(g):
            return _avg_scatter(g, self.divisor, self.geom)
        return apply(_AvgPoolAdjoint(self.geom, self.divisor), g)


class _AvgPoolAdjoint(Node):
    save_inputs = False

    def __init__(self, geom, divisor):
        self.geom, self.divisor = geom, divisor

    def forward(self, g):
        return _avg_scatter(g, self.divisor, self.geom)

    def backward(self, gg):
        if _is_array(gg):
            y = _window_sum(self.geom.padded(gg, 0), self.geom)
            y /= self.divisor
            return y
        return apply(AvgPool(self.geom, self.divisor), gg)


def _pool_input(input, nd, op):
    input = _tensor(input, op)
    if input.ndim not in (nd + 1, nd + 2):
        sp = ("L",) if nd == 1 else ("H", "W")
        raise RuntimeError(
            f"{op}: expected a {nd + 1}D (unbatched) or {nd + 2}D (batched) input of shape "
            f"{_shape_str(('N', 'C') + sp)} or {_shape_str(('C',) + sp)}, but got input of size "
            f"{list(input.shape)}")
    return input, input.ndim == nd + 2


def _pool_args(kernel_size, stride, padding, dilation, nd, op):
    k = _tuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, nd, "stride", op)
    p = _tuple(padding, nd, "padding", op)
    d = _tuple(dilation, nd, "dilation", op)
    if builtins.any(v <= 0 for v in k):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got {k}")
    if builtins.any(v <= 0 for v in s):
        raise RuntimeError(f"{op}: stride must be greater than zero, but got {s}")
    if builtins.any(v <= 0 for v in d):
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got {d}")
    if builtins.any(v < 0 for v in p):
        raise RuntimeError(f"{op}: padding must be non-negative, but got {p}")
    return k, s, p, d


def _pool_geometry(input, k, s, p, d, ceil_mode, nd, op, what):
    for kk, pp, dd in zip(k, p, d):
        limit = (dd * (kk - 1) + 1) // 2 if what == "max" else kk // 2
        if pp > limit:
            effective = "effective " if what == "max" else ""
            raise RuntimeError(
                f"{op}: pad should be at most half of {effective}kernel size, but got pad={pp}, "
                f"kernel_size={kk}" + (f" and dilation={dd}" if what == "max" else ""))
    spatial = tuple(input.shape[2:])
    if nd == 1:
        geom = PoolGeometry((1,) + spatial, (1,) + k, (1,) + s, (0,) + p, (1,) + d, ceil_mode)
        out = geom.out_hw[1:]
    else:
        geom = PoolGeometry(spatial, k, s, p, d, ceil_mode)
        out = geom.out_hw
    if builtins.any(o < 1 for o in out):
        C = input.shape[1]
        raise RuntimeError(
            f"{op}: given input size: ({'x'.join(map(str, (C,) + spatial))}). Calculated output "
            f"size: ({'x'.join(map(str, (C,) + out))}). Output size is too small (kernel_size={k}, "
            f"stride={s}, padding={p}); use a smaller kernel or a larger input")
    return geom


def _finish(out, nd, batched):
    if nd == 1:
        out = out.reshape(out.shape[0], out.shape[1], out.shape[3])
    if not batched:
        out = out.reshape(tuple(out.shape[1:]))
    return out


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, op):
    input, batched = _pool_input(input, nd, op)
    if not batched:
        input = input.reshape((1,) + tuple(input.shape))
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, nd, op)
    if input.dtype.kind not in "fiu":
        raise RuntimeError(f"{op}: unsupported input dtype {input.dtype}")
    geom = _pool_geometry(input, k, s, p, d, ceil_mode, nd, op, "max")
    out = apply(MaxPool(geom), _to_4d(input, nd))
    if not return_indices:
        return _finish(out, nd, batched)
    indices = _max_indices(_to_4d(input, nd)._data, out._data, geom)
    return _finish(out, nd, batched), _finish(indices, nd, batched)


def _max_indices(x, y, geom):
    """Flat index (within each input plane) of every window's first maximum, as int64."""

    masks = _first_max_masks(geom.padded(x, _max_fill(x.dtype)), y, geom)
    (OH, OW), (sh, sw), (dh, dw), (ph, pw) = geom.out_hw, geom.stride, geom.dilation, geom.pad
    KW = geom.kernel[1]
    W = geom.in_hw[1]
    rows = np.arange(OH).reshape(-1, 1) * sh - ph
    cols = np.arange(OW).reshape(1, -1) * sw - pw
    idx = np.zeros(y.shape, np.int64)
    for k, m in enumerate(masks):
        kh, kw = divmod(k, KW)
        idx += m * ((rows + kh * dh) * W + cols + kw * dw)
    return Tensor._make(idx, None, False)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    r"""2-D max pooling: the maximum of each ``kernel_size`` window.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: window size, int or ``(kH, kW)``.
        stride: window step (default: ``kernel_size``).
        padding: implicit ``-inf`` padding on both sides, at most half the kernel size.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (windows may hang over the bottom/right edge).
        return_indices: also return the flat index (in each ``H*W`` plane) of every maximum.

    Shape:
        Output ``(N, C, H_out, W_out)``,
        ``H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1`` (``ceil`` with ``ceil_mode``).

    The gradient flows to the first maximum of each window (ties: the earliest in
    row-major order), as in PyTorch.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                     "max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    r"""1-D max pooling over ``(N, C, L)`` or ``(C, L)`` input; arguments as :func:`max_pool2d`."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                     "max_pool1d")


def _avg_counts(n, k, s, p, out, include_pad):
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
              nd, op):
    input, batched = _pool_input(input, nd, op)
    if not batched:
        input = input.reshape((1,) + tuple(input.shape))
    k, s, p, d = _pool_args(kernel_size, stride, padding, 1, nd, op)
    _check_float(input, "input", op)
    geom = _pool_geometry(input, k, s, p, d, ceil_mode, nd, op, "avg")
    dt = input.dtype
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
        divisor = np.asarray(divisor_override, dt)
    else:
        ch, cw = (_avg_counts(n, kk, ss, pp, o, count_include_pad)
                  for n, kk, ss, pp, o in zip(geom.in_hw, geom.kernel, geom.stride, geom.pad,
                                              geom.out_hw))
        if (ch == ch[0]).all() and (cw == cw[0]).all():
            divisor = np.asarray(ch[0] * cw[0], dt)
        else:
            divisor = np.multiply.outer(ch, cw).astype(dt)
    out = apply(AvgPool(geom, divisor), _to_4d(input, nd))
    return _finish(out, nd, batched)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    r"""2-D average pooling: the mean of each ``kernel_size`` window.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: window size, int or ``(kH, kW)``.
        stride: window step (default: ``kernel_size``).
        padding: implicit zero padding on both sides, at most half the kernel size.
        ceil_mode: round the output size up.
        count_include_pad: count the zero padding in the divisor.
        divisor_override: divide every window sum by this number instead.

    Shape:
        Output ``(N, C, H_out, W_out)``, ``H_out = floor((H + 2*pH - kH) / sH) + 1``.
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    r"""1-D average pooling over ``(N, C, L)`` or ``(C, L)``; arguments as :func:`avg_pool2d`."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1,
                     "avg_pool1d")


# ---------------------------------------------------------------- adaptive pooling

def _adaptive_sizes(input, output_size, nd, op):
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1 and nd > 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd} ints, got "
                         f"{output_size!r}")
    spatial = tuple(input.shape[-nd:])
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, spatial))
    if builtins.any(o < 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be non-negative, got {out}")
    if builtins.any(n == 0 for n in spatial):
        raise RuntimeError(f"{op}: expected input with non-zero spatial size, got "
                           f"{list(input.shape)}")
    return spatial, out


def _adaptive_bounds(n, o):
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)  # floor(i*n/o), ceil((i+1)*n/o)


def _averaging_matrix(n, o, dtype):
    start, end = _adaptive_bounds(n, o)
    cols = np.arange(n)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_avg(input, output_size, nd, op):

    input, batched = _pool_input(input, nd, op)
    _check_float(input, "input", op)
    spatial, out = _adaptive_sizes(input, output_size, nd, op)
    if not batched:
        input = input.reshape((1,) + tuple(input.shape))
    if builtins.all(o > 0 and n % o == 0 for n, o in zip(spatial, out)):
        k = tuple(n // o for n, o in zip(spatial, out))
        if builtins.all(kk == 1 for kk in k):
            return input if batched else input.reshape(tuple(input.shape[1:]))
        geom = _pool_geometry(input, k, k, (0,) * nd, (1,) * nd, False, nd, op, "avg")
        div = np.asarray(math.prod(k), input.dtype)
        return _finish(apply(AvgPool(geom, div), _to_4d(input, nd)), nd, batched)
    # uneven windows: average with matrices, y = A_h @ x @ A_wᵀ (differentiable through matmul)
    y = input
    if nd == 2:
        ah = Tensor._make(_averaging_matrix(spatial[0], out[0], input.dtype), None, False)
        y = ah @ y
    aw = Tensor._make(_averaging_matrix(spatial[-1], out[-1], input.dtype).T.copy(), None, False)
    y = y @ aw
    return y if batched else y.reshape(tuple(y.shape[1:]))


def adaptive_avg_pool2d(input, output_size):
    r"""2-D average pooling to a fixed output size, whatever the input size.

    Window ``i`` along a dimension of size ``n`` covers ``[floor(i*n/o), ceil((i+1)*n/o))``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        output_size: ``(oH, oW)`` or one int for both; ``None`` keeps that input size.

    Example::

        >>> F.adaptive_avg_pool2d(retrograd.randn(2, 8, 7, 7), 1).shape
        retrograd.Size([2, 8, 1, 1])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    r"""1-D average pooling of ``(N, C, L)`` or ``(C, L)`` input to ``output_size`` positions."""
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def _adaptive_max(input, output_size, return_indices, nd, op):

    input, batched = _pool_input(input, nd, op)
    spatial, out = _adaptive_sizes(input, output_size, nd, op)
    if builtins.any(o == 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be positive, got {out}")
    if builtins.all(n % o == 0 for n, o in zip(spatial, out)):
        k = tuple(n // o for n, o in zip(spatial, out))
        return _max_pool(input, k, k, 0, 1, False, return_indices, nd, op)
    if not batched:
        input = input.reshape((1,) + tuple(input.shape))
    x4 = _to_4d(input, nd)
    H, W = x4.shape[2:]
    out2 = (1,) + out if nd == 1 else out
    # every window padded to the longest one by repeating its last index (max unchanged)
    idx = []
    for n, o in zip((H, W), out2):
        start, end = _adaptive_bounds(n, o)
        kmax = int((end - start).max())
        idx.append(np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1))
    ih, iw = idx
    flat = (ih[:, None, :, None] * W + iw[None, :, None, :])  # (oH, oW, kh, kw)
    xa = x4._data.reshape(x4.shape[0], x4.shape[1], H * W)
    win = xa[:, :, flat.reshape(-1)].reshape(xa.shape[:2] + out2 + (-1,))
    first = win.argmax(axis=-1)  # argmax returns the first maximum, as PyTorch
    pos = np.take_along_axis(np.broadcast_to(flat.reshape(out2 + (-1,)), win.shape),
                             first[..., None], axis=-1)[..., 0]
    y = x4.reshape(x4.shape[0], x4.shape[1], H * W).gather(
        2, Tensor._make(pos.reshape(pos.shape[0], pos.shape[1], -1), None, False))
    y = _finish(y.reshape((x4.shape[0], x4.shape[1]) + out2), nd, batched)
    if return_indices:
        return y, _finish(Tensor._make(pos.reshape((x4.shape[0], x4.shape[1]) + out2), None, False),
                          nd, batched)
    return y


def adaptive_max_pool2d(input, output_size, return_indices=False):
    r"""2-D max pooling to a fixed output size (windows as in :func:`adaptive_avg_pool2d`).

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        output_size: ``(oH, oW)`` or one int for both; ``None`` keeps that input size.
        return_indices: also return the flat index (in each ``H*W`` plane) of every maximum.
    """
    return _adaptive_max(input, output_size, return_indices, 2, "adaptive_max_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    r"""1-D max pooling of ``(N, C, L)`` or ``(C, L)`` input to ``output_size`` positions."""
    return _adaptive_max(input, output_size, return_indices, 1, "adaptive_max_pool1d")
