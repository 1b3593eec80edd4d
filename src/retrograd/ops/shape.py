"""Shape and indexing ops: reshape, permute, expand, cat/stack, split, flip, pad, indexing.

Backward of a shape op moves the gradient back to where each element came from:
reshape back, permute by the inverse permutation, sum over broadcast axes, slice
the concatenation apart, scatter-add an indexed gradient (repeated indices add up).
"""

from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node, apply
from ..tensor import Tensor
from ._util import expand as _expand
from ._util import normalize_dim, result_type, sum_to
from ._util import permute as _permute


def _tensor(x):

    return x if isinstance(x, Tensor) else Tensor(x)


def _view_of(out, base, fn=None):
    """Views share their base's version counter, so in-place changes are noticed.

    ``fn`` re-applies the view to an array or Tensor (``lambda a: a[idx]``). It is kept,
    with the base the view was taken from, so that an in-place op on the view also moves
    the base's place in the graph (see ``Tensor._inplace``): otherwise ``y[0].mul_(2)``
    would silently leave ``y``'s gradient unchanged.
    """
    out._version = base._version
    if fn is not None and GRAD.enabled:
        outer = base.__dict__.get("_view")
        if outer is None:
            out.__dict__["_view"] = (base, fn)
        else:  # a view of a view: keep the root base and compose the two views
            root, f0 = outer
            out.__dict__["_view"] = (root, lambda a: fn(f0(a)))
    return out


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    elif len(shape) == 1 and hasattr(shape[0], "tolist") and not isinstance(shape[0], int):
        shape = tuple(shape[0].tolist())
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: shape must be ints or a tuple of ints, got {shape!r}") from None


# ------------------------------------------------------------------ reshape family

class Reshape(Node):
    save_inputs = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        self.in_shape = a.shape
        return a.reshape(self.shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


def _resolve_shape(shape, numel, in_shape, op):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape dimension in {list(shape)}")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel} "
                               f"(input shape {tuple(in_shape)})")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel} "
                           f"(input shape {tuple(in_shape)})")
    return shape


def reshape(input, *shape):
    """The same data with a new shape (one dimension may be -1, inferred)."""
    input = _tensor(input)
    shape = _resolve_shape(_shape_arg(shape, "reshape"), input._data.size, input.shape, "reshape")
    if shape == input.shape and not input.requires_grad:
        return input
    out = apply(Reshape(shape), input)
    if np.may_share_memory(out._data, input._data):  # NumPy copies when strides forbid a view
        return _view_of(out, input, lambda a: a.reshape(shape))
    return _view_of(out, input)


