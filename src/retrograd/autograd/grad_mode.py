"""Switching graph recording on and off: no_grad, enable_grad, set_grad_enabled.

One global flag, read by every op before it records a node. Under ``no_grad`` an op
only computes its NumPy result: no node, no saved arrays, no bookkeeping.
"""

from __future__ import annotations

import functools


class _GradState:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = True


GRAD = _GradState()


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backpropagation."""
    return GRAD.enabled


class _GradModeContext:
    """Base for the grad-mode context managers; also usable as a decorator."""

    _target: bool

    def __enter__(self):
        self._prev = GRAD.enabled
        GRAD.enabled = self._target

    def __exit__(self, *exc):
        GRAD.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Context manager (and decorator) that turns off graph recording.

    Inside it, results have ``requires_grad=False`` and no graph is built, which
    saves memory and time during evaluation and parameter updates.

    Example::

        >>> x = retrograd.ones(2, requires_grad=True)
        >>> with retrograd.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    _target = False


class enable_grad(_GradModeContext):
    """Context manager (and decorator) that turns graph recording back on inside ``no_grad``."""

    _target = True


class inference_mode(no_grad):
    """Alias of :class:`no_grad` (retrograd has no separate inference tensors)."""

    def __init__(self, mode=True):
        self._target = not mode

    def __call__(self, fn):
        if callable(fn) and not isinstance(fn, bool):
            return super().__call__(fn)
        return inference_mode(fn)


class set_grad_enabled(_GradModeContext):
    """Turn graph recording on or off: as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._prev = GRAD.enabled
        GRAD.enabled = self._target  # takes effect at once when called as a function

    def __exit__(self, *exc):
        GRAD.enabled = self._prev
        return False

    def __enter__(self):
        pass

    def __call__(self, fn):
        GRAD.enabled = self._prev  # used as a decorator: the call above must not stick
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = GRAD.enabled
            GRAD.enabled = target
            try:
                return fn(*args, **kwargs)
            finally:
                GRAD.enabled = prev

        return wrapper

    def clone(self):
        return set_grad_enabled(self._target)
