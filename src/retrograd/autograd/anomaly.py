"""Anomaly detection: find the forward op whose backward produced NaN or Inf.

While anomaly mode is on, every op recorded in the graph keeps the stack of the
Python code that created it (``node.trace``), and every backward step checks the
gradients it returns. The first non-finite gradient raises an :class:`AnomalyError`
(a ``RuntimeError``) that names the backward function (``'SqrtBackward0'``), the
forward op it belongs to (``sqrt``), which of the op's inputs received the bad
gradient, how many entries are NaN or Inf, and the line of *your* code that ran the
forward op, followed by the forward traceback (library frames left out).

Example::

    >>> x = retrograd.tensor([0.0, 1.0], requires_grad=True)
    >>> with retrograd.autograd.detect_anomaly():
    ...     y = x.sqrt()             # d sqrt(x)/dx = 1/(2 sqrt x) is inf at 0
    ...     y.sum().backward()
    AnomalyError: Function 'SqrtBackward0' returned inf values in its 0th output. ...
"""

from __future__ import annotations

import os
import traceback
import warnings

import numpy as np

from .graph import ANOMALY, Node

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "AnomalyError",
           "forward_trace", "user_frame"]

def _ordinal(i):
    # PyTorch writes "0th output", "1th output": keep its wording for the first sentence
    return f"{i}th"


def _library_dir():
    import retrograd

    return os.path.dirname(os.path.abspath(retrograd.__file__)) + os.sep


def forward_trace(node):
    """The frames of user code that created ``node`` (library frames removed).

    Returns a list of ``traceback.FrameSummary`` (innermost last); empty when the node
    was recorded outside anomaly mode.
    """
    trace = getattr(node, "trace", None)
    if not trace:
        return []
    lib = _library_dir()
    frames = [f for f in trace if not os.path.abspath(f.filename).startswith(lib)]
    return frames or list(trace)


def user_frame(node):
    """The innermost frame of user code that created ``node`` (or None)."""
    frames = forward_trace(node)
    return frames[-1] if frames else None


def _op_name(node):
    """'SqrtBackward0' -> 'sqrt', the name of the forward op."""
    name = node.name()
    if name.endswith("Backward0"):
        name = name[: -len("Backward0")]
    return name[:1].lower() + name[1:] if name else name


def _describe_input(node, i):
    from ..tensor import Tensor

    parents = getattr(node, "parents", ()) or ()
    p = parents[i] if i < len(parents) else None
    saved = getattr(node, "saved", None)
    shape = None
    if saved is not None and i < len(saved) and isinstance(saved[i], np.ndarray):
        shape = tuple(saved[i].shape)
    if isinstance(p, Tensor):
        shape = tuple(p.shape)
        what = "a leaf tensor (requires_grad=True)"
    elif isinstance(p, Node):
        what = f"the result of {p.name()}"
        fr = user_frame(p)
        if fr is not None:
            what += f" (made at {os.path.basename(fr.filename)}:{fr.lineno})"
    else:
        what = "a constant"
    return what + (f" of shape {shape}" if shape is not None else "")


def _bad_counts(a):
    nan = int(np.count_nonzero(np.isnan(a)))
    inf = int(np.count_nonzero(np.isinf(a)))
    return nan, inf


class AnomalyError(RuntimeError):
    """A backward step produced a NaN or Inf gradient while anomaly detection was on.

    Attributes:
        node: the backward node (``node.name()`` is e.g. ``'SqrtBackward0'``).
        op: the forward op's name (``'sqrt'``).
        input_index: which input of the op received the non-finite gradient.
        frame: the ``traceback.FrameSummary`` of the user code that ran the op (or None).
    """

    def __init__(self, message, node=None, op=None, input_index=None, frame=None):
        super().__init__(message)
        self.node = node
        self.op = op
        self.input_index = input_index
        self.frame = frame


def check_grads(node, in_grads):
    """Raise :class:`AnomalyError` if a backward produced a non-finite gradient."""
    for i, g in enumerate(in_grads):
        if g is None or isinstance(g, tuple):
            continue
        a = g._data if hasattr(g, "_data") else g
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fc" or np.isfinite(a).all():
            continue
        nan, inf = _bad_counts(a)
        kind = "nan" if nan else "inf"
        op = _op_name(node)
        frames = forward_trace(node)
        fr = frames[-1] if frames else None
        lines = [
            f"Function '{node.name()}' returned {kind} values in its {_ordinal(i)} output.",
            f"Anomaly detection: the backward of the forward op '{op}' produced a non-finite "
            f"gradient ({nan} NaN and {inf} Inf of {a.size} entries) for its input {i}, "
            f"{_describe_input(node, i)}.",
        ]
        if fr is not None:
            lines.append(f"The op was created at {fr.filename}:{fr.lineno}, in {fr.name}:")
            if fr.line:
                lines.append(f"    {fr.line}")
            lines.append("Traceback of the forward call that caused the error (most recent "
                         "call last):")
            lines.append("".join(traceback.format_list(frames[-6:])).rstrip())
        else:
            lines.append("(No forward trace: the op was recorded before anomaly detection was "
                         "enabled. Run the forward pass inside `with detect_anomaly():` too.)")
        lines.append(_HINTS.get(op, "Hint: look for log/division/sqrt/pow of 0 or of a "
                                    "negative number, or overflow (exp of a large number)."))
        raise AnomalyError("\n".join(lines), node=node, op=op, input_index=i, frame=fr)


_HINTS = {
    "sqrt": "Hint: the derivative of sqrt(x) is infinite at x = 0; use (x + eps).sqrt() or "
            "clamp x away from 0.",
    "log": "Hint: the derivative of log(x) is 1/x, infinite at x = 0 (and log is NaN below 0); "
           "use log(x + eps), log1p, or a loss on logits (cross_entropy, "
           "binary_cross_entropy_with_logits).",
    "div": "Hint: a division by zero (or 0/0) in the forward pass; add an eps to the "
           "denominator or clamp it.",
    "pow": "Hint: x ** p with p < 1 has an infinite derivative at x = 0; with p not an integer "
           "it is NaN for x < 0.",
    "exp": "Hint: exp overflowed to inf; subtract the max first (log-sum-exp) or use a "
           "numerically stable op (softmax, logsumexp).",
}


class detect_anomaly:
    """Context manager that records where each op was created and checks every gradient.

    When a backward step produces NaN or Inf, the :class:`AnomalyError` names the
    backward function and the forward op, and shows the line of user code that ran
    the forward op. It slows everything down: use it to debug.

    Args:
        check_nan: check gradients for NaN/Inf (default True); with False only the
            forward traces are recorded.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)
        self.prev = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled = True
        ANOMALY.check_nan = self.check_nan
        return self

    def __exit__(self, *exc):
        ANOMALY.enabled, ANOMALY.check_nan = self.prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off (function call or context manager).

    Args:
        mode: True to enable, False to disable.
        check_nan: check gradients for NaN/Inf (default True).
    """

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
    """True while anomaly detection is on."""
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled():
    """True while anomaly detection checks gradients for NaN/Inf."""
    return ANOMALY.enabled and ANOMALY.check_nan