def view(input, *shape):
    """Like :func:`reshape` but never copies: the result shares memory with ``input``.

    A dtype argument reinterprets the bytes, as ``Tensor.view(dtype)`` does.
    """

    input = _tensor(input)
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not hasattr(shape[0], "tolist"):

        return Tensor._make(input._data.view(backend.to_dtype(shape[0])), None)
    shape = _resolve_shape(_shape_arg(shape, "view"), input._data.size, input.shape, "view")
    try:
        np.reshape(input._data, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (input shape "
            f"{tuple(input.shape)}, requested {list(shape)}): at least one dimension spans "
            "across two contiguous subspaces. Use .reshape(...) instead."
        ) from None
    return _view_of(apply(Reshape(shape), input), input, lambda a: a.reshape(shape))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim``..``end_dim`` into one."""
    input = _tensor(input)
    if input.ndim == 0:
        return reshape(input, 1)
    s = normalize_dim(start_dim, input.ndim, "flatten")
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input.shape
    return reshape(input, shp[:s] + (-1 if 0 not in shp[s:e + 1] else 0,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    input = _tensor(input)
    d = normalize_dim(dim, input.ndim, "unflatten")
    shp = input.shape
    return reshape(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def squeeze(input, dim=None):
    """Remove size-1 dims (all of them, or only ``dim`` if it has size 1)."""
    input = _tensor(input)
    shp = input.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {normalize_dim(d, input.ndim, "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return reshape(input, new) if new != shp else input


def unsqueeze(input, dim):
    """Insert a size-1 dim at position ``dim``."""
    input = _tensor(input)
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    shp = input.shape
    return reshape(input, shp[:d] + (1,) + shp[d:])


# ------------------------------------------------------------------ permutations

class Permute(Node):
    save_inputs = False

    def __init__(self, axes):
        self.axes = axes

    def forward(self, a):
        return a.transpose(self.axes)

    def backward(self, g):
        from ._util import permute as _perm

        return _perm(g, tuple(np.argsort(self.axes)))


def permute(input, *dims):
    """Reorder the dimensions: output dim ``i`` is input dim ``dims[i]``."""
    input = _tensor(input)
    dims = _shape_arg(dims, "permute")
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not "
                           f"match the length of the desired ordering of dimensions i.e. input.dim() "
                           f"= {input.ndim} is not equal to len(dims) = {len(dims)}")
    axes = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if sorted(axes) != list(range(input.ndim)):
        raise RuntimeError(f"permute(): dims {dims} are not a permutation of {input.ndim} dims")
    return _view_of(apply(Permute(axes), input), input, lambda a: _permute(a, axes))


def transpose(input, dim0, dim1):
    """Swap two dimensions."""
    input = _tensor(input)
    n = input.ndim
    if n < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    a = normalize_dim(dim0, n, "transpose")
    b = normalize_dim(dim1, n, "transpose")
    axes = list(range(n))
    axes[a], axes[b] = axes[b], axes[a]
    axes = tuple(axes)
    return _view_of(apply(Permute(axes), input), input, lambda a: _permute(a, axes))


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dimensions."""
    input = _tensor(input)
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    input = _tensor(input)
    n = input.ndim
    src = [normalize_dim(s, n, "movedim") for s in ([source] if isinstance(source, int) else source)]
    dst = [normalize_dim(d, n, "movedim") for d in
           ([destination] if isinstance(destination, int) else destination)]
    perm = [None] * n
    for s_, d_ in zip(src, dst):
        perm[d_] = s_
    rest = iter(d for d in range(n) if d not in src)
    perm = [p if p is not None else next(rest) for p in perm]
    return permute(input, perm)


moveaxis = movedim


# ------------------------------------------------------------------ broadcasting

class Expand(Node):
    save_inputs = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        self.in_shape = a.shape
        return np.broadcast_to(a, self.shape)

    def backward(self, g):
        return sum_to(g, self.in_shape)


def expand(input, *sizes):
    """Broadcast to a larger shape without copying (-1 keeps a dimension's size)."""
    input = _tensor(input)
    sizes = _shape_arg(sizes, "expand")
    shp = input.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {i}")
            target.append(s)
        else:
            cur = shp[i - lead]
            if s == -1:
                s = cur
            if cur != 1 and cur != s:
                raise RuntimeError(
                    f"expand: the expanded size of the tensor ({s}) must match the existing size "
                    f"({cur}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                    f"Tensor sizes: {list(shp)}"
                )
            target.append(s)
    target = tuple(target)
    if target == shp:
        return input
    return _view_of(apply(Expand(target), input), input)


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*[_tensor(t).shape for t in tensors])
    return tuple(expand(_tensor(t), shape) for t in tensors)


def broadcast_shapes(*shapes):
    from ..tensor import Size

    return Size(np.broadcast_shapes(*shapes))


class Repeat(Node):
    save_inputs = False

    def __init__(self, reps):
        self.reps = reps

    def forward(self, a):
        self.in_shape = a.shape
        return np.tile(a, self.reps)

    def backward(self, g):
        lead = len(self.reps) - len(self.in_shape)
        shape = (1,) * lead + self.in_shape
        split = []
        for r, s in zip(self.reps, shape):
            split += [r, s]
        g = g.reshape(tuple(split)).sum(axis=tuple(range(0, 2 * len(shape), 2)))
        return g.reshape(self.in_shape)


def repeat(input, *sizes):
    """Tile the tensor ``sizes[i]`` times along each dimension."""
    input = _tensor(input)
    sizes = _shape_arg(sizes, "repeat")
    if len(sizes) < input.ndim:
        raise RuntimeError("repeat: number of dimensions of repeat dims can not be smaller than "
                           f"number of dimensions of tensor ({len(sizes)} < {input.ndim})")
    return apply(Repeat(sizes), input)


def repeat_interleave(input, repeats, dim=None):
    input = _tensor(input)
    if dim is None:
        input = flatten(input)
        dim = 0
    d = normalize_dim(dim, input.ndim)
    reps = repeats.numpy() if hasattr(repeats, "numpy") else repeats
    idx = np.repeat(np.arange(input.shape[d]), reps)
    return index_select(input, d, idx)


def tile(input, dims):
    input = _tensor(input)
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


# ------------------------------------------------------------------ joining and splitting

