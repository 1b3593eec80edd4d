"""Plots of training: learning curves and confusion matrices (matplotlib, Agg).

The figures are drawn with matplotlib's object API on an Agg canvas, without
``pyplot``: nothing global changes (no backend switch, no open windows), so the
functions are safe in scripts, servers and notebooks alike. The image is written
atomically; the format follows the file extension (``.png``, ``.pdf``, ``.svg``).
"""

from __future__ import annotations

import io
import math
import os

import numpy as np

__all__ = ["plot_confusion_matrix", "plot_history"]


def _figure(figsize):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("retrograd.train.plots needs matplotlib: pip install retrograd[train]") \
            from None
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _write(fig, path, dpi, what):
    from ..io import atomic_write

    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=ext, dpi=dpi)
    atomic_write(path, buf.getvalue(), what=what)
    return path


def _as_history(history):
    """(epochs 1-based, {name: values}) from a History or a plain dict."""
    if hasattr(history, "history") and hasattr(history, "epoch"):
        values = history.history
        epochs = [e + 1 for e in history.epoch]
    elif isinstance(history, dict):
        values = history.get("history", history) if "epoch" in history else history
        n = max((len(v) for v in values.values()), default=0)
        epochs = ([e + 1 for e in history["epoch"]] if "epoch" in history
                  else list(range(1, n + 1)))
    else:
        raise TypeError(f"plot_history: history must be a History or a dict of lists, got "
                        f"{type(history).__name__}")
    return epochs, values


def plot_history(history, path, metrics=None, title=None, dpi=100):
    """Plot learning curves: one panel per quantity, training vs validation.

    Args:
        history (History or dict): what :func:`fit` returned, or ``{name: [values]}``.
        path (str or os.PathLike): the image file to write (format from the extension).
        metrics (list of str, optional): quantities to plot (without ``val_``);
            default: every logged one, with the learning rate (log scale) last.
        title (str, optional): a title over the panels.
        dpi (int): resolution (default 100).

    Returns:
        str: ``path``.

    Example::

        >>> plot_history(fit(model, ...), "curves.png")   # doctest: +SKIP
    """
    epochs, values = _as_history(history)
    if metrics is None:
        metrics = []
        for key in values:
            base = key[4:] if key.startswith("val_") else key
            if base not in metrics:
                metrics.append(base)
        if "lr" in metrics:
            metrics.remove("lr")
            metrics.append("lr")
    missing = [m for m in metrics if m not in values and "val_" + m not in values]
    if missing:
        raise KeyError(f"plot_history: {missing} not in the history (it has {list(values)})")
    if not metrics:
        raise ValueError("plot_history: the history is empty")
    cols = min(len(metrics), 3)
    rows = math.ceil(len(metrics) / cols)
    fig = _figure((4.2 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, metrics):
        for key, label, style in ((name, "train", "-o"), ("val_" + name, "validation", "-s")):
            if key in values:
                ys = np.asarray(values[key], dtype=np.float64)
                ax.plot(epochs[:len(ys)], ys, style, markersize=3, label=label)
        if name == "lr" and all(v > 0 for v in values.get("lr", [])):
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if name != "lr":
            ax.legend()
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _write(fig, path, dpi, "plot_history")


def plot_confusion_matrix(cm, path, class_names=None, normalize=False, title="Confusion matrix",
                          dpi=100):
    """Draw a confusion matrix as a heat map with the counts written in the cells.

    Args:
        cm (Tensor or ndarray): square matrix, rows true classes, columns predicted
            (as returned by :func:`retrograd.train.metrics.confusion_matrix`).
        path (str or os.PathLike): the image file to write.
        class_names (list of str, optional): tick labels (default 0..C-1).
        normalize (bool): show each row as fractions of the true class.
        title (str): the title.
        dpi (int): resolution.

    Returns:
        str: ``path``.
    """
    m = np.asarray(cm._data if hasattr(cm, "_data") else cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix, got shape "
                         f"{tuple(m.shape)}")
    c = m.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(c)]
    if len(class_names) != c:
        raise ValueError(f"plot_confusion_matrix: {len(class_names)} class names for {c} classes")
    shown = m.astype(np.float64)
    if normalize:
        sums = shown.sum(axis=1, keepdims=True)
        shown = np.divide(shown, sums, out=np.zeros_like(shown), where=sums > 0)
    size = max(4.0, 0.45 * c + 2)
    fig = _figure((size, size))
    ax = fig.subplots()
    im = ax.imshow(shown, cmap="Blues", interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set(xticks=range(c), yticks=range(c), xlabel="predicted", ylabel="true", title=title)
    ax.set_xticklabels(class_names, rotation=45 if c > 6 else 0, ha="right" if c > 6 else "center")
    ax.set_yticklabels(class_names)
    if c <= 30:  # beyond that the numbers are unreadable anyway
        threshold = shown.max() / 2 if shown.size else 0
        for i in range(c):
            for j in range(c):
                text = f"{shown[i, j]:.2f}" if normalize else f"{int(m[i, j])}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if shown[i, j] > threshold else "black")
    fig.tight_layout()
    return _write(fig, path, dpi, "plot_confusion_matrix")
