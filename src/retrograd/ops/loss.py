"""Loss functions as fused, numerically stable ops.

The classifier's hot path is :class:`CrossEntropy`: log-softmax and the negative
log-likelihood in one node. Its forward shifts the logits by their maximum, takes
one ``exp`` and one sum (the log-sum-exp), and reads the target logits; its backward
is ``(softmax - onehot) * scale`` from the ``exp`` it kept, with no other pass.
Logits of any size give finite losses and gradients, since only non-positive numbers
are exponentiated.

The pointwise losses (BCE, BCE with logits, MSE, L1, smooth L1, Huber, KL divergence)
are one node each for the elementwise part; the reduction is an ordinary ``mean`` or
``sum`` after it. Their backward formulas use the array-or-Tensor helpers of
:mod:`.activation`, so second derivatives work too.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.graph import Node, apply
from ..tensor import Tensor
from . import elementwise as E
from . import reduction as R
from ._util import grad_like, promote
from .activation import _clip, _sigmoid, _softplus, _where

REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------ argument handling

def _data(x):

    if x is None:
        return None
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _tensor(x):

    return x if isinstance(x, Tensor) else Tensor(x)


def _shape(x):
    return tuple(np.shape(_data(x)))


def check_reduction(reduction, op, allowed=REDUCTIONS):
    """The reduction name, validated (PyTorch's legacy 'elementwise_mean' means 'mean')."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated, please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction ({op}: use one of "
                         + ", ".join(repr(a) for a in allowed) + ")")
    return reduction


def legacy_reduction(size_average, reduce, emit_warning=True):
    """Map the deprecated ``size_average``/``reduce`` pair to a reduction name, as PyTorch does."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def reduce_loss(loss, reduction):
    """Apply ``'none'``, ``'mean'`` or ``'sum'`` to an elementwise loss tensor."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return R.sum(loss)
    return R.mean(loss)