class Cat(Node):
    save_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        self.sizes = [a.shape[self.axis] for a in arrays]
        self.dtypes = [a.dtype for a in arrays]
        dt = result_type(*arrays)  # PyTorch's promotion: int64 with float32 gives float32
        return np.concatenate(arrays, axis=self.axis, dtype=dt)

    def backward(self, g):
        out, start = [], 0
        pre = (slice(None),) * self.axis
        for n, need, dt in zip(self.sizes, self.needs, self.dtypes):
            gi = None
            if need:
                gi = g[pre + (slice(start, start + n),)]
                if gi.dtype != dt:  # each piece goes back in its input's dtype
                    gi = gi.astype(dt) if gi.__class__ is np.ndarray else gi.to(dt)
            out.append(gi)
            start += n
        return tuple(out) if len(out) > 1 else out[0]


class Stack(Cat):
    """Join same-shaped arrays along a new axis; the gradient is sliced back apart."""

    def forward(self, *arrays):
        self.sizes = [1] * len(arrays)
        self.dtypes = [a.dtype for a in arrays]
        return np.stack(arrays, axis=self.axis, dtype=result_type(*arrays))

    def backward(self, g):
        pre = (slice(None),) * self.axis
        out = []
        for i, (need, dt) in enumerate(zip(self.needs, self.dtypes)):
            gi = None
            if need:
                gi = g[pre + (i,)]
                if gi.dtype != dt:
                    gi = gi.astype(dt) if gi.__class__ is np.ndarray else gi.to(dt)
            out.append(gi)
        return tuple(out) if len(out) > 1 else out[0]


def cat(tensors, dim=0, *, out=None, axis=None):
    """Concatenate tensors along an existing dimension."""
    if axis is not None:
        dim = axis
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    # PyTorch skips legacy empty 1-D tensors of shape (0,)
    nonempty = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = nonempty[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(nonempty):
        if t.ndim != ref.ndim or t.shape[:d] + t.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]:
            raise RuntimeError(
                f"cat(): sizes of tensors must match except in dimension {d}. Expected shape "
                f"{_star(ref.shape, d)} but got {tuple(t.shape)} for tensor number {i} in the list"
            )
    r = apply(Cat(d), *nonempty)
    if out is not None:
        out.set_(r)
        return out
    return r


def _star(shape, d):
    return "(" + ", ".join("*" if i == d else str(s) for i, s in enumerate(shape)) + ")"


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join tensors of the same shape along a new dimension."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {tuple(shp)} at "
                               f"entry 0 and {tuple(t.shape)} at entry {i}")
    d = normalize_dim(dim, len(shp) + 1, "stack")
    r = apply(Stack(d), *tensors)
    if out is not None:
        out.set_(r)
        return out
    return r


