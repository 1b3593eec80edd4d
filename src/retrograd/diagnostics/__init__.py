"""``retrograd.diagnostics``: see backpropagation at work, and debug it.

* :func:`explain` — one training step of a small fully-connected network, the four
  steps of backpropagation shown with their formulas (text, Markdown, HTML);
  :func:`classic_example` is the 2-2-2 sigmoid network of the classic tutorial.
* :class:`GradientMonitor` — per-layer gradient norms, gradient/weight ratios,
  activation statistics, saturated and dead units, with warnings and remedies for
  vanishing/exploding gradients; :class:`GradientMonitorCallback` for ``fit``;
  :func:`record_tensor_grads` for the gradients of any intermediate tensors.
* :func:`plot_grad_norms`, :func:`plot_histograms`, :func:`plot_activations` — PNG plots.
* :func:`to_dot`, :func:`render_graph` — the computational graph in Graphviz.
* :class:`TimeGradientMonitor` (:mod:`.bptt`) — backpropagation through time made
  visible: per-time-step norms of ∂L/∂h_t of a recurrent layer, vanishing/exploding
  warnings across time steps, :func:`plot_time_grad_norms`;
  :class:`TimeGradientMonitorCallback` for ``fit``.
* Anomaly detection lives in :mod:`retrograd.autograd` (``detect_anomaly``).
"""

from .dot import GraphvizNotFoundError, render_graph, to_dot
from .explain import Explanation, HalfSquaredError, LayerTrace, classic_example, explain
from .monitor import (
    DeadUnitWarning,
    Diagnosis,
    ExplodingGradientWarning,
    GradientMonitor,
    SaturationWarning,
    TensorGradRecorder,
    TrainingHealthWarning,
    VanishingGradientWarning,
    record_tensor_grads,
)
from .plots import plot_activations, plot_grad_norms, plot_histograms

__all__ = [
    "explain", "classic_example", "Explanation", "LayerTrace", "HalfSquaredError",
    "GradientMonitor", "GradientMonitorCallback", "Diagnosis", "record_tensor_grads",
    "TensorGradRecorder", "TrainingHealthWarning", "VanishingGradientWarning",
    "ExplodingGradientWarning", "SaturationWarning", "DeadUnitWarning",
    "plot_grad_norms", "plot_histograms", "plot_activations",
    "to_dot", "render_graph", "GraphvizNotFoundError", "explain_cli_main",
    "TimeGradientMonitor", "TimeGradientMonitorCallback", "TimeDiagnosis", "plot_time_grad_norms",
]


def __getattr__(name):
    # imported on first use: the callback subclasses retrograd.train.Callback, and the
    # train package may itself import diagnostics
    if name == "GradientMonitorCallback":
        from .callback import GradientMonitorCallback

        return GradientMonitorCallback
    if name in ("TimeGradientMonitor", "TimeGradientMonitorCallback", "TimeDiagnosis",
                "plot_time_grad_norms"):
        from . import bptt

        return getattr(bptt, name)
    if name in ("explain_cli_main", "add_explain_parser", "run_explain"):
        from . import cli

        return getattr(cli, name)
    raise AttributeError(f"module 'retrograd.diagnostics' has no attribute {name!r}")
