"""Creating tensors: from data, filled with constants, ranges, and random draws.

Every random draw goes through ``backend.rng(generator)``, so ``manual_seed`` makes
runs reproducible.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .tensor import Tensor, _infer_dtype, _to_array


def _size(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        size = tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"{op}(): size must be ints or a tuple of ints, got {size!r}") from None
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}(): trying to create tensor with negative dimension: {list(size)}")
    return size


def _finish(arr, requires_grad, device, op):
    backend.check_device(device, op)
    t = Tensor._make(arr, None, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype):
    return backend.to_dtype(dtype) or backend.get_default_dtype()


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Create a tensor from data (a list, a number, a NumPy array or a tensor), always copying.

    Python floats become float32 (the default dtype), Python ints int64, bools bool;
    a NumPy array keeps its dtype.

    Example::

        >>> retrograd.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        tensor([[1., 2.],
                [3., 4.]], requires_grad=True)
    """
    dtype = backend.to_dtype(dtype)
    arr = _to_array(data, dtype, copy=True)
    if arr.__class__ is not np.ndarray:
        arr = np.asarray(arr)
    return _finish(arr, requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None):
    """Like :func:`tensor` but shares memory with a NumPy array or tensor when it can."""
    dtype = backend.to_dtype(dtype)
    if isinstance(data, Tensor) and (dtype is None or dtype == data.dtype):
        return data
    arr = _to_array(data, dtype, copy=False)
    return _finish(np.asarray(arr), False, device, "as_tensor")


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    return Tensor._make(ndarray, None, False)


def zeros(*size_args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A tensor of zeros of the given size."""
    size = size_args if size is None else (size,)
    return _finish(np.zeros(_size(size, "zeros"), dtype=_float_dtype(dtype)), requires_grad, device, "zeros")


def ones(*size_args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A tensor of ones of the given size."""
    size = size_args if size is None else (size,)
    return _finish(np.ones(_size(size, "ones"), dtype=_float_dtype(dtype)), requires_grad, device, "ones")


def empty(*size_args, size=None, dtype=None, device=None, requires_grad=False, memory_format=None,
          layout=None, pin_memory=False):
    """An uninitialised tensor (here: zero-filled, which is just as fast with NumPy)."""
    size = size_args if size is None else (size,)
    return _finish(np.zeros(_size(size, "empty"), dtype=_float_dtype(dtype)), requires_grad, device, "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = backend.to_dtype(dtype) or _infer_dtype(fill_value)
    return _finish(np.full(_size((size,) if isinstance(size, int) else (tuple(size),), "full"),
                           fill_value, dtype=dtype), requires_grad, device, "full")


def _like(input, dtype):
    return backend.to_dtype(dtype) or input.dtype


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    return _finish(np.zeros(input.shape, dtype=_like(input, dtype)), requires_grad, device, "zeros_like")


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    return _finish(np.ones(input.shape, dtype=_like(input, dtype)), requires_grad, device, "ones_like")


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(np.full(input.shape, fill_value, dtype=_like(input, dtype)), requires_grad, device,
                   "full_like")


def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)
        dtype = backend.int64 if is_int else backend.get_default_dtype()
    dtype = backend.to_dtype(dtype)
    if dtype.kind == "f":
        # computed in float64 then cast, like PyTorch, so float32 ranges don't drift
        n = int(np.ceil((end - start) / step))
        arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtype)
    else:
        arr = np.arange(start, end, step, dtype=dtype)
    return _finish(arr, requires_grad, device, "arange")


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated ``torch.range``: like arange but includes ``end``."""
    if end is None:
        start, end = 0, start
    n = int(np.floor((end - start) / step)) + 1
    dtype = backend.to_dtype(dtype) or backend.get_default_dtype()
    return _finish((start + step * np.arange(n, dtype=np.float64)).astype(dtype), requires_grad, device,
                   "range")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    dtype = _float_dtype(dtype)
    return _finish(np.linspace(float(start), float(end), int(steps)).astype(dtype), requires_grad,
                   device, "linspace")


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    dtype = _float_dtype(dtype)
    return _finish(np.logspace(float(start), float(end), int(steps), base=base).astype(dtype),
                   requires_grad, device, "logspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """A 2-D identity matrix of shape (n, m)."""
    return _finish(np.eye(int(n), None if m is None else int(m), dtype=_float_dtype(dtype)),
                   requires_grad, device, "eye")


# ------------------------------------------------------------------ random

def rand(*size_args, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Uniform random numbers in [0, 1)."""
    size = size_args if size is None else (size,)
    dtype = _float_dtype(dtype)
    arr = backend.rng(generator).random(_size(size, "rand"), dtype=np.float64).astype(dtype)
    return _finish(arr, requires_grad, device, "rand")


def randn(*size_args, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Standard normal random numbers."""
    size = size_args if size is None else (size,)
    dtype = _float_dtype(dtype)
    arr = backend.rng(generator).standard_normal(_size(size, "randn")).astype(dtype)
    return _finish(arr, requires_grad, device, "randn")


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Random integers in [low, high)."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    dtype = backend.to_dtype(dtype) or backend.int64
    arr = backend.rng(generator).integers(low, high, size=tuple(size)).astype(dtype)
    return _finish(arr, requires_grad, device, "randint")


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1."""
    dtype = backend.to_dtype(dtype) or backend.int64
    return _finish(backend.rng(generator).permutation(int(n)).astype(dtype), requires_grad, device,
                   "randperm")


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(*input.shape, dtype=_like(input, dtype), requires_grad=requires_grad,
                generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(*input.shape, dtype=_like(input, dtype), requires_grad=requires_grad,
                 generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    return randint(low, high, input.shape, dtype=_like(input, dtype), requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal random numbers with the given mean and std (numbers or tensors)."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = tuple(size) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    dt = _float_dtype(dtype) if not isinstance(mean, Tensor) else mean.dtype
    arr = (backend.rng(generator).standard_normal(shape) * s + m).astype(dt)
    return _finish(arr, requires_grad, device, "normal")


def bernoulli(input, p=None, *, generator=None):
    probs = input._data if p is None else np.full(input.shape, p)
    arr = (backend.rng(generator).random(input.shape) < probs).astype(input.dtype)
    return Tensor._make(arr, None, False)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw ``num_samples`` category indices per row from (unnormalised) probabilities."""
    p = input._data.astype(np.float64)
    one = p.ndim == 1
    p2 = p.reshape(1, -1) if one else p
    if (p2 < 0).any() or not np.isfinite(p2).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    sums = p2.sum(1, keepdims=True)
    if (sums == 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    rng = backend.rng(generator)
    if replacement:
        cdf = np.cumsum(p2 / sums, axis=1)
        u = rng.random((p2.shape[0], num_samples))
        out = np.minimum((u[:, :, None] > cdf[:, None, :]).sum(-1), p2.shape[1] - 1)
    else:
        if num_samples > (p2 > 0).sum(1).min():
            raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                               "without replacement")
        # Gumbel top-k: sampling without replacement in one vectorised step
        gumbel = -np.log(-np.log(rng.random(p2.shape)))
        keys = np.where(p2 > 0, np.log(np.where(p2 > 0, p2, 1)) + gumbel, -np.inf)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return Tensor._make(out[0] if one else out, None, False)