def hstack(tensors):
    tensors = [_tensor(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    tensors = [atleast_2d(_tensor(t)) for t in tensors]
    return cat(tensors, 0)


def atleast_2d(t):
    t = _tensor(t)
    while t.ndim < 2:
        t = unsqueeze(t, 0)
    return t


def split(tensor, split_size_or_sections, dim=0):
    """Split into chunks of a given size (int) or of the listed sizes."""
    tensor = _tensor(tensor)
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n > 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s > 0 else [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                               f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    pre = (slice(None),) * d
    for s in sizes:
        out.append(tensor[pre + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of (nearly) equal size, as PyTorch does."""
    input = _tensor(input)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    size = -(-n // chunks) if n else 0
    return split(input, size, d) if size else (input,)


def tensor_split(input, indices_or_sections, dim=0):
    input = _tensor(input)
    d = normalize_dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
    else:
        idx = [0] + list(indices_or_sections) + [n]
        sizes = [max(0, b - a) for a, b in zip(idx[:-1], idx[1:])]
    return split(input, sizes, d)


def unbind(input, dim=0):
    """Remove a dimension, returning the slices along it."""
    input = _tensor(input)
    d = normalize_dim(dim, input.ndim, "unbind")
    pre = (slice(None),) * d
    return tuple(input[pre + (i,)] for i in range(input.shape[d]))


def narrow(input, dim, start, length):
    input = _tensor(input)
    d = normalize_dim(dim, input.ndim, "narrow")
    start = int(start)
    if start < 0:
        start += input.shape[d]
    return input[(slice(None),) * d + (slice(start, start + length),)]


# ------------------------------------------------------------------ flip / pad / roll

class Flip(Node):
    save_inputs = False

    def __init__(self, axes):
        self.axes = axes

    def forward(self, a):
        return np.flip(a, self.axes).copy()

    def backward(self, g):
        from ._util import flip as _flip

        return _flip(g, self.axes)


def flip(input, dims):
    """Reverse the order of elements along ``dims``."""
    input = _tensor(input)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return apply(Flip(tuple(normalize_dim(d, input.ndim, "flip") for d in dims)), input)


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
    return flip(input, (0,))


class Roll(Node):
    save_inputs = False

    def __init__(self, shifts, axes):
        self.shifts, self.axes = shifts, axes

    def forward(self, a):
        if self.axes is None:
            return np.roll(a, self.shifts)
        return np.roll(a, self.shifts, self.axes)

    def backward(self, g):
        neg = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        if g.__class__ is np.ndarray:
            return np.roll(g, neg) if self.axes is None else np.roll(g, neg, self.axes)
        return roll(g, neg, self.axes)


def roll(input, shifts, dims=None):
    input = _tensor(input)
    if isinstance(shifts, (list, tuple)):
        shifts = tuple(shifts)
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        if isinstance(shifts, int):
            shifts = (shifts,)
    if dims is None:
        flat = apply(Roll(shifts, None), flatten(input))
        return reshape(flat, input.shape)
    return apply(Roll(shifts, dims), input)


class Pad(Node):
    """Constant padding; the gradient is the unpadded middle of the upstream gradient."""

    save_inputs = False

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, a):
        self.in_shape = a.shape
        w = self.widths
        if builtins.any(lo < 0 or hi < 0 for lo, hi in w):
            # negative padding crops
            a = a[tuple(slice(-lo if lo < 0 else 0, (s + hi) if hi < 0 else None)
                        for (lo, hi), s in zip(w, a.shape))]
            w = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in w]
        return np.pad(a, w, mode="constant", constant_values=self.value)

    def backward(self, g):
        idx = []
        full = []
        for (lo, hi), s in zip(self.widths, self.in_shape):
            idx.append(slice(builtins.max(lo, 0), builtins.max(lo, 0) + s - builtins.max(-lo, 0)
                             - builtins.max(-hi, 0)))
            full.append((builtins.max(-lo, 0), builtins.max(-hi, 0)))
        r = g[tuple(idx)]
        if builtins.any(a or b for a, b in full):
            if r.__class__ is np.ndarray:
                r = np.pad(r, full)
            else:
                r = pad(r, _torch_pad_order(full))
        return r


def _torch_pad_order(widths):
    out = []
    for lo, hi in reversed(widths):
        out += [lo, hi]
    return tuple(out)


class _PadMode(Node):
    """reflect / replicate / circular padding: the gradient scatters back through the index map."""

    save_inputs = False

    def __init__(self, index):
        self.index = index  # integer index array per padded dim

    def forward(self, a):
        self.in_shape = a.shape
        return a[self.index]

    def backward(self, g):
        return index_put_add(g, self.index, self.in_shape)


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dimensions: ``pad = (left, right, top, bottom, ...)``.

    ``mode`` is 'constant' (with ``value``, default 0), 'reflect', 'replicate' or 'circular'.
    """
    input = _tensor(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)}")
    k = len(pad) // 2
    if k > input.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} is too large for a {input.ndim}-D input "
                           f"of shape {tuple(input.shape)}: at most {2 * input.ndim} values")
    widths = [(0, 0)] * (input.ndim - k)
    for i in range(k):
        widths.append((pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1]))
    if mode == "constant":
        return apply(Pad(widths, 0 if value is None else value), input)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if np_mode is None:
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; use 'constant', 'reflect', "
                                  "'replicate' or 'circular'")
    for (lo, hi), s in zip(widths[-k:], input.shape[-k:]):
        if mode == "reflect" and (lo >= s or hi >= s):
            raise RuntimeError(f"pad: padding size should be less than the corresponding input "
                               f"dimension for reflect mode, but got padding ({lo}, {hi}) at "
                               f"dimension of size {s}")
    grids = []
    for d, ((lo, hi), s) in enumerate(zip(widths, input.shape)):
        ar = np.pad(np.arange(s), (lo, hi), mode=np_mode) if (lo or hi) else np.arange(s)
        shape = [1] * input.ndim
        shape[d] = len(ar)
        grids.append(ar.reshape(shape))
    return apply(_PadMode(tuple(grids)), input)


# ------------------------------------------------------------------ indexing

def _normalize_index(idx):
    """Turn a user index into something NumPy accepts (tensors -> arrays, lists -> arrays)."""

    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, "
                                 f"got dtype {a.dtype}")
            out.append(a if a.ndim or a.dtype == np.bool_ else int(a))
        elif isinstance(i, (list,)):
            a = np.asarray([x.item() if isinstance(x, Tensor) else x for x in i]) if i else \
                np.zeros(0, dtype=np.int64)
            if a.dtype.kind not in "biu":
                raise IndexError(f"index list must hold ints or bools, got {i!r}")
            out.append(a)
        elif isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            raise IndexError(f"arrays used as indices must be integer or bool, got dtype {i.dtype}")
        else:
            out.append(i)
    return tuple(out)