def _float_array(x, dtype, what, op):
    a = _data(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{op}: {what} must be a real tensor, got dtype {a.dtype}")
    return a.astype(dtype, copy=False)


def _check_same_size(op, input, target):
    if _shape(target) != _shape(input):
        raise ValueError(
            f"{op}: Using a target size ({_shape(target)}) that is different to the input size "
            f"({_shape(input)}) is not supported; please ensure they have the same size "
            "(e.g. target.view_as(input), or squeeze the model output's trailing 1).")


# ------------------------------------------------------------------ class-index targets

class _ClassTargets:
    """Validated class-index targets of an (N, C, d1, ...) or (C,) input.

    Holds the class axis, the number of classes, the flat (C-order) position of each
    target logit, each sample's weight ``w[t]`` (0 where ignored; ``None`` when every
    weight is 1) and the validity mask, all in the target's shape.
    """

    __slots__ = ("axis", "C", "tshape", "kshape", "flat", "w_i", "valid", "all_valid", "wb",
                 "w_total", "denom")

    def __init__(self, op, x, t, weight, ignore_index):
        if x.ndim == 0:
            raise ValueError(f"{op}: input must have a class dimension: expected shape (C,), "
                             "(N, C) or (N, C, d1, ...), got a 0-d tensor")
        axis = 0 if x.ndim == 1 else 1
        C = x.shape[axis]
        expected = x.shape[:axis] + x.shape[axis + 1:]
        if t.dtype.kind not in "iu":
            if t.dtype.kind == "f":
                raise RuntimeError(
                    f"{op}: expected target of integer dtype holding class indices, shape "
                    f"{expected}, got dtype {t.dtype} with shape {t.shape}. Class "
                    f"probabilities must have the input's shape {x.shape}; convert class "
                    "indices with target.long().")
            raise RuntimeError(f"{op}: expected target of integer dtype (class indices), got "
                               f"dtype {t.dtype}")
        if t.shape != expected:
            if x.ndim == 2 and t.ndim == 1:
                raise ValueError(
                    f"{op}: Expected input batch_size ({x.shape[0]}) to match target batch_size "
                    f"({t.shape[0]}): input shape {x.shape}, target shape {t.shape}. The target "
                    "holds one class index per sample.")
            raise RuntimeError(
                f"{op}: expected target of shape {expected} for input of shape {x.shape} "
                f"(input (N, C, d1, ...) takes target (N, d1, ...); input (C,) takes a 0-d "
                f"target), got target shape {t.shape}")
        valid = t != ignore_index
        all_valid = bool(valid.all())
        ts = t if all_valid else np.where(valid, t, 0)
        if ts.size and (ts.min() < 0 or ts.max() >= C):
            bad = ts[(ts < 0) | (ts >= C)].reshape(-1)[0]
            raise IndexError(
                f"{op}: Target {int(bad)} is out of bounds: class indices must lie in "
                f"[0, {C - 1}] for input of shape {x.shape} with {C} classes "
                f"(ignore_index={ignore_index} marks samples to skip)")
        self.axis, self.C, self.valid, self.all_valid = axis, C, valid, all_valid
        self.tshape = t.shape
        self.kshape = t.shape[:axis] + (1,) + t.shape[axis:]
        # flat index of logit (n, t[n, r], r) in a C-ordered (N, C, R) array
        if x.ndim == 1:
            self.flat = ts.astype(np.intp)
        else:
            N, R = x.shape[0], int(np.prod(x.shape[2:], dtype=np.int64))
            rows = np.arange(N, dtype=np.intp).reshape((N,) + (1,) * (x.ndim - 2)) * (C * R)
            rest = np.arange(R, dtype=np.intp).reshape(x.shape[2:])
            self.flat = rows + ts * R + rest
        if weight is not None:
            w = _float_array(weight, x.dtype, "weight", op)
            if w.shape != (C,):
                raise RuntimeError(f"{op}: weight tensor should be defined either for all {C} "
                                   f"classes or no classes but got weight tensor of shape: "
                                   f"{w.shape}")
            w_i = w[ts]
            self.w_i = w_i if all_valid else w_i * valid
            self.wb = w.reshape((1,) * axis + (C,) + (1,) * (x.ndim - axis - 1))
            self.w_total = w.sum()
            self.denom = self.w_i.sum()
        else:
            self.w_i = None if all_valid else valid.astype(x.dtype)
            self.wb = None
            self.w_total = C
            self.denom = t.size if all_valid else int(np.count_nonzero(valid))

    def kept(self, a):
        """A target-shaped array with the class axis put back (as size 1)."""
        return a.reshape(self.kshape) if np.ndim(a) else a

    def dense(self, dtype, shape, label_smoothing):
        """The target distribution q (weighted, smoothed, zero rows where ignored) as an array."""
        q = np.zeros(shape, dtype=dtype)
        w_i = 1.0 if self.w_i is None else self.w_i
        q.reshape(-1)[self.flat] = w_i * (1.0 - label_smoothing)
        if label_smoothing:
            wb = 1.0 if self.wb is None else self.wb
            q += (label_smoothing / self.C) * wb * self.kept(self.valid)
        return q


def _reduce_array(loss, reduction, denom):
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / denom


def _upstream(g, reduction, denom):
    """The upstream gradient of each sample's loss (a scalar for 'mean' and 'sum')."""
    if reduction != "mean":
        return g
    if denom == 0:  # every sample ignored: PyTorch's loss is NaN but its gradient is 0
        return g * 0.0
    return g / denom


class CrossEntropy(Node):
    """log-softmax + negative log-likelihood, fused.

    With ``q`` the target distribution of a sample (one-hot times the class weight,
    mixed with the smoothing term, or the given probabilities), the loss is
    ``-sum_c q_c log p_c = sum(q) * lse - sum_c q_c s_c`` with ``s = x - max x`` and
    ``lse = log sum exp s``; its gradient is ``p * sum(q) - q``.
    """

    def __init__(self, reduction, label_smoothing, targets=None, weight=None):
        self.reduction, self.eps = reduction, label_smoothing
        self.ct = targets      # _ClassTargets, or None for probability targets
        self.weight = weight   # class weights (prob targets), broadcast along the class axis

    def forward(self, x, t):
        ct, eps = self.ct, self.eps
        axis = 0 if x.ndim == 1 else 1
        self.axis = axis
        C = x.shape[axis]
        m = x.max(axis=axis, keepdims=True)
        s = np.subtract(x, m, order="C")  # C order: the flat target indices address it
        if ct is not None:
            picked = s.reshape(-1)[ct.flat]
            if eps:
                ssum = (s.sum(axis=axis) if ct.wb is None else (s * ct.wb).sum(axis=axis))
        else:
            tq = t.astype(x.dtype, copy=False)
            if eps:
                tq = tq * (1.0 - eps) + eps / C
            q = tq if self.weight is None else tq * self.weight
            qs = (q * s).sum(axis=axis, keepdims=True)
            qsum = q.sum(axis=axis, keepdims=True)
            self.q, self.qsum = q, qsum
        e = np.exp(s, out=s)  # s is not needed any more: reuse its memory
        se = e.sum(axis=axis, keepdims=True)
        lse = np.log(se)
        self.e, self.se, self.m, self.lse = e, se, m, lse
        if ct is not None:
            lse_t = lse.reshape(ct.tshape)
            loss = lse_t - picked
            if ct.w_i is not None:
                loss = loss * ct.w_i
            if eps:
                smooth = ct.w_total * lse_t - ssum
                loss = loss * (1.0 - eps) + smooth * (eps / C)
            if not ct.all_valid:  # ignored rows may hold -inf logits: 0 * inf would be NaN
                loss = np.where(ct.valid, loss, 0.0)
            self.denom = ct.denom
        else:
            loss = (qsum * lse - qs).reshape(x.shape[:axis] + x.shape[axis + 1:])
            self.denom = x.size // C if C else 0
        return np.asarray(_reduce_array(loss, self.reduction, self.denom), dtype=x.dtype)

    def backward(self, g, x, t):
        if g.__class__ is not np.ndarray:
            return self._backward_graph(g, x, t)
        ct, eps = self.ct, self.eps
        f = _upstream(g, self.reduction, self.denom)
        if ct is not None:
            gx = None
            if self.needs[0]:
                fw = f if ct.w_i is None else ct.w_i * f  # per-sample weight of the one-hot
                if not eps:
                    gx = np.multiply(self.e, ct.kept(fw) / self.se, order="C")
                else:
                    valid = ct.kept(ct.valid)
                    f_k = ct.kept(f)
                    qsum = ct.kept(fw) * (1.0 - eps) + (eps / ct.C) * ct.w_total * (valid * f_k)
                    gx = np.multiply(self.e, qsum / self.se, order="C")
                    wb = 1.0 if ct.wb is None else ct.wb
                    gx -= (eps / ct.C) * wb * (valid * f_k)
                    fw = fw * (1.0 - eps)
                gx.reshape(-1)[ct.flat] -= fw
            return gx, None
        f = self._kept(f)
        gx = gt = None
        if self.needs[0]:
            gx = self.e * (self.qsum * f / self.se) - self.q * f
        if self.needs[1]:
            logp = x - self.m - self.lse
            w = (1.0 - eps) if self.weight is None else self.weight * (1.0 - eps)
            gt = grad_like(-(logp * w) * f, t)
        return gx, gt

    def _kept(self, f):
        if self.reduction != "none":
            return f
        a = self.axis
        return f.reshape(f.shape[:a] + (1,) + f.shape[a:])

    def _backward_graph(self, g, x, t):
        """The same gradient built from differentiable ops (create_graph=True)."""
        ct, eps, axis = self.ct, self.eps, self.axis
        f = self._kept(_upstream(g, self.reduction, self.denom))
        if ct is not None:
            q = ct.dense(x.dtype, x.shape, eps)
            qsum = q.sum(axis=axis, keepdims=True)
            return (R.softmax(x, axis) * qsum - q) * f, None
        tq = t if not eps else t * (1.0 - eps) + eps / x.shape[axis]
        q = tq if self.weight is None else tq * self.weight
        gx = gt = None
        if self.needs[0]:
            gx = (R.softmax(x, axis) * q.sum(axis=axis, keepdims=True) - q) * f
        if self.needs[1]:
            w = (1.0 - eps) if self.weight is None else self.weight * (1.0 - eps)
            gt = -(R.log_softmax(x, axis) * w) * f
        return gx, gt


class NLLLoss(Node):
    """Negative log-likelihood of log-probabilities at the target classes."""

    def __init__(self, reduction, targets):
        self.reduction, self.ct = reduction, targets

    def forward(self, x, t):
        ct = self.ct
        loss = -np.take(x, ct.flat)  # take() reads x in C order, whatever its layout
        if ct.w_i is not None:
            loss = loss * ct.w_i
        if not ct.all_valid:
            loss = np.where(ct.valid, loss, 0.0)
        self.denom = ct.denom
        return np.asarray(_reduce_array(loss, self.reduction, self.denom), dtype=x.dtype)

    def backward(self, g, x, t):
        ct = self.ct
        f = _upstream(g, self.reduction, self.denom)
        if g.__class__ is np.ndarray:
            gx = np.zeros(x.shape, dtype=x.dtype)
            gx.reshape(-1)[ct.flat] = -(f if ct.w_i is None else ct.w_i * f)
            return gx, None
        coef = np.zeros(x.shape, dtype=x.dtype)
        coef.reshape(-1)[ct.flat] = -1.0 if ct.w_i is None else -ct.w_i
        if self.reduction == "none":
            f = ct.kept(f)
        return coef * f, None


# ------------------------------------------------------------------ pointwise losses

# PyTorch bounds BCE's denominator x(1-x) by 1e-12 written as a float32 constant; the same
# bound keeps gradients identical for inputs at 0 or 1
_BCE_EPS = float(np.float32(1e-12))


def _fold_reduction(loss, reduction):
    """Reduce an elementwise loss inside its own node, so that ``loss.grad_fn`` is the loss
    (``BinaryCrossEntropyWithLogitsBackward0``, as PyTorch prints it), not a ``MeanBackward0``."""
    if reduction == "none":
        return loss
    return np.asarray(loss.sum() if reduction == "sum" else loss.mean(), dtype=loss.dtype)


def _unfold_reduction(g, reduction, n):
    """The upstream gradient of each element of a loss reduced by :func:`_fold_reduction`."""
    if reduction != "mean":
        return g
    return g * (1.0 / n if n else float("nan"))


class BinaryCrossEntropy(Node):
    """``-(t log x + (1 - t) log(1 - x))`` with each log clamped at -100, as PyTorch does."""

    def __init__(self, reduction="none"):
        self.reduction = reduction

    def forward(self, x, t):
        x, t = promote(x, t)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100.0)
            log_1mx = np.maximum(np.log1p(-x), -100.0)
        loss = (t - 1.0) * log_1mx - t * log_x
        self.n = loss.size
        return _fold_reduction(loss, self.reduction)

    def backward(self, g, x, t):
        g = _unfold_reduction(g, self.reduction, self.n)
        gx = gt = None
        if self.needs[0]:
            gx = grad_like(g * (x - t) / np.maximum((1.0 - x) * x, _BCE_EPS), x)
        if self.needs[1]:
            with np.errstate(divide="ignore"):
                gt = grad_like(g * (np.log1p(-x) - np.log(x)), t)
        return gx, gt


