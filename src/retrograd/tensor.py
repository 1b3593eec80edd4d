"""The Tensor: a NumPy array plus what backpropagation needs.

``_data`` is the array. ``requires_grad`` says whether gradients should flow to
this tensor; ``grad_fn`` is the graph node that produced it (``None`` for a leaf,
i.e. a tensor created by the user); ``grad`` receives the gradient of a leaf after
``backward()``. Everything else is PyTorch's Tensor API, delegating to the ops.
"""

from __future__ import annotations

import numbers
import weakref

import numpy as np

from . import backend
from .autograd.grad_mode import GRAD


class Size(tuple):
    """A tensor's shape: a tuple, printed as ``retrograd.Size([2, 3])`` like ``torch.Size``."""

    def __repr__(self):
        return f"retrograd.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


def _infer_dtype(data):
    """PyTorch's rule for ``tensor(data)`` without ``dtype``: floats -> float32, ints -> int64."""
    if isinstance(data, np.ndarray):
        return data.dtype
    if isinstance(data, bool):
        return backend.bool_
    if isinstance(data, numbers.Integral):
        return backend.int64
    if isinstance(data, numbers.Real):
        return backend.get_default_dtype()
    return None


def _to_array(data, dtype=None, copy=True):
    """Turn tensor-like data (nested lists of numbers/tensors, arrays, scalars) into an ndarray."""
    if isinstance(data, Tensor):
        arr = data._data
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr
    if isinstance(data, np.generic):
        data = np.asarray(data)  # a NumPy scalar keeps its dtype, as in torch.tensor
    if isinstance(data, np.ndarray):
        if dtype is not None and data.dtype != dtype:
            return data.astype(dtype)
        if data.dtype == np.float64 or data.dtype.kind in "biuf":
            return np.array(data, copy=True) if copy else data
        if data.dtype.kind == "O":
            return _to_array(data.tolist(), dtype, copy)
        return np.array(data, copy=copy)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _untensor(data)
    if dtype is None:
        arr = np.asarray(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(backend.get_default_dtype(), copy=False)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
        elif arr.dtype.kind not in "bc":
            raise TypeError(f"tensor(): could not infer a numeric dtype from data of type "
                            f"{type(data).__name__} (NumPy made {arr.dtype})")
        return arr
    return np.array(data, dtype=dtype)


def _flat(x):
    if isinstance(x, (list, tuple)):
        for y in x:
            yield from _flat(y)
    else:
        yield x


def _untensor(x):
    if isinstance(x, (list, tuple)):
        return [_untensor(y) for y in x]
    if isinstance(x, Tensor):
        return x._data.tolist() if x.ndim else x._data.item()
    return x


def _is_size_arg(x):
    return isinstance(x, Size) or (isinstance(x, (int, np.integer)) and not isinstance(x, bool))


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    Create tensors with :func:`retrograd.tensor`, :func:`retrograd.zeros`,
    :func:`retrograd.randn` and friends. The legacy constructor works as in PyTorch:
    ``Tensor(2, 3)`` (or ``Tensor(size)``) is a 2x3 tensor of the default float dtype
    (zeros, where PyTorch leaves the memory uninitialised), and ``Tensor(data)`` turns
    a list or array into the default float dtype (``Tensor([1, 2])`` is
    ``tensor([1., 2.])``); a Tensor passed in keeps its dtype. ``dtype=`` overrides.
    """

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_version", "__dict__", "__weakref__")
    # NumPy must leave binary operators to us: `array * tensor` calls Tensor.__rmul__.
    __array_priority__ = 1000

    def __init__(self, *args, dtype=None, requires_grad=False, device=None):
        backend.check_device(device, "Tensor")
        dtype = backend.to_dtype(dtype)
        if len(args) == 1 and not _is_size_arg(args[0]):
            data = args[0]
            if dtype is None and not isinstance(data, Tensor):
                dtype = backend.get_default_dtype()
            self._data = _to_array(data, dtype, copy=False)
        else:
            if len(args) == 1 and isinstance(args[0], Size):
                size = tuple(args[0])
            elif all(_is_size_arg(a) and not isinstance(a, Size) for a in args):
                size = tuple(int(a) for a in args) or (0,)  # Tensor() is empty
            else:
                raise TypeError(
                    f"Tensor(): expected sizes (Tensor(2, 3)) or one data argument (a list, "
                    f"array or tensor), got {', '.join(type(a).__name__ for a in args)}. "
                    "For a given dtype use retrograd.tensor(data, dtype=...)")
            self._data = np.zeros(size, dtype=dtype or backend.get_default_dtype())
        self.grad = None
        self.grad_fn = None
        self._version = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, grad_fn=None, requires_grad=None):
        """Wrap an array without copying (internal constructor)."""
        t = Tensor.__new__(Tensor)
        if data.__class__ is not np.ndarray:
            data = np.asarray(data)
        t._data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._version = [0]
        t.requires_grad = grad_fn is not None if requires_grad is None else requires_grad
        return t

    # ------------------------------------------------------------------ identity
    __hash__ = object.__hash__

    # ------------------------------------------------------------------ basic attributes
    @property
    def data(self):
        """The legacy ``.data``: a detached tensor sharing this tensor's memory."""
        return Tensor._make(self._data, None, False)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def device(self):
        return backend.CPU

    @property
    def is_cuda(self):
        return False

    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "strided"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def T(self):
        from .ops import shape as S

        return S.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T

    @property
    def is_floating_point_(self):
        return self.dtype.kind == "f"

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        from .ops._util import normalize_dim

        return self._data.shape[normalize_dim(dim, self.ndim, "size")]

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def element_size(self):
        return self._data.itemsize

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def is_complex(self):
        return self.dtype.kind == "c"

    def is_contiguous(self, memory_format=None):
        return self._data.flags.c_contiguous

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[dim]

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def get_device(self):
        return -1

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        from .ops.shape import unbind

        return iter(unbind(self, 0))

    def __array__(self, dtype=None, copy=None):
        a = self._data
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on tensors become retrograd ops (so ``np.exp(t)`` is differentiable)."""
        from .ops import _ufuncs

        return _ufuncs.dispatch(ufunc, method, inputs, kwargs)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)}); use .any() or .all()")
        return bool(self._data)

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._scalar("index"))

    def __complex__(self):
        return complex(self._scalar("complex"))

    def _scalar(self, what):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               f"Python {what} (shape {tuple(self.shape)}); index it or use .tolist()")
        return self._data.reshape(()).item()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self._scalar("number")

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        return self._data.tolist()

    def numpy(self, *, force=False):
        """The NumPy array behind this tensor (shares memory, as in PyTorch)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __repr__(self):
        from ._format import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if not spec else format(str(self), spec)

    def __reduce_ex__(self, protocol):
        # deepcopy/copy support (pickle files are never read by retrograd.load)
        return (_rebuild, (self._data.copy(), self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment")
        t = type(self).__new__(type(self))
        t._data = self._data.copy()
        t.grad = None if self.grad is None else self.grad.__deepcopy__(memo)
        t.grad_fn = None
        t._version = [0]
        t.requires_grad = self.requires_grad
        if hasattr(self, "__dict__"):
            for k, v in self.__dict__.items():
                if k not in ("_hooks", "_post_acc_hooks"):
                    import copy as _copy

                    t.__dict__[k] = _copy.deepcopy(v, memo)
        memo[id(self)] = t
        return t

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (only on leaves) and return self."""
        if not self.is_leaf:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got {self._data.dtype}); convert first, e.g. x.float()")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. graph leaves (see :func:`autograd.backward`).

        Args:
            gradient: the gradient w.r.t. this tensor; may be omitted when it has one element.
            retain_graph: keep the graph so backward can run through it again.
            create_graph: record the backward pass (for gradients of gradients).
            inputs: only accumulate into these tensors' ``.grad``.
        """
        if (gradient is None and not create_graph and inputs is None and self.grad_fn is not None
                and self._data.size == 1):
            # the common `loss.backward()`: skip the general argument handling
            _run_backward((self,), (np.ones(self._data.shape, self._data.dtype),), bool(retain_graph))
            return
        from .autograd import backward as _backward

        _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A tensor sharing the data but cut from the graph (``requires_grad=False``)."""
        t = Tensor._make(self._data, None, False)
        t._version = self._version
        return t

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retain = weakref.ref(self)

    @property
    def retains_grad(self):
        return self.grad_fn is not None and self.grad_fn._retain is not None

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor or None``, called with this tensor's gradient in backward.

        Returning a tensor replaces the gradient. Returns a handle with ``remove()``.
        """
        from .autograd.graph import _RemovableHandle

        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            lst = self.grad_fn._hooks_list()
        else:
            lst = self.__dict__.setdefault("_hooks", [])
        lst.append(hook)
        return _RemovableHandle(lst, hook)

    @property
    def _hooks(self):
        return self.__dict__.get("_hooks")

    def register_post_accumulate_grad_hook(self, hook):
        from .autograd.graph import _RemovableHandle

        if not self.is_leaf:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        lst = self.__dict__.setdefault("_post_acc_hooks", [])
        lst.append(hook)
        return _RemovableHandle(lst, hook)

    # ------------------------------------------------------------------ in-place machinery
    def _bump(self):
        self._version[0] += 1

    def _check_inplace(self, op):
        if not GRAD.enabled:
            return
        if self.grad_fn is None and self.requires_grad:
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with retrograd.no_grad():` (as optimizers do), or work on a copy."
            )
        view = self.__dict__.get("_view")
        if view is not None and view[0].grad_fn is None and view[0].requires_grad:
            raise RuntimeError(
                f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
                "operation. Wrap the update in `with retrograd.no_grad():`, or work on a copy."
            )

    def _rebase(self, r):
        """After an in-place op wrote ``r``'s values into this tensor, take ``r``'s place in the
        graph; when this tensor is a view, its base moves too (its values changed as well)."""
        self.grad_fn = r.grad_fn
        self.requires_grad = True
        view = self.__dict__.get("_view")
        if view is not None:
            from .autograd.graph import apply

            root, fn = view
            t = apply(_ViewWrite(fn), root, r)
            root.grad_fn = t.grad_fn
            root.requires_grad = True

    def _snapshot(self):
        """A copy of this tensor's current value that keeps its place in the graph."""
        t = Tensor._make(self._data.copy(), self.grad_fn, self.requires_grad)
        if self.grad_fn is None and self.requires_grad:
            t.grad_fn = None
        return t

    def _inplace(self, fn, *args, op="inplace", **kwargs):
        """Run out-of-place ``fn(self, *args)`` and write the result into this tensor's memory."""
        needs_graph = GRAD.enabled and (self.requires_grad or any(
            isinstance(a, Tensor) and a.requires_grad for a in args))
        if needs_graph:
            self._check_inplace(op)
            r = fn(self._snapshot(), *args, **kwargs)
        else:
            with _NoGrad():
                r = fn(self, *args, **kwargs)
        res = r._data
        if res.shape != self._data.shape:
            try:
                res = np.broadcast_to(res, self._data.shape)
            except ValueError:
                raise RuntimeError(
                    f"{op}: output with shape {tuple(self.shape)} doesn't match the broadcast shape "
                    f"{tuple(r.shape)}") from None
        if res.dtype != self._data.dtype and not np.can_cast(res.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(f"{op}: result type {res.dtype} can't be cast to the desired output "
                               f"type {self._data.dtype}")
        self._data[...] = res
        self._version[0] += 1
        if needs_graph:
            self._rebase(r)
        return self

    def set_(self, source):
        self._data = source._data if isinstance(source, Tensor) else np.asarray(source)
        self._version[0] += 1
        return self

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast) into this tensor's memory; differentiable w.r.t. ``src``."""
        from .ops.elementwise import Add

        if not isinstance(src, Tensor):
            src = Tensor._make(np.asarray(src))
        if GRAD.enabled and src.requires_grad:
            self._check_inplace("copy_")
            from .autograd.graph import apply

            r = apply(_CopyFrom(self.shape, self.dtype), src)
            self._data[...] = r._data
            self._version[0] += 1
            self._rebase(r)
            return self
        if GRAD.enabled and self.requires_grad:
            self._check_inplace("copy_")
        try:
            self._data[...] = src._data
        except ValueError:
            raise RuntimeError(f"copy_: the source of shape {tuple(src.shape)} does not broadcast to "
                               f"the destination of shape {tuple(self.shape)}") from None
        self._version[0] += 1
        if GRAD.enabled and self.requires_grad and self.grad_fn is not None:
            # the old history no longer describes the values: cut it
            self.grad_fn = None
            self.requires_grad = False
        del Add
        return self

    def zero_(self):
        """Fill with zeros in place."""
        return self._fill(0, "zero_")

    def fill_(self, value):
        """Fill with ``value`` in place."""
        if isinstance(value, Tensor):
            value = value.item()
        return self._fill(value, "fill_")

    def _fill(self, value, op):
        if GRAD.enabled and self.requires_grad:
            self._check_inplace(op)  # raises for a leaf
            # a non-leaf stays in the graph and sends a zero gradient to its history, as in torch
            from .ops.shape import masked_fill

            return self._inplace(lambda t: masked_fill(t, np.ones((), bool), value), op=op)
        self._data[...] = value
        self._version[0] += 1
        return self

    def _check_inplace_nograd(self, op):
        if GRAD.enabled and self.grad_fn is None and self.requires_grad:
            self._check_inplace(op)

    def __setitem__(self, index, value):
        from .ops.shape import setitem

        setitem(self, index, value)

    def __getitem__(self, index):
        from .ops.shape import getitem

        return getitem(self, index)

    # ------------------------------------------------------------------ conversion
    def to(self, *args, **kwargs):
        """Convert dtype (``to(float64)``) and/or device (only 'cpu'); returns self when nothing changes."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("copy", None)
        kwargs.pop("memory_format", None)
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, backend.device) or (isinstance(a, str) and
                                                   a.split(":")[0] in ("cpu", "cuda", "mps", "meta", "xpu")):
                device = a
            elif a is not None:
                dtype = a
        backend.check_device(device, "Tensor.to")
        if dtype is None:
            return self
        dtype = backend.to_dtype(dtype)
        if dtype == self.dtype:
            return self
        from .ops.elementwise import _cast

        return _cast(self, dtype)

    def type(self, dtype=None):
        if dtype is None:
            return f"retrograd.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
        if isinstance(dtype, str) and "Tensor" in dtype:
            dtype = TYPED_TENSORS.get(dtype.split(".")[-1], dtype)
        if isinstance(dtype, _TypedTensor):
            dtype = dtype.dtype
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    def byte(self):
        return self.to(backend.uint8)

    def short(self):
        return self.to(backend.int16)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        backend.check_device("cuda", "Tensor.cuda")

    def pin_memory(self):
        return self

    def share_memory_(self):
        return self

    def contiguous(self, memory_format=None):
        from .ops.shape import contiguous

        return contiguous(self)

    def clone(self, *, memory_format=None):
        """A copy of the data that stays in the graph (its gradient flows back to this tensor)."""
        from .ops.elementwise import _clone

        return _clone(self)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return Tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import ones

        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
               "int32": "IntTensor", "bool": "BoolTensor", "uint8": "ByteTensor",
               "float16": "HalfTensor", "int16": "ShortTensor", "int8": "CharTensor"}


class _TypedTensor(type):
    """The legacy typed constructors (``FloatTensor``, ``LongTensor``, ...): calling one is
    ``Tensor(...)`` with its dtype (``LongTensor([1, 2])``, ``FloatTensor(2, 3)``), and
    ``isinstance(x, FloatTensor)`` asks whether ``x`` is a float32 tensor, as in PyTorch."""

    def __call__(cls, *args, device=None):
        return Tensor(*args, dtype=cls.dtype, device=device)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'retrograd.{cls.__name__}'>"


TYPED_TENSORS = {name: _TypedTensor(name, (), {"dtype": np.dtype(dt), "__slots__": ()})
                 for dt, name in _TYPE_NAMES.items()}


class _NoGrad:
    __slots__ = ("prev",)

    def __enter__(self):
        self.prev = GRAD.enabled
        GRAD.enabled = False

    def __exit__(self, *exc):
        GRAD.enabled = self.prev


def _rebuild(data, requires_grad):
    t = Tensor._make(data, None, False)
    t.requires_grad = requires_grad
    return t


from .autograd import graph as _graph  # noqa: E402
from .autograd.graph import Node as _Node  # noqa: E402
from .autograd.graph import run_backward as _run_backward  # noqa: E402

_graph.Tensor = Tensor  # the engine's hot paths use it without a per-call import


class _ViewWrite(_Node):
    """A base tensor after an in-place op through one of its views (``fn``) wrote ``v``.

    The values are already in memory (the view shares it), so forward returns the base's
    array as it is; backward sends the view's part of the gradient to ``v`` and the rest
    to the base's previous history.
    """

    save_inputs = False

    def __init__(self, fn):
        self.fn = fn

    def forward(self, base, v):
        return base

    def backward(self, g):
        gb = gv = None
        if self.needs[0]:
            if g.__class__ is np.ndarray:
                gb = g.copy()
                self.fn(gb)[...] = 0
            else:
                keep = np.ones(g.shape, dtype=bool)
                self.fn(keep)[...] = False
                gb = g * keep
        if self.needs[1]:
            gv = self.fn(g)
        return gb, gv


class _CopyFrom(_Node):
    save_inputs = False

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype

    def forward(self, src):
        self.src_shape, self.src_dtype = src.shape, src.dtype
        return np.broadcast_to(src, self.shape).astype(self.dtype)

    def backward(self, g):
        from .ops._util import grad_like, sum_to

        g = sum_to(g, self.src_shape)
        return grad_like(g, np.empty((), dtype=self.src_dtype)) if g.shape == () else \
            (g.astype(self.src_dtype) if g.__class__ is np.ndarray and g.dtype != self.src_dtype else g)