def _is_basic(idx):
    for i in idx:
        if not (i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))):
            return False
    return True


class GetItem(Node):
    save_inputs = False

    def __init__(self, index, basic):
        self.index, self.basic = index, basic

    def forward(self, a):
        self.in_shape, self.in_dtype = a.shape, a.dtype
        return a[self.index]

    def name(self):
        # PyTorch's name: its last indexing step (w[:2] prints grad_fn=<SliceBackward0>)
        if not self.basic:
            return "IndexBackward0"
        items = [i for i in self.index if i is not Ellipsis]
        while len(items) > 1 and items[-1] == slice(None):
            items.pop()
        last = items[-1] if items else slice(None)
        if last is None:
            return "UnsqueezeBackward0"
        return "SliceBackward0" if isinstance(last, slice) else "SelectBackward0"

    def backward(self, g):
        if self.basic and g.__class__ is np.ndarray:
            out = np.zeros(self.in_shape, dtype=self.in_dtype)
            out[self.index] = g
            return out
        return index_put_add(g, self.index, self.in_shape, self.in_dtype)


class IndexPutAdd(Node):
    """Scatter-add ``g`` into zeros of ``shape`` at ``index`` (backward of indexing)."""

    save_inputs = False

    def __init__(self, index, shape, dtype):
        self.index, self.shape, self.dtype = index, shape, dtype

    def forward(self, g):
        out = np.zeros(self.shape, dtype=self.dtype or g.dtype)
        _add_at(out, self.index, g)
        return out

    def backward(self, gg):
        return gg[self.index]


def _add_at(out, index, g):
    """``out[index] += g`` with repeated indices accumulating; fast for one leading int array."""
    if (len(index) == 1 and isinstance(index[0], np.ndarray) and index[0].dtype.kind in "iu"
            and index[0].ndim == 1 and out.ndim >= 1):
        idx = index[0]
        n = out.shape[0]
        idx = np.where(idx < 0, idx + n, idx)
        if out.ndim == 1:
            out += np.bincount(idx, weights=g, minlength=n).astype(out.dtype, copy=False)
            return
        # sorting then reduceat is much faster than np.add.at for row gathers
        order = np.argsort(idx, kind="stable")
        sidx = idx[order]
        starts = np.flatnonzero(np.r_[True, sidx[1:] != sidx[:-1]]) if len(sidx) else sidx
        if len(sidx):
            sums = np.add.reduceat(g.reshape(len(idx), -1)[order], starts, axis=0)
            out.reshape(n, -1)[sidx[starts]] += sums
        return
    np.add.at(out, index, g)


def index_put_add(g, index, shape, dtype=None):
    if g.__class__ is np.ndarray:
        out = np.zeros(shape, dtype=dtype or g.dtype)
        _add_at(out, index if isinstance(index, tuple) else (index,), g)
        return out
    return apply(IndexPutAdd(index if isinstance(index, tuple) else (index,), shape, dtype), g)


def _index_view(idx):
    """``a[idx]`` as a view even when every index is an int (NumPy would return a scalar)."""
    if not builtins.any(i is Ellipsis for i in idx):
        idx = idx + (Ellipsis,)
    return lambda a: a[idx]


def _mixes_ints_and_arrays(idx):
    has_int = has_arr = False
    for i in idx:
        if isinstance(i, np.ndarray):
            has_arr = True
        elif isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            has_int = True
    return has_int and has_arr


def getitem(input, index):
    """``input[index]``: ints, slices (with steps), None, Ellipsis, bool masks, int arrays."""
    input = _tensor(input)
    idx = _normalize_index(index)
    basic = _is_basic(idx)
    try:
        if basic:
            out = apply(GetItem(idx, True), input)
            return _view_of(out, input, _index_view(idx))
        if _mixes_ints_and_arrays(idx):
            # PyTorch selects with the integers first, then applies the index arrays; NumPy
            # counts the integers as index arrays too, which can move the indexed dims first
            first = []
            rest = []
            for i in idx:
                if isinstance(i, np.ndarray):
                    first += [slice(None)] * (i.ndim if i.dtype == np.bool_ else 1)
                    rest.append(i)
                else:
                    first.append(i)
                    if not isinstance(i, (int, np.integer)):
                        rest.append(Ellipsis if i is Ellipsis else slice(None))
            first = tuple(first)
            input = _view_of(apply(GetItem(first, True), input), input, _index_view(first))
            idx = tuple(rest)
        return apply(GetItem(idx, False), input)
    except IndexError as e:
        raise IndexError(f"index {index!r} is out of range for a tensor of shape "
                         f"{tuple(input.shape)}: {e}") from None