class BinaryCrossEntropyWithLogits(Node):
    """``(1 - t) x + lw * softplus(-x)`` with ``lw = 1 + (pos_weight - 1) t``: no log of 0, no
    overflow, for any logit."""

    def __init__(self, pos_weight=None, reduction="none"):
        self.pw = pos_weight
        self.reduction = reduction

    def forward(self, x, t):
        x, t = promote(x, t)
        sp = np.logaddexp(0.0, -x)
        if self.pw is None:
            loss = (1.0 - t) * x + sp
        else:
            loss = (1.0 - t) * x + ((self.pw - 1.0) * t + 1.0) * sp
        self.n = loss.size
        return _fold_reduction(loss, self.reduction)

    def backward(self, g, x, t):
        g = _unfold_reduction(g, self.reduction, self.n)
        pw = self.pw
        gx = gt = None
        if self.needs[0]:
            s = _sigmoid(x)
            d = s - t if pw is None else s * ((pw - 1.0) * t + 1.0) - pw * t
            gx = grad_like(g * d, x)
        if self.needs[1]:
            d = -x if pw is None else (pw - 1.0) * _softplus(-x) - x
            gt = grad_like(g * d, t)
        return gx, gt


class _DifferenceLoss(Node):
    """A loss of ``d = input - target`` elementwise; subclasses give ``f(d)`` and ``f'(d)``."""

    def forward(self, x, t):
        x, t = promote(x, t)
        return self.f(x - t)

    def backward(self, g, x, t):
        gd = g * self.df(x - t)
        return (grad_like(gd, x) if self.needs[0] else None,
                grad_like(-gd, t) if self.needs[1] else None)


