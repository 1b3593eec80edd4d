"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import (
    Optimizer,
    _check_unsupported,
    _lerp_,
    _scalar,
    _scalar_state,
    _writable_data,
    _zeros_state,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, like ``torch.optim.RMSprop``.

    .. math::
        v &\leftarrow \alpha v + (1-\alpha) g^2,\qquad
        \tilde v = v - \bar g^2 \;\text{(centered, with }
            \bar g \leftarrow \alpha \bar g + (1-\alpha) g)\\
        b &\leftarrow \mu b + g / (\sqrt{\tilde v} + \epsilon),\qquad
        \theta \leftarrow \theta - \gamma b

    (without momentum, :math:`\theta \leftarrow \theta - \gamma g/(\sqrt{\tilde v}+\epsilon)`).

    Args:
        params (iterable): parameters to optimize or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-2).
        alpha (float, optional): smoothing constant (default: 0.99).
        eps (float, optional): term added to the denominator (default: 1e-8).
        weight_decay (float, optional): L2 penalty (default: 0).
        momentum (float, optional): momentum factor (default: 0).
        centered (bool, optional): normalize by an estimate of the gradient's
            variance instead of its second moment (default: False).
        capturable, differentiable (bool): must be False.
        foreach: accepted for PyTorch compatibility and ignored.
        maximize (bool, optional): maximize the objective (default: False).

    State per parameter: ``'step'``, ``'square_avg'``, plus ``'momentum_buffer'``
    (momentum > 0) and ``'grad_avg'`` (centered).
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        if not 0.0 <= _scalar(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_unsupported("RMSprop", differentiable, capturable)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = _scalar(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _scalar_state(0.0)
                    state["square_avg"] = _zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_state(p)
                    if centered:
                        state["grad_avg"] = _zeros_state(p)
                param = _writable_data(p)
                grad = p.grad._data
                if group["maximize"]:
                    grad = -grad
                square_avg = state["square_avg"]._data
                state["step"]._data += 1
                if weight_decay != 0:
                    grad = grad + weight_decay * param

                square_avg *= alpha
                square_avg += ((1 - alpha) * grad) * grad
                if centered:
                    grad_avg = state["grad_avg"]._data
                    _lerp_(grad_avg, grad, 1 - alpha)
                    avg = square_avg - grad_avg * grad_avg
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps

                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += grad / avg
                    param += -lr * buf
                else:
                    param += (-lr * grad) / avg
        return loss
