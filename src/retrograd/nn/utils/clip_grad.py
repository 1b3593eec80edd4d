"""Gradient clipping: rescale gradients by their total norm, or clamp each value.

Both work in place on ``p.grad`` (outside the autograd graph), between
``loss.backward()`` and ``optimizer.step()``::

    loss.backward()
    retrograd.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np

from ...backend import get_default_dtype
from ...tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm",
    "clip_grad_value_",
    "get_total_norm",
    "clip_grads_with_norm_",
]


def _tensor_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(arr: np.ndarray, ord: float) -> np.ndarray:
    """The ``ord``-norm of all elements of ``arr`` as a 0-d array of ``arr``'s dtype.

    Follows ``torch.linalg.vector_norm``: inf -> max |x|, -inf -> min |x|,
    0 -> number of non-zeros, otherwise (sum |x|^p)^(1/p). NaN propagates.
    """
    x = arr.reshape(-1)
    dtype = arr.dtype if arr.dtype.kind == "f" else get_default_dtype()
    if x.size == 0:
        if ord < 0:
            raise RuntimeError(
                f"vector_norm: the norm of order {ord} of an empty tensor is not defined"
            )
        return np.zeros((), dtype=dtype)
    if ord == math.inf:
        out = np.max(np.abs(x))
    elif ord == -math.inf:
        out = np.min(np.abs(x))
    elif ord == 0:
        out = np.count_nonzero(x)
    elif ord == 1:
        out = np.sum(np.abs(x))
    elif ord == 2:
        out = np.sqrt(np.dot(x, x)) if x.dtype.kind == "f" else np.sqrt(np.sum(x * x))
    else:
        out = np.sum(np.abs(x) ** ord) ** (1.0 / ord)
    return np.asarray(out, dtype=dtype)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Compute the norm of the norms of ``tensors``, as if they were one concatenated vector.

    Args:
        tensors (Tensor or iterable of Tensors): the tensors (usually gradients).
        norm_type (float): type of the p-norm; ``inf`` for the max-norm (default: 2.0).
        error_if_nonfinite (bool): raise RuntimeError when the total norm is nan or
            inf (default: False).
        foreach (bool, optional): accepted for PyTorch compatibility and ignored.

    Returns:
        Tensor: the total norm, a 0-d tensor (``tensor(0.)`` for no tensors).
    """
    tensors = _tensor_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return Tensor._make(np.zeros((), dtype=get_default_dtype()), None, False)
    with np.errstate(invalid="ignore", over="ignore"):
        norms = np.stack([_vector_norm(t._data, norm_type) for t in tensors])
        total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._make(total, None, False)


def _scale_inplace(g: Tensor, coef: np.ndarray) -> None:
    # The coefficient is cast to the gradient's dtype first, as PyTorch does, so
    # float32 gradients are scaled in float32.
    c = coef.astype(g._data.dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 -> nan, silently as in torch
        if g._data.flags.writeable:
            g._data *= c
        else:
            g._data = g._data * c
    g._bump()


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    r"""Scale the gradients of ``parameters`` by ``max_norm / (total_norm + 1e-6)``, if below 1.

    Together with :func:`get_total_norm` this splits :func:`clip_grad_norm_` in two
    (e.g. to combine norms computed over several groups).

    Args:
        parameters (Tensor or iterable of Tensors): tensors whose ``.grad`` to scale.
        max_norm (float): maximum norm of the gradients.
        total_norm (Tensor): the total norm to clip against.
        foreach (bool, optional): accepted for PyTorch compatibility and ignored.
    """
    grads = [p.grad for p in _tensor_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    # PyTorch evaluates `max_norm / tensor` as reciprocal(tensor) * max_norm.
    clip_coef = np.reciprocal(total + 1e-6) * max_norm
    clip_coef = np.minimum(clip_coef, 1.0)  # np.minimum keeps a NaN coefficient, like clamp
    for g in grads:
        _scale_inplace(g, clip_coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Clip the gradient norm of an iterable of parameters, in place.

    The norm is computed over the norms of the individual gradients, as if they were
    concatenated into a single vector. Gradients are multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``.

    Args:
        parameters (Tensor or iterable of Tensors): tensors whose gradients will be
            normalized (a generator such as ``model.parameters()`` is fine).
        max_norm (float): max norm of the gradients.
        norm_type (float): type of the p-norm; ``float('inf')`` for the max-norm
            (default: 2.0).
        error_if_nonfinite (bool): if True, raise RuntimeError when the total norm is
            nan or inf; if False (default) the gradients are scaled anyway (and become
            nan).
        foreach (bool, optional): accepted for PyTorch compatibility and ignored.

    Returns:
        Tensor: the total norm of the gradients, before clipping (0-d).

    Example::

        >>> loss.backward()
        >>> total = retrograd.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> optimizer.step()
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn(
                "`parameters` is an empty generator, no gradient clipping will occur.",
                stacklevel=2,
            )
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Deprecated alias of :func:`clip_grad_norm_` (emits a FutureWarning).

    Args:
        parameters (Tensor or iterable of Tensors): tensors whose gradients to clip.
        max_norm (float): max norm of the gradients.
        norm_type (float): type of the p-norm (default: 2.0).
        error_if_nonfinite (bool): raise on a non-finite total norm (default: False).
        foreach (bool, optional): ignored.

    Returns:
        Tensor: the total norm of the gradients.
    """
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    r"""Clamp the gradients of an iterable of parameters to ``[-clip_value, clip_value]``, in place.

    Args:
        parameters (Tensor or iterable of Tensors): tensors whose gradients to clamp.
        clip_value (float): maximum absolute value of the gradients.
        foreach (bool, optional): accepted for PyTorch compatibility and ignored.

    Example::

        >>> retrograd.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    for p in _tensor_list(parameters):
        g = p.grad
        if g is None:
            continue
        lo, hi = -clip_value, clip_value
        if g._data.flags.writeable:
            np.clip(g._data, lo, hi, out=g._data)
        else:
            g._data = np.clip(g._data, lo, hi)
        g._bump()
