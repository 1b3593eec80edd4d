"""Anomaly detection: find the forward op whose backward produced NaN or Inf."""

from __future__ import annotations

import traceback

import numpy as np

from .graph import ANOMALY


def _finite(g):
    a = g._data if hasattr(g, "_data") else g
    return np.isfinite(a).all() if isinstance(a, np.ndarray) and a.dtype.kind in "fc" else True


def check_grads(node, in_grads):
    """Raise if a backward produced a non-finite gradient, naming the op and where it was made."""
    for i, g in enumerate(in_grads):
        if g is None or isinstance(g, tuple):
            continue
        if not _finite(g):
            where = ""
            trace = getattr(node, "trace", None)
            if trace:
                frames = [f for f in trace if "/retrograd/" not in f.filename.replace("\\", "/")]
                frames = frames or list(trace)
                where = "\nThe forward call that created it:\n" + "".join(
                    traceback.format_list(frames[-4:]))
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output. "
                f"(anomaly detection: the backward of {type(node).__name__} produced a non-finite "
                f"gradient for input {i}){where}"
            )


class detect_anomaly:
    """Context manager that records where each op was created and checks every gradient.

    When a backward step produces NaN or Inf, the error names the forward op and shows
    the line of user code that created it. It slows everything down: use it to debug.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = True
        ANOMALY.check_nan = self.check_nan
        return self

    def __exit__(self, *exc):
        ANOMALY.enabled, ANOMALY.check_nan = self.prev
        return False


class set_detect_anomaly:
    """Turn anomaly detection on or off (function call or context manager)."""

    def __init__(self, mode, check_nan=True):
        self.prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = bool(mode)
        ANOMALY.check_nan = check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        ANOMALY.enabled, ANOMALY.check_nan = self.prev
        return False


def is_anomaly_enabled():
    return ANOMALY.enabled
