"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from .optimizer import (
    Optimizer,
    _check_unsupported,
    _scalar,
    _scalar_state,
    _writable_data,
    _zeros_state,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, like ``torch.optim.Adadelta``.

    .. math::
        v &\leftarrow \rho v + (1-\rho) g^2,\qquad
        \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g\\
        u &\leftarrow \rho u + (1-\rho)\Delta^2,\qquad
        \theta \leftarrow \theta - \gamma\Delta

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float, optional): coefficient that scales delta before it is applied
            (default: 1.0).
        rho (float, optional): coefficient of the running averages (default: 0.9).
        eps (float, optional): term added inside the square roots (default: 1e-6).
        weight_decay (float, optional): L2 penalty (default: 0).
        foreach: accepted for PyTorch compatibility and ignored.
        maximize (bool, optional): maximize the objective (default: False).
        capturable, differentiable (bool): must be False.

    State per parameter: ``'step'``, ``'square_avg'``, ``'acc_delta'``.
    """

    def __init__(
        self,
        params,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0,
        foreach=None,
        *,
        capturable=False,
        maximize=False,
        differentiable=False,
    ):
        if not 0.0 <= _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_unsupported("Adadelta", differentiable, capturable)
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def step(self, closure=None):
        """Perform a single optimization step.

        Args:
            closure (Callable, optional): a closure that re-evaluates the model and
                returns the loss.

        Returns:
            the closure's loss, or None.
        """
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            rho = float(group["rho"])
            eps = float(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0)
                    state["square_avg"] = _zeros_state(p)
                    state["acc_delta"] = _zeros_state(p)
                param = _writable_data(p)
                grad = p.grad._data
                state["step"]._data += 1
                if group["maximize"]:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * param
                square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
                square_avg *= rho
                square_avg += ((1 - rho) * grad) * grad
                std = square_avg + eps
                np.sqrt(std, out=std)
                delta = acc_delta + eps
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= grad
                acc_delta *= rho
                acc_delta += ((1 - rho) * delta) * delta
                param += -lr * delta
        return loss
