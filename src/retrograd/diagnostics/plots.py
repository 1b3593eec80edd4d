"""Plots of a :class:`GradientMonitor`'s records (PNG, through matplotlib's Agg canvas).

matplotlib is imported only when a plot is made, and no global backend is switched:
figures are drawn on an Agg canvas of their own, so these functions work on a
server, in a test and next to an interactive session alike.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["plot_grad_norms", "plot_histograms", "plot_activations"]


def _figure(figsize, layout="constrained"):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a test dependency
        raise ImportError("retrograd.diagnostics plots need matplotlib: pip install matplotlib "
                          "(or pip install 'retrograd[train]')") from None
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path, dpi=100):
    if path is None:
        return
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as fh:
        fig.savefig(fh, format=ext, dpi=dpi)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _need_records(monitor, what):
    if not monitor.records:
        raise ValueError(f"{what}: the monitor has no record yet; call monitor.step() after "
                         "loss.backward() during training first")


def plot_grad_norms(monitor, path=None, *, stat="grad_norm", layers=None, logy=True,
                    title=None, figsize=(8, 4.5), dpi=100):
    """Plot a per-layer gradient statistic over the training steps, one line per layer.

    Args:
        monitor: a :class:`GradientMonitor` with records.
        path: where to write the PNG (None: only return the figure).
        stat: ``'grad_norm'`` (default), ``'ratio'`` (gradient/weight norm),
            ``'grad_max'``, ``'grad_std'``...
        layers: names of the layers to draw (default: all, input side first).
        logy: logarithmic y axis (default True: vanishing gradients span decades).
        title, figsize, dpi: figure options.

    Returns:
        matplotlib.figure.Figure

    Lines run from dark (first layer) to light (last layer), so a fan of lines spread
    over decades is the picture of vanishing (or exploding) gradients.
    """
    _need_records(monitor, "plot_grad_norms")
    names = list(layers) if layers is not None else monitor.layer_names
    unknown = [n for n in names if n not in monitor.layer_names]
    if unknown:
        raise ValueError(f"plot_grad_norms: unknown layer(s) {unknown}; the monitor's layers "
                         f"are {monitor.layer_names}")
    hist = monitor.history(stat)
    steps = np.asarray(monitor.steps)
    fig = _figure(figsize, layout=None)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.92)
    ax = fig.add_subplot(1, 1, 1)
    cmap = _cmap()
    for i, name in enumerate(names):
        y = hist[name]
        if logy:
            y = np.where(y > 0, y, np.nan)
        color = cmap(0.1 + 0.8 * i / max(len(names) - 1, 1))
        mod = type(monitor._layers[name]).__name__
        ax.plot(steps, y, color=color, lw=1.4, label=f"{name} ({mod})")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel({"grad_norm": "gradient norm ‖∂L/∂θ‖", "ratio": "‖∂L/∂θ‖ / ‖θ‖"}.get(stat,
                                                                                       stat))
    names_ = {"grad_norm": "gradient norm", "ratio": "gradient/weight norm ratio"}
    ax.set_title(title or f"{names_.get(stat, stat.replace('_', ' '))} per layer")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncol=2 if len(names) > 8 else 1, loc="best")
    _save(fig, path, dpi)
    return fig


def _find_record(monitor, step):
    """The record at ``step`` (a step number, or -1 for the last one with histograms)."""
    recs = [r for r in monitor.records if r["histograms"]]
    if not recs:
        raise ValueError("plot_histograms: no histograms recorded; create the monitor with "
                         "histograms=1 (every step) or histograms=k (every k steps)")
    if step is None or step == -1:
        return recs[-1]
    for r in recs:
        if r["step"] == step:
            return r
    have = [r["step"] for r in recs]
    raise ValueError(f"plot_histograms: no histograms at step {step}; steps with histograms: "
                     f"{have[:5]}{' ...' if len(have) > 5 else ''} (last {have[-1]})")


def plot_histograms(monitor, path=None, *, step=-1, kind="both", figsize=None, dpi=100):
    """Per-layer histograms of gradients and/or activations at one recorded step.

    Args:
        monitor: a :class:`GradientMonitor` created with ``histograms`` enabled.
        path: where to write the PNG (None: only return the figure).
        step: the step number to show (default -1: the latest step with histograms).
        kind: ``'gradients'``, ``'activations'`` or ``'both'`` (two rows).

    Returns:
        matplotlib.figure.Figure
    """
    if kind not in ("both", "gradients", "activations"):
        raise ValueError(f"plot_histograms: kind must be 'gradients', 'activations' or "
                         f"'both', got {kind!r}")
    _need_records(monitor, "plot_histograms")
    from matplotlib.ticker import MaxNLocator

    rec = _find_record(monitor, step)
    rows = []
    if kind in ("both", "gradients"):
        g = [(n, rec["histograms"][("grad", n)]) for n in monitor.layer_names
             if rec["histograms"].get(("grad", n)) is not None]
        if g:
            rows.append(("gradient", g))
    if kind in ("both", "activations"):
        a = [(k, h) for (t, k), h in rec["histograms"].items() if t == "act" and h is not None]
        if a:
            rows.append(("activation", a))
    if not rows:
        raise ValueError(f"plot_histograms: nothing to draw for kind={kind!r} at step "
                         f"{rec['step']} (no activation modules watched?)")
    ncols = max(len(r[1]) for r in rows)
    ncols = min(ncols, 6)
    nrows = sum(math.ceil(len(r[1]) / ncols) for r in rows)
    if figsize is None:
        figsize = (2.6 * ncols, 2.2 * nrows + 0.7)
    # a fixed grid: constrained layout would cost seconds on a grid of small axes
    fig = _figure(figsize, layout=None)
    grid = fig.add_gridspec(nrows, ncols, left=0.04, right=0.98, bottom=0.08 / nrows,
                            top=1 - 0.75 / figsize[1], hspace=0.6, wspace=0.25)
    r0 = 0
    for what, items in rows:
        color = "#3b6ea8" if what == "gradient" else "#c2652a"
        for i, (name, (counts, edges)) in enumerate(items):
            ax = fig.add_subplot(grid[r0 + i // ncols, i % ncols])
            ax.stairs(counts, edges, fill=True, color=color, alpha=0.8)
            label = name
            if what == "gradient" and name in monitor._layers:
                label = f"{name} ({type(monitor._layers[name]).__name__})"
            elif what == "activation":
                s = rec["activations"].get(name, {})
                label = f"{name} ({s.get('kind', '')})"
            ax.set_title(f"{what}: {label}", fontsize="small")
            ax.tick_params(labelsize="x-small")
            ax.set_yticks([])  # the counts' scale says little; the shape is the message
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
        r0 += math.ceil(len(items) / ncols)
    fig.suptitle(f"distributions at step {rec['step']}", y=1 - 0.15 / figsize[1], va="top")
    _save(fig, path, dpi)
    return fig


def plot_activations(monitor, path=None, *, figsize=(9, 4.5), dpi=100):
    """Activation health over the steps: mean ± std per activation, and the fractions of
    saturated (sigmoid/tanh) and dead (ReLU) units.

    Returns:
        matplotlib.figure.Figure
    """
    _need_records(monitor, "plot_activations")
    names = monitor.activation_names
    if not names:
        raise ValueError("plot_activations: no activation module was seen; the monitor only "
                         "sees activations used as modules (nn.ReLU()), not as functions")
    steps = np.asarray(monitor.steps)
    fig = _figure(figsize)
    ax1 = fig.add_subplot(1, 2, 1)
    ax2 = fig.add_subplot(1, 2, 2)
    mean = monitor.activation_history("mean")
    std = monitor.activation_history("std")
    sat = monitor.activation_history("saturated")
    dead = monitor.activation_history("dead")
    cmap = _cmap()
    for i, n in enumerate(names):
        c = cmap(0.1 + 0.8 * i / max(len(names) - 1, 1))
        ax1.plot(steps, mean[n], color=c, label=n)
        ax1.fill_between(steps, mean[n] - std[n], mean[n] + std[n], color=c, alpha=0.15)
        if np.isfinite(sat[n]).any():
            ax2.plot(steps, sat[n], color=c, label=f"{n} saturated")
        if np.isfinite(dead[n]).any():
            ax2.plot(steps, dead[n], color=c, ls="--", label=f"{n} dead")
    ax1.set_title("activation mean ± std")
    ax2.set_title("saturated / dead fraction")
    ax2.set_ylim(-0.02, 1.02)
    for ax in (ax1, ax2):
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small")
    _save(fig, path, dpi)
    return fig


def _cmap():
    from matplotlib import colormaps

    return colormaps["viridis"]