class SquaredError(_DifferenceLoss):
    """``d^2``."""

    def f(self, d):
        return d * d

    def df(self, d):
        return 2.0 * d


class AbsoluteError(_DifferenceLoss):
    """``|d|`` (gradient ``sign(d)``, 0 at 0)."""

    def f(self, d):
        return np.abs(d)

    def df(self, d):
        return np.sign(d)


class SmoothL1(_DifferenceLoss):
    """Quadratic below ``beta`` (``0.5 d^2 / beta``), linear above (``|d| - beta / 2``)."""

    def __init__(self, beta):
        self.beta = beta

    def f(self, d):
        ad = np.abs(d)
        return np.where(ad < self.beta, 0.5 * d * d / self.beta, ad - 0.5 * self.beta)

    def df(self, d):
        return _clip(d / self.beta, -1.0, 1.0)


class Huber(_DifferenceLoss):
    """Quadratic below ``delta`` (``0.5 d^2``), linear above (``delta (|d| - delta / 2)``)."""

    def __init__(self, delta):
        self.delta = delta

    def f(self, d):
        ad = np.abs(d)
        return np.where(ad < self.delta, 0.5 * d * d, self.delta * (ad - 0.5 * self.delta))

    def df(self, d):
        return _clip(d, -self.delta, self.delta)


