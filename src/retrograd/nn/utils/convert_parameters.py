"""Flatten parameters into one vector and back (second-order methods, evolution strategies)."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    r"""Flatten an iterable of parameters into a single 1-D tensor.

    The result is differentiable with respect to the parameters (it is a
    concatenation of their flattened views).

    Args:
        parameters (Iterable[Tensor]): the parameters, e.g. ``model.parameters()``.

    Returns:
        Tensor: a 1-D tensor with all the parameters' elements, in order.

    Example::

        >>> vec = retrograd.nn.utils.parameters_to_vector(model.parameters())
        >>> vec.shape   # (number of parameters,)
    """
    import retrograd

    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if len(params) == 0:
        raise ValueError(
            "parameters_to_vector: got no parameters (was the parameters() generator already "
            "consumed?)"
        )
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, but got {type(p).__name__}")
    return retrograd.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    r"""Copy slices of a 1-D vector into the parameters (inverse of :func:`parameters_to_vector`).

    Like PyTorch, each parameter's ``.data`` becomes a view of ``vec``: later in-place
    changes to ``vec`` show in the parameters and vice versa.

    Args:
        vec (Tensor): a 1-D tensor with at least as many elements as the parameters.
        parameters (Iterable[Tensor]): the parameters to overwrite.

    Example::

        >>> vec = retrograd.nn.utils.parameters_to_vector(model.parameters())
        >>> retrograd.nn.utils.vector_to_parameters(vec * 0.5, model.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected retrograd.Tensor, but got: {type(vec).__name__}")
    flat = vec._data.reshape(-1)
    pointer = 0
    for param in parameters:
        num_param = param._data.size
        if pointer + num_param > flat.size:
            raise ValueError(
                f"vector_to_parameters: vec has {flat.size} elements, fewer than the parameters "
                f"need (at least {pointer + num_param}); build it with parameters_to_vector"
            )
        chunk = flat[pointer : pointer + num_param].reshape(param._data.shape)
        param.data = Tensor._make(np.asarray(chunk), None, False)
        pointer += num_param
