"""Explicit regularisation terms to add to a loss.

L2 regularisation is usually applied by the optimizer (``weight_decay=...``; with
:class:`~retrograd.optim.AdamW` it is *decoupled* from the adaptive step). L1 has no
optimizer option, so it is written as a penalty added to the loss.
"""

from __future__ import annotations

import numpy as np

from ...backend import get_default_dtype
from ...tensor import Tensor

__all__ = ["l1_penalty"]


def l1_penalty(parameters, weight):
    r"""The L1 penalty :math:`\lambda \sum_i |w_i|` over all elements of ``parameters``.

    The result is a differentiable 0-d Tensor: add it to the loss and its gradient,
    :math:`\lambda\,\mathrm{sign}(w)`, flows into the parameters on ``backward()``.
    It drives small weights to exactly zero more strongly than L2 does (sparsity).

    Args:
        parameters (Tensor or iterable of Tensors): the tensors to penalise, e.g.
            ``model.parameters()`` (often only the weights, not the biases).
        weight (float): the coefficient :math:`\lambda \ge 0`.

    Returns:
        Tensor: ``weight * sum(|w|)`` (``tensor(0.)`` when there are no parameters).

    Example::

        >>> loss = loss_fn(model(x), y) + l1_penalty(model.parameters(), 1e-4)
        >>> loss.backward()
    """
    weight = float(weight)
    if not weight >= 0.0:
        raise ValueError(f"l1_penalty: weight must be a non-negative number, got {weight}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = None
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"l1_penalty: expected Tensors, but got {type(p).__name__}")
        term = p.abs().sum()
        total = term if total is None else total + term
    if total is None:
        return Tensor._make(np.zeros((), dtype=get_default_dtype()), None, False)
    return total * weight
