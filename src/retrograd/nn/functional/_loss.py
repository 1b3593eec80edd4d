"""Loss functions with PyTorch's signatures (legacy ``size_average``/``reduce`` included).

The computations are the fused ops of :mod:`retrograd.ops.loss`; this file maps the
arguments and documents them.
"""

from __future__ import annotations

import warnings

from ...ops import loss as L

__all__ = [
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss",
]


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return L.legacy_reduction(size_average, reduce)
    return reduction


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    r"""Cross-entropy between unnormalised logits and targets: log-softmax and negative
    log-likelihood fused into one numerically stable op.

    Args:
        input: logits, ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.
        target: class indices (integer, ``(N,)``, ``()`` or ``(N, d1, ...)``, values in
            ``[0, C)`` or ``ignore_index``), or class probabilities (float, the input's shape).
        weight: optional per-class weights, shape ``(C,)``.
        size_average, reduce: deprecated; use ``reduction``.
        ignore_index: target value whose samples contribute neither loss nor gradient (class
            indices only). Default -100.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. ``'mean'`` divides by the summed
            weights of the non-ignored targets (class indices) or by the number of samples
            (probabilities).
        label_smoothing: in ``[0, 1]``; mixes the target with the uniform distribution.

    Shape:
        output: scalar, or the target's shape (class indices) / the input without the class
        dim (probabilities) when ``reduction='none'``.

    Example::

        >>> logits = retrograd.randn(3, 5, requires_grad=True)
        >>> target = retrograd.tensor([1, 0, 4])
        >>> F.cross_entropy(logits, target).backward()
    """
    reduction = _reduction(size_average, reduce, reduction)
    return L.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    r"""Negative log-likelihood: ``-weight[t] * input[t]`` for log-probabilities ``input``.

    Args:
        input: log-probabilities, ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``.
        target: class indices, ``(N,)``, ``()`` or ``(N, d1, ...)``.
        weight: optional per-class weights ``(C,)``.
        size_average, reduce: deprecated; use ``reduction``.
        ignore_index: target value to skip (default -100).
        reduction: ``'none'`` | ``'mean'`` (divides by the summed target weights) | ``'sum'``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    return L.nll_loss(input, target, weight, ignore_index, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    r"""Binary cross-entropy :math:`-w (t \log x + (1 - t) \log(1 - x))` between probabilities.

    Each log is clamped at -100, as in PyTorch, so ``x`` of exactly 0 or 1 gives a finite loss.
    Prefer :func:`binary_cross_entropy_with_logits` on raw scores.

    Args:
        input: probabilities in ``[0, 1]``, any shape.
        target: same shape as ``input``, values in ``[0, 1]``.
        weight: optional rescaling weight, broadcast to the input.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    return L.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    r"""Sigmoid and binary cross-entropy in one stable op:
    :math:`(1 - t) x + (1 + (p - 1) t) \log(1 + e^{-x})`, finite for any logit.

    Args:
        input: logits, any shape.
        target: same shape, values in ``[0, 1]``.
        weight: optional rescaling weight, broadcast to the input.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        pos_weight: weight of the positive examples, broadcast along the last dim (one per
            class), e.g. ``n_negative / n_positive``.
    """
    reduction = _reduction(size_average, reduce, reduction)
    return L.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""Squared error :math:`(x - y)^2`, averaged (or summed).

    Args:
        input, target: same shape (broadcasting works but warns).
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        weight: optional elementwise weights of the input's shape; ``'mean'`` then divides by
            their sum.
    """
    reduction = _reduction(size_average, reduce, reduction)
    return L.mse_loss(input, target, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    r"""Absolute error :math:`|x - y|`, averaged (or summed); ``weight`` as in :func:`mse_loss`."""
    reduction = _reduction(size_average, reduce, reduction)
    return L.l1_loss(input, target, reduction, weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    r"""Smooth L1: :math:`0.5 d^2 / \beta` where :math:`|d| < \beta`, else :math:`|d| - 0.5\beta`.

    Args:
        input, target: same shape.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        beta: the switch point (non-negative; 0 gives the L1 loss).
    """
    reduction = _reduction(size_average, reduce, reduction)
    return L.smooth_l1_loss(input, target, reduction, beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    r"""Huber: :math:`0.5 d^2` where :math:`|d| < \delta`, else :math:`\delta(|d| - 0.5\delta)`.

    Args:
        input, target: same shape.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        delta: the switch point (positive).
        weight: optional elementwise weights of the input's shape (``'mean'`` is the plain
            mean of the weighted losses, as in PyTorch).
    """
    return L.huber_loss(input, target, reduction, delta, weight)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    r"""Kullback-Leibler divergence :math:`t (\log t - x)` for log-probabilities ``input``.

    Args:
        input: log-probabilities.
        target: probabilities (or log-probabilities when ``log_target``), same shape.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'batchmean'`` (the KL divergence per sample: sum / N) |
            ``'sum'`` | ``'mean'`` (divides by every element, not the true KL).
        log_target: whether ``target`` holds log-probabilities.
    """
    if size_average is not None or reduce is not None:
        reduction = L.legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    return L.kl_div(input, target, reduction, log_target)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    r"""Two-class logistic loss :math:`\log(1 + e^{-y x})` with targets ``y`` in {1, -1}."""
    reduction = _reduction(size_average, reduce, reduction)
    return L.soft_margin_loss(input, target, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    r""":math:`\max(0, -y (x_1 - x_2) + \text{margin})` with ``y`` in {1, -1}."""
    reduction = _reduction(size_average, reduce, reduction)
    return L.margin_ranking_loss(input1, input2, target, margin, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    r"""``x`` where ``y = 1``, :math:`\max(0, \text{margin} - x)` where ``y = -1``."""
    reduction = _reduction(size_average, reduce, reduction)
    return L.hinge_embedding_loss(input, target, margin, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    r"""Poisson negative log-likelihood: :math:`e^x - t x` (``log_input``) or
    :math:`x - t \log(x + \epsilon)`; ``full`` adds Stirling's approximation of
    :math:`\log t!` where ``t > 1``."""
    reduction = _reduction(size_average, reduce, reduction)
    return L.poisson_nll_loss(input, target, log_input, full, eps, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    r"""Gaussian negative log-likelihood :math:`0.5 (\log v + (x - t)^2 / v)` (+ the constant
    :math:`0.5 \log 2\pi` when ``full``), with the variance ``var`` clamped at ``eps``."""
    return L.gaussian_nll_loss(input, target, var, full, eps, reduction)
