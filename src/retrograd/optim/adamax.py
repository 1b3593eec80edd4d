"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

import numpy as np

from .adam import _check_betas, _check_common
from .optimizer import (
    Optimizer,
    _check_unsupported,
    _lerp_,
    _scalar,
    _scalar_state,
    _writable_data,
    _zeros_state,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Adam based on the infinity norm), like ``torch.optim.Adamax``.

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1) g,\qquad
        u \leftarrow \max(\beta_2 u,\; |g| + \epsilon)\\
        \theta &\leftarrow \theta - \frac{\gamma}{1-\beta_1^t}\,\frac{m}{u}

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): coefficients of the running average
            and of the infinity norm (default: (0.9, 0.999)).
        eps (float, optional): term added to ``|g|`` (default: 1e-8).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective (default: False).
        foreach: accepted for PyTorch compatibility and ignored.
        capturable, differentiable (bool): must be False.

    State per parameter: ``'step'``, ``'exp_avg'``, ``'exp_inf'``.
    """

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        _check_common(lr, eps, weight_decay)
        betas = _check_betas(betas)
        _check_unsupported("Adamax", differentiable, capturable)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
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
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0)
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_inf"] = _zeros_state(p)
                param = _writable_data(p)
                grad = p.grad._data
                if group["maximize"]:
                    grad = -grad
                exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
                state["step"]._data += 1
                if weight_decay != 0:
                    grad = grad + weight_decay * param
                _lerp_(exp_avg, grad, 1 - beta1)
                exp_inf *= beta2
                norm = np.abs(grad)
                norm += eps
                np.maximum(exp_inf, norm, out=exp_inf)
                bias_correction = 1 - beta1 ** float(state["step"]._data)
                clr = lr / bias_correction
                param += (-clr * exp_avg) / exp_inf
        return loss