class SetItem(Node):
    """``x[index] = v`` as a graph op: the old values get no gradient, ``v`` gets the slice."""

    save_inputs = False

    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        self.v_shape = getattr(v, "shape", ())
        self.v_dtype = getattr(v, "dtype", None)
        out = x.copy()
        out[self.index] = v
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs[0]:
            if g.__class__ is np.ndarray:
                gx = g.copy()
                gx[self.index] = 0
            else:
                mask = np.ones(g.shape, dtype=bool)
                mask[self.index] = False
                gx = g * mask
        if self.needs[1]:
            gi = g[self.index]
            gv = sum_to(gi, self.v_shape) if gi.shape != self.v_shape else gi
        return gx, gv


def setitem(input, index, value):
    """In-place ``input[index] = value`` that keeps autograd correct."""

    idx = _normalize_index(index)
    v = value._data if isinstance(value, Tensor) else value
    needs_graph = GRAD.enabled and (input.requires_grad
                                    or (isinstance(value, Tensor) and value.requires_grad))
    try:
        if not needs_graph:
            input._data[idx] = v
            input._version[0] += 1
            return input
        input._check_inplace("setitem")
        snap = input._snapshot()
        r = apply(SetItem(idx), snap, value)
        input._data[...] = r._data
        input._version[0] += 1
        input._rebase(r)
        return input
    except (IndexError, ValueError) as e:
        raise type(e)(f"setitem: cannot assign a value of shape {tuple(np.shape(v))} to index "
                      f"{index!r} of a tensor of shape {tuple(input.shape)}: {e}") from None


class TakeAlong(Node):
    """``gather``: pick elements along ``axis`` by an index array of the same rank."""

    save_inputs = False

    def __init__(self, index, axis):
        self.index, self.axis = index, axis

    def forward(self, a):
        self.in_shape, self.in_dtype = a.shape, a.dtype
        return np.take_along_axis(a, self.index, axis=self.axis)

    def backward(self, g):
        return scatter_add_along(g, self.index, self.axis, self.in_shape, self.in_dtype)


class ScatterAddAlong(Node):
    save_inputs = False

    def __init__(self, index, axis, shape, dtype):
        self.index, self.axis, self.shape, self.dtype = index, axis, shape, dtype

    def forward(self, g):
        out = np.zeros(self.shape, dtype=self.dtype or g.dtype)
        np.add.at(out, _along_index(self.index, self.axis), g)
        return out

    def backward(self, gg):
        return _take_along(gg, self.index, self.axis)


def _take_along(g, index, axis):
    """``g`` gathered at ``index`` along ``axis`` (array or Tensor), ``index`` possibly smaller
    than ``g`` in the other dims (the backward of scatter and scatter_add)."""
    if builtins.any(i != axis and n != m for i, (n, m) in enumerate(zip(index.shape, g.shape))):
        g = g[tuple(slice(None) if i == axis else slice(0, n) for i, n in enumerate(index.shape))]
    if g.__class__ is np.ndarray:
        return np.take_along_axis(g, index, axis=axis)
    return apply(TakeAlong(index, axis), g)


def _along_index(index, axis):
    """Full fancy index equivalent to put_along_axis positions (for np.add.at)."""
    grids = np.indices(index.shape, sparse=True)
    grids = list(grids)
    grids[axis] = index
    return tuple(grids)


def scatter_add_along(g, index, axis, shape, dtype=None):
    if g.__class__ is np.ndarray:
        out = np.zeros(shape, dtype=dtype or g.dtype)
        if index.shape[axis] == 1 and g.shape == index.shape:
            np.put_along_axis(out, index, g, axis=axis)  # one index per row: no collisions
        else:
            np.add.at(out, _along_index(index, axis), g)
        return out
    return apply(ScatterAddAlong(index, axis, shape, dtype), g)


