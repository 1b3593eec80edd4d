"""User-defined differentiable operations: ``class MyOp(autograd.Function)``.

Write ``forward(ctx, *inputs)`` and ``backward(ctx, *grad_outputs)`` as static methods
(on Tensors), save what backward needs with ``ctx.save_for_backward``, and call
``MyOp.apply(x)``. The node records itself in the graph like any built-in op.
"""

from __future__ import annotations

import functools

import numpy as np

from .grad_mode import GRAD
from .graph import Node, _record


class FunctionCtx:
    """What ``forward`` and ``backward`` of a custom Function share (the ``ctx`` argument)."""

    def save_for_backward(self, *tensors):
        """Keep tensors for backward; read them back with ``ctx.saved_tensors``."""
        from ..tensor import Tensor

        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), got "
                                f"{type(t).__name__}; keep other values as ctx attributes")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else (t._version, t._version[0]) for t in tensors)

    def save_for_forward(self, *tensors):
        self._saved_fwd = tensors

    @property
    def saved_tensors(self):
        if getattr(self, "_freed_saved", False):
            raise RuntimeError("Trying to backward through the graph a second time (or directly access "
                               "saved tensors after they have already been freed). Specify "
                               "retain_graph=True if you need to backward through the graph a second time.")
        for i, v in enumerate(getattr(self, "_saved_versions", ())):
            if v is not None and v[0][0] != v[1]:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: saved tensor {i} is at version {v[0][0]}; expected version "
                    f"{v[1]} instead."
                )
        return getattr(self, "_saved", ())

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _FunctionNode(Node, FunctionCtx):
    save_inputs = False

    def __init__(self, fn_cls, n_args):
        self.fn_cls = fn_cls
        self.materialize_grads = True
        self.n_outputs = 1
        self.multi_output = False

    def name(self):
        return self.fn_cls.__name__ + "Backward"

    def backward(self, g):
        from ..tensor import Tensor

        plain = not self.multi_output and g.__class__ is np.ndarray or (
            self.multi_output and all(x is None or x.__class__ is np.ndarray for x in g))
        gs = list(g) if self.multi_output else [g]
        for i, x in enumerate(gs):
            if x is None:
                if self.materialize_grads:
                    shape, dtype = self.out_meta[i]
                    gs[i] = Tensor._make(np.zeros(shape, dtype), None)
            elif not isinstance(x, Tensor):
                gs[i] = Tensor._make(x, None)
        res = self.fn_cls.backward(self, *gs)
        if not isinstance(res, tuple):
            res = (res,)
        if len(res) < len(self.parents):
            res = res + (None,) * (len(self.parents) - len(res))
        if len(res) > len(self.parents):
            if any(r is not None for r in res[len(self.parents):]):
                raise RuntimeError(
                    f"function {self.fn_cls.__name__}Backward returned an incorrect number of "
                    f"gradients (expected {len(self.parents)}, got {len(res)})")
            res = res[: len(self.parents)]
        out = []
        for r, p, shape in zip(res, self.parents, self.in_shapes):
            if r is None or p is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                r = Tensor._make(np.asarray(r))
            if tuple(r.shape) != tuple(shape):
                try:
                    from ..ops._util import sum_to

                    r = sum_to(r, tuple(shape)) if len(r.shape) >= len(shape) else r.expand(*shape)
                except Exception:
                    raise RuntimeError(
                        f"Function {self.fn_cls.__name__}Backward returned an invalid gradient - got "
                        f"{list(r.shape)} but expected shape compatible with {list(shape)}") from None
            out.append(r._data if plain else r)
        if getattr(self, "_once", False) and not plain:
            raise RuntimeError(f"trying to differentiate twice a function that was marked with "
                               f"@once_differentiable ({self.fn_cls.__name__})")
        return tuple(out) if len(out) != 1 else out[0]


class _OutputSelect(Node):
    """Output ``i`` of a multi-output Function: routes its gradient into the shared node."""

    save_inputs = False

    def __init__(self, index):
        self.index = index

    def backward(self, g):
        return (self.index, g)


class _FunctionMeta(type):
    pass


class Function(FunctionCtx, metaclass=_FunctionMeta):
    """Base class for custom differentiable operations.

    Example::

        class Exp(retrograd.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad_output):
                (y,) = ctx.saved_tensors
                return grad_output * y

        y = Exp.apply(x)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        return _NO_SETUP

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor

        node = _FunctionNode(cls, len(args))
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        node.in_shapes = tuple(a.shape if isinstance(a, Tensor) else () for a in args)
        node._once = getattr(cls.backward, "_once_differentiable", False)
        separate = cls.setup_context is not Function.setup_context
        prev = GRAD.enabled
        GRAD.enabled = False
        try:
            out = cls.forward(*args, **kwargs) if separate else cls.forward(node, *args, **kwargs)
            if separate:
                cls.setup_context(node, args, out)
        finally:
            GRAD.enabled = prev
        is_tuple = isinstance(out, tuple)
        outs = out if is_tuple else (out,)
        record = GRAD.enabled and any(node.needs_input_grad)
        non_diff = getattr(node, "_non_diff", set())
        node.out_meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else ((), np.float32) for o in outs]
        if not record:
            return out
        tensors = [o for o in outs if isinstance(o, Tensor)]
        if not is_tuple or len(tensors) == 1 and len(outs) == 1:
            o = outs[0]
            if id(o) in non_diff or o.dtype.kind not in "fc":
                return out
            res = _record(node, args, [None] * len(args), o._data)
            return _rebind(o, res)
        node.multi_output = True
        node.n_outputs = len(outs)
        base = _record(node, args, [None] * len(args), np.zeros(()))
        results = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor) or id(o) in non_diff or o.dtype.kind not in "fc":
                results.append(o)
                continue
            sel = _OutputSelect(i)
            res = _record(sel, (base,), [None], o._data)
            results.append(_rebind(o, res))
        return tuple(results)


_NO_SETUP = object()


def _rebind(original, recorded):
    """Give the user's output object its place in the graph (so identity is preserved)."""
    if original.grad_fn is None and not original.requires_grad:
        original.grad_fn = recorded.grad_fn
        original.requires_grad = True
        return original
    return recorded


def once_differentiable(fn):
    """Mark a custom backward as not differentiable itself (double backward raises)."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        return fn(ctx, *args)

    wrapper._once_differentiable = True
    return wrapper