class KLDiv(Node):
    """Pointwise ``t (log t - x)`` (``exp(t) (t - x)`` with ``log_target``), 0 where ``t == 0``."""

    def __init__(self, log_target):
        self.log_target = log_target

    def forward(self, x, t):
        x, t = promote(x, t)
        if self.log_target:
            return np.exp(t) * (t - x)
        with np.errstate(divide="ignore", invalid="ignore"):
            tlogt = np.where(t == 0, 0.0, t * np.log(t))
        return tlogt - t * x

    def backward(self, g, x, t):
        gx = gt = None
        if self.log_target:
            et = np.exp(t)
            if self.needs[0]:
                gx = grad_like(-g * et, x)
            if self.needs[1]:
                gt = grad_like(g * et * (t - x + 1.0), t)
            return gx, gt
        if self.needs[0]:
            gx = grad_like(-g * t, x)
        if self.needs[1]:
            zero = t == 0
            safe = _where(zero, 1.0, t)
            gt = grad_like(_where(zero, 0.0, g * (np.log(safe) + 1.0 - x)), t)
        return gx, gt


# ------------------------------------------------------------------ function forms

def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between logits and class indices or class probabilities (fused, stable).

    See :func:`retrograd.nn.functional.cross_entropy` for the full description.
    """
    op = "cross_entropy"
    reduction = check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: "
                         f"{label_smoothing}")
    input = _tensor(input)
    x, t = input._data, _data(target)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected floating-point logits, got dtype {x.dtype} (use "
                           "input.float())")
    if t.shape == x.shape and x.ndim > 0 and t.dtype.kind != "b":
        # class probabilities, one distribution per sample along the class dim
        if t.dtype.kind != "f":
            raise RuntimeError(f"{op}: Expected floating point type for target with class "
                               f"probabilities, got {t.dtype} (input and target both have "
                               f"shape {x.shape})")
        if ignore_index >= 0:
            raise RuntimeError(f"{op}: ignore_index is not supported for floating point target")
        axis = 0 if x.ndim == 1 else 1
        w = None
        if weight is not None:
            w = _float_array(weight, x.dtype, "weight", op)
            C = x.shape[axis]
            if w.shape != (C,):
                raise RuntimeError(f"{op}: weight tensor should be defined either for all {C} "
                                   f"classes or no classes but got weight tensor of shape: "
                                   f"{w.shape}")
            w = w.reshape((C,) + (1,) * (x.ndim - axis - 1))
        return apply(CrossEntropy(reduction, label_smoothing, None, w), input, target)
    ct = _ClassTargets(op, x, t, weight, ignore_index)
    return apply(CrossEntropy(reduction, label_smoothing, ct), input, t)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` at the class indices ``target``."""
    op = "nll_loss"
    reduction = check_reduction(reduction, op)
    input = _tensor(input)
    ct = _ClassTargets(op, input._data, _data(target), weight, ignore_index)
    return apply(NLLLoss(reduction, ct), input, _data(target))


