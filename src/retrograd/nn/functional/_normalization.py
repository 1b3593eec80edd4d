"""Normalization: ``batch_norm``, ``instance_norm``, ``layer_norm``, ``group_norm``, ``rms_norm``.

The first four run on the fused nodes of :mod:`retrograd.ops.norm` (one closed-form
backward); ``rms_norm`` is composed from differentiable ops.
"""

from __future__ import annotations

import numbers

import numpy as np

from ...autograd.graph import apply
from ...ops.norm import AffineStats, Normalize
from ...tensor import Tensor

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm"]


def _shape(t):
    return tuple(t.shape)


def _as_tensor(x, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    raise TypeError(f"{op}(): expected input to be a Tensor, got {type(x).__name__}")


def _check_float(input, op):
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}(): expected a floating-point input, got dtype {input.dtype}; "
                           "convert it first (x.float())")


def _check_param(t, name, numel, input, op, what="channels"):
    """``weight``/``bias``/running stats: ``numel`` elements and the input's dtype."""
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): {name} must be a Tensor or None, got {type(t).__name__}")
    if t._data.size != numel:
        raise RuntimeError(f"{op}(): {name} should contain {numel} elements not {t._data.size} "
                           f"(input of shape {_shape(input)} has {numel} {what}); build the "
                           f"layer with num_features={numel} or fix the input")
    if t.dtype != input.dtype:
        raise RuntimeError(f"{op}(): {name} has dtype {t.dtype} but the input has dtype "
                           f"{input.dtype}; convert one of them (model.double() or x.float())")


def _channel_layout(input):
    """Broadcast shape of a per-channel parameter and the axes that are not the channel."""
    nd = input.ndim
    return (1, input.shape[1]) + (1,) * (nd - 2), (0,) + tuple(range(2, nd))


def _update_running(running, value, momentum):
    """``running = (1 - momentum) * running + momentum * value``, in place and untracked."""
    if running is None:
        return
    r = running._data
    r *= 1.0 - momentum
    r += (momentum * value).astype(r.dtype, copy=False)
    running._version[0] += 1


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    r"""Batch normalization over the channel dimension (dim 1).

    In training mode each channel is normalised with the statistics of the batch
    (mean and biased variance over ``(N, *spatial)``) and, if given, ``running_mean`` and
    ``running_var`` are updated in place: ``running = (1 - momentum) * running +
    momentum * batch_stat``, using the *unbiased* batch variance for ``running_var``.
    In eval mode the running estimates are used instead.

    Args:
        input: ``(N, C)`` or ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` buffers, or None (then batch statistics
            are always used and nothing is updated).
        weight, bias: ``(C,)`` affine parameters, or None.
        training: use (and record) batch statistics.
        momentum: the weight of the new batch in the running update.
        eps: added to the variance for numerical stability.

    Example::

        >>> x = retrograd.randn(8, 3, 5, 5)
        >>> rm, rv = retrograd.zeros(3), retrograd.ones(3)
        >>> y = F.batch_norm(x, rm, rv, training=True)   # rm, rv updated
    """
    input = _as_tensor(input, "batch_norm")
    _check_float(input, "batch_norm")
    if input.ndim < 2:
        raise ValueError(f"batch_norm(): expected an input of at least 2 dimensions (N, C, *), "
                         f"got shape {_shape(input)}")
    c = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_param(t, name, c, input, "batch_norm")
    pshape, axes = _channel_layout(input)
    if training:
        n = input._data.size // c if c else 0
        if n <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape} (batch norm needs a batch of more than one "
                             "sample; use eval mode or a larger batch)")
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm(): running_mean and running_var must be defined in "
                               "evaluation mode (training=False); pass training=True to use "
                               "the batch statistics")
        rv = running_var._data
        invstd = 1.0 / np.sqrt(rv + eps).astype(input.dtype, copy=False)
        node = AffineStats(running_mean._data.astype(input.dtype, copy=False), invstd,
                           pshape, axes)
        return apply(node, input, weight, bias)
    node = Normalize(axes, eps, pshape, axes)
    out = apply(node, input, weight, bias)
    if running_mean is not None or running_var is not None:
        n = input._data.size // c
        _update_running(running_mean, node.mean.reshape(c), momentum)
        _update_running(running_var, node.var.reshape(c) * (n / (n - 1)), momentum)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    r"""Instance normalization: each channel of each sample normalised on its own (over
    the spatial dimensions).

    With ``use_input_stats=False`` the running estimates are used (as batch norm in eval
    mode). When running buffers are given and ``use_input_stats`` is True they are
    updated with the batch average of the per-instance mean and unbiased variance.

    Shape: ``(N, C, *spatial)`` with at least one spatial dimension.
    """
    input = _as_tensor(input, "instance_norm")
    _check_float(input, "instance_norm")
    if input.ndim < 3:
        raise ValueError(f"instance_norm(): expected an input of shape (N, C, *spatial) with at "
                         f"least 3 dimensions, got shape {_shape(input)}")
    c = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_param(t, name, c, input, "instance_norm")
    pshape, param_axes = _channel_layout(input)
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = input._data.size // (input.shape[0] * c) if input.shape[0] * c else 0
    if spatial <= 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    stat_axes = tuple(range(2, input.ndim))
    node = Normalize(stat_axes, eps, pshape, param_axes)
    out = apply(node, input, weight, bias)
    if running_mean is not None or running_var is not None:
        mean = node.mean.reshape(input.shape[:2])
        var = node.var.reshape(input.shape[:2]) * (spatial / (spatial - 1))
        _update_running(running_mean, mean.mean(axis=0), momentum)
        _update_running(running_var, var.mean(axis=0), momentum)
    return out


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(input, shape, op):
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"{op}(): Given normalized_shape={list(shape)}, expected input with "
                           f"shape [*, {', '.join(map(str, shape))}], but got input of size "
                           f"{list(input.shape)}")


