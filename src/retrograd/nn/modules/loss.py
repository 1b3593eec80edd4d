"""Loss modules: each stores its options and calls the functional form in ``forward``.

Class weights (``weight``, ``pos_weight``) are registered as buffers, as in PyTorch, so
they follow the module in ``state_dict`` and ``.to(dtype)``.
"""

from __future__ import annotations

from ...ops.loss import legacy_reduction
from .. import functional as F
from .module import Module

__all__ = [
    "L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "SoftMarginLoss", "MarginRankingLoss",
    "HingeEmbeddingLoss", "PoissonNLLLoss", "GaussianNLLLoss",
]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    r"""Mean absolute error :math:`|x - y|`.

    Args:
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Shape:
        input and target: any, same shape; output: scalar, or the input's shape for ``'none'``.
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    r"""Mean squared error :math:`(x - y)^2`.

    Args:
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Example::

        >>> loss = nn.MSELoss()
        >>> loss(retrograd.zeros(3), retrograd.ones(3))
        tensor(1.)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    r"""Squared error below ``beta`` (scaled by 1/beta), absolute error above.

    Args:
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        beta: the switch point (default 1.0).
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    r"""Squared error below ``delta``, ``delta``-scaled absolute error above.

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        delta: the switch point (default 1.0).
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    r"""Binary cross-entropy between probabilities (logs clamped at -100).

    Args:
        weight: optional rescaling weight, broadcast to the input.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    r"""Sigmoid + binary cross-entropy, fused and numerically stable.

    Args:
        weight: optional rescaling weight, broadcast to the input.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        pos_weight: weight of positive examples, broadcast along the last dim (one per class).

    Example::

        >>> loss = nn.BCEWithLogitsLoss(pos_weight=retrograd.full((3,), 2.0))
        >>> loss(retrograd.randn(4, 3), retrograd.ones(4, 3)).shape
        retrograd.Size([])
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross-entropy between logits and class indices or class probabilities.

    log-softmax and the negative log-likelihood run as one fused, stable op.

    Args:
        weight: optional per-class weights ``(C,)``.
        size_average, reduce: deprecated; use ``reduction``.
        ignore_index: target value to skip (default -100).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        label_smoothing: in ``[0, 1]`` (default 0).

    Shape:
        input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)``; target ``(N,)``, ``()`` or
        ``(N, d1, ...)`` class indices, or probabilities of the input's shape.

    Example::

        >>> loss = nn.CrossEntropyLoss()
        >>> out = loss(retrograd.randn(3, 5, requires_grad=True), retrograd.tensor([1, 0, 4]))
        >>> out.backward()
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    r"""Negative log-likelihood of log-probabilities (pair with ``nn.LogSoftmax``).

    Args:
        weight: optional per-class weights ``(C,)``.
        size_average, reduce: deprecated; use ``reduction``.
        ignore_index: target value to skip (default -100).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(_Loss):
    r"""Kullback-Leibler divergence for log-probability inputs.

    Args:
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``.
        log_target: whether the target holds log-probabilities (default False).
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    r"""Two-class logistic loss :math:`\log(1 + e^{-y x})`, targets in {1, -1}."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    r""":math:`\max(0, -y (x_1 - x_2) + \text{margin})`.

    Args:
        margin: default 0.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    r"""``x`` where ``y = 1``, :math:`\max(0, \text{margin} - x)` where ``y = -1``.

    Args:
        margin: default 1.0.
        size_average, reduce: deprecated; use ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    r"""Poisson negative log-likelihood.

    Args:
        log_input: the input is the log of the rate (default True).
        full: add the Stirling term (default False).
        size_average, reduce: deprecated; use ``reduction``.
        eps: keeps ``log(input + eps)`` finite when ``log_input=False``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    r"""Gaussian negative log-likelihood with a predicted variance.

    Args:
        full: add the constant :math:`0.5 \log 2\pi` (default False).
        eps: lower clamp of the variance (default 1e-6).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)