def _weighted(loss, weight, op):
    """``loss * weight`` with the weight broadcast to the loss (a constant: no gradient)."""
    if weight is None:
        return loss

    w = _float_array(weight, loss.dtype, "weight", op)
    try:
        np.broadcast_shapes(w.shape, loss.shape)
    except ValueError:
        raise RuntimeError(f"{op}: weight of shape {w.shape} does not broadcast to the loss of "
                           f"shape {tuple(loss.shape)}") from None
    return loss * Tensor._make(w, None)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Binary cross-entropy between probabilities ``input`` and ``target`` (logs clamped at
    -100)."""
    op = "binary_cross_entropy"
    reduction = check_reduction(reduction, op)
    _check_same_size(op, input, target)
    x, t = _data(input), _data(target)
    if not np.all((x >= 0) & (x <= 1)):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (got values "
                           f"in [{np.nanmin(x) if x.size else 0}, {np.nanmax(x) if x.size else 0}]"
                           "); apply sigmoid first, or use binary_cross_entropy_with_logits on "
                           "the raw scores, which is also numerically safer")
    if not np.all((t >= 0) & (t <= 1)):
        raise RuntimeError(f"{op}: all elements of target should be between 0 and 1")
    if weight is None:
        return apply(BinaryCrossEntropy(reduction), input, target)
    loss = apply(BinaryCrossEntropy(), input, target)
    return reduce_loss(_weighted(loss, weight, op), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable op (finite for logits of any size)."""
    op = "binary_cross_entropy_with_logits"
    reduction = check_reduction(reduction, op)
    if _shape(target) != _shape(input):
        raise ValueError(f"{op}: Target size ({_shape(target)}) must be the same as input size "
                         f"({_shape(input)})")
    input = _tensor(input)
    pw = None
    if pos_weight is not None:
        pw = _float_array(pos_weight, input.dtype, "pos_weight", op)
        try:
            np.broadcast_shapes(pw.shape, input.shape)
        except ValueError:
            raise RuntimeError(f"{op}: pos_weight of shape {pw.shape} does not broadcast to the "
                               f"input of shape {tuple(input.shape)} (it holds one weight per "
                               "class, along the last dim)") from None
    if weight is None:
        return apply(BinaryCrossEntropyWithLogits(pw, reduction), input, target)
    loss = apply(BinaryCrossEntropyWithLogits(pw), input, target)
    return reduce_loss(_weighted(loss, weight, op), reduction)


def _broadcast_check(op, input, target):
    try:
        np.broadcast_shapes(_shape(input), _shape(target))
    except ValueError:
        raise RuntimeError(f"{op}: the size of input {_shape(input)} and of target "
                           f"{_shape(target)} do not broadcast together") from None
    if _shape(target) != _shape(input):
        warnings.warn(f"{op}: Using a target size ({_shape(target)}) that is different to the "
                      f"input size ({_shape(input)}). This will likely lead to incorrect results "
                      "due to broadcasting. Please ensure they have the same size.", stacklevel=4)


def _pointwise(node, op, input, target, reduction, weight=None, weighted_mean="sum_weight"):
    reduction = check_reduction(reduction, op)
    _broadcast_check(op, input, target)
    loss = apply(node, input, target)
    if weight is None:
        return reduce_loss(loss, reduction)
    if _shape(weight) != _shape(input):
        raise ValueError(f"{op}: Weights and input must have the same size (weight "
                         f"{_shape(weight)}, input {_shape(input)}).")
    loss = _weighted(loss, weight, op)
    if reduction == "mean" and weighted_mean == "sum_weight":
        return R.sum(loss) / float(_data(weight).sum())
    return reduce_loss(loss, reduction)


