"""Metrics: plain functions on tensors/arrays, and streaming ``Metric`` objects.

The functions (:func:`accuracy`, :func:`top_k_accuracy`, :func:`confusion_matrix`,
:func:`mae`, :func:`rmse`, :func:`mse`) take ``(output, target)`` in that order,
like PyTorch's loss functions, and accept retrograd Tensors or NumPy arrays.

The streaming objects accumulate over batches (``reset`` / ``update`` / ``compute``)
so that an epoch's value is exact over the whole epoch, not an average of batch
averages; :func:`retrograd.train.fit` and :func:`retrograd.train.evaluate` use them.
Sums are kept in float64 Python floats so long epochs do not lose precision.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor

__all__ = [
    "Accuracy",
    "ConfusionMatrix",
    "FunctionMetric",
    "Mean",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "RootMeanSquaredError",
    "TopKAccuracy",
    "accuracy",
    "confusion_matrix",
    "get_metric",
    "mae",
    "mse",
    "rmse",
    "top_k_accuracy",
]


def _np(x, what, name):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception:
        raise TypeError(f"{what}: {name} must be a Tensor or an array, got {type(x).__name__}") \
            from None


# ---------------------------------------------------------------- classification helpers
def _class_predictions(out, tgt, what):
    """Turn ``output`` into predicted labels comparable with ``target``.

    * ``output`` with one more dimension than ``target`` holds class scores along
      dim 1 (``(N, C)`` or ``(N, C, d1, ...)``, as for ``CrossEntropyLoss``): argmax.
    * ``output`` with ``target``'s shape (or ``(N, 1)`` for ``(N,)``) holds binary
      logits: positive means class 1 (as for ``BCEWithLogitsLoss``); the targets
      must then be 0/1.
    """
    if out.ndim == tgt.ndim + 1 and out.ndim >= 2:
        if out.shape[:1] + out.shape[2:] != tgt.shape:
            raise ValueError(f"{what}: output of shape {tuple(out.shape)} (N, C, ...) does not "
                             f"match target of shape {tuple(tgt.shape)} (N, ...)")
        if tgt.dtype.kind == "f":
            if not np.array_equal(tgt, np.round(tgt)):
                raise ValueError(f"{what}: target holds non-integer values; class targets must "
                                 "be class indices")
        return out.argmax(axis=1), tgt
    if out.ndim == 2 and out.shape[1] == 1 and tgt.shape == out.shape[:1]:
        out = out[:, 0]
    if out.shape != tgt.shape:
        raise ValueError(
            f"{what}: output of shape {tuple(out.shape)} does not fit target of shape "
            f"{tuple(tgt.shape)}: expected class scores (N, C) with class-index targets (N,), "
            "or binary logits with targets of the same shape"
        )
    if not np.isin(tgt, (0, 1)).all():
        raise ValueError(
            f"{what}: output and target have the same shape {tuple(tgt.shape)}, so binary "
            "targets (0/1) are expected, but the target holds other values (a regression "
            "task? use the 'mae' / 'rmse' metrics instead of accuracy)"
        )
    return (out > 0).astype(np.int64), tgt


def _counts_correct(output, target, what):
    out = _np(output, what, "output")
    tgt = _np(target, what, "target")
    pred, tgt = _class_predictions(out, tgt, what)
    return int(np.count_nonzero(pred == tgt)), int(tgt.size)


def _topk_correct(output, target, k, what):
    out = _np(output, what, "output")
    tgt = _np(target, what, "target")
    if out.ndim != tgt.ndim + 1 or out.shape[:1] + out.shape[2:] != tgt.shape:
        raise ValueError(f"{what}: expected output (N, C, ...) and class-index target (N, ...), "
                         f"got {tuple(out.shape)} and {tuple(tgt.shape)}")
    if not 1 <= k <= out.shape[1]:
        raise ValueError(f"{what}: k={k} must be between 1 and the number of classes "
                         f"({out.shape[1]})")
    # a hit when fewer than k classes score strictly higher than the target (ties
    # count in the target's favour, whatever order a sort would give them)
    target_score = np.take_along_axis(out, np.expand_dims(tgt.astype(np.int64), 1), axis=1)
    higher = np.count_nonzero(out > target_score, axis=1)
    return int(np.count_nonzero(higher < k)), int(tgt.size)


# ---------------------------------------------------------------- functions
def accuracy(output, target) -> float:
    """Fraction of correct class predictions.

    Args:
        output (Tensor or ndarray): class scores (logits or probabilities) of shape
            ``(N, C)`` or ``(N, C, d1, ...)``; or binary logits with ``target``'s shape
            (positive means class 1).
        target (Tensor or ndarray): class indices ``(N,)`` / ``(N, d1, ...)``, or 0/1
            labels for binary logits.

    Returns:
        float: accuracy in [0, 1].

    Example::

        >>> accuracy(retrograd.tensor([[2., 1.], [0., 3.]]), retrograd.tensor([0, 0]))
        0.5
    """
    correct, total = _counts_correct(output, target, "accuracy")
    return correct / total if total else float("nan")


def top_k_accuracy(output, target, k=5) -> float:
    """Fraction of samples whose target class is among the ``k`` highest scores.

    Args:
        output (Tensor or ndarray): class scores ``(N, C)`` or ``(N, C, d1, ...)``.
        target (Tensor or ndarray): class indices ``(N,)`` or ``(N, d1, ...)``.
        k (int): how many top classes count as a hit (default 5).
    """
    correct, total = _topk_correct(output, target, k, "top_k_accuracy")
    return correct / total if total else float("nan")


def confusion_matrix(output, target, num_classes=None):
    """Confusion matrix: entry ``[i, j]`` counts samples of true class ``i`` predicted as ``j``.

    Args:
        output (Tensor or ndarray): class scores ``(N, C, ...)`` (argmax is taken) or
            predicted class indices with ``target``'s shape.
        target (Tensor or ndarray): true class indices.
        num_classes (int, optional): number of classes; default ``C`` for scores, else
            ``max(output, target) + 1``.

    Returns:
        Tensor: int64 matrix of shape ``(num_classes, num_classes)``; rows are true
        classes, columns predicted classes (scikit-learn's convention).

    Example::

        >>> confusion_matrix(retrograd.tensor([0, 1, 1]), retrograd.tensor([0, 1, 0]))
        tensor([[1, 1],
                [0, 1]])
    """
    return Tensor._make(_confusion_counts(output, target, num_classes, "confusion_matrix"))


def _confusion_counts(output, target, num_classes, what):
    out = _np(output, what, "output")
    tgt = _np(target, what, "target")
    if out.ndim == tgt.ndim + 1 and out.ndim >= 2:
        if num_classes is None:
            num_classes = out.shape[1]
        out = out.argmax(axis=1)
    if out.shape != tgt.shape:
        raise ValueError(f"{what}: predictions of shape {tuple(out.shape)} do not match target "
                         f"of shape {tuple(tgt.shape)}")
    pred = out.reshape(-1)
    true = tgt.reshape(-1)
    for name, arr in (("predictions", pred), ("target", true)):
        if arr.size and (arr.dtype.kind == "f" and not np.array_equal(arr, np.round(arr))):
            raise ValueError(f"{what}: {name} must be class indices (integers)")
    pred = pred.astype(np.int64)
    true = true.astype(np.int64)
    if num_classes is None:
        num_classes = int(max(pred.max(initial=-1), true.max(initial=-1))) + 1
    if pred.size and (min(pred.min(), true.min()) < 0
                      or max(pred.max(), true.max()) >= num_classes):
        raise ValueError(f"{what}: class indices must lie in [0, {num_classes}); got values in "
                         f"[{min(pred.min(), true.min())}, {max(pred.max(), true.max())}]")
    flat = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64)


def _regression_arrays(output, target, what):
    out = _np(output, what, "output")
    tgt = _np(target, what, "target")
    if out.shape != tgt.shape:
        if out.size == tgt.size and out.squeeze().shape == tgt.squeeze().shape:
            out = out.reshape(tgt.shape)
        else:
            raise ValueError(f"{what}: output of shape {tuple(out.shape)} does not match target "
                             f"of shape {tuple(tgt.shape)}")
    return out.astype(np.float64, copy=False), tgt.astype(np.float64, copy=False)


def mae(output, target) -> float:
    """Mean absolute error over all elements (like ``nn.L1Loss()``), as a float."""
    out, tgt = _regression_arrays(output, target, "mae")
    return float(np.abs(out - tgt).mean()) if out.size else float("nan")


def mse(output, target) -> float:
    """Mean squared error over all elements (like ``nn.MSELoss()``), as a float."""
    out, tgt = _regression_arrays(output, target, "mse")
    return float(np.square(out - tgt).mean()) if out.size else float("nan")


def rmse(output, target) -> float:
    """Root mean squared error over all elements, as a float."""
    return math.sqrt(mse(output, target))


# ---------------------------------------------------------------- streaming metrics
class Metric:
    """A metric accumulated over batches.

    Subclasses implement :meth:`reset`, :meth:`update` and :meth:`compute`; ``name``
    is the key in logs and history (validation values get a ``val_`` prefix).

    Example::

        >>> m = Accuracy()
        >>> for output, target in batches:        # doctest: +SKIP
        ...     m.update(output, target)
        >>> m.compute()                           # doctest: +SKIP
    """

    name = "metric"

    def __init__(self):
        self.reset()

    def reset(self):
        """Forget everything accumulated."""
        raise NotImplementedError

    def update(self, output, target):
        """Accumulate one batch."""
        raise NotImplementedError

    def compute(self) -> float:
        """The metric over everything accumulated since the last reset."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """Weighted running mean of values (e.g. batch losses weighted by batch size)."""

    name = "mean"

    def __init__(self, name="mean"):
        self.name = name
        super().__init__()

    def reset(self):
        self.total = 0.0
        self.weight = 0.0

    def update(self, value, weight=1.0):
        self.total += float(value) * weight
        self.weight += weight

    def compute(self):
        return self.total / self.weight if self.weight else float("nan")


class _Ratio(Metric):
    def reset(self):
        self.correct = 0
        self.count = 0

    def compute(self):
        return self.correct / self.count if self.count else float("nan")


class Accuracy(_Ratio):
    """Streaming :func:`accuracy`."""

    name = "accuracy"

    def update(self, output, target):
        c, n = _counts_correct(output, target, "accuracy")
        self.correct += c
        self.count += n


class TopKAccuracy(_Ratio):
    """Streaming :func:`top_k_accuracy`; named ``'top{k}_accuracy'``."""

    def __init__(self, k=5):
        self.k = int(k)
        self.name = f"top{self.k}_accuracy"
        super().__init__()

    def update(self, output, target):
        c, n = _topk_correct(output, target, self.k, self.name)
        self.correct += c
        self.count += n


class _Errors(Metric):
    def reset(self):
        self.total = 0.0
        self.count = 0

    def _errors(self, output, target):
        out, tgt = _regression_arrays(output, target, self.name)
        return out - tgt


class MeanAbsoluteError(_Errors):
    """Streaming :func:`mae` (over all elements of all batches)."""

    name = "mae"

    def update(self, output, target):
        d = self._errors(output, target)
        self.total += float(np.abs(d).sum())
        self.count += d.size

    def compute(self):
        return self.total / self.count if self.count else float("nan")


class MeanSquaredError(_Errors):
    """Streaming :func:`mse`."""

    name = "mse"

    def update(self, output, target):
        d = self._errors(output, target)
        self.total += float(np.square(d).sum())
        self.count += d.size

    def compute(self):
        return self.total / self.count if self.count else float("nan")


class RootMeanSquaredError(MeanSquaredError):
    """Streaming :func:`rmse`: the square root of the MSE over everything seen."""

    name = "rmse"

    def compute(self):
        return math.sqrt(super().compute())


class ConfusionMatrix(Metric):
    """Streaming :func:`confusion_matrix`; :meth:`compute` returns the int64 matrix.

    Not a scalar, so it is not logged per epoch; use it with
    :func:`retrograd.train.evaluate` or on its own.
    """

    name = "confusion_matrix"

    def __init__(self, num_classes):
        self.num_classes = int(num_classes)
        super().__init__()

    def reset(self):
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output, target):
        self.matrix += _confusion_counts(output, target, self.num_classes, self.name)

    def compute(self):
        return Tensor._make(self.matrix.copy())


class FunctionMetric(Metric):
    """Wrap ``fn(output, target) -> float`` as a streaming metric (mean weighted by batch size)."""

    def __init__(self, fn, name=None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "metric")
        super().__init__()

    def reset(self):
        self.total = 0.0
        self.count = 0

    def update(self, output, target):
        value = self.fn(output, target)
        value = value.item() if hasattr(value, "item") else float(value)
        n = len(target) if hasattr(target, "__len__") else 1
        self.total += value * n
        self.count += n

    def compute(self):
        return self.total / self.count if self.count else float("nan")


_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
}


def get_metric(spec) -> Metric:
    """A fresh :class:`Metric` from a name, a Metric (returned as is) or a function.

    Names: ``'accuracy'`` (``'acc'``), ``'topK_accuracy'`` (e.g. ``'top5_accuracy'``),
    ``'mae'``, ``'mse'``, ``'rmse'``.
    """
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if key.startswith("top") and key.endswith("_accuracy") and key[3:-9].isdigit():
            return TopKAccuracy(int(key[3:-9]))
        raise ValueError(f"unknown metric {spec!r}; known names: 'accuracy', 'top5_accuracy' "
                         "(any k), 'mae', 'mse', 'rmse'; or pass a Metric or a function "
                         "fn(output, target) -> float")
    if callable(spec):
        return FunctionMetric(spec)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(spec).__name__}")