def gather(input, dim, index, *, sparse_grad=False):
    """Pick values along ``dim``: ``out[i][j] = input[index[i][j]][j]`` (for dim=0)."""

    input = _tensor(input)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {idx.dtype}")
    d = normalize_dim(dim, input.ndim, "gather")
    if idx.ndim != input.ndim:
        raise RuntimeError(f"gather(): Index tensor must have the same number of dimensions as input "
                           f"tensor (index shape {tuple(idx.shape)}, input shape {tuple(input.shape)})")
    for i, (a, b) in enumerate(zip(idx.shape, input.shape)):
        if i != d and a > b:
            raise RuntimeError(f"gather(): Size does not match at dimension {i} expected index "
                               f"{tuple(idx.shape)} to be smaller than self {tuple(input.shape)} "
                               f"apart from dimension {d}")
    if idx.size and (idx.max() >= input.shape[d] or idx.min() < -input.shape[d]):
        raise RuntimeError(f"gather(): index {int(idx.max())} is out of bounds for dimension {d} "
                           f"with size {input.shape[d]}")
    src = input
    if builtins.any(i != d and a < b for i, (a, b) in enumerate(zip(idx.shape, input.shape))):
        src = input[tuple(slice(None) if i == d else slice(0, a) for i, a in enumerate(idx.shape))]
    return apply(TakeAlong(idx.astype(np.intp, copy=False), d), src)


class Scatter(Node):
    """``scatter``: ``input`` with ``src`` written at ``index`` along ``axis`` (where an index
    repeats, the last write wins). ``src`` has the index's shape."""

    save_inputs = False

    def __init__(self, index, axis):
        self.index, self.axis = index, axis

    def forward(self, a, s):
        self.shape = a.shape
        out = a.copy()
        out[_along_index(self.index, self.axis)] = s
        return out

    def backward(self, g):
        ga = gs = None
        if self.needs[0]:
            # the overwritten entries of the input get no gradient
            keep = np.ones(self.shape, dtype=bool)
            keep[_along_index(self.index, self.axis)] = False
            ga = g * keep
        if self.needs[1]:
            gs = _take_along(g, self.index, self.axis)
        return ga, gs


