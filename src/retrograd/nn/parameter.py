"""``Parameter``: a tensor that a Module registers as learnable."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf tensor that, assigned as a Module attribute, joins ``module.parameters()``.

    Args:
        data: the initial value (a Tensor or array); its memory is shared, not copied.
        requires_grad: whether the parameter is trained (default True).
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.zeros(0, dtype=np.float32)
        if isinstance(data, Tensor):
            arr = data._data
        else:
            arr = np.asarray(data)
            if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
                arr = arr.astype(np.float32)
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._version = [0]
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__  # print(param) shows the header too, as in PyTorch

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data.copy(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            p.grad = Tensor._make(self.grad._data.copy(), None)
        memo[id(self)] = p
        return p


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Marks a tensor assigned to a Module attribute as a buffer (``register_buffer``)."""

    __slots__ = ()

    def __new__(cls, data=None, *, persistent=True):
        t = Tensor._make(_to_array(data, copy=False)) if not isinstance(data, Tensor) \
            else data.detach()
        t.__dict__["_buffer_persistent"] = persistent
        t.__dict__["_is_buffer"] = True
        return t


class UninitializedParameter(Parameter):
    __slots__ = ()