def mse_loss(input, target, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2``, optionally weighted."""
    return _pointwise(SquaredError(), "mse_loss", input, target, reduction, weight)


def l1_loss(input, target, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, optionally weighted."""
    return _pointwise(AbsoluteError(), "l1_loss", input, target, reduction, weight)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Squared error below ``beta`` (scaled by 1/beta), absolute error above."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta "
                           f"(got beta={beta})")
    if beta == 0:
        return _pointwise(AbsoluteError(), "smooth_l1_loss", input, target, reduction)
    return _pointwise(SmoothL1(beta), "smooth_l1_loss", input, target, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error below ``delta``, ``delta``-scaled absolute error above."""
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got "
                           f"delta={delta})")
    return _pointwise(Huber(delta), "huber_loss", input, target, reduction, weight,
                      weighted_mean="mean")


def kl_div(input, target, reduction="mean", log_target=False):
    """KL divergence ``target * (log target - input)``, ``input`` being log-probabilities."""
    op = "kl_div"
    reduction = check_reduction(reduction, op, REDUCTIONS + ("batchmean",))
    loss = apply(KLDiv(log_target), input, target)
    if reduction == "batchmean":
        total = R.sum(loss)
        return total / _shape(input)[0] if len(_shape(input)) else total
    return reduce_loss(loss, reduction)


def soft_margin_loss(input, target, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` with targets in {1, -1}."""
    from .activation import softplus

    reduction = check_reduction(reduction, "soft_margin_loss")
    return reduce_loss(softplus(-(_tensor(input) * target), 1.0, math.inf), reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``: ranks input1 above input2 where
    target is 1."""
    reduction = check_reduction(reduction, "margin_ranking_loss")
    if not (len(_shape(input1)) == len(_shape(input2)) == len(_shape(target))):
        raise RuntimeError(f"margin_ranking_loss: All input tensors should have same dimension "
                           f"but got sizes: input1: {_shape(input1)}, input2: {_shape(input2)}, "
                           f"target: {_shape(target)}")
    loss = E.clamp(-_tensor(target) * (_tensor(input1) - input2) + margin, min=0.0)
    return reduce_loss(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """``x`` where target is 1, ``max(0, margin - x)`` where target is -1."""
    reduction = check_reduction(reduction, "hinge_embedding_loss")
    input = _tensor(input)
    t = _data(target)
    margin_part = E.clamp(margin - input, min=0.0)
    loss = E.where(t != 1, margin_part, 0.0) + E.where(t != -1, input, 0.0)
    return reduce_loss(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """Negative log-likelihood of ``target ~ Poisson(rate)``, the rate given as ``input`` (or its
    log when ``log_input``); ``full`` adds the Stirling term of ``log(target!)``."""
    reduction = check_reduction(reduction, "poisson_nll_loss")
    input, target = _tensor(input), _tensor(target)
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        above = target._data > 1
        st = E.where(above, target, 2.0)  # the term is masked to 0 where target <= 1
        stirling = st * E.log(st) - st + 0.5 * E.log(2.0 * math.pi * st)
        loss = loss + E.where(above, stirling, 0.0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target ~ N(input, var)``: ``0.5 (log var + (x - t)^2 / var)``.

    ``var`` may have the input's shape, one dim fewer (one variance per sample), or a 1 in
    one dim (shared); it is clamped at ``eps`` for stability (the gradient passes unchanged,
    as in PyTorch).
    """

    input = _tensor(input)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = Tensor._make(np.full(input.shape, var, dtype=input.dtype), None)
    else:
        var = _tensor(var)
        if np.any(var._data < 0):
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    ish, vsh = tuple(input.shape), tuple(var.shape)
    if vsh != ish:
        if ish[:-1] == vsh:
            var = var.unsqueeze(-1)
        elif not (len(ish) == len(vsh)
                  and sum(v for i, v in zip(ish, vsh) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size: {vsh} for input of "
                             f"size {ish} (use the input's size, drop its last dim, or set one "
                             "dim to 1)")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not valid (gaussian_nll_loss: use 'none', 'mean' "
                         "or 'sum')")
    v = var._data
    clamped = np.maximum(v, eps).astype(v.dtype, copy=False)
    var = var + Tensor._make(clamped - v, None)  # the value is clamped, the gradient is not
    d = input - target
    loss = 0.5 * (E.log(var) + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)
