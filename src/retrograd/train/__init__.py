"""``retrograd.train``: a training loop with callbacks, metrics, a progress bar and plots.

PyTorch leaves the loop to you; retrograd offers one (Keras-style) that stays out
of the way: :func:`fit` runs the usual ``zero_grad / forward / backward / step``
loop with validation, metrics, schedulers, gradient clipping, callbacks,
checkpoints and exact resumption. See ``docs/training.md``.
"""

from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LRSchedulerCallback,
    ModelCheckpoint,
    ProgressBar,
    format_epoch_summary,
)
from .loop import Trainer, evaluate, fit, predict
from .metrics import (
    Accuracy,
    ConfusionMatrix,
    FunctionMetric,
    Mean,
    MeanAbsoluteError,
    MeanSquaredError,
    Metric,
    RootMeanSquaredError,
    TopKAccuracy,
    accuracy,
    confusion_matrix,
    get_metric,
    mae,
    mse,
    rmse,
    top_k_accuracy,
)
from .plots import plot_confusion_matrix, plot_history

__all__ = [
    "Accuracy", "CSVLogger", "Callback", "CallbackList", "ConfusionMatrix", "EarlyStopping",
    "FunctionMetric", "History", "LRSchedulerCallback", "LambdaCallback", "Mean",
    "MeanAbsoluteError", "MeanSquaredError", "Metric", "ModelCheckpoint", "ProgressBar",
    "RootMeanSquaredError", "TopKAccuracy", "Trainer", "accuracy", "confusion_matrix",
    "evaluate", "fit", "format_epoch_summary", "get_metric", "mae", "mse", "plot_confusion_matrix",
    "plot_history", "predict", "rmse", "top_k_accuracy",
]
