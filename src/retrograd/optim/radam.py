"""RAdam: Adam with a rectified adaptive learning rate."""

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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (rectified Adam), like ``torch.optim.RAdam``.

    While the variance of the adaptive learning rate is intractable (the length
    :math:`\rho_t` of the approximated simple moving average is at most 5), RAdam
    takes a plain bias-corrected momentum step; afterwards it takes the Adam step
    scaled by the rectification term :math:`r_t`:

    .. math::
        \rho_\infty &= \frac{2}{1-\beta_2} - 1,\qquad
        \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t}\\
        \theta &\leftarrow \theta - \gamma\,\hat m\, r_t\,
            \frac{\sqrt{1-\beta_2^t}}{\sqrt{v}+\epsilon}\quad(\rho_t > 5),
        \qquad \theta \leftarrow \theta - \gamma\hat m\quad\text{otherwise.}

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): running-average coefficients
            (default: (0.9, 0.999)).
        eps (float, optional): term added to the denominator (default: 1e-8).
        weight_decay (float, optional): weight decay (default: 0).
        decoupled_weight_decay (bool, optional): AdamW-style decay (default: False).
        maximize (bool, optional): maximize the objective (default: False).
        foreach: accepted for PyTorch compatibility and ignored.
        capturable, differentiable (bool): must be False.

    State per parameter: ``'step'``, ``'exp_avg'``, ``'exp_avg_sq'``.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        _check_common(lr, eps, weight_decay)
        betas = _check_betas(betas)
        _check_unsupported("RAdam", differentiable, capturable)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
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
                    state["exp_avg_sq"] = _zeros_state(p)
                param = _writable_data(p)
                grad = p.grad._data
                if group["maximize"]:
                    grad = -grad
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                state["step"]._data += 1
                step = float(state["step"]._data)

                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * param

                _lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += ((1 - beta2) * grad) * grad

                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                update = exp_avg / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                update *= lr
                if rho_t > 5.0:
                    rect = (
                        (rho_t - 4)
                        * (rho_t - 2)
                        * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                    ) ** 0.5
                    # PyTorch evaluates `scalar / tensor` as reciprocal(tensor) * scalar.
                    adaptive_lr = np.sqrt(exp_avg_sq)
                    adaptive_lr += eps
                    np.reciprocal(adaptive_lr, out=adaptive_lr)
                    adaptive_lr *= bias_correction2**0.5
                    update *= adaptive_lr
                    update *= rect
                param -= update
        return loss