def _scatter_args(op, input, dim, index, src):
    """Check ``index`` against ``input`` and ``src`` as PyTorch does; ``src`` cut to the
    index's shape (it may be larger). A 0-d index (or src) counts as one element."""
    input = _tensor(input)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {idx.dtype}")
    if idx.ndim == 0 and input.ndim:
        idx = idx.reshape((1,) * input.ndim)
    d = normalize_dim(dim, input.ndim, op)
    if idx.ndim != input.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as self "
                           f"tensor (index shape {tuple(idx.shape)}, self shape "
                           f"{tuple(input.shape)})")
    for i, (a, b) in enumerate(zip(idx.shape, input.shape)):
        if i != d and a > b:
            raise RuntimeError(f"{op}(): Expected index {tuple(idx.shape)} to be smaller than self "
                               f"{tuple(input.shape)} apart from dimension {d}")
    if idx.size and (idx.max() >= input.shape[d] or idx.min() < -input.shape[d]):
        bad = int(idx.max()) if idx.max() >= input.shape[d] else int(idx.min())
        raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {d} with size "
                           f"{input.shape[d]}")
    src = _tensor(src)
    if src.ndim == 0 and input.ndim:
        src = reshape(src, (1,) * input.ndim)
    if src.ndim != idx.ndim or builtins.any(a > b for a, b in zip(idx.shape, src.shape)):
        raise RuntimeError(f"{op}(): Expected src {tuple(src.shape)} to be at least as large as "
                           f"index {tuple(idx.shape)} in every dimension")
    if tuple(src.shape) != idx.shape:
        src = getitem(src, tuple(slice(0, n) for n in idx.shape))
    if src.dtype != input.dtype:
        src = src.to(input.dtype)
    return input, d, np.where(idx < 0, idx + input.shape[d], idx).astype(np.intp), src


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Write ``src`` (or the number ``value``) into a copy of ``input`` at ``index`` along
    ``dim``: ``out[index[i][j]][j] = src[i][j]`` for ``dim=0``.

    Args:
        input (Tensor): the tensor to write into (a copy; ``scatter_`` writes in place).
        dim (int): the dimension ``index`` points along.
        index (LongTensor): where each element of ``src`` goes; same number of dims as
            ``input``, no larger apart from ``dim``.
        src (Tensor or float): the values (at least as large as ``index``), or a number.
        value (float): a number to write (instead of ``src``).
        reduce (str, optional): ``'add'`` or ``'multiply'`` to combine with what is there.

    Example::

        >>> retrograd.zeros(3, 5).scatter(1, retrograd.tensor([[0], [1], [2]]), 1.0)[0]
        tensor([1., 0., 0., 0., 0.])
    """
    if (src is None) == (value is None):
        raise TypeError("scatter(): pass exactly one of src (a tensor or number) and value")
    op = "scatter"
    if src is None or not isinstance(src, Tensor):
        # a number: a constant array of the index's shape
        v = value if src is None else src
        input = _tensor(input)
        src = Tensor._make(np.full(np.shape(index._data if isinstance(index, Tensor) else index),
                                   v, dtype=input.dtype))
    input, d, idx, src = _scatter_args(op, input, dim, index, src)
    if reduce is None:
        return apply(Scatter(idx, d), input, src)
    if reduce == "add":
        return input + scatter_add_along(src, idx, d, tuple(input.shape))
    if reduce == "multiply":
        if src.requires_grad and GRAD.enabled:
            raise RuntimeError("scatter(reduce='multiply'): no gradient for src; use "
                               "reduce='add', or src.detach()")
        return input * _scatter_product(input, d, idx, src)
    raise RuntimeError(f"scatter(): reduce argument must be either 'add' or 'multiply', got "
                       f"{reduce!r}")


def _scatter_product(input, d, idx, src):
    """The product of the ``src`` values landing on each element (1 where none land)."""
    out = np.ones(input.shape, dtype=input.dtype)
    np.multiply.at(out, _along_index(idx, d), src._data)
    return Tensor._make(out)


def scatter_add(input, dim, index, src):
    """``input`` plus ``src`` summed into it at ``index`` along ``dim`` (repeated indices add
    up): ``out[index[i][j]][j] += src[i][j]`` for ``dim=0``. Differentiable in both."""
    input, d, idx, src = _scatter_args("scatter_add", input, dim, index, src)
    return input + scatter_add_along(src, idx, d, tuple(input.shape))


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(flatten(input), 0, flatten(indices))
    return gather(input, dim, indices)


def index_select(input, dim, index):
    """Select entries along ``dim`` by an integer index vector."""

    input = _tensor(input)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got shape {idx.shape}")
    d = normalize_dim(dim, input.ndim, "index_select")
    return getitem(input, (slice(None),) * d + (idx.reshape(-1).astype(np.int64),))


def masked_fill(input, mask, value):
    """Replace the elements where ``mask`` is True by ``value`` (mask broadcasts)."""
    from .elementwise import where

    input = _tensor(input)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value.ndim} dimension(s)")
        if not value.requires_grad:
            value = value.item()
    try:
        np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise RuntimeError(f"masked_fill: the mask of shape {m.shape} does not broadcast to the input "
                           f"of shape {tuple(input.shape)}") from None
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=input.dtype)
    out = where(Tensor._make(m, None), value, input)
    if out.shape != input.shape:
        raise RuntimeError(f"masked_fill: mask of shape {m.shape} would grow the input of shape "
                           f"{tuple(input.shape)}")
    return out


def masked_select(input, mask):

    input = _tensor(input)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    shape = np.broadcast_shapes(m.shape, input.shape)
    return getitem(expand(input, shape), np.broadcast_to(m, shape))


def tril(input, diagonal=0):
    input = _tensor(input)
    m = np.tril(np.ones(input.shape[-2:], dtype=bool), diagonal)
    return masked_fill(input, ~m, 0)


def triu(input, diagonal=0):
    input = _tensor(input)
    m = np.triu(np.ones(input.shape[-2:], dtype=bool), diagonal)
    return masked_fill(input, ~m, 0)


def diagonal(input, offset=0, dim1=0, dim2=1):
    input = _tensor(input)
    n = input.ndim
    a, b = normalize_dim(dim1, n), normalize_dim(dim2, n)
    rows = np.arange(builtins.max(0, -offset), builtins.min(input.shape[a], input.shape[b] - offset))
    idx = [slice(None)] * n
    idx[a] = rows
    idx[b] = rows + offset
    out = getitem(input, tuple(idx))
    # numpy puts the advanced-index axis first when a and b are not adjacent; move it last
    if builtins.abs(a - b) != 1 or n == 2:
        first = 0 if builtins.abs(a - b) != 1 else builtins.min(a, b)
        return movedim(out, first, -1) if out.ndim > 1 else out
    return movedim(out, builtins.min(a, b), -1)


def trace(input):
    return diagonal(input).sum()


def contiguous(input):
    input = _tensor(input)
    if input._data.flags.c_contiguous:
        return input
    out = apply(Reshape(input.shape), input)  # identity op that records the graph
    out._data = np.ascontiguousarray(out._data)
    return out


def _expand_helper(g, shape):
    return _expand(g, shape)
