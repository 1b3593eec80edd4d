"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, custom
Functions, gradcheck and anomaly detection."""

from __future__ import annotations

import numpy as np

from . import graph
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .graph import Node


def _tensors(x):
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _make_grads(outputs, grad_outputs, create_graph, op):
    from ..tensor import Tensor

    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but output {i} "
                    f"has shape {tuple(out.shape)}. Pass gradient=... (e.g. "
                    "retrograd.ones_like(out)), or reduce the output first (out.sum().backward())."
                )
            a = np.ones(out.shape, dtype=out.dtype)
            grads.append(Tensor._make(a, None) if create_graph else a)
            continue
        if not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise RuntimeError(f"{op}: Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{tuple(g.shape)} and output[{i}] has a shape of {tuple(out.shape)}.")
        if create_graph:
            grads.append(g)
        else:
            a = g._data
            grads.append(a.astype(out.dtype) if a.dtype != out.dtype else a)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into leaves' ``.grad`` the gradients of ``tensors`` (see ``Tensor.backward``).

    Args:
        tensors: tensor(s) to differentiate.
        grad_tensors: the gradient w.r.t. each tensor; may be omitted for scalars.
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass, to take gradients of gradients.
        inputs: if given, only these tensors' ``.grad`` is accumulated.
    """
    outputs = _tensors(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(outputs)
    else:
        # one gradient (a Tensor, an array or a number) or a sequence of them
        grad_tensors = list(grad_tensors) if isinstance(grad_tensors, (list, tuple)) \
            else [grad_tensors]
    for i, o in enumerate(outputs):
        if not o.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn: nothing "
                "connects it to a tensor with requires_grad=True. Create the inputs with "
                "requires_grad=True, and don't compute the loss inside no_grad()."
            )
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_tensors, create_graph, "backward")
    if inputs is not None:
        inputs = _tensors(inputs)
        res = graph.run_backward(outputs, grads, retain_graph, create_graph, capture=inputs,
                                 accumulate=False)
        from ..tensor import Tensor

        for t, g in zip(inputs, res):
            if g is None:
                continue
            if create_graph:
                t.grad = g if t.grad is None else t.grad + g
            elif t.grad is None:
                t.grad = Tensor._make(np.array(g, dtype=t.dtype, copy=True), None)
            else:
                t.grad._data += g
        return
    graph.run_backward(outputs, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` w.r.t. ``inputs`` (without touching ``.grad``).

    With ``create_graph=True`` the result is itself differentiable (grad of grad).
    An input not reached from the outputs raises unless ``allow_unused=True``, in which
    case its gradient is ``None`` (or zeros with ``materialize_grads=True``).
    """
    from ..tensor import Tensor

    single = isinstance(inputs, Tensor)
    outs = _tensors(outputs)
    ins = _tensors(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if grad_outputs is None:
        grad_outputs = [None] * len(outs)
    else:
        grad_outputs = list(grad_outputs) if isinstance(grad_outputs, (list, tuple)) \
            else [grad_outputs]
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (shape {tuple(t.shape)}); "
                               "create it with requires_grad=True")
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outs, grad_outputs, create_graph, "grad")
    res = graph.run_backward(outs, grads, retain_graph, create_graph, capture=ins, accumulate=False)
    out = []
    for i, (t, g) in enumerate(zip(ins, res)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}, shape {tuple(t.shape)}) appears "
                    "to not have been used in the graph. Set allow_unused=True if this is the "
                    "desired behavior."
                )
            out.append(Tensor._make(np.zeros(t.shape, t.dtype), None) if materialize_grads else None)
            continue
        if isinstance(g, Tensor):
            out.append(g)
        else:
            if g.dtype != t.dtype:
                g = g.astype(t.dtype)
            out.append(Tensor._make(np.array(g, copy=True) if not g.flags.writeable else g, None))
    del single
    return tuple(out)


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from ..tensor import Tensor

        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """The pre-0.4 wrapper, kept so old scripts run: every Tensor is a Variable, and
    ``Variable(t, requires_grad=False)`` is ``t.detach()`` (sharing memory) with
    ``requires_grad`` set as given.

    Example::

        >>> x = Variable(retrograd.ones(2), requires_grad=True)  # ones(2, requires_grad=True)
    """

    def __new__(cls, data, requires_grad=False, volatile=False):
        from ..tensor import Tensor

        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(data).__name__}")
        t = data.detach()
        if requires_grad:
            t.requires_grad_(True)
        return t


__all__ = ["backward", "grad", "Variable", "Function", "FunctionCtx", "once_differentiable",
           "gradcheck", "gradgradcheck", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "inference_mode", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "Node"]