def _check_elementwise(t, name, shape, input, op):
    if t is None:
        return
    if tuple(t.shape) != shape:
        raise RuntimeError(f"{op}(): expected {name} of shape {shape} (the normalized_shape), "
                           f"got {_shape(t)}")
    if t.dtype != input.dtype:
        raise RuntimeError(f"{op}(): {name} has dtype {t.dtype} but the input has dtype "
                           f"{input.dtype}; convert one of them (model.double() or x.float())")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    r"""Layer normalization over the last ``len(normalized_shape)`` dimensions.

    Each slice ``input[..., *normalized_shape]`` is normalised by its own mean and biased
    variance, then scaled by ``weight`` and shifted by ``bias`` (both of shape
    ``normalized_shape``, elementwise).

    Example::

        >>> x = retrograd.randn(2, 5, 8)
        >>> F.layer_norm(x, (8,)).mean(-1)    # ≈ 0
    """
    input = _as_tensor(input, "layer_norm")
    _check_float(input, "layer_norm")
    shape = _normalized_shape(normalized_shape)
    _check_normalized(input, shape, "layer_norm")
    _check_elementwise(weight, "weight", shape, input, "layer_norm")
    _check_elementwise(bias, "bias", shape, input, "layer_norm")
    lead = input.ndim - len(shape)
    axes = tuple(range(lead, input.ndim))
    return apply(Normalize(axes, eps, shape, tuple(range(lead))), input, weight, bias)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    r"""Group normalization: the channels are split into ``num_groups`` groups and each
    group of each sample is normalised over its channels and spatial positions;
    ``weight`` and ``bias`` are per channel.

    Shape: ``(N, C, *)`` with ``C`` divisible by ``num_groups``.
    """
    input = _as_tensor(input, "group_norm")
    _check_float(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"group_norm(): expected at least 2 dimensions (N, C, *), got shape "
                           f"{_shape(input)}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and num_groups="
                           f"{num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        _check_param(t, name, c, input, "group_norm")
    pshape, param_axes = _channel_layout(input)
    per_group = input._data.size // (n * num_groups) if n else 0
    node = Normalize((2,), eps, pshape, param_axes, stat_shape=(n, num_groups, per_group))
    return apply(node, input, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    r"""Root-mean-square normalization over the last ``len(normalized_shape)`` dims:
    ``y = x / sqrt(mean(x²) + eps) * weight``. ``eps=None`` uses the dtype's machine
    epsilon, as PyTorch does.
    """
    input = _as_tensor(input, "rms_norm")
    _check_float(input, "rms_norm")
    shape = _normalized_shape(normalized_shape)
    _check_normalized(input, shape, "rms_norm")
    _check_elementwise(weight, "weight", shape, input, "rms_norm")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    ms = (input * input).mean(dim=dims, keepdim=True)
    y = input * (ms + eps).rsqrt()
    return y * weight if weight is not None else y

