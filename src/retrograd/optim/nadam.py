"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

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

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Adam with Nesterov momentum), like ``torch.optim.NAdam``.

    With :math:`\mu_t = \beta_1(1 - \tfrac12 0.96^{t\psi})` (:math:`\psi` the
    momentum decay) and :math:`\Pi_t = \prod_{i\le t}\mu_i`:

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1) g,\qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\qquad
        d = \sqrt{v/(1-\beta_2^t)} + \epsilon\\
        \theta &\leftarrow \theta - \gamma\frac{1-\mu_t}{1-\Pi_t}\frac{g}{d}
                 - \gamma\frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\frac{m}{d}

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): running-average coefficients
            (default: (0.9, 0.999)).
        eps (float, optional): term added to the denominator (default: 1e-8).
        weight_decay (float, optional): weight decay (default: 0).
        momentum_decay (float, optional): :math:`\psi` (default: 4e-3).
        decoupled_weight_decay (bool, optional): decay the parameters directly, as in
            AdamW, instead of adding an L2 term to the gradient (default: False).
        maximize (bool, optional): maximize the objective (default: False).
        foreach: accepted for PyTorch compatibility and ignored.
        capturable, differentiable (bool): must be False.

    State per parameter: ``'step'``, ``'mu_product'`` (scalar Tensors),
    ``'exp_avg'``, ``'exp_avg_sq'``.
    """

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        _check_common(lr, eps, weight_decay)
        betas = _check_betas(betas)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_unsupported("NAdam", differentiable, capturable)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)

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
            momentum_decay = float(group["momentum_decay"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0)
                    state["mu_product"] = _scalar_state(1.0)
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_avg_sq"] = _zeros_state(p)
                param = _writable_data(p)
                grad = p.grad._data
                if group["maximize"]:
                    grad = -grad
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                mu_product = state["mu_product"]._data
                state["step"]._data += 1
                step = float(state["step"]._data)
                bias_correction2 = 1 - beta2**step

                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * param

                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # mu_product lives in the scalar dtype (float32 by default), as in
                # PyTorch; rounding it there is part of matching its trajectory.
                mu_product *= mu
                _lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += ((1 - beta2) * grad) * grad
                denom = np.sqrt(exp_avg_sq / bias_correction2)

                mu_prod = float(mu_product)
                mu_product_next = mu_prod * mu_next
                denom += eps
                param += ((-lr * (1.0 - mu) / (1.0 - mu_prod)) * grad) / denom
                param += (((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg) / denom
        return loss
